import pytest

from agency.tenancy import agency_scope
from execution.metrics.ingestion import ingestion_push


@pytest.fixture
def push(django_capture_on_commit_callbacks):
    """Push rows for a store and grain and run the queued task (eagerly), as an integration
    would; returns the finished run."""

    def push_rows(store, grain, rows, actor=None):
        with agency_scope(store.agency_id), django_capture_on_commit_callbacks(execute=True):
            run = ingestion_push(actor=actor, store=store, grain=grain, rows=rows)
        run.refresh_from_db()
        return run

    return push_rows
