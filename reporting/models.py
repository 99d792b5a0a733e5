"""Step 6's outputs: the daily brief (数据日报) with its deliveries, and the weekly and monthly
reviews (周报 / 月报) with their action items. Every figure in them comes from the shared metric
query (`execution.metrics.query`); the alerts they show are `execution.models.Alert` rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agency.tenancy import AgencyOwnedModel


class WebhookKind(models.TextChoices):
    WECOM = "wecom", _("WeChat Work group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")


class BriefSettings(AgencyOwnedModel):
    """How an engagement's daily brief goes out besides e-mail: an optional group-robot webhook
    (WeChat Work or DingTalk; DingTalk robots may require a signing secret)."""

    # One per engagement, by the unique key below (which includes the agency, as every unique key
    # of a tenant table does: a one-to-one field would be unique on the engagement alone).
    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="+"
    )
    send_email = models.BooleanField(_("send by e-mail"), default=True)
    webhook_kind = models.CharField(
        _("group robot"), max_length=10, choices=WebhookKind.choices, blank=True
    )
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "engagement"
    tenant_brand_path = None  # staff settings: brand users never see the webhook

    class Meta:
        verbose_name = _("brief settings")
        verbose_name_plural = _("brief settings")
        constraints = [
            models.UniqueConstraint(fields=["agency", "engagement"], name="brief_settings_once")
        ]


class DailyBrief(AgencyOwnedModel):
    """The brief of one engagement for one day (the day the data is about), as structured JSON
    (`content`; reporting.briefs documents its shape). Revision 1 is the brief as first sent; a
    later revision is a corrected brief, issued when that day's data arrived or changed after
    sending. The unique key makes "once per engagement, day and revision" a database fact."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="briefs"
    )
    date = models.DateField(_("date"))
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    content = models.JSONField(_("content"), default=dict)
    # SHA-256 of the content's figures: a re-ingest of the same numbers corrects nothing.
    fingerprint = models.CharField(max_length=64)
    language = models.CharField(_("language"), max_length=10)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("daily brief")
        verbose_name_plural = _("daily briefs")
        ordering = ["-date", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "date", "revision"], name="brief_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.engagement_id} {self.date} r{self.revision}"

    @property
    def is_correction(self) -> bool:
        return self.revision > 1


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery status", "Pending")
    SENT = "sent", pgettext_lazy("delivery status", "Sent")
    FAILED = "failed", pgettext_lazy("delivery status", "Failed")


class BriefDelivery(AgencyOwnedModel):
    """One brief to one recipient over one channel; unique, so a repeated job cannot add a
    second one, and a sent delivery is never sent again."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Group robot")

    brief = models.ForeignKey(DailyBrief, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=500)
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    tenant_parent = "brief"
    tenant_brand_path = None  # who received what is staff information

    class Meta:
        verbose_name = _("brief delivery")
        verbose_name_plural = _("brief deliveries")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "brief", "channel", "recipient"], name="brief_delivery_once"
            )
        ]


class ReviewKind(models.TextChoices):
    WEEK = "week", _("Weekly review")
    MONTH = "month", _("Monthly review")


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("review status", "Draft")
    PUBLISHED = "published", pgettext_lazy("review status", "Published")


class Review(AgencyOwnedModel):
    """A weekly or monthly review (周报 / 月报) of one engagement: drafted automatically with the
    period's figures (`content`, from the metric query), edited by staff (`narrative`), published
    to the brand. Brand users see published reviews only."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="reviews"
    )
    kind = models.CharField(_("kind"), max_length=5, choices=ReviewKind.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    content = models.JSONField(_("figures"), default=dict)
    narrative = models.TextField(_("summary"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-period_start", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "kind", "period_start"], name="review_once"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="review_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start}–{self.period_end}"

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED


class ActionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("action item status", "Open")
    DONE = "done", pgettext_lazy("action item status", "Done")
    DROPPED = "dropped", pgettext_lazy("action item status", "Dropped")


class ReviewActionItem(AgencyOwnedModel):
    """Something to do after a review: what, who, by when, and how it went (the next review
    lists the previous review's items with their status)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        "agency.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "review"
    tenant_brand_path = "review__engagement__store__brand"

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.title


class ExportAudience(models.TextChoices):
    BRAND = "brand", _("For the brand")
    INTERNAL = "internal", _("Internal (everything)")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel workbook (XLSX)")
    ZIP = "zip", _("CSV files in a ZIP")


class ExportRecord(AgencyOwnedModel):
    """One download of an engagement's data handover (reporting.exports): who asked, when, for
    which audience, in which format, how many rows each table held, and the file's size and
    SHA-256 (so a file in someone's hands can be matched to its record). The file itself is
    not kept: it is built again from the data on each download."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    audience = models.CharField(_("audience"), max_length=10, choices=ExportAudience.choices)
    file_format = models.CharField(_("format"), max_length=5, choices=ExportFormat.choices)
    filename = models.CharField(_("file"), max_length=255)
    row_counts = models.JSONField(_("rows per table"), default=dict)
    size = models.BigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["agency", "engagement", "-created_at"], name="export_recent")
        ]

    def __str__(self) -> str:
        return self.filename


# --- steps 7 and 8: the full review (全面效果复盘) and the long-term plan (长期合作建议) ---------


class FullReview(AgencyOwnedModel):
    """The full review of an engagement, or of a stage of it (a chosen period): the figures
    (`content`, built by `reporting.full_review.figures`), the staff's answers to the three
    questions of a 复盘 (did we hit the target; what went wrong and why; who fixes what by when:
    the answers, the findings with their evidence and the action items), published to the brand.
    Publishing the first one opens the lifecycle gate to step 8."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="full_reviews"
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    content = models.JSONField(_("figures"), default=dict)
    narrative = models.TextField(_("summary"), blank=True)
    target_answer = models.TextField(_("did we hit the target?"), blank=True)
    cause_answer = models.TextField(_("what went wrong, and why?"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("full review")
        verbose_name_plural = _("full reviews")
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "period_start", "period_end"],
                name="full_review_once",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="full_review_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.period_start}–{self.period_end}"

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED


class FindingKind(models.TextChoices):
    STRENGTH = "strength", _("Strength")
    WEAKNESS = "weakness", _("Weak spot")


class FullReviewFinding(AgencyOwnedModel):
    """A strength or a weak spot of a full review, with the evidence behind it (a figure, a
    comparison). `rule` names the figure check that proposed it; blank for the staff's own."""

    review = models.ForeignKey(FullReview, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("kind"), max_length=10, choices=FindingKind.choices)
    statement = models.CharField(_("finding"), max_length=300)
    evidence = models.TextField(_("evidence"))
    rule = models.CharField(max_length=40, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "review"
    tenant_brand_path = "review__engagement__store__brand"

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["kind", "position", "pk"]

    def __str__(self) -> str:
        return self.statement


class FullReviewAction(AgencyOwnedModel):
    """Who fixes what by when: an action item of a full review, with an owner and a due date."""

    review = models.ForeignKey(FullReview, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        "agency.Membership", on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_date = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "review"
    tenant_brand_path = "review__engagement__store__brand"

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.title


class LongTermPlan(AgencyOwnedModel):
    """The long-term plan (长期合作建议) drawn from a full review: recommendations proposed by
    rules (each with its reason and numbers) and the staff's own, edited and published to the
    brand. `next_proposal` is the proposal draft "next proposal" started from it."""

    full_review = models.ForeignKey(
        FullReview, on_delete=models.CASCADE, related_name="plans", verbose_name=_("full review")
    )
    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="long_term_plans"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    summary = models.TextField(_("summary"), blank=True)
    suggested_services = models.JSONField(_("suggested scope"), default=list, blank=True)
    next_proposal = models.ForeignKey(
        "proposals.Proposal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("next proposal"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("long-term plan")
        verbose_name_plural = _("long-term plans")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One plan per full review.
            models.UniqueConstraint(fields=["agency", "full_review"], name="plan_once_per_review")
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} ({self.full_review})"

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED


class Recommendation(AgencyOwnedModel):
    """One recommendation of a long-term plan. `rule` names the rule that proposed it (its
    `figures` are the numbers it fired on); blank for the staff's own."""

    plan = models.ForeignKey(LongTermPlan, on_delete=models.CASCADE, related_name="recommendations")
    rule = models.CharField(max_length=40, blank=True)
    title = models.CharField(_("recommendation"), max_length=200)
    reason = models.TextField(_("reason"))
    figures = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "plan"
    tenant_brand_path = "plan__engagement__store__brand"

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title
