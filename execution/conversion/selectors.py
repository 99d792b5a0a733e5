"""Reads of the conversion area, shared by its pages and the engagement panel: offers and their
computed figures, the customer-service days (ingested facts or entered days), the user tiers
with their history and strategies, and the order imports. Each `<entity>_get_for` looks only
inside the engagement and answers the same 404 for missing, foreign and (for brand users)
internal rows. Ratios are computed once each, from summed parts; None where the denominator is
zero or missing (shown as —)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet
from django.http import Http404

from agency.models import Membership
from engagements.models import Engagement
from execution.metrics.query import metrics_query
from execution.metrics.registry import METRICS
from execution.models import (
    Offer,
    OrderImport,
    ServiceDay,
    Tier,
    TierSnapshot,
    TierStrategy,
)
from execution.workspace import visible_to

from .rfm import TIER_ORDER
from .services import agency_today

# The customer-service target: the first reply within 30 seconds (DESIGN, step 5).
CS_FIRST_REPLY_TARGET_SECONDS = Decimal(30)
SERVICE_DEFAULT_DAYS = 30
SERVICE_MAX_DAYS = 366
HISTORY_CHART_MONTHS = 24


def ratio(numerator, denominator, places: int = 6) -> Decimal | None:
    """numerator / denominator to `places` decimals; None for a zero or missing denominator."""
    if numerator is None or not denominator:
        return None
    value = Decimal(numerator) / Decimal(denominator)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# --- offers -----------------------------------------------------------------------------------


def offer_list(*, engagement: Engagement, membership: Membership) -> QuerySet[Offer]:
    return visible_to(Offer.objects.filter(engagement=engagement), membership)


def offer_get_for(*, membership: Membership, engagement: Engagement, offer_id: int) -> Offer:
    """The engagement's offer; the same 404 for missing, foreign and (brand users) internal."""
    offer = offer_list(engagement=engagement, membership=membership).filter(pk=offer_id).first()
    if offer is None:
        raise Http404
    return offer


def offer_state(offer: Offer, today: datetime.date) -> str:
    if today < offer.start_date:
        return "upcoming"
    if today > offer.end_date:
        return "ended"
    return "live"


@dataclass(frozen=True)
class OfferFigures:
    """An offer's figures computed from its entered sums (None: no value)."""

    redemption_rate: Decimal | None  # redeemed / issued
    budget_burn: Decimal | None  # cost / budget
    gmv_per_discount: Decimal | None  # gmv / cost: GMV per CNY of discount
    aov: Decimal | None  # gmv / orders
    store_gmv: Decimal | None = None  # the store's GMV over the offer's dates (ingested)
    gmv_share: Decimal | None = None  # offer gmv / store gmv
    state: str = ""


def offer_figures(offer: Offer, *, today: datetime.date, with_store: bool = False) -> OfferFigures:
    store_gmv = None
    if with_store:
        end = min(offer.end_date, today)
        if end >= offer.start_date:
            rows = metrics_query(
                store_ids=[offer.engagement.store_id],
                start=offer.start_date,
                end=end,
                grain="total",
                metrics=["gmv"],
            )
            store_gmv = rows[0]["gmv"] if rows else None
    return OfferFigures(
        redemption_rate=ratio(offer.redeemed, offer.issued),
        budget_burn=ratio(offer.cost, offer.budget),
        gmv_per_discount=ratio(offer.gmv, offer.cost, places=2),
        aov=ratio(offer.gmv, offer.orders, places=2),
        store_gmv=store_gmv,
        gmv_share=ratio(offer.gmv, store_gmv),
        state=offer_state(offer, today),
    )


def offer_rows(
    *, engagement: Engagement, membership: Membership
) -> list[tuple[Offer, OfferFigures]]:
    today = agency_today(engagement.agency)
    offers = offer_list(engagement=engagement, membership=membership)
    return [(offer, offer_figures(offer, today=today)) for offer in offers]


# --- customer service -------------------------------------------------------------------------


class _ServiceFigures:
    """The figures computed from a day's or a range's summed parts (`sessions`,
    `first_reply_seconds_sum`, `inquiry_buyers`, `inquiry_paying_buyers`): a range's average is
    its summed reply seconds over its summed sessions, never an average of daily averages."""

    sessions: int | None
    first_reply_seconds_sum: Decimal | None
    inquiry_buyers: int | None
    inquiry_paying_buyers: int | None

    @property
    def average_first_reply(self) -> Decimal | None:
        return METRICS["cs_avg_first_reply"].evaluate(
            {
                "cs_first_reply_seconds_sum": self.first_reply_seconds_sum,
                "cs_sessions": self.sessions,
            }
        )

    @property
    def inquiry_conversion(self) -> Decimal | None:
        return ratio(self.inquiry_paying_buyers, self.inquiry_buyers)

    @property
    def is_breach(self) -> bool:
        average = self.average_first_reply
        return average is not None and average > CS_FIRST_REPLY_TARGET_SECONDS


@dataclass
class ServiceDayRow(_ServiceFigures):
    """One day's customer-service figures and where they come from: sessions and first reply
    from the ingested facts when the day has them (they win), else from the entered day; the
    inquiry and after-sales figures only staff enter."""

    date: datetime.date
    source: str  # "ingested", "entered" or "both" (ingested replies, entered inquiries)
    sessions: int | None
    first_reply_seconds_sum: Decimal | None
    inquiry_buyers: int | None = None
    inquiry_paying_buyers: int | None = None
    after_sales_requests: int | None = None


@dataclass
class ServiceSummary(_ServiceFigures):
    """A range's customer-service days (newest first) and their sums over every day, whichever
    its source."""

    start: datetime.date
    end: datetime.date
    days: list[ServiceDayRow] = field(default_factory=list)
    sessions: int = 0
    first_reply_seconds_sum: Decimal = Decimal(0)
    inquiry_buyers: int = 0
    inquiry_paying_buyers: int = 0
    after_sales_requests: int = 0

    @property
    def breach_days(self) -> list[ServiceDayRow]:
        return [day for day in self.days if day.is_breach]

    @property
    def target(self) -> Decimal:
        return CS_FIRST_REPLY_TARGET_SECONDS


def service_default_range(engagement: Engagement) -> tuple[datetime.date, datetime.date]:
    end = agency_today(engagement.agency)
    return end - datetime.timedelta(days=SERVICE_DEFAULT_DAYS - 1), end


def service_summary(
    *, engagement: Engagement, start: datetime.date, end: datetime.date
) -> ServiceSummary:
    """The store's customer-service days from `start` to `end` (newest first) and their sums."""
    ingested = {
        row["period_start"]: row
        for row in metrics_query(
            store_ids=[engagement.store_id],
            start=start,
            end=end,
            grain="day",
            metrics=["cs_sessions", "cs_first_reply_seconds_sum"],
        )
        if row["cs_sessions"] is not None
    }
    entered = {
        day.date: day
        for day in ServiceDay.objects.filter(
            store_id=engagement.store_id, date__gte=start, date__lte=end
        )
    }
    summary = ServiceSummary(start=start, end=end)
    for date in sorted(ingested.keys() | entered.keys(), reverse=True):
        facts, day = ingested.get(date), entered.get(date)
        if facts is not None:
            row = ServiceDayRow(
                date=date,
                source="both" if day is not None else "ingested",
                sessions=facts["cs_sessions"],
                first_reply_seconds_sum=Decimal(facts["cs_first_reply_seconds_sum"] or 0),
            )
        else:
            row = ServiceDayRow(
                date=date,
                source="entered",
                sessions=day.sessions,
                first_reply_seconds_sum=day.first_reply_seconds_sum,
            )
        if day is not None:
            row.inquiry_buyers = day.inquiry_buyers
            row.inquiry_paying_buyers = day.inquiry_paying_buyers
            row.after_sales_requests = day.after_sales_requests
        summary.days.append(row)
        summary.sessions += row.sessions or 0
        summary.first_reply_seconds_sum += row.first_reply_seconds_sum or 0
        if row.inquiry_buyers is not None and row.inquiry_paying_buyers is not None:
            summary.inquiry_buyers += row.inquiry_buyers
            summary.inquiry_paying_buyers += row.inquiry_paying_buyers
        summary.after_sales_requests += row.after_sales_requests or 0
    return summary


def service_chart(summary: ServiceSummary, width: int = 640, height: int = 160) -> dict | None:
    """Bars of the daily average first reply (oldest left) with the target as a line; bars
    over the target marked. Coordinates for a server-drawn SVG."""
    days = [day for day in reversed(summary.days) if day.average_first_reply is not None]
    if not days:
        return None
    top = max(max(day.average_first_reply for day in days), CS_FIRST_REPLY_TARGET_SECONDS)
    top = Decimal(int(top * Decimal("1.15")) + 1)
    plot = height - 20
    step = Decimal(width) / len(days)
    bars = []
    for index, day in enumerate(days):
        bar_height = (day.average_first_reply / top * plot).quantize(Decimal("0.1"))
        bars.append(
            {
                "x": (step * index + step * Decimal("0.15")).quantize(Decimal("0.1")),
                "y": (plot - bar_height).quantize(Decimal("0.1")),
                "width": (step * Decimal("0.7")).quantize(Decimal("0.1")),
                "height": bar_height,
                "breach": day.is_breach,
                "day": day,
            }
        )
    target_y = (plot - CS_FIRST_REPLY_TARGET_SECONDS / top * plot).quantize(Decimal("0.1"))
    return {
        "width": width,
        "height": height,
        "plot": plot,
        "bars": bars,
        "target_y": target_y,
        "first": days[0].date,
        "last": days[-1].date,
        "top": top,
    }


# --- tiers ------------------------------------------------------------------------------------


@dataclass
class TierFigures:
    tier: str
    label: str
    buyers: int
    orders: int
    gmv: Decimal
    buyer_share: Decimal | None
    gmv_share: Decimal | None


@dataclass
class TierMonthView:
    month: datetime.date
    tiers: list[TierFigures]
    buyers: int
    gmv: Decimal


def _month_view(month: datetime.date, snapshots: dict[str, TierSnapshot]) -> TierMonthView:
    total_buyers = sum(s.buyers for s in snapshots.values())
    total_gmv = sum((s.gmv for s in snapshots.values()), Decimal(0))
    tiers = []
    for tier in TIER_ORDER:
        snapshot = snapshots.get(tier)
        buyers = snapshot.buyers if snapshot else 0
        gmv = snapshot.gmv if snapshot else Decimal(0)
        tiers.append(
            TierFigures(
                tier=str(tier),
                label=str(Tier(tier).label),
                buyers=buyers,
                orders=snapshot.orders if snapshot else 0,
                gmv=gmv,
                buyer_share=ratio(buyers, total_buyers),
                gmv_share=ratio(gmv, total_gmv),
            )
        )
    return TierMonthView(month=month, tiers=tiers, buyers=total_buyers, gmv=total_gmv)


def tier_history(*, engagement: Engagement) -> list[TierMonthView]:
    """Every month's tiers, oldest first."""
    by_month: dict[datetime.date, dict[str, TierSnapshot]] = {}
    for snapshot in TierSnapshot.objects.filter(engagement=engagement).order_by("month", "tier"):
        by_month.setdefault(snapshot.month, {})[snapshot.tier] = snapshot
    return [_month_view(month, snapshots) for month, snapshots in sorted(by_month.items())]


def tier_chart(history: list[TierMonthView], width: int = 640, height: int = 180) -> dict | None:
    """Stacked bars of each month's buyers by tier (the latest HISTORY_CHART_MONTHS months),
    as rectangles for a server-drawn SVG."""
    months = history[-HISTORY_CHART_MONTHS:]
    if not months:
        return None
    top = max(month.buyers for month in months) or 1
    plot = height - 20
    step = Decimal(width) / len(months)
    columns = []
    for index, month in enumerate(months):
        y = Decimal(plot)
        parts = []
        for figures in month.tiers:
            part = (Decimal(figures.buyers) / top * plot).quantize(Decimal("0.1"))
            y -= part
            parts.append(
                {
                    "tier": figures.tier,
                    "y": y.quantize(Decimal("0.1")),
                    "height": part,
                    "figures": figures,
                }
            )
        columns.append(
            {
                "x": (step * index + step * Decimal("0.1")).quantize(Decimal("0.1")),
                "width": (step * Decimal("0.8")).quantize(Decimal("0.1")),
                "parts": parts,
                "month": month,
            }
        )
    return {
        "width": width,
        "height": height,
        "plot": plot,
        "columns": columns,
        "first": months[0].month,
        "last": months[-1].month,
        "top": top,
    }


def tier_strategies(*, engagement: Engagement, membership: Membership) -> dict[str, TierStrategy]:
    rows = visible_to(TierStrategy.objects.filter(engagement=engagement), membership)
    return {strategy.tier: strategy for strategy in rows}


def order_import_list(*, engagement: Engagement) -> QuerySet[OrderImport]:
    return OrderImport.objects.filter(engagement=engagement).select_related("created_by")


def order_import_get_for(*, engagement: Engagement, import_id: int) -> OrderImport:
    order_import = order_import_list(engagement=engagement).filter(pk=import_id).first()
    if order_import is None:
        raise Http404
    return order_import


# --- the engagement panel ---------------------------------------------------------------------


def conversion_summary(*, engagement: Engagement, membership: Membership) -> dict:
    """The conversion panel's figures: live offers, customer-service breach days in the last
    30 days, and the latest month's tier sizes."""
    today = agency_today(engagement.agency)
    offers = offer_list(engagement=engagement, membership=membership)
    live = offers.filter(start_date__lte=today, end_date__gte=today)
    start, end = service_default_range(engagement)
    service = service_summary(engagement=engagement, start=start, end=end)
    latest_month = (
        TierSnapshot.objects.filter(engagement=engagement)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    latest = None
    if latest_month is not None:
        snapshots = {
            s.tier: s
            for s in TierSnapshot.objects.filter(engagement=engagement, month=latest_month)
        }
        latest = _month_view(latest_month, snapshots)
    return {
        "offers_total": offers.count(),
        "live_offers": list(live),
        "service_days": len(service.days),
        "breach_days": len(service.breach_days),
        "average_first_reply": service.average_first_reply,
        "target_seconds": CS_FIRST_REPLY_TARGET_SECONDS,
        "latest_tiers": latest,
    }
