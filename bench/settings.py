"""Settings of the gunicorn that `bench/dashboard.py` measures: the development settings (the
environment makes them production-like: DEBUG off, PostgreSQL) with one more page, the bench's
trivial view (bench/urls.py). Bench-only: the product never loads this module."""

from agency.settings.dev import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
