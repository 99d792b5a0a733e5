"""Step 1, the brand diagnosis: what the brand wants and has (intake), who it competes with
(competitor snapshots), whom it sells to (personas), and the report that staff write from all of
it plus the store's baseline (品牌现状诊断报告), in numbered versions.

Every row hangs on an engagement and carries its agency (`AgencyOwnedModel`); brand users reach
these rows only through their brand (`tenant_brand_path`), and only published report versions are
ever shown to them (see `diagnostics.selectors`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agency.tenancy import AgencyOwnedModel
from engagements.models import Engagement, Goal


def money_field(verbose_name, **kwargs):
    return models.DecimalField(
        verbose_name, max_digits=14, decimal_places=2, null=True, blank=True, **kwargs
    )


class AgeBand(models.TextChoices):
    UNDER_18 = "under_18", _("Under 18")
    AGE_18_24 = "18_24", _("18–24")
    AGE_25_30 = "25_30", _("25–30")
    AGE_31_35 = "31_35", _("31–35")
    AGE_36_40 = "36_40", _("36–40")
    AGE_41_50 = "41_50", _("41–50")
    OVER_50 = "over_50", _("Over 50")


class DiagnosisIntake(AgencyOwnedModel):
    """What the brand tells us at the start: its core goal, budget, product and existing base.

    One per engagement. The goal starts as the engagement's goal but is the brand's own wording
    of it here (the engagement's goal is what the agency signed up for). Money is CNY to the cent;
    a range whose ends are unknown stays empty rather than zero.
    """

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="+", verbose_name=_("engagement")
    )
    goal = models.CharField(_("core goal"), max_length=20, choices=Goal.choices)
    goal_notes = models.TextField(_("goal details"), blank=True)
    budget_min = money_field(_("budget from (CNY)"))
    budget_max = money_field(_("budget up to (CNY)"))
    budget_notes = models.CharField(_("budget notes"), max_length=255, blank=True)
    category = models.CharField(_("category"), max_length=200, blank=True)
    price_low = money_field(_("price band from (CNY)"))
    price_high = money_field(_("price band up to (CNY)"))
    average_order_value = money_field(_("average order value (CNY)"))
    advantages = models.TextField(_("competitive advantages"), blank=True)
    has_tmall_store = models.BooleanField(_("already has a Tmall store"), default=False)
    past_operations = models.TextField(
        _("past operating data"),
        blank=True,
        help_text=_("What the brand reports of its past sales, traffic and campaigns."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("diagnosis intake")
        verbose_name_plural = _("diagnosis intakes")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement"], name="diagnosis_intake_one_per_engagement"
            )
        ]

    def __str__(self) -> str:
        return str(_("Intake of %(engagement)s") % {"engagement": self.engagement})


class Competitor(AgencyOwnedModel):
    """A snapshot of one competing store as staff saw it during the diagnosis (not tracked)."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="+", verbose_name=_("engagement")
    )
    name = models.CharField(_("name"), max_length=200)
    store_url = models.URLField(_("store URL"), max_length=500, blank=True)
    monthly_sales = money_field(_("estimated monthly sales (CNY)"))
    price_low = money_field(_("price band from (CNY)"))
    price_high = money_field(_("price band up to (CNY)"))
    marketing_tactics = models.TextField(_("marketing tactics"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "name"], name="competitor_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Persona(AgencyOwnedModel):
    """One audience persona of the brand: who buys, how they shop, what holds them back."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="+", verbose_name=_("engagement")
    )
    name = models.CharField(_("name"), max_length=200)
    age_bands = models.JSONField(_("age bands"), default=list, blank=True)
    consumption_habits = models.TextField(_("consumption habits"), blank=True)
    pain_points = models.TextField(_("decision pain points"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("persona")
        verbose_name_plural = _("personas")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "name"], name="persona_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_age_bands_display(self) -> list[str]:
        return [str(AgeBand(value).label) for value in AgeBand.values if value in self.age_bands]


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class DiagnosisReport(AgencyOwnedModel):
    """One version of the diagnosis report (品牌现状诊断报告).

    `sections` is a list of `{"key", "title", "body"}` with plain-text bodies. A published
    version is frozen: changing the report after publishing starts a new draft copied from the
    latest version, so what the brand read stays on record. At most one draft per engagement.
    """

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="+", verbose_name=_("engagement")
    )
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    sections = models.JSONField(_("sections"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("diagnosis report")
        verbose_name_plural = _("diagnosis reports")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "number"], name="diagnosis_report_version_unique"
            ),
            models.UniqueConstraint(
                fields=["agency", "engagement"],
                condition=models.Q(status="draft"),
                name="diagnosis_report_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == ReportStatus.PUBLISHED
