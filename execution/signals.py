"""Signals execution sends for apps above it (which execution must not import)."""

from django.dispatch import Signal

# Sent after the transaction of a successful ingestion run has committed, with `run`, `store_id`,
# `date_start` and `date_end`: the store's facts for those days may have changed. The alert
# evaluation (execution.alerts) and the corrected daily brief (reporting) listen.
facts_changed = Signal()
