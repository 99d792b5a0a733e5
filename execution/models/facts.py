"""Metric facts at four grains and the ingestion runs that write them (DESIGN.md, "Metrics").

Facts hold counts and money only, never ratios: every ratio is computed from summed parts by
`execution.metrics.query`. Each fact row carries its agency, its store and the run that wrote it
(lineage); its natural key is unique. Facts are written in bulk by `execution.metrics.writer`
(PostgreSQL COPY into a staging table, then one set-based replace), never row by row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agency.models import Store
from agency.tenancy import AgencyOwnedModel
from execution.metrics.schema import AdTool, Grain, ReportKind


def ingestion_upload_path(run: IngestionRun, filename: str) -> str:
    return f"ingestion/{run.agency_id}/{run.store_id}/{run.checksum[:16]}-{filename[-80:]}"


class IngestionRun(AgencyOwnedModel):
    """One upload, push or pull of metric rows for one store: what came in, what it became.

    A run is all or nothing: it succeeds and replaces the facts its source wrote earlier for the
    same store and dates (an ad report: only its own ad tool's), or it fails with its row errors
    and writes nothing. A queued run is processed by a Celery task that may be delivered more
    than once (a killed worker's message comes back); `attempts` counts the deliveries that
    started it, and after `execution.metrics.ingestion.MAX_ATTEMPTS` the run fails.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", _("File upload")
        COMMAND = "command", _("Command line")
        PUSH = "push", _("JSON push")
        CONNECTOR = "connector", _("Connector")
        # Monthly totals typed in by staff for a store without exports, spread over the days.
        MONTHLY = "monthly", _("Entered by month")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="ingestion_runs", verbose_name=_("store")
    )
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    kind = models.CharField(_("report kind"), max_length=20, choices=ReportKind.choices, blank=True)
    kind_override = models.BooleanField(default=False)
    grain = models.CharField(_("grain"), max_length=20, choices=Grain.choices, blank=True)
    ad_tool = models.CharField(max_length=20, choices=AdTool.choices, blank=True)
    connector = models.CharField(_("connector"), max_length=40, blank=True)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    file = models.FileField(upload_to=ingestion_upload_path, blank=True, max_length=300)
    size = models.BigIntegerField(_("size"), default=0)
    checksum = models.CharField(_("SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows skipped"), default=0)
    date_start = models.DateField(_("first date"), null=True, blank=True)
    date_end = models.DateField(_("last date"), null=True, blank=True)
    unknown_columns = models.JSONField(_("ignored columns"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    errors_total = models.PositiveIntegerField(default=0)
    # Deliveries of the run's task that started processing it, each counted in its own committed
    # transaction: a worker killed mid-run leaves the count behind, so a file that kills every
    # worker fails after a few attempts instead of being redelivered forever.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    api_token = models.ForeignKey(
        "agency.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("API token"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    tenant_parent = "store"
    tenant_brand_path = "store__brand"

    class Meta:
        verbose_name = _("ingestion run")
        verbose_name_plural = _("ingestion runs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agency", "store", "-created_at"], name="run_store_recent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename or self.get_source_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}


class FactBase(AgencyOwnedModel):
    """Columns every fact row has. `agency`, `store` and `run` carry no database-level foreign
    key constraint nor index of their own: the writer sets all three from the run it is writing,
    per-row constraint checks and extra indexes would slow every bulk load, and the unique key
    (agency, store, date, ...) serves every lookup (docs/decisions.md). Deleting an agency still
    deletes its facts (Django's cascade); a store with runs cannot be deleted."""

    # The unique key (agency, store, date, ...) serves every lookup: no separate indexes.
    agency = models.ForeignKey(
        "agency.Agency",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
        editable=False,
    )
    store = models.ForeignKey(
        Store, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    run = models.ForeignKey(
        IngestionRun,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    date = models.DateField()

    tenant_parent = "store"
    tenant_brand_path = "store__brand"

    class Meta:
        abstract = True


def count_field():
    return models.BigIntegerField(null=True, blank=True)


def money_field():
    return models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)


class StoreDayFact(FactBase):
    """生意参谋 store overview: one row a store and day."""

    visitors = count_field()
    page_views = count_field()
    paying_buyers = count_field()
    paid_orders = count_field()
    paid_units = count_field()
    new_buyers = count_field()
    repeat_buyers = count_field()
    add_to_cart_users = count_field()
    favorites = count_field()
    bounced_visitors = count_field()
    cs_first_reply_seconds_sum = count_field()
    cs_sessions = count_field()
    gmv = money_field()
    refund_amount = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "store", "date"], name="store_day_key")
        ]


class StoreDaySourceFact(FactBase):
    """生意参谋 traffic sources: one row a store, day and source."""

    source = models.CharField(max_length=100)
    visitors = count_field()
    paying_buyers = count_field()
    new_buyers = count_field()
    add_to_cart_users = count_field()
    gmv = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "store", "date", "source"], name="store_day_source_key"
            )
        ]


class StoreDayProductFact(FactBase):
    """生意参谋 product report: one row a store, day and product (item id)."""

    item_id = models.CharField(max_length=40)
    item_name = models.CharField(max_length=255, blank=True)
    visitors = count_field()
    page_views = count_field()
    paying_buyers = count_field()
    paid_orders = count_field()
    paid_units = count_field()
    add_to_cart_users = count_field()
    favorites = count_field()
    gmv = money_field()
    refund_amount = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "store", "date", "item_id"], name="store_day_product_key"
            )
        ]


class StoreDayAdFact(FactBase):
    """Ad reports (直通车, 万相台, 引力魔方): one row a store, day, ad tool, campaign and, where
    the report has one, product (item_id "" otherwise)."""

    ad_tool = models.CharField(max_length=20, choices=AdTool.choices)
    campaign = models.CharField(max_length=255)
    item_id = models.CharField(max_length=40, blank=True, default="")
    item_name = models.CharField(max_length=255, blank=True)
    impressions = count_field()
    clicks = count_field()
    ad_orders = count_field()
    ad_spend = money_field()
    ad_gmv = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "store", "date", "ad_tool", "campaign", "item_id"],
                name="store_day_ad_key",
            )
        ]


FACT_MODELS: dict[str, type[FactBase]] = {
    Grain.STORE_DAY: StoreDayFact,
    Grain.STORE_DAY_SOURCE: StoreDaySourceFact,
    Grain.STORE_DAY_PRODUCT: StoreDayProductFact,
    Grain.STORE_DAY_AD: StoreDayAdFact,
}


class AlertSeverity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


class Alert(AgencyOwnedModel):
    """A rule of `execution.metrics.rules` that fired for an engagement's store on a day, with
    the numbers that made it fire. Raised at most once per engagement, rule, day and cause (the
    campaign, product, source or metric it is about; "" for the store); staff acknowledge it with
    a note. Its text is rendered from the rule and the evidence, in the reader's language."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="alerts"
    )
    rule = models.CharField(_("rule"), max_length=60)
    date = models.DateField(_("date"))
    cause = models.CharField(_("about"), max_length=255, blank=True, default="")
    severity = models.CharField(_("severity"), max_length=10, choices=AlertSeverity.choices)
    evidence = models.JSONField(_("evidence"), default=dict)
    created_at = models.DateTimeField(_("raised"), auto_now_add=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    note = models.TextField(_("note"), blank=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-date", "rule", "cause", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "rule", "date", "cause"], name="alert_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["agency", "engagement", "acknowledged_at"], name="alert_engagement_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.date} {self.cause}".strip()

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def title(self) -> str:
        from execution.metrics.rules import RULES

        definition = RULES.get(self.rule)
        return str(definition.title) if definition else self.rule

    @property
    def message(self) -> str:
        """The alert as one sentence with its numbers, in the active language."""
        from execution.metrics.rules import finding_text

        return finding_text(self.rule, self.evidence)[0]

    @property
    def action(self) -> str:
        """What to do about it, in the active language."""
        from execution.metrics.rules import finding_text

        return finding_text(self.rule, self.evidence)[1]
