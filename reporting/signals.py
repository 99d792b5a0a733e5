"""Receivers of other apps' signals (connected in ReportingConfig.ready)."""
