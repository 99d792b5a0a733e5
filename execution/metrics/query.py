"""The one metric query: any set of metrics, for one or several stores, over any date range, at
grain day, week (ISO, from Monday), month or total. Components are summed in the database (one
aggregate per fact table); each ratio is then computed once, from those sums, by its registry
definition. A ratio with a zero denominator is None. Nothing else in the portal computes a metric.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Max, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from execution.metrics.registry import AD_COMPONENTS, METRICS, STORE_DAY_COMPONENTS, components_of
from execution.models import StoreDayAdFact, StoreDayFact, StoreDayProductFact, StoreDaySourceFact

GRAINS = ("day", "week", "month", "total")

SOURCE_COMPONENTS = ("visitors", "paying_buyers", "new_buyers", "add_to_cart_users", "gmv")
PRODUCT_COMPONENTS = (
    "visitors",
    "page_views",
    "paying_buyers",
    "paid_orders",
    "paid_units",
    "add_to_cart_users",
    "favorites",
    "gmv",
    "refund_amount",
)


@dataclass(frozen=True)
class Breakdown:
    """A dimension the metric query can split by: which fact tables hold which components, keyed
    by which fields. `product` joins the product report with the ad facts that name a product."""

    keys: tuple[str, ...]
    tables: tuple[tuple[type, tuple[str, ...]], ...]
    label_field: str | None = None  # a descriptive field carried along (the product's name)

    @property
    def components(self) -> set[str]:
        return {component for _model, components in self.tables for component in components}


BREAKDOWNS: dict[str, Breakdown] = {
    "source": Breakdown(("source",), ((StoreDaySourceFact, SOURCE_COMPONENTS),)),
    "ad_tool": Breakdown(("ad_tool",), ((StoreDayAdFact, AD_COMPONENTS),)),
    "campaign": Breakdown(("ad_tool", "campaign"), ((StoreDayAdFact, AD_COMPONENTS),)),
    "product": Breakdown(
        ("item_id",),
        ((StoreDayProductFact, PRODUCT_COMPONENTS), (StoreDayAdFact, AD_COMPONENTS)),
        label_field="item_name",
    ),
}


def _period_bounds(
    grain: str, start: datetime.date, end: datetime.date, key: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The period a row covers, clipped to the asked range."""
    if grain == "day":
        return key, key
    if grain == "total":
        return start, end
    if grain == "week":
        period_end = key + datetime.timedelta(days=6)
    else:
        next_month = (key.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        period_end = next_month - datetime.timedelta(days=1)
    return max(key, start), min(period_end, end)


def _sums_by_period(model, components, store_ids, start, end, grain, keys=(), label=None):
    """Summed components by period (and by the breakdown's key fields): {(period, *keys): sums}.
    With a label field, each group also carries the latest non-empty label under "_label"."""
    if not components:
        return {}
    rows = model.objects.filter(store_id__in=store_ids, date__gte=start, date__lte=end)
    if model is StoreDayAdFact and keys == ("item_id",):
        rows = rows.exclude(item_id="")  # ad rows that name no product belong to no product
    period = {"day": F("date"), "week": TruncWeek("date"), "month": TruncMonth("date")}.get(grain)
    aggregates = {name: Sum(name) for name in components}
    if label is not None:
        aggregates["_label"] = Max(label)
    if period is None and not keys:  # total
        values = rows.aggregate(**aggregates)
        return {(start,): values} if any(v is not None for v in values.values()) else {}
    grouping = {"period_key": period} if period is not None else {}
    grouped = rows.values(*keys, **grouping)
    result = {}
    for row in grouped.annotate(**aggregates).order_by(*grouping, *keys):
        key = row.pop("period_key", start)
        if isinstance(key, datetime.datetime):
            key = key.date()
        result[(key, *(row.pop(field) for field in keys))] = row
    return result


def metrics_query(
    *,
    store_ids: Iterable[int],
    start: datetime.date,
    end: datetime.date,
    grain: str = "day",
    metrics: list[str] | None = None,
    by: str | None = None,
) -> list[dict]:
    """Rows `{"period_start", "period_end", <metric>: value, ...}` in period order.

    With `by` (one of BREAKDOWNS: source, ad_tool, campaign, product) each row also carries the
    breakdown's key fields (and a product's `item_name`), one row per period and key; only
    metrics whose components that breakdown holds may be asked for (default: all of those).
    Only periods with data appear. Counts are int, money and ratios Decimal, missing values None.
    Runs inside the caller's tenant scope: store ids of another agency simply find nothing.
    """
    if grain not in GRAINS:
        raise ValueError(f"Unknown grain {grain!r}; use one of {', '.join(GRAINS)}.")
    if end < start:
        raise ValueError("The end date is before the start date.")
    if by is None:
        breakdown = Breakdown(
            (), ((StoreDayFact, STORE_DAY_COMPONENTS), (StoreDayAdFact, AD_COMPONENTS))
        )
    elif by in BREAKDOWNS:
        breakdown = BREAKDOWNS[by]
    else:
        raise ValueError(f"Unknown breakdown {by!r}; use one of {', '.join(BREAKDOWNS)}.")
    available = breakdown.components
    if metrics:
        names = list(metrics)
        missing = [name for name in names if not components_of([name]) <= available]
        if missing:
            raise ValueError(f"Metrics not available by {by}: {', '.join(missing)}.")
    else:
        names = [name for name in METRICS if components_of([name]) <= available]
    needed = components_of(names)
    store_ids = list(store_ids)
    all_sums: dict[tuple, dict] = {}
    for model, components in breakdown.tables:
        sums_by_key = _sums_by_period(
            model,
            [c for c in components if c in needed],
            store_ids,
            start,
            end,
            grain,
            breakdown.keys,
            breakdown.label_field,
        )
        for key, sums in sums_by_key.items():
            merged = all_sums.setdefault(key, {})
            label = sums.pop("_label", None) or merged.get("_label")
            merged.update(sums)
            if label:
                merged["_label"] = label
    rows = []
    for key in sorted(all_sums):
        sums = all_sums[key]
        period_start, period_end = _period_bounds(grain, start, end, key[0])
        row = {"period_start": period_start, "period_end": period_end}
        row.update(zip(breakdown.keys, key[1:], strict=True))
        if breakdown.label_field:
            row[breakdown.label_field] = sums.get("_label") or ""
        for name in names:
            row[name] = METRICS[name].evaluate(sums)
        rows.append(row)
    return rows


def rows_as_json(rows: list[dict]) -> list[dict]:
    """Rows with dates as ISO strings, money and ratios as decimal strings, counts as numbers;
    the form the CLI prints and the API returns."""

    def encode(value):
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    return [{key: encode(value) for key, value in row.items()} for row in rows]
