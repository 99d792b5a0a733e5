"""Print metrics for a store as a JSON list of rows (the one metric query, as the API serves it):

    python manage.py metrics_query --store ID --start YYYY-MM-DD --end YYYY-MM-DD \\
        --grain day|week|month|total [--metrics a,b,c]
"""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from agency.models import Store
from agency.tenancy import agency_scope
from execution.metrics.query import GRAINS, metrics_query, rows_as_json
from execution.metrics.registry import METRICS


class Command(BaseCommand):
    help = "Print metrics for a store over a date range at a grain, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, required=True)
        parser.add_argument("--start", type=datetime.date.fromisoformat, required=True)
        parser.add_argument("--end", type=datetime.date.fromisoformat, required=True)
        parser.add_argument("--grain", choices=GRAINS, default="day")
        parser.add_argument("--metrics", default="")

    def handle(self, *args, store, start, end, grain, metrics, **options):
        names = [name.strip() for name in metrics.split(",") if name.strip()]
        unknown = [name for name in names if name not in METRICS]
        if unknown:
            raise CommandError(f"Unknown metric(s): {', '.join(unknown)}")
        store_row = Store.objects.unscoped().filter(pk=store).first()
        if store_row is None:
            raise CommandError(f"No store with id {store}.")
        with agency_scope(store_row.agency_id):
            try:
                rows = metrics_query(
                    store_ids=[store_row.pk],
                    start=start,
                    end=end,
                    grain=grain,
                    metrics=names or None,
                )
            except ValueError as error:
                raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(rows_as_json(rows), ensure_ascii=False))
