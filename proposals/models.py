"""The proposal of step 2 (定制化运营方案): versions, their content rows, the brand owner's
approval, change requests and the comments between agency and brand.

A `Proposal` belongs to one engagement and holds numbered `ProposalVersion`s. A version is edited
(its child rows: targets, milestones, resources, responsibilities, commission tiers) only while it
is a draft; sending freezes its `content()` into `snapshot` and hashes it, so what the brand reads,
approves and later sees "as approved" is exactly that frozen dict, whatever happens to the rows.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from agency.models import Membership
from agency.tenancy import AgencyOwnedModel
from engagements.models import Engagement

MONEY = {"max_digits": 14, "decimal_places": 2}
CENT = Decimal("0.01")


def decimal_text(value: Decimal | None) -> str | None:
    """A Decimal as the snapshot stores it: two places, more only when the value needs them
    (a conversion-rate target of 0.025 keeps its third place)."""
    if value is None:
        return None
    value = Decimal(value)
    if value == value.quantize(CENT):
        return str(value.quantize(CENT))
    return format(value.normalize(), "f")


def content_hash(content: dict) -> str:
    """sha256 of the canonical JSON of a content snapshot: what an approval signs."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Proposal(AgencyOwnedModel):
    """The agency's proposal for one engagement. An engagement may get a new proposal later
    (a renewal or a change of scope); the newest one is the engagement's current proposal."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="+", verbose_name=_("engagement")
    )
    title = models.CharField(_("title"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent to the brand")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    SUPERSEDED = "superseded", _("Superseded")


# Statuses a brand user may see: everything but the agency's own drafts.
BRAND_VISIBLE_STATUSES = (
    VersionStatus.SENT,
    VersionStatus.CHANGES_REQUESTED,
    VersionStatus.APPROVED,
    VersionStatus.SUPERSEDED,
)


class ProposalVersion(AgencyOwnedModel):
    """One numbered version of a proposal: draft → sent → approved, or changes requested.

    `snapshot` is the frozen `content()` written at send; `content_hash` its sha256. After send
    nothing of the version changes but its status: a change makes a new version.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    scope_services = models.JSONField(_("services in scope"), default=list)
    monthly_base_fee = models.DecimalField(
        _("monthly base fee"), default=Decimal("0.00"), validators=[MinValueValidator(0)], **MONEY
    )
    kpi_bonus = models.TextField(_("KPI bonus"), blank=True)
    # Store setup (step 3): whether the homepage and detail pages wait for the brand's approval.
    brand_approves_visuals = models.BooleanField(
        _("the brand approves the visual designs"), default=True
    )
    terms = models.TextField(_("terms"), blank=True)
    planner = models.JSONField(_("planner assumptions"), null=True, blank=True)
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    tenant_parent = "proposal"
    tenant_brand_path = "proposal__engagement__store__brand"

    class Meta:
        verbose_name = _("proposal version")
        verbose_name_plural = _("proposal versions")
        ordering = ["proposal", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "proposal", "number"], name="proposal_version_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposal.title} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def is_frozen(self) -> bool:
        return self.snapshot is not None

    def content(self) -> dict:
        """The version's content as a JSON-able dict (Decimals as strings, dates ISO): the frozen
        snapshot once sent, else built from the rows. This dict is what is hashed, approved,
        shown "as approved" and diffed."""
        if self.snapshot is not None:
            return self.snapshot
        return self.content_from_rows()

    def content_from_rows(self) -> dict:
        return {
            "scope_services": list(self.scope_services),
            "brand_approves_visuals": self.brand_approves_visuals,
            "targets": [
                {
                    "metric": row.metric,
                    "comparison": row.comparison,
                    "value": decimal_text(row.value),
                    "period": row.period,
                    "by_month": row.by_month,
                }
                for row in self.targets.all()
            ],
            "milestones": [
                {"month": row.month, "title": row.title, "description": row.description}
                for row in self.milestones.all()
            ],
            "resources": [
                {
                    "kind": row.kind,
                    "channel": row.channel,
                    "month": row.month,
                    "description": row.description,
                    "amount": decimal_text(row.amount),
                }
                for row in self.resources.all()
            ],
            "responsibilities": [
                {
                    "party": row.party,
                    "task": row.task,
                    "owner": row.owner,
                    "due_date": row.due_date.isoformat() if row.due_date else None,
                }
                for row in self.responsibilities.all()
            ],
            "fees": {
                "monthly_base_fee": decimal_text(self.monthly_base_fee),
                "kpi_bonus": self.kpi_bonus,
                "commission_tiers": [
                    {
                        "gmv_from": decimal_text(row.gmv_from),
                        "gmv_to": decimal_text(row.gmv_to),
                        "rate_percent": decimal_text(row.rate_percent),
                    }
                    for row in self.commission_tiers.all()
                ],
            },
            "terms": self.terms,
            "planner": self.planner,
        }


class VersionRow(AgencyOwnedModel):
    """A content row of a version (edited only while the version is a draft)."""

    tenant_parent = "version"
    tenant_brand_path = "version__proposal__engagement__store__brand"

    class Meta:
        abstract = True


class Comparison(models.TextChoices):
    AT_LEAST = ">=", "≥"
    AT_MOST = "<=", "≤"


class TargetPeriod(models.TextChoices):
    MONTH = "month", _("in that month")
    CUMULATIVE = "cumulative", _("cumulative from month 1")


class ProposalTarget(VersionRow):
    """A KPI target: a metric of the registry, compared with a value, by a month of the plan
    (e.g. monthly GMV ≥ 500,000 by month 3)."""

    version = models.ForeignKey(ProposalVersion, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(_("metric"), max_length=40)
    comparison = models.CharField(
        _("comparison"), max_length=2, choices=Comparison.choices, default=Comparison.AT_LEAST
    )
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=4)
    period = models.CharField(
        _("period"), max_length=12, choices=TargetPeriod.choices, default=TargetPeriod.MONTH
    )
    by_month = models.PositiveSmallIntegerField(_("by month"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["by_month", "metric", "pk"]


class ProposalMilestone(VersionRow):
    """A milestone of the month-by-month phase plan."""

    version = models.ForeignKey(
        ProposalVersion, on_delete=models.CASCADE, related_name="milestones"
    )
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1)])
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["month", "pk"]


class ResourceKind(models.TextChoices):
    PAID_BUDGET = "paid_budget", _("Paid budget")
    PLATFORM_EVENT = "platform_event", _("Platform event")
    INFLUENCER = "influencer", _("Influencer")


class ProposalResource(VersionRow):
    """A resource the plan commits: a monthly paid budget per channel, a platform event, an
    influencer."""

    version = models.ForeignKey(ProposalVersion, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(_("kind"), max_length=20, choices=ResourceKind.choices)
    channel = models.CharField(_("channel"), max_length=40, blank=True)
    month = models.PositiveSmallIntegerField(
        _("month"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: every month."),
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    amount = models.DecimalField(
        _("amount"), null=True, blank=True, validators=[MinValueValidator(0)], **MONEY
    )

    class Meta:
        ordering = ["kind", "month", "pk"]


class Party(models.TextChoices):
    BRAND = "brand", _("Brand")
    AGENCY = "agency", _("Agency")


class ProposalResponsibility(VersionRow):
    """One line of the division of labour: who provides or does what, by when."""

    version = models.ForeignKey(
        ProposalVersion, on_delete=models.CASCADE, related_name="responsibilities"
    )
    party = models.CharField(_("party"), max_length=10, choices=Party.choices)
    task = models.CharField(_("task"), max_length=300)
    owner = models.CharField(_("owner"), max_length=150)
    due_date = models.DateField(_("due date"))

    class Meta:
        ordering = ["party", "due_date", "pk"]


class CommissionTier(VersionRow):
    """A commission rate on the part of monthly GMV from `gmv_from` up to `gmv_to` (open: None)."""

    version = models.ForeignKey(
        ProposalVersion, on_delete=models.CASCADE, related_name="commission_tiers"
    )
    gmv_from = models.DecimalField(_("GMV from"), validators=[MinValueValidator(0)], **MONEY)
    gmv_to = models.DecimalField(_("GMV up to"), null=True, blank=True, **MONEY)
    rate_percent = models.DecimalField(
        _("commission %"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        ordering = ["gmv_from", "pk"]


class Approval(AgencyOwnedModel):
    """The evidence of a brand owner's approval: who, when, from where, the name they typed as
    their signature, and the hash of the exact content they approved. Never edited."""

    version = models.ForeignKey(ProposalVersion, on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_name = models.CharField(_("signed name"), max_length=150)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("browser"), blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64)
    approved_at = models.DateTimeField(_("approved"))

    tenant_parent = "version"
    tenant_brand_path = "version__proposal__engagement__store__brand"

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints = [
            models.UniqueConstraint(fields=["agency", "version"], name="approval_one_per_version")
        ]


class ChangeRequest(AgencyOwnedModel):
    """The brand's "request changes" on a sent version, with what they want changed."""

    version = models.ForeignKey(ProposalVersion, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("what should change"))
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "version"
    tenant_brand_path = "version__proposal__engagement__store__brand"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "version"], name="change_request_one_per_version"
            )
        ]


class ProposalComment(AgencyOwnedModel):
    """A comment on a proposal. Shared comments are visible to both sides; internal notes only
    to agency staff (a brand user's queries never return them)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(
        ProposalVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("comment"))
    internal = models.BooleanField(_("internal note (staff only)"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "proposal"
    tenant_brand_path = "proposal__engagement__store__brand"

    class Meta:
        ordering = ["created_at", "pk"]
