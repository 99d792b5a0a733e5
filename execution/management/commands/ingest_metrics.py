"""Ingest one export file for a store, synchronously, and print the run as one JSON object:

    python manage.py ingest_metrics PATH --store STORE_ID [--kind KIND]

Exit status 0 when the run succeeded, 1 when it failed (its errors are in the JSON).
"""

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from agency.models import Store
from agency.tenancy import agency_scope
from execution.metrics.ingestion import ingestion_from_path
from execution.metrics.schema import ReportKind
from execution.models import IngestionRun


def run_summary(run: IngestionRun) -> dict:
    return {
        "run": run.pk,
        "status": run.status,
        "kind": run.kind,
        "rows_read": run.rows_read,
        "rows_written": run.rows_written,
        "rows_skipped": run.rows_skipped,
        "date_range": [
            run.date_start.isoformat() if run.date_start else None,
            run.date_end.isoformat() if run.date_end else None,
        ],
        "unknown_columns": run.unknown_columns,
        "errors": run.errors,
        **({"message": run.message} if run.message else {}),
    }


class Command(BaseCommand):
    help = "Ingest one metrics export for a store and print the run as JSON."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--store", type=int, required=True)
        parser.add_argument("--kind", choices=ReportKind.values)

    def handle(self, *args, path: Path, store: int, kind: str | None, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        # An operator's command: the store is looked up across agencies, then all work runs
        # inside the store's own agency.
        store_row = Store.objects.unscoped().filter(pk=store).first()
        if store_row is None:
            raise CommandError(f"No store with id {store}.")
        with agency_scope(store_row.agency_id):
            try:
                run = ingestion_from_path(store=store_row, path=path, kind=kind)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(json.dumps(run_summary(run), ensure_ascii=False))
        if run.status != IngestionRun.Status.SUCCEEDED:
            sys.exit(1)
