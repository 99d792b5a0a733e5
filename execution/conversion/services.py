"""Writes of the conversion area: offers and their results, customer-service days entered by
staff, the strategy per user tier, and a manual recompute of the tiers. Every write checks that
the engagement's workspace is open and holds user operations, and validates before it writes;
a ValidationError names the field and the value. Order imports live in `orders`."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agency.models import Agency, Membership
from engagements.lifecycle import Service
from engagements.models import Engagement
from execution.metrics.formatting import format_number
from execution.models import Offer, OfferKind, ServiceDay, Tier, TierStrategy
from execution.workspace import workspace_check_writable

# An offer's plan (set before it runs) and its results (typed in from the platform's coupon
# report afterwards); the offer form shows them as two groups.
OFFER_PLAN_FIELDS = (
    "name",
    "kind",
    "threshold",
    "discount",
    "target_tier",
    "start_date",
    "end_date",
    "budget",
    "notes",
    "brand_visible",
)
OFFER_RESULT_FIELDS = ("issued", "redeemed", "orders", "gmv", "cost")
OFFER_FIELDS = OFFER_PLAN_FIELDS + OFFER_RESULT_FIELDS
MONEY_FIELDS = ("threshold", "discount", "budget", "gmv", "cost")
COUNT_FIELDS = ("issued", "redeemed", "orders")
MAX_MONEY = Decimal("999999999999.99")
CENT = Decimal("0.01")


def agency_today(agency: Agency) -> datetime.date:
    """The agency's local date (the store's days are local days)."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(agency.time_zone))


def _negative(value) -> str:
    """The message for a count or an amount below 0, naming the value."""
    return _("%(value)s is negative; it cannot be below 0.") % {"value": value}


# --- offers -----------------------------------------------------------------------------------


def _offer_clean(values: dict[str, Any]) -> dict[str, Any]:
    """The offer's fields, checked together; raises ValidationError naming each bad field and
    its value."""
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    name = (values.get("name") or "").strip()
    if not name:
        refuse("name", _("Give the offer a name."))
    kind = values.get("kind")
    if kind not in OfferKind.values:
        refuse("kind", _("“%(value)s” is not an offer type.") % {"value": kind})
    tier = values.get("target_tier") or ""
    if tier and tier not in Tier.values:
        refuse("target_tier", _("“%(value)s” is not a customer tier.") % {"value": tier})
    for field in MONEY_FIELDS:
        value = values.get(field)
        if value is None:
            continue
        if value < 0:
            refuse(field, _negative(value))
        elif value > MAX_MONEY:
            refuse(field, _("%(value)s is too large.") % {"value": value})
        elif value != value.quantize(CENT):
            refuse(field, _("%(value)s has more than two decimal places.") % {"value": value})
    for field in COUNT_FIELDS:
        value = values.get(field)
        if value is not None and value < 0:
            refuse(field, _negative(value))
    threshold = values.get("threshold") or Decimal(0)
    discount = values.get("discount")
    if discount is None:
        refuse("discount", _("Enter the discount."))
    elif kind == OfferKind.DISCOUNT and not Decimal(0) < discount < Decimal(100):
        refuse(
            "discount",
            _("A percentage discount lies between 0 and 100 (exclusive); %(value)s does not.")
            % {"value": discount},
        )
    elif kind in OfferKind.values and kind != OfferKind.DISCOUNT:
        if discount <= 0:
            refuse(
                "discount",
                _("The amount off must be above 0; it is %(value)s.") % {"value": discount},
            )
        elif threshold > 0 and discount >= threshold:
            refuse(
                "discount",
                _(
                    "The amount off (%(value)s CNY) must be below the minimum spend "
                    "(%(threshold)s CNY)."
                )
                % {"value": format_number(discount, 2), "threshold": format_number(threshold, 2)},
            )
    start, end = values.get("start_date"), values.get("end_date")
    if start is None:
        refuse("start_date", _("Enter the start date."))
    if end is None:
        refuse("end_date", _("Enter the end date."))
    if start is not None and end is not None and end < start:
        refuse(
            "end_date",
            _("The end date %(end)s is before the start date %(start)s.")
            % {"end": end.isoformat(), "start": start.isoformat()},
        )
    issued, redeemed = values.get("issued"), values.get("redeemed")
    if issued is not None and redeemed is not None and redeemed > issued:
        refuse(
            "redeemed",
            _("%(redeemed)d redeemed is more than the %(issued)d issued.")
            % {"redeemed": redeemed, "issued": issued},
        )
    if errors:
        raise ValidationError(errors)
    cleaned = {field: values.get(field) for field in OFFER_FIELDS}
    cleaned.update(
        name=name,
        target_tier=tier,
        threshold=threshold,
        notes=(values.get("notes") or "").strip(),
        brand_visible=bool(values.get("brand_visible")),
    )
    return cleaned


@transaction.atomic
def offer_create(*, actor: Membership, engagement: Engagement, **values: Any) -> Offer:
    """A new coupon or discount plan for the engagement (results may come later)."""
    workspace_check_writable(engagement=engagement, service=Service.CONVERSION)
    cleaned = _offer_clean(values)
    offer = Offer(engagement=engagement, created_by=actor.user, **cleaned)
    offer.save()
    return offer


@transaction.atomic
def offer_update(*, actor: Membership, offer: Offer, **values: Any) -> Offer:
    """Change an offer's plan or enter its results (every field given, as the form sends)."""
    workspace_check_writable(engagement=offer.engagement, service=Service.CONVERSION)
    cleaned = _offer_clean(values)
    for field, value in cleaned.items():
        setattr(offer, field, value)
    offer.save()
    return offer


@transaction.atomic
def offer_delete(*, actor: Membership, offer: Offer) -> None:
    workspace_check_writable(engagement=offer.engagement, service=Service.CONVERSION)
    offer.delete()


# --- customer service -------------------------------------------------------------------------


@transaction.atomic
def service_day_enter(
    *,
    actor: Membership,
    engagement: Engagement,
    date: datetime.date,
    sessions: int,
    average_first_reply_seconds: Decimal,
    inquiry_buyers: int | None = None,
    inquiry_paying_buyers: int | None = None,
    after_sales_requests: int | None = None,
) -> ServiceDay:
    """Enter (or, for a date already entered, replace) one day of the store's customer-service
    figures. Stored as summed parts: the average first reply times the sessions."""
    workspace_check_writable(engagement=engagement, service=Service.CONVERSION)
    errors: dict[str, list[str]] = {}
    today = agency_today(engagement.agency)
    if date > today:
        errors["date"] = [
            _("%(date)s is in the future; enter days that have happened.")
            % {"date": date.isoformat()}
        ]
    counts = {
        "sessions": sessions,
        "inquiry_buyers": inquiry_buyers,
        "inquiry_paying_buyers": inquiry_paying_buyers,
        "after_sales_requests": after_sales_requests,
    }
    for field, value in counts.items():
        if value is not None and value < 0:
            errors[field] = [_negative(value)]
    if sessions is None:
        errors["sessions"] = [_("Enter the number of sessions.")]
    if average_first_reply_seconds is None:
        errors["average_first_reply_seconds"] = [_("Enter the average first reply in seconds.")]
    elif average_first_reply_seconds < 0:
        errors["average_first_reply_seconds"] = [_negative(average_first_reply_seconds)]
    elif average_first_reply_seconds > 86400:
        errors["average_first_reply_seconds"] = [
            _("%(value)s seconds is more than a day.") % {"value": average_first_reply_seconds}
        ]
    if (
        inquiry_buyers is not None
        and inquiry_paying_buyers is not None
        and inquiry_paying_buyers > inquiry_buyers
        and "inquiry_paying_buyers" not in errors
    ):
        errors["inquiry_paying_buyers"] = [
            _("%(paying)d paying buyers is more than the %(asked)d buyers who asked.")
            % {"paying": inquiry_paying_buyers, "asked": inquiry_buyers}
        ]
    if inquiry_paying_buyers is not None and inquiry_buyers is None:
        errors.setdefault("inquiry_buyers", []).append(
            _("Enter the buyers who asked, of whom the paying buyers are a part.")
        )
    if errors:
        raise ValidationError(errors)
    reply_sum = (Decimal(average_first_reply_seconds) * sessions).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    day, _created = ServiceDay.objects.update_or_create(
        store=engagement.store,
        date=date,
        defaults={
            "agency_id": engagement.agency_id,
            "sessions": sessions,
            "first_reply_seconds_sum": reply_sum,
            "inquiry_buyers": inquiry_buyers,
            "inquiry_paying_buyers": inquiry_paying_buyers,
            "after_sales_requests": after_sales_requests,
            "created_by": actor.user,
        },
    )
    return day


# --- tiers ------------------------------------------------------------------------------------


@transaction.atomic
def tier_strategy_save(
    *,
    actor: Membership,
    engagement: Engagement,
    tier: str,
    offer: str = "",
    channel: str = "",
    cadence: str = "",
    notes: str = "",
    brand_visible: bool = True,
) -> TierStrategy:
    """Set what the agency does for one tier (created on first save, replaced after)."""
    workspace_check_writable(engagement=engagement, service=Service.CONVERSION)
    if tier not in Tier.values:
        raise ValidationError({"tier": _("“%(value)s” is not a customer tier.") % {"value": tier}})
    limits = {"offer": 300, "channel": 200, "cadence": 200}
    values = {"offer": offer, "channel": channel, "cadence": cadence}
    errors = {
        field: _("%(length)d characters is longer than the %(limit)d allowed.")
        % {"length": len(value.strip()), "limit": limits[field]}
        for field, value in values.items()
        if len(value.strip()) > limits[field]
    }
    if errors:
        raise ValidationError(errors)
    strategy, _created = TierStrategy.objects.update_or_create(
        engagement=engagement,
        tier=tier,
        defaults={
            "agency_id": engagement.agency_id,
            **{field: value.strip() for field, value in values.items()},
            "notes": notes.strip(),
            "brand_visible": brand_visible,
            "updated_by": actor.user,
        },
    )
    return strategy


def tiers_recompute(*, actor: Membership, engagement: Engagement) -> None:
    """Queue the tier computation for the engagement (after the commit; eager in the demo)."""
    from execution.conversion import tasks

    workspace_check_writable(engagement=engagement, service=Service.CONVERSION)
    agency_id, engagement_id = engagement.agency_id, engagement.pk
    transaction.on_commit(lambda: tasks.compute_tiers.delay(agency_id, engagement_id))
