"""The figures of a full review (全面效果复盘), built once from the shared metric query and the
execution workspace, stored as the review's `content` (JSON, decimals as strings).

Every ratio comes from summed parts (the metric query's); growth compares per-day averages, so a
first month of 12 days and a last month of 31 are compared fairly. Text is not stored: labels
are rendered when read, in the reader's language (`reporting.full_review.page`).

Shape of `content` (version 1):
    version, generated_at, period {start, end, days}, data_days,
    totals {metric: value} for TOTAL_METRICS,
    targets [TargetPace.as_dict() + met (true/false; null while the target's period runs)],
    targets_met, targets_judged (targets whose period ended inside the review),
    growth {first_month, last_month, baseline: {start, end, days, data_days, values {metric}}
        (baseline null without data), changes {metric: {vs_first, vs_baseline}}},
    roi {ad_spend, ad_gmv, roi}, channels [{ad_tool, ...AD_METRICS}] (by ROI, best first),
    campaigns [{ad_tool, campaign, ...AD_METRICS}] (by ROI, best first), campaigns_total,
    best / worst {channels, campaigns, products} (lists of the rows above),
    products [{item_id, item_name, ...PRODUCT_METRICS, gmv_share}] (top by GMV),
    products_total, products_gmv, top_products_share (the TOP_SHARE_COUNT best products' GMV
        share), sources [{source, visitors, share, paid}], paid_visitor_share,
    tiers {first_month, last_month, first [...], last [...]} or null (no RFM tiers computed),
    timeline [{kind, start, end, title, detail, status, brand_visible}] (by start),
    months [{month (YYYY-MM), gmv}] (each calendar month of the period, clipped to it).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from engagements.models import Engagement
from execution.metrics.pacing import targets_pacing
from execution.metrics.query import metrics_query
from execution.models import Campaign, Offer, SetupItem, SetupItemStatus, TierSnapshot
from reporting.reviews import json_value

CONTENT_VERSION = 1
TOTAL_METRICS = (
    "gmv",
    "visitors",
    "paying_buyers",
    "conversion_rate",
    "aov",
    "uv_value",
    "new_buyers",
    "repeat_buyers",
    "repurchase_rate",
    "ad_spend",
    "ad_gmv",
    "roi",
)
GROWTH_METRICS = ("visitors", "paying_buyers", "gmv", "conversion_rate", "aov")
AD_METRICS = ["impressions", "clicks", "ctr", "ad_spend", "cpc", "ad_gmv", "roi"]
PRODUCT_METRICS = ["visitors", "paying_buyers", "conversion_rate", "gmv"]
BASELINE_DAYS = 30  # the diagnosis window: the 30 days before the engagement started
BEST_WORST = 3  # how many best and worst campaigns and products a review names
TOP_PRODUCTS = 10
TOP_SHARE_COUNT = 3
# A campaign or channel is ranked only with a meaningful spend, a product only with a meaningful
# share of visitors: a ¥5 test campaign with ROI 40 is not "the best campaign".
MIN_SPEND_SHARE = Decimal("0.02")
MIN_VISITOR_SHARE = Decimal("0.01")
# 生意参谋 names paid sources by the tool (and groups them under 付费流量): any source whose name
# holds one of these counts as paid traffic.
PAID_SOURCE_WORDS = (
    "付费",
    "直通车",
    "引力魔方",
    "万相台",
    "淘宝客",
    "超级推荐",
    "钻石展位",
    "钻展",
    "品销宝",
    "极速推",
)
SHARE_PLACES = Decimal("0.0001")
AVERAGE_PLACES = Decimal("0.01")


def _share(part, whole) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def _row(row: dict, names) -> dict:
    return {name: json_value(row.get(name)) for name in names}


def _total(store_ids, start, end, metrics) -> dict:
    rows = metrics_query(store_ids=store_ids, start=start, end=end, grain="total", metrics=metrics)
    return rows[0] if rows else {}


def _data_days(store_ids, start, end) -> int:
    return len(
        metrics_query(store_ids=store_ids, start=start, end=end, grain="day", metrics=["visitors"])
    )


def month_end(first_day: datetime.date) -> datetime.date:
    return (first_day.replace(day=28) + datetime.timedelta(days=4)).replace(
        day=1
    ) - datetime.timedelta(days=1)


def month_first_and_last(
    start: datetime.date, end: datetime.date
) -> tuple[tuple[datetime.date, datetime.date], tuple[datetime.date, datetime.date]]:
    """The period's first and last calendar month, each clipped to the period."""
    first = (start, min(end, month_end(start.replace(day=1))))
    last = (max(start, end.replace(day=1)), end)
    return first, last


def _window(store_ids, start, end) -> dict:
    values = _total(store_ids, start, end, list(GROWTH_METRICS))
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": (end - start).days + 1,
        "data_days": _data_days(store_ids, start, end),
        "values": _row(values, GROWTH_METRICS),
    }


def per_day(window: dict, name: str) -> Decimal | None:
    """A count or amount per day with data (a ratio as it is): what growth compares."""
    value = window["values"].get(name)
    if value is None:
        return None
    if name in ("conversion_rate", "aov"):
        return Decimal(value)
    if not window["data_days"]:
        return None
    return (Decimal(value) / window["data_days"]).quantize(AVERAGE_PLACES, rounding=ROUND_HALF_UP)


def _growth(base: dict | None, later: dict, name: str) -> Decimal | None:
    if base is None:
        return None
    before, after = per_day(base, name), per_day(later, name)
    if before is None or after is None or not before:
        return None
    return ((after - before) / abs(before)).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def growth_figures(engagement: Engagement, start: datetime.date, end: datetime.date) -> dict:
    """Traffic and sales growth: the last month against the first, and against the diagnosis
    baseline (the BASELINE_DAYS before the engagement started, what the diagnosis measured)."""
    store_ids = [engagement.store_id]
    (first_start, first_end), (last_start, last_end) = month_first_and_last(start, end)
    first = _window(store_ids, first_start, first_end)
    last = _window(store_ids, last_start, last_end)
    baseline_end = engagement.start_date - datetime.timedelta(days=1)
    baseline = _window(
        store_ids, baseline_end - datetime.timedelta(days=BASELINE_DAYS - 1), baseline_end
    )
    if not baseline["data_days"]:
        baseline = None
    return {
        "first_month": first,
        "last_month": last,
        "baseline": baseline,
        "changes": {
            name: {
                "vs_first": json_value(_growth(first, last, name)),
                "vs_baseline": json_value(_growth(baseline, last, name)),
            }
            for name in GROWTH_METRICS
        },
    }


def _target_met(pace) -> bool | None:
    """Met or missed once the target's period has ended by the review's last day."""
    if pace.state != "ended" or pace.actual is None:
        return None
    actual = Decimal(pace.actual)
    return actual <= pace.value if pace.target.comparison == "<=" else actual >= pace.value


def target_figures(engagement: Engagement, start: datetime.date, end: datetime.date) -> list:
    paces = [
        pace
        for pace in targets_pacing(engagement=engagement, as_of=end)
        if pace.period_start <= end and pace.period_end >= start
    ]
    paces.sort(key=lambda pace: (pace.period_end, pace.metric.name))
    return [{**pace.as_dict(), "met": _target_met(pace)} for pace in paces]


def _by_roi(rows: list[dict]) -> list[dict]:
    """Best ROI first; rows without an ROI (no spend) last."""
    return sorted(
        rows,
        key=lambda r: (r["roi"] is None, -(r["roi"] or 0), -(r["ad_spend"] or 0)),
    )


def _rankable(rows: list[dict], total_spend) -> list[dict]:
    if not total_spend:
        return []
    floor = Decimal(total_spend) * MIN_SPEND_SHARE
    return [r for r in rows if r["roi"] is not None and (r["ad_spend"] or 0) >= floor]


def _best_and_worst(ranked: list[dict]) -> tuple[list[dict], list[dict]]:
    """The best and the worst few (up to BEST_WORST each), never the same row on both sides:
    with fewer than twice that many, the better half is best and the rest worst."""
    best = ranked[: min(BEST_WORST, (len(ranked) + 1) // 2)]
    worst = list(reversed(ranked[len(best) :]))[:BEST_WORST]
    return best, worst


def ad_figures(store_ids, start, end) -> dict:
    overall = _total(store_ids, start, end, ["ad_spend", "ad_gmv", "roi"])
    keys = ("ad_tool",)
    channels = metrics_query(
        store_ids=store_ids, start=start, end=end, grain="total", metrics=AD_METRICS, by="ad_tool"
    )
    campaigns = metrics_query(
        store_ids=store_ids, start=start, end=end, grain="total", metrics=AD_METRICS, by="campaign"
    )
    channels, campaigns = _by_roi(channels), _by_roi(campaigns)
    spend = overall.get("ad_spend")
    best_channels, worst_channels = _best_and_worst(_rankable(channels, spend))
    best_campaigns, worst_campaigns = _best_and_worst(_rankable(campaigns, spend))

    def channel(row):
        return {**{key: row[key] for key in keys}, **_row(row, AD_METRICS)}

    def campaign(row):
        return {"ad_tool": row["ad_tool"], "campaign": row["campaign"], **_row(row, AD_METRICS)}

    return {
        "roi": _row(overall, ["ad_spend", "ad_gmv", "roi"]),
        "channels": [channel(row) for row in channels],
        "campaigns": [campaign(row) for row in campaigns],
        "campaigns_total": len(campaigns),
        "best": {
            "channels": [channel(row) for row in best_channels],
            "campaigns": [campaign(row) for row in best_campaigns],
        },
        "worst": {
            "channels": [channel(row) for row in worst_channels],
            "campaigns": [campaign(row) for row in worst_campaigns],
        },
    }


def product_figures(store_ids, start, end) -> dict:
    rows = metrics_query(
        store_ids=store_ids,
        start=start,
        end=end,
        grain="total",
        metrics=PRODUCT_METRICS,
        by="product",
    )
    gmv = sum((row["gmv"] or 0 for row in rows), Decimal(0))
    visitors = sum(row["visitors"] or 0 for row in rows)

    def product(row):
        return {
            "item_id": row["item_id"],
            "item_name": row["item_name"],
            **_row(row, PRODUCT_METRICS),
            "gmv_share": json_value(_share(row["gmv"] or 0, gmv)),
        }

    by_gmv = sorted(rows, key=lambda r: (-(r["gmv"] or 0), -(r["visitors"] or 0), r["item_id"]))
    floor = visitors * MIN_VISITOR_SHARE
    seen = [r for r in rows if r["visitors"] and r["visitors"] >= floor]
    by_conversion = sorted(
        seen, key=lambda r: (r["conversion_rate"] or 0, -(r["visitors"] or 0), r["item_id"])
    )
    best = by_gmv[:BEST_WORST]
    best_ids = {row["item_id"] for row in best}
    worst = [row for row in by_conversion if row["item_id"] not in best_ids][:BEST_WORST]
    top_gmv = sum((row["gmv"] or 0 for row in by_gmv[:TOP_SHARE_COUNT]), Decimal(0))
    return {
        "products": [product(row) for row in by_gmv[:TOP_PRODUCTS]],
        "products_total": len(rows),
        "products_gmv": json_value(gmv),
        "top_products_share": json_value(_share(top_gmv, gmv)),
        "best_products": [product(row) for row in best],
        "worst_products": [product(row) for row in worst],
    }


def is_paid_source(name: str) -> bool:
    return any(word in name for word in PAID_SOURCE_WORDS)


def source_figures(store_ids, start, end) -> dict:
    rows = metrics_query(
        store_ids=store_ids, start=start, end=end, grain="total", metrics=["visitors"], by="source"
    )
    visitors = sum(row["visitors"] or 0 for row in rows)
    paid = sum(row["visitors"] or 0 for row in rows if is_paid_source(row["source"]))
    rows.sort(key=lambda r: (-(r["visitors"] or 0), r["source"]))
    return {
        "sources": [
            {
                "source": row["source"],
                "visitors": row["visitors"],
                "share": json_value(_share(row["visitors"] or 0, visitors)),
                "paid": is_paid_source(row["source"]),
            }
            for row in rows
        ],
        "paid_visitor_share": json_value(_share(paid, visitors)),
    }


def tier_figures(engagement: Engagement, start: datetime.date, end: datetime.date) -> dict | None:
    """The RFM tiers at the first and the last month end inside the period (from
    `TierSnapshot`, computed from the imported orders); None when none was computed."""
    # A snapshot's month is its first day; its tiers are as of the month's end, which must
    # fall inside the period (a review ending 15 August cannot show August's month end).
    snapshots = [
        snapshot
        for snapshot in TierSnapshot.objects.filter(
            engagement=engagement, month__gte=start.replace(day=1), month__lte=end
        ).order_by("month", "tier")
        if start <= month_end(snapshot.month) <= end
    ]
    if not snapshots:
        return None
    first_month, last_month = snapshots[0].month, snapshots[-1].month

    def tiers(month):
        rows = [s for s in snapshots if s.month == month]
        buyers = sum(s.buyers for s in rows)
        gmv = sum((s.gmv for s in rows), Decimal(0))
        return [
            {
                "tier": s.tier,
                "buyers": s.buyers,
                "orders": s.orders,
                "gmv": json_value(s.gmv),
                "buyer_share": json_value(_share(s.buyers, buyers)),
                "gmv_share": json_value(_share(s.gmv, gmv)),
            }
            for s in rows
        ]

    return {
        "first_month": first_month.isoformat(),
        "last_month": last_month.isoformat(),
        "first": tiers(first_month),
        "last": tiers(last_month),
    }


def timeline(engagement: Engagement, start: datetime.date, end: datetime.date) -> list[dict]:
    """What was done in the period, by start date: campaigns and offers that ran in it, setup
    items finished in it (or, unfinished, due in it). Each entry keeps whether the brand may
    see it: the brand's view of the review leaves internal entries out."""
    entries = []
    for campaign in Campaign.objects.filter(
        engagement=engagement, start_date__lte=end, end_date__gte=start
    ).order_by("start_date", "pk"):
        entries.append(
            {
                "kind": "campaign",
                "start": campaign.start_date.isoformat(),
                "end": campaign.end_date.isoformat(),
                "title": campaign.name,
                "detail": campaign.channel,
                "status": campaign.status,
                "brand_visible": campaign.brand_visible,
            }
        )
    for offer in Offer.objects.filter(
        engagement=engagement, start_date__lte=end, end_date__gte=start
    ).order_by("start_date", "pk"):
        entries.append(
            {
                "kind": "offer",
                "start": offer.start_date.isoformat(),
                "end": offer.end_date.isoformat(),
                "title": offer.name,
                "detail": offer.kind,
                "status": "",
                "brand_visible": offer.brand_visible,
            }
        )
    done = Q(completed_at__date__gte=start, completed_at__date__lte=end)
    open_due = Q(completed_at__isnull=True, due_date__gte=start, due_date__lte=end)
    items = (
        SetupItem.objects.filter(engagement=engagement)
        .filter(done | open_due)
        .exclude(status=SetupItemStatus.NOT_NEEDED)
    )
    for item in items:
        day = timezone.localdate(item.completed_at) if item.completed_at else item.due_date
        entries.append(
            {
                "kind": "setup",
                "start": day.isoformat(),
                "end": day.isoformat(),
                "title": item.title,
                "detail": item.section,
                "status": item.status,
                "brand_visible": item.brand_visible,
            }
        )
    entries.sort(key=lambda e: (e["start"], e["kind"], e["title"]))
    return entries


def full_review_figures(
    *, engagement: Engagement, period_start: datetime.date, period_end: datetime.date
) -> dict:
    """The `content` of a full review of this period. A constant number of queries whatever
    the length of the history (one metric query per breakdown and window)."""
    store_ids = [engagement.store_id]
    totals = _total(store_ids, period_start, period_end, list(TOTAL_METRICS))
    targets = target_figures(engagement, period_start, period_end)
    judged = [t for t in targets if t["met"] is not None]
    ads = ad_figures(store_ids, period_start, period_end)
    products = product_figures(store_ids, period_start, period_end)
    return {
        "version": CONTENT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "period": {
            "start": period_start.isoformat(),
            "end": period_end.isoformat(),
            "days": (period_end - period_start).days + 1,
        },
        "data_days": _data_days(store_ids, period_start, period_end),
        "totals": _row(totals, TOTAL_METRICS),
        "targets": targets,
        "targets_met": sum(1 for t in judged if t["met"]),
        "targets_judged": len(judged),
        "growth": growth_figures(engagement, period_start, period_end),
        "roi": ads["roi"],
        "channels": ads["channels"],
        "campaigns": ads["campaigns"],
        "campaigns_total": ads["campaigns_total"],
        "best": {**ads["best"], "products": products.pop("best_products")},
        "worst": {**ads["worst"], "products": products.pop("worst_products")},
        **products,
        **source_figures(store_ids, period_start, period_end),
        "tiers": tier_figures(engagement, period_start, period_end),
        "timeline": timeline(engagement, period_start, period_end),
        "months": [
            {"month": row["period_start"].isoformat()[:7], "gmv": json_value(row["gmv"])}
            for row in metrics_query(
                store_ids=store_ids,
                start=period_start,
                end=period_end,
                grain="month",
                metrics=["gmv"],
            )
        ],
    }
