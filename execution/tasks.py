"""Celery tasks of the execution app: thin wrappers that call one service each."""

import datetime

from celery import shared_task
from django.utils import translation

from agency.models import Store
from agency.tenancy import tenant_task
from engagements.models import Engagement, EngagementStatus
from execution.alerts import alerts_evaluate_days

# The workspace's tasks live with their areas; importing them here registers them with Celery.
from execution.conversion import tasks as conversion_tasks  # noqa: F401
from execution.metrics.ingestion import ingestion_pull, ingestion_run_process
from execution.models import IngestionRun
from execution.setup import tasks as setup_tasks  # noqa: F401


# Killed by the hard time limit (the soft one could not stop it, e.g. in a long database wait),
# the run's message goes back to the queue instead of being acknowledged, as when its worker
# dies: the next delivery counts an attempt, so the run ends failed, never left "running".
@tenant_task(acks_on_timeout=False)
def ingest_run(agency, run_id: int) -> None:
    """Process a queued ingestion run. Idempotent, so a redelivery is safe: a finished run is
    left alone, one whose earlier delivery died with its worker is processed again from the
    start, and one that has used its attempts fails (execution.metrics.ingestion)."""
    run = IngestionRun.objects.filter(pk=run_id).select_related("created_by").first()
    if run is None:
        return
    # Messages are stored with the run: write them in the language of whoever asked for it.
    language = (run.created_by and run.created_by.language) or agency.default_language
    with translation.override(language):
        ingestion_run_process(run=run)


@tenant_task()
def pull_store(agency, store_id: int, start: str, end: str) -> None:
    """Pull a date range for one store from its connector."""
    store = Store.objects.filter(pk=store_id).exclude(connector="").first()
    if store is not None:
        ingestion_pull(
            store=store,
            connector_name=store.connector,
            start=datetime.date.fromisoformat(start),
            end=datetime.date.fromisoformat(end),
        )


@tenant_task()
def evaluate_alerts(agency, engagement_id: int, start: str, end: str) -> int:
    """Raise the alerts of an active engagement for the days from `start` to `end` (ISO dates),
    after new data for them; idempotent (an alert already raised is not raised again)."""
    engagement = Engagement.objects.filter(pk=engagement_id, status=EngagementStatus.ACTIVE).first()
    if engagement is None:
        return 0
    return alerts_evaluate_days(
        engagement=engagement,
        start=datetime.date.fromisoformat(start),
        end=datetime.date.fromisoformat(end),
    )


@shared_task(name="execution.tasks.pull_connected_stores")
def pull_connected_stores(days: int = 3) -> int:
    """Beat job: queue a pull of the last `days` days for every store with a connector (late
    figures are corrected by the overlap). Crosses agencies on purpose, as a scheduler does; each
    queued task runs inside its own store's agency."""
    end = datetime.date.today() - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=days - 1)
    stores = Store.objects.unscoped().exclude(connector="").values_list("agency_id", "pk")
    for agency_id, store_id in stores:
        pull_store.delay(agency_id, store_id, start.isoformat(), end.isoformat())
    return len(stores)
