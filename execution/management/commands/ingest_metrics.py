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
    """The run as the interface promises it. A problem with the file as a whole (not a row) is
    an error with row null, so consumers find every problem in one list."""
    errors = list(run.errors)
    if run.status == IngestionRun.Status.FAILED and not errors and run.message:
        errors = [{"row": None, "column": "", "value": "", "message": run.message}]
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
        "errors": errors,
    }


def refused_summary(kind: str | None, message: str) -> dict:
    """A file refused before any run was made (its type by name)."""
    return {
        "run": None,
        "status": "failed",
        "kind": kind or "",
        "rows_read": 0,
        "rows_written": 0,
        "rows_skipped": 0,
        "date_range": [None, None],
        "unknown_columns": [],
        "errors": [{"row": None, "column": "", "value": "", "message": message}],
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
                summary = refused_summary(kind, " ".join(error.messages))
            else:
                summary = run_summary(run)
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
        if summary["status"] != IngestionRun.Status.SUCCEEDED:
            sys.exit(1)
