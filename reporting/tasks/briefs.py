"""Celery tasks of the daily brief."""
