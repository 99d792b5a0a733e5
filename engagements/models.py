"""An engagement: the agency running (part of) a brand's Tmall store, and its lifecycle log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agency.models import Membership, Store
from agency.tenancy import AgencyOwnedModel
from engagements.lifecycle import STAGE_SERVICE, Service, Stage, phase_of, stage_number


class Goal(models.TextChoices):
    FIRST_SALE = "first_sale", _("First sale for a new brand")
    GROWTH = "growth", _("Growth of an existing store")
    CLEARANCE = "clearance", _("Inventory clearance")
    OTHER = "other", _("Other")


class EngagementStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("engagement status", "Active")
    PAUSED = "paused", pgettext_lazy("engagement status", "Paused")
    ENDED = "ended", pgettext_lazy("engagement status", "Ended")


class Engagement(AgencyOwnedModel):
    """The agency's work on one store of a brand, from diagnosis to the long-term plan.

    `stage` is where the work's focus is; it changes only through
    `engagements.services.engagement_move_stage`, which checks the gates and writes an
    `EngagementTransition`. `scope_services` holds the services sold (all four: full service).
    """

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="engagements", verbose_name=_("store")
    )
    title = models.CharField(_("title"), max_length=200)
    goal = models.CharField(_("goal"), max_length=20, choices=Goal.choices)
    goal_notes = models.TextField(_("goal details"), blank=True)
    scope_services = models.JSONField(_("services in scope"), default=list)
    # From the approved proposal: whether the homepage and detail pages of store setup wait for
    # the brand owner's approval.
    brand_approves_visuals = models.BooleanField(
        _("the brand approves the visual designs"), default=True
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    account_manager = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="managed_engagements",
        verbose_name=_("account manager"),
    )
    team = models.ManyToManyField(
        Membership,
        through="EngagementTeamMember",
        related_name="team_engagements",
        blank=True,
        verbose_name=_("team"),
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.DIAGNOSIS
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EngagementStatus.choices,
        default=EngagementStatus.ACTIVE,
    )
    internal_notes = models.TextField(_("internal notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "store"
    tenant_brand_path = "store__brand"

    class Meta:
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["-start_date", "-pk"]
        indexes = [models.Index(fields=["agency", "stage"], name="engagement_agency_stage")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="engagement_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def brand(self):
        return self.store.brand

    @property
    def phase(self):
        return phase_of(self.stage)

    @property
    def stage_number(self) -> int:
        return stage_number(self.stage)

    @property
    def is_full_service(self) -> bool:
        return set(self.scope_services) == set(Service.values)

    def stage_in_scope(self, stage: str) -> bool:
        service = STAGE_SERVICE.get(Stage(stage))
        return service is None or service in self.scope_services

    def get_scope_services_display(self) -> list[str]:
        return [Service(value).label for value in Service.values if value in self.scope_services]


class EngagementTeamMember(AgencyOwnedModel):
    """A staff member working on an engagement besides its account manager."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "membership"], name="engagement_team_unique"
            )
        ]


class EngagementTransition(AgencyOwnedModel):
    """One move of an engagement's stage: who, when, from, to, and why. Never edited."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(
        _("from"),
        max_length=20,
        choices=Stage.choices,
        blank=True,
        help_text=_("Empty for the engagement's creation."),
    )
    to_stage = models.CharField(_("to"), max_length=20, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-created_at", "-pk"]

    @property
    def is_backward(self) -> bool:
        return bool(self.from_stage) and stage_number(self.to_stage) < stage_number(self.from_stage)


class EngagementTarget(AgencyOwnedModel):
    """A live KPI target of the engagement, which monitoring and the reviews measure against.

    Engagement data, not proposal data: the approved proposal copies its targets in (replacing
    the previous ones), so the step apps that read targets need not import proposals.
    `source_version_id` says which proposal version they came from (no foreign key, on purpose).
    """

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(_("metric"), max_length=40)
    comparison = models.CharField(_("comparison"), max_length=2)
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=4)
    period = models.CharField(_("period"), max_length=12)
    by_month = models.PositiveSmallIntegerField(_("by month"))
    source_version_id = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        ordering = ["by_month", "metric", "pk"]
