"""Celery tasks of the weekly and monthly reviews."""
