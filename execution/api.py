"""REST endpoints of the execution app: metrics out (the one metric query), metrics in (a JSON push
or an export file, each an ingestion run), and the runs themselves.

Pushes and uploads answer 202 with the queued run; the client polls the run's URL (the `Location`
header) until its status is `succeeded` or `failed`. The same services as the portal's pages do
the work: `ingestion_push`, `ingestion_upload`, `metrics_query`.
"""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import Max
from django.urls import include, path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from agency.models import ApiScope
from agency.rest import IdFilter, TenantAPIView, TenantViewSet, object_lookup, report_response
from agency.selectors import store_get_for
from execution.metrics.ingestion import ingestion_push, ingestion_upload, progress_get
from execution.metrics.query import GRAINS, metrics_query, rows_as_json
from execution.metrics.registry import COUNT, METRICS
from execution.metrics.schema import Grain, ReportKind
from execution.models import IngestionRun

# The widest range one request may ask for (five years of days is ~1,800 rows).
METRICS_MAX_DAYS = 5 * 366
EARLIEST_DATE, LATEST_DATE = datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)
# The same bounds as the schema states them: a date of the years 2000 to 2099.
METRICS_DATE_PATTERN = r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"


def _metrics_date(help_text: str, example: str) -> serializers.DateField:
    """A date field whose schema carries the bounds and an example (Swagger UI pre-fills it)."""
    schema = {"type": "string", "format": "date", "pattern": METRICS_DATE_PATTERN}
    field_class = extend_schema_field({**schema, "example": example})(
        type("MetricsDateField", (serializers.DateField,), {})
    )
    return field_class(help_text=help_text)


class MetricsQuerySerializer(serializers.Serializer):
    start = _metrics_date("First day, YYYY-MM-DD, from 2000-01-01.", "2026-10-01")
    end = _metrics_date(
        "Last day, YYYY-MM-DD (inclusive), until 2099-12-31; not before `start`, and the range "
        f"at most {METRICS_MAX_DAYS} days long.",
        "2026-10-31",
    )
    grain = serializers.ChoiceField(
        choices=GRAINS, default="day", help_text="day, week (ISO, from Monday), month or total."
    )
    metrics = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_metrics(self, value: str) -> list[str]:
        if not value.strip():
            return []
        names = [name.strip() for name in value.split(",")]
        unknown = [name for name in names if name not in METRICS]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown metric(s): %(names)s.")
                % {"names": ", ".join(name or "“”" for name in unknown)}
            )
        return list(dict.fromkeys(names))

    def validate(self, attrs):
        start, end = attrs["start"], attrs["end"]
        for name in ("start", "end"):
            if not EARLIEST_DATE <= attrs[name] <= LATEST_DATE:
                raise serializers.ValidationError(
                    {name: _("Dates run from 2000-01-01 to 2099-12-31.")}
                )
        if end < start:
            raise serializers.ValidationError({"end": _("The end date is before the start date.")})
        if (end - start).days >= METRICS_MAX_DAYS:
            raise serializers.ValidationError(
                {"end": _("Ask for at most %(days)s days at a time.") % {"days": METRICS_MAX_DAYS}}
            )
        return attrs


def _metric_field(metric) -> serializers.Field:
    help_text = f"{metric.label} ({metric.formula})"
    if metric.unit == COUNT and not metric.is_ratio:
        return serializers.IntegerField(allow_null=True, required=False, help_text=help_text)
    return serializers.DecimalField(
        max_digits=30,
        decimal_places=metric.places,
        allow_null=True,
        required=False,
        help_text=help_text + "; a decimal string, null when the denominator is zero.",
    )


MetricRowSerializer = type(
    "MetricRowSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "One period: its bounds and each metric asked for.",
        "period_start": serializers.DateField(),
        "period_end": serializers.DateField(),
        **{name: _metric_field(metric) for name, metric in METRICS.items()},
    },
)


class MetricsPushSerializer(serializers.Serializer):
    grain = serializers.ChoiceField(
        choices=Grain.choices,
        help_text="Which fact table the rows are for: store_day, store_day_source, "
        "store_day_product or store_day_ad.",
    )
    rows = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        min_length=1,
        max_length=200_000,
        help_text="Rows with `date` and the grain's fields (see the example); counts as "
        "integers, money as decimal strings or numbers. Each row is checked in the run. No "
        "name or text may hold a NUL character or an unpaired surrogate (nothing can store "
        "them): such a push is refused with 400.",
    )

    def validate_rows(self, rows: list[dict]) -> list[dict]:
        # Checked here, not in the run: PostgreSQL cannot store such text even in the run's
        # own error list, so the run could not even record why it failed.
        for number, row in enumerate(rows, start=1):
            if not all(_is_storable(text) for text in _texts(row)):
                raise serializers.ValidationError(
                    _(
                        "Row %(row)s holds a NUL character or an unpaired surrogate, which "
                        "cannot be stored."
                    )
                    % {"row": number}
                )
        return rows


def _texts(value):
    """Every string in a JSON value, names included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield name
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _is_storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A 生意参谋 or ad-platform export: CSV (UTF-8 or GBK), XLSX, XLS or a ZIP "
        "holding one CSV."
    )
    kind = serializers.ChoiceField(
        choices=ReportKind.choices,
        required=False,
        help_text="The report kind, when recognising it from the headers is not wanted.",
    )


class IngestionRunSerializer(serializers.ModelSerializer):
    date_range = serializers.SerializerMethodField(help_text="[first, last] date, or null.")
    created_by = serializers.SerializerMethodField(help_text="The user or API token.")
    rows_loaded = serializers.SerializerMethodField(
        help_text="While running: rows written so far (null otherwise)."
    )

    class Meta:
        model = IngestionRun
        fields = [
            "id",
            "store",
            "source",
            "status",
            "kind",
            "grain",
            "filename",
            "size",
            "checksum",
            "rows_read",
            "rows_written",
            "rows_skipped",
            "rows_loaded",
            "date_range",
            "unknown_columns",
            "message",
            "errors_total",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_date_range(self, run) -> list[datetime.date] | None:
        if run.date_start is None:
            return None
        return [run.date_start, run.date_end]

    def get_created_by(self, run) -> str | None:
        if run.created_by_id:
            return run.created_by.email
        if run.api_token_id:
            return f"token {run.api_token.name}"
        return None

    def get_rows_loaded(self, run) -> int | None:
        return progress_get(run.pk) if run.status == IngestionRun.Status.RUNNING else None


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="As the sender counts rows.")
    column = serializers.CharField(allow_null=True, allow_blank=True)
    value = serializers.CharField(allow_null=True, allow_blank=True)
    message = serializers.CharField()


class IngestionRunDetailSerializer(IngestionRunSerializer):
    errors = RowErrorSerializer(many=True, help_text="The first 1,000 row errors.")

    class Meta(IngestionRunSerializer.Meta):
        fields = [*IngestionRunSerializer.Meta.fields, "errors"]


class IngestionRunFilter(django_filters.FilterSet):
    store = IdFilter(field_name="store_id", help_text="A store id.")
    status = django_filters.ChoiceFilter(choices=IngestionRun.Status.choices)
    source = django_filters.ChoiceFilter(choices=IngestionRun.Source.choices)
    kind = django_filters.ChoiceFilter(choices=ReportKind.choices)

    class Meta:
        model = IngestionRun
        fields = ["store", "status", "source", "kind"]


# One row: the schema tool lists a `many=True` response's example itself.
METRIC_ROW_EXAMPLE = {
    "period_start": "2026-10-01",
    "period_end": "2026-10-31",
    "gmv": "1284530.00",
    "visitors": 402113,
    "conversion_rate": "0.031204",
}
PUSH_EXAMPLE = {
    "grain": "store_day",
    "rows": [
        {
            "date": "2026-11-26",
            "visitors": 12840,
            "page_views": 40211,
            "paying_buyers": 402,
            "paid_orders": 431,
            "paid_units": 502,
            "gmv": "48211.50",
        }
    ],
}
RUN_EXAMPLE = {
    "id": 981,
    "store": 12,
    "source": "push",
    "status": "queued",
    "kind": "",
    "grain": "store_day",
    "filename": "push.json",
    "size": 171,
    "checksum": "5f2b0c…",
    "rows_read": 0,
    "rows_written": 0,
    "rows_skipped": 0,
    "rows_loaded": None,
    "date_range": None,
    "unknown_columns": [],
    "message": "",
    "errors_total": 0,
    "created_by": "token ERP nightly",
    "created_at": "2026-11-27T01:00:00Z",
    "started_at": None,
    "finished_at": None,
}
FAILED_RUN_EXAMPLE = {
    **RUN_EXAMPLE,
    "status": "failed",
    "rows_read": 2,
    "errors_total": 1,
    "message": "1 row has errors; nothing was written.",
    "errors": [{"row": 2, "column": "visitors", "value": "abc", "message": "Not a number."}],
}


# `metrics` as clients send it: names joined by commas (an array, `explode: false`), each one
# of the registry's; the serializer's plain string would not say which strings are accepted.
METRICS_PARAMETER = OpenApiParameter(
    "metrics",
    {"type": "array", "items": {"type": "string", "enum": list(METRICS)}},
    OpenApiParameter.QUERY,
    style="form",
    explode=False,
    description="Metric names joined by commas (shared/GLOSSARY.md); every metric when absent "
    "or empty.",
    examples=[OpenApiExample("Three metrics", value=["gmv", "visitors", "conversion_rate"])],
)


class StoreMetricsView(TenantAPIView):
    """Metrics of one store (GET), and a JSON push of fact rows for it (POST)."""

    required_scope = {"GET": ApiScope.METRICS_READ.value, "POST": ApiScope.METRICS_WRITE.value}
    serializer_class = MetricsPushSerializer
    parser_classes = [JSONParser]  # rows of objects have no form encoding
    filter_backends: list = []
    pagination_class = None  # one range is one answer (at most ~1,800 rows)

    def url_objects_resolve(self) -> None:
        self.store = object_lookup(
            store_get_for, agency=self.caller.agency, store_id=self.kwargs["store_id"]
        )

    @extend_schema(
        operation_id="store_metrics_read",
        description="Any set of metrics for the store over a date range at grain day, week, "
        "month or total: exactly what `manage.py metrics_query` prints. Ratios come from summed "
        "parts and are null when the denominator is zero; only periods with data appear. "
        "Answers with ETag and Last-Modified (the last successful ingestion); send them back "
        "as If-None-Match / If-Modified-Since to get 304. `end` may not be before `start`, and "
        f"the range is at most {METRICS_MAX_DAYS} days long (400 naming `end`). Needs "
        "`metrics:read`.",
        parameters=[MetricsQuerySerializer, METRICS_PARAMETER],
        responses={200: MetricRowSerializer(many=True), 304: None},
        examples=[
            OpenApiExample("A month", value=METRIC_ROW_EXAMPLE, response_only=True),
        ],
    )
    def get(self, request, store_id: int):
        query = MetricsQuerySerializer(data=request.query_params.dict())  # blank = invalid
        query.is_valid(raise_exception=True)
        rows = metrics_query(store_ids=[self.store.pk], **query.validated_data)
        last_modified = IngestionRun.objects.filter(
            store=self.store, status=IngestionRun.Status.SUCCEEDED
        ).aggregate(latest=Max("finished_at"))["latest"]
        return report_response(request, rows_as_json(rows), last_modified=last_modified)

    @extend_schema(
        operation_id="store_metrics_push",
        description="Push fact rows for the store at one grain. Answers 202 with the queued "
        "ingestion run; poll it (Location header) until it succeeds or fails. All or nothing: "
        "one bad row fails the run and writes nothing; a successful run replaces what earlier "
        "pushes wrote for those dates. Needs `metrics:write`.",
        request=MetricsPushSerializer,
        responses={202: IngestionRunSerializer},
        examples=[
            OpenApiExample("A day of store figures", value=PUSH_EXAMPLE, request_only=True),
            OpenApiExample(
                "The queued run", value=RUN_EXAMPLE, response_only=True, status_codes=[202]
            ),
        ],
    )
    def post(self, request, store_id: int):
        push = MetricsPushSerializer(data=request.data)
        push.is_valid(raise_exception=True)
        run = ingestion_push(
            actor=self.actor,
            store=self.store,
            grain=push.validated_data["grain"],
            rows=push.validated_data["rows"],
            api_token=self.caller.token,
        )
        return _accepted(run)


class StoreUploadView(TenantAPIView):
    """Upload an export file for one store: it becomes an ingestion run."""

    required_scope = ApiScope.METRICS_WRITE.value
    serializer_class = UploadSerializer
    parser_classes = [MultiPartParser]
    filter_backends: list = []
    pagination_class = None

    def url_objects_resolve(self) -> None:
        self.store = object_lookup(
            store_get_for, agency=self.caller.agency, store_id=self.kwargs["store_id"]
        )

    @extend_schema(
        operation_id="store_export_upload",
        description="Upload a 生意参谋 or ad-platform export for the store (multipart field "
        "`file`; optional `kind`). The file's name must end in .csv, .xlsx, .xls or .zip (400 "
        "otherwise). Answers 202 with the queued ingestion run; poll it (Location header): a "
        "file that cannot be read fails its run. The report kind is recognised from the "
        "headers. Needs `metrics:write`.",
        request={"multipart/form-data": UploadSerializer},
        responses={202: IngestionRunSerializer},
        examples=[
            OpenApiExample(
                "The queued run",
                value={**RUN_EXAMPLE, "source": "upload", "filename": "生意参谋_店铺概况.xlsx"},
                response_only=True,
                status_codes=[202],
            )
        ],
    )
    def post(self, request, store_id: int):
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        run = ingestion_upload(
            actor=self.actor,
            store=self.store,
            file=file,
            filename=file.name,
            kind=upload.validated_data.get("kind"),
            api_token=self.caller.token,
        )
        return _accepted(run)


def _accepted(run: IngestionRun) -> Response:
    location = reverse("api:ingestion-run-detail", kwargs={"pk": run.pk})
    return Response(
        IngestionRunSerializer(run).data,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": location},
    )


@extend_schema_view(
    list=extend_schema(
        description="Ingestion runs (uploads, pushes, connector pulls), newest first; filter by "
        "store, status, source or report kind. Needs `metrics:read`.",
        examples=[OpenApiExample("A queued run", value=RUN_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One run: its status (queued, running, succeeded, failed), counts, date "
        "range, ignored columns and row errors (each naming the row, the column and the value). "
        "Needs `metrics:read`.",
        examples=[OpenApiExample("A failed run", value=FAILED_RUN_EXAMPLE, response_only=True)],
    ),
)
class IngestionRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    filterset_class = IngestionRunFilter
    required_scope = ApiScope.METRICS_READ.value
    ordering_fields = ["id", "created_at", "finished_at"]
    ordering = ["-id"]
    lookup_value_converter = "int"

    def get_queryset(self):
        return IngestionRun.objects.select_related("created_by", "api_token")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return IngestionRunDetailSerializer
        return IngestionRunSerializer


router = SimpleRouter(use_regex_path=False)
router.register("ingestion-runs", IngestionRunViewSet, basename="ingestion-run")

urlpatterns = [
    path("", include(router.urls)),
    path("stores/<int:store_id>/metrics/", StoreMetricsView.as_view(), name="store-metrics"),
    path(
        "stores/<int:store_id>/ingestion-runs/",
        StoreUploadView.as_view(),
        name="store-ingestion-runs",
    ),
]
