"""The one metric query: any set of metrics, for one or several stores, over any date range, at
grain day, week (ISO, from Monday), month or total. Components are summed in the database (one
aggregate per fact table); each ratio is then computed once, from those sums, by its registry
definition. A ratio with a zero denominator is None. Nothing else in the portal computes a metric.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import F, Sum
from django.db.models.functions import TruncMonth, TruncWeek

from execution.metrics.registry import AD_COMPONENTS, METRICS, STORE_DAY_COMPONENTS, components_of
from execution.models import StoreDayAdFact, StoreDayFact

GRAINS = ("day", "week", "month", "total")


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


def _sums_by_period(model, components, store_ids, start, end, grain):
    if not components:
        return {}
    rows = model.objects.filter(store_id__in=store_ids, date__gte=start, date__lte=end)
    period = {"day": F("date"), "week": TruncWeek("date"), "month": TruncMonth("date")}.get(grain)
    aggregates = {name: Sum(name) for name in components}
    if period is None:  # total
        values = rows.aggregate(**aggregates)
        return {start: values} if any(v is not None for v in values.values()) else {}
    grouped = rows.values(period_key=period)
    result = {}
    for row in grouped.annotate(**aggregates).order_by("period_key"):
        key = row.pop("period_key")
        if isinstance(key, datetime.datetime):
            key = key.date()
        result[key] = row
    return result


def metrics_query(
    *,
    store_ids: Iterable[int],
    start: datetime.date,
    end: datetime.date,
    grain: str = "day",
    metrics: list[str] | None = None,
) -> list[dict]:
    """Rows `{"period_start", "period_end", <metric>: value, ...}` in period order.

    Only periods with data appear. Counts are int, money and ratios Decimal, missing values None.
    Runs inside the caller's tenant scope: store ids of another agency simply find nothing.
    """
    if grain not in GRAINS:
        raise ValueError(f"Unknown grain {grain!r}; use one of {', '.join(GRAINS)}.")
    if end < start:
        raise ValueError("The end date is before the start date.")
    names = list(metrics) if metrics else list(METRICS)
    needed = components_of(names)
    store_ids = list(store_ids)
    day_sums = _sums_by_period(
        StoreDayFact, [c for c in STORE_DAY_COMPONENTS if c in needed], store_ids, start, end, grain
    )
    ad_sums = _sums_by_period(
        StoreDayAdFact, [c for c in AD_COMPONENTS if c in needed], store_ids, start, end, grain
    )
    rows = []
    for key in sorted(set(day_sums) | set(ad_sums)):
        sums: dict[str, Decimal | int | None] = {**day_sums.get(key, {}), **ad_sums.get(key, {})}
        period_start, period_end = _period_bounds(grain, start, end, key)
        row = {"period_start": period_start, "period_end": period_end}
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
