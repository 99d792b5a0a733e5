import pytest

from agency.models import Role
from agency.tenancy import agency_scope
from execution.metrics.ingestion import ingestion_push


@pytest.fixture
def push(django_capture_on_commit_callbacks, make_member):
    """Push rows for a store and grain and run the queued task (eagerly), as an integration
    would; returns the finished run. The default sender is an operator of the store's agency."""
    operators = {}

    def push_rows(store, grain, rows, actor=None):
        if actor is None:
            if store.agency_id not in operators:
                operators[store.agency_id] = make_member(store.agency, Role.OPERATOR)
            actor = operators[store.agency_id]
        with agency_scope(store.agency_id), django_capture_on_commit_callbacks(execute=True):
            run = ingestion_push(actor=actor, store=store, grain=grain, rows=rows)
        run.refresh_from_db()
        return run

    return push_rows
