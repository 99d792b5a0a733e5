"""Step 5, conversion and user operations: offers (coupon and discount plans) and their
results, customer-service days entered by staff, the store's orders (buyer ids hashed on
import, never stored raw) and the RFM user tiers computed from them, with a strategy per tier.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from agency.models import Store
from agency.tenancy import AgencyOwnedModel

MONEY = {"max_digits": 14, "decimal_places": 2}


class Tier(models.TextChoices):
    NEW = "new", _("New customers")
    REPEAT = "repeat", _("Repeat customers")
    HIGH_VALUE = "high_value", _("High-value customers")
    AT_RISK = "at_risk", _("At-risk customers")


class OfferKind(models.TextChoices):
    STORE_COUPON = "store_coupon", _("Store coupon (店铺券)")
    ITEM_COUPON = "item_coupon", _("Product coupon (商品券)")
    FULL_REDUCTION = "full_reduction", _("Spend-and-save (满减)")
    DISCOUNT = "discount", _("Percentage discount (折扣)")


class Offer(AgencyOwnedModel):
    """A coupon or discount plan: who it targets, its threshold and discount, its dates and
    budget, and its results as entered from the platform's coupon report. For a percentage
    discount `discount` is the percent off; otherwise it is the amount off in CNY."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="offers"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=OfferKind.choices)
    threshold = models.DecimalField(
        _("minimum spend (CNY)"), default=0, validators=[MinValueValidator(0)], **MONEY
    )
    discount = models.DecimalField(
        _("discount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    target_tier = models.CharField(
        _("target customers"), max_length=20, choices=Tier.choices, blank=True
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    budget = models.DecimalField(
        _("budget (CNY)"), null=True, blank=True, validators=[MinValueValidator(0)], **MONEY
    )
    # Results, from the platform's coupon report.
    issued = models.PositiveIntegerField(_("issued"), null=True, blank=True)
    redeemed = models.PositiveIntegerField(_("redeemed"), null=True, blank=True)
    orders = models.PositiveIntegerField(_("orders"), null=True, blank=True)
    gmv = models.DecimalField(
        _("GMV with the offer (CNY)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        **MONEY,
    )
    cost = models.DecimalField(
        _("discount given (CNY)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        **MONEY,
    )
    notes = models.TextField(_("notes"), blank=True)
    brand_visible = models.BooleanField(_("visible to the brand"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["engagement", "-start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="offer_end_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="discount") | models.Q(discount__lt=100),
                name="offer_discount_percent_below_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceDay(AgencyOwnedModel):
    """Customer-service figures of one store-day typed in by staff (from the 客服 workbench)
    where no export brings them. Stored as summed parts like the facts: the average first
    reply is `first_reply_seconds_sum / sessions`. Ingested figures win over entered ones."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("date"))
    sessions = models.PositiveIntegerField(_("customer-service sessions"))
    first_reply_seconds_sum = models.DecimalField(
        _("first-reply seconds, summed"), max_digits=16, decimal_places=2
    )
    inquiry_buyers = models.PositiveIntegerField(_("buyers who asked"), null=True, blank=True)
    inquiry_paying_buyers = models.PositiveIntegerField(
        _("of them, paying buyers"), null=True, blank=True
    )
    after_sales_requests = models.PositiveIntegerField(
        _("after-sales requests"), null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "store"
    tenant_brand_path = "store__brand"

    class Meta:
        verbose_name = _("customer-service day")
        verbose_name_plural = _("customer-service days")
        ordering = ["store", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "store", "date"], name="service_day_once")
        ]


class OrderImport(AgencyOwnedModel):
    """One upload of a store's order export: what came in and what it became. The file itself
    is not kept (it holds raw buyer ids): rows are read, buyer ids hashed, and orders written
    in one transaction, or nothing is written and the errors are kept."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="order_imports"
    )
    filename = models.CharField(_("file"), max_length=255)
    size = models.BigIntegerField(_("size"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    orders_written = models.PositiveIntegerField(_("orders written"), default=0)
    date_start = models.DateField(_("first date"), null=True, blank=True)
    date_end = models.DateField(_("last date"), null=True, blank=True)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    errors_total = models.PositiveIntegerField(default=0)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("imported"), auto_now_add=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        ordering = ["-created_at", "-pk"]


class CustomerOrder(AgencyOwnedModel):
    """One paid order of a store. `buyer_key` is a keyed hash (HMAC-SHA256) of the buyer id:
    the same buyer gets the same key across imports, and the raw id is never stored or shown.
    Re-importing an order id replaces the row (the natural key is unique)."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    order_id = models.CharField(_("order id"), max_length=64)
    buyer_key = models.CharField(_("buyer (hashed)"), max_length=64)
    paid_at = models.DateTimeField(_("paid"))
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)
    order_import = models.ForeignKey(
        OrderImport, on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=False
    )

    tenant_parent = "store"
    tenant_brand_path = "store__brand"

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "store", "order_id"], name="customer_order_unique"
            )
        ]
        indexes = [models.Index(fields=["agency", "store", "paid_at"], name="customer_order_paid")]


class TierSnapshot(AgencyOwnedModel):
    """A tier's size and GMV in one month: the buyers the RFM scoring put in the tier as of
    the month's end, and what they paid in that month. GMV share is the tier's GMV over the
    month's summed GMV, computed when shown."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="tier_snapshots"
    )
    month = models.DateField(_("month"))
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices)
    buyers = models.PositiveIntegerField(_("buyers"))
    orders = models.PositiveIntegerField(_("orders"))
    gmv = models.DecimalField(_("GMV (CNY)"), **MONEY)
    computed_at = models.DateTimeField(_("computed"), auto_now=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("tier snapshot")
        verbose_name_plural = _("tier snapshots")
        ordering = ["engagement", "month", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "month", "tier"], name="tier_snapshot_unique"
            )
        ]


class TierStrategy(AgencyOwnedModel):
    """What the agency does for one tier of an engagement: the offer, the channel, the
    cadence."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="tier_strategies"
    )
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices)
    offer = models.CharField(_("offer"), max_length=300, blank=True)
    channel = models.CharField(_("channel"), max_length=200, blank=True)
    cadence = models.CharField(_("cadence"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    brand_visible = models.BooleanField(_("visible to the brand"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("tier strategy")
        verbose_name_plural = _("tier strategies")
        ordering = ["engagement", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "tier"], name="tier_strategy_unique"
            )
        ]
