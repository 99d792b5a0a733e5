"""Step 3, store setup: the agency's checklist templates and each engagement's checklist.

A checklist is created from a template chosen by the store's situation (a new store to open on
Tmall, or an existing one); its items then live on their own. An item has an owner, a due date,
a status and evidence (files, links, notes); it is internal or visible to the brand, and some
(the visual system) wait for the brand's approval. Qualification documents carry their issue
and expiry dates, and their owner is reminded before expiry.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from agency.models import Membership, StoreSituation
from agency.tenancy import AgencyOwnedModel
from execution.models.files import UploadedFileFields


class SetupSection(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification documents")
    REGISTRATION = "registration", _("Store registration")
    VISUAL = "visual", _("Visual system")
    BASE_SETTINGS = "base_settings", _("Base settings")


class DocumentKind(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("Business licence (营业执照)")
    BRAND_AUTHORISATION = "brand_authorisation", _("Brand authorisation (品牌授权书)")
    QUALITY_REPORT = "quality_report", _("Quality inspection report (质检报告)")
    TRADEMARK = "trademark", _("Trademark registration certificate (商标注册证)")
    OTHER = "other", _("Other document")


class SetupItemStatus(models.TextChoices):
    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    BRAND_REVIEW = "brand_review", _("Waiting for the brand")
    DONE = "done", _("Done")
    NOT_NEEDED = "not_needed", _("Not needed")


class BrandDecision(models.TextChoices):
    PENDING = "", _("Not decided")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")


class SetupTemplate(AgencyOwnedModel):
    """An agency's checklist template for one store situation; agency admins edit it."""

    name = models.CharField(_("name"), max_length=200)
    situation = models.CharField(
        _("store situation"), max_length=10, choices=StoreSituation.choices
    )
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("setup template")
        verbose_name_plural = _("setup templates")
        ordering = ["situation", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="setup_template_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class SetupTemplateItem(AgencyOwnedModel):
    """One line of a template. `per_main_product` lines become one item per main product (a
    detail page each); `due_days` counts from the checklist's start."""

    template = models.ForeignKey(SetupTemplate, on_delete=models.CASCADE, related_name="items")
    section = models.CharField(_("section"), max_length=20, choices=SetupSection.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    document_kind = models.CharField(
        _("document"), max_length=30, choices=DocumentKind.choices, blank=True
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    due_days = models.PositiveIntegerField(_("due after (days)"), default=14)
    brand_visible = models.BooleanField(_("visible to the brand"), default=True)
    needs_brand_approval = models.BooleanField(_("brand approves"), default=False)
    per_main_product = models.BooleanField(_("one per main product"), default=False)

    tenant_parent = "template"

    class Meta:
        verbose_name = _("template item")
        verbose_name_plural = _("template items")
        ordering = ["template", "position", "pk"]


class SetupItem(AgencyOwnedModel):
    """One item of an engagement's setup checklist."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="setup_items"
    )
    section = models.CharField(_("section"), max_length=20, choices=SetupSection.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    product_item_id = models.CharField(_("product item id"), max_length=40, blank=True)
    product_name = models.CharField(_("product"), max_length=200, blank=True)
    owner = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=SetupItemStatus.choices, default=SetupItemStatus.TODO
    )
    brand_visible = models.BooleanField(_("visible to the brand"), default=True)
    needs_brand_approval = models.BooleanField(_("brand approves"), default=False)
    brand_decision = models.CharField(
        _("brand decision"), max_length=20, choices=BrandDecision.choices, blank=True
    )
    brand_comment = models.TextField(_("brand comment"), blank=True)
    brand_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    brand_decided_at = models.DateTimeField(_("brand decided"), null=True, blank=True)
    document_kind = models.CharField(
        _("document"), max_length=30, choices=DocumentKind.choices, blank=True
    )
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    reminder_days = models.PositiveIntegerField(
        _("remind before expiry (days)"), default=30, validators=[MinValueValidator(1)]
    )
    # The expiry date whose reminder went out: a renewed document (new date) is reminded again.
    reminded_for_expiry = models.DateField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("setup item")
        verbose_name_plural = _("setup items")
        ordering = ["engagement", "position", "pk"]
        indexes = [
            models.Index(fields=["agency", "engagement", "status"], name="setup_item_status"),
            models.Index(fields=["agency", "expiry_date"], name="setup_item_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expiry_date__isnull=True)
                | models.Q(issue_date__isnull=True)
                | models.Q(expiry_date__gte=models.F("issue_date")),
                name="setup_item_expiry_after_issue",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_document(self) -> bool:
        return bool(self.document_kind)

    @property
    def is_closed(self) -> bool:
        return self.status in {SetupItemStatus.DONE, SetupItemStatus.NOT_NEEDED}


class SetupEvidence(AgencyOwnedModel, UploadedFileFields):
    """A file, a link or a note that shows an item's work (a licence scan, a design draft). It
    is seen by whoever sees its item."""

    item = models.ForeignKey(SetupItem, on_delete=models.CASCADE, related_name="evidence")
    url = models.URLField(_("link"), blank=True, max_length=500)
    note = models.TextField(_("note"), blank=True)

    tenant_parent = "item"
    tenant_brand_path = "item__engagement__store__brand"

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["item", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(file="") | ~models.Q(url="") | ~models.Q(note=""),
                name="setup_evidence_not_empty",
            )
        ]
