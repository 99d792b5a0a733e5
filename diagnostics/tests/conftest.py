import pytest

from agency.models import Role
from agency.tenancy import agency_scope
from execution.metrics.ingestion import ingestion_push


@pytest.fixture
def push(django_capture_on_commit_callbacks, make_member):
    """Push fact rows for a store through the ingestion service, as an integration would, and
    run the queued task; returns the finished run."""
    operators = {}

    def push_rows(store, grain, rows):
        if store.agency_id not in operators:
            operators[store.agency_id] = make_member(store.agency, Role.OPERATOR)
        with agency_scope(store.agency_id), django_capture_on_commit_callbacks(execute=True):
            run = ingestion_push(
                actor=operators[store.agency_id], store=store, grain=grain, rows=rows
            )
        run.refresh_from_db()
        assert run.status == "succeeded", run.errors or run.message
        return run

    return push_rows


@pytest.fixture
def scope_a(demo_agency):
    """Run a block as the demo agency's staff would (the scope a request has)."""
    with agency_scope(demo_agency):
        yield
