"""Reads of the execution app, inside the request's tenant scope."""

from django.db.models import QuerySet
from django.http import Http404

from agency.models import Agency, Store
from execution.models import IngestionRun


def ingestion_runs_for_store(*, store: Store, limit: int = 50) -> QuerySet[IngestionRun]:
    return IngestionRun.objects.filter(store=store).select_related("created_by", "api_token")[
        :limit
    ]


def ingestion_run_get_for(*, agency: Agency, run_id: int) -> IngestionRun:
    run = (
        IngestionRun.objects.filter(agency=agency, pk=run_id)
        .select_related("store__brand", "created_by", "api_token")
        .first()
    )
    if run is None:
        raise Http404
    return run
