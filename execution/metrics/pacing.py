"""How an engagement's live KPI targets are pacing: the one place that turns a target ("monthly
GMV ≥ 500,000 by month 3", "ROI ≥ 3 cumulative from month 1") and the metric query into
period-to-date, expected pace, forecast and on / off pace. Dashboards, the daily brief, the
alert rules, the agency overview and the reviews all read targets through `targets_pacing`.

A target's period is a month of the plan: month N runs from the engagement's start date plus
N − 1 months to the day before start plus N months; a cumulative target runs from the start to
the end of month N. Counts and money pace linearly over the period's days (expected = value ×
days elapsed / days in period; forecast = period-to-date / days elapsed × days in period). A ratio
(conversion rate, ROI, AOV, ...) does not accumulate: its pace is the target itself and its
forecast is the period-to-date ratio, computed from summed parts like every ratio.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from engagements.models import Engagement, EngagementTarget
from execution.metrics.query import metrics_query
from execution.metrics.registry import METRICS, Metric

UPCOMING, CURRENT, ENDED = "upcoming", "current", "ended"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clipped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def plan_month_bounds(
    start_date: datetime.date, month: int, cumulative: bool = False
) -> tuple[datetime.date, datetime.date]:
    """First and last day of month `month` (1-based) of a plan starting on `start_date`; for a
    cumulative target, from the plan's first day."""
    first = start_date if cumulative else add_months(start_date, month - 1)
    last = add_months(start_date, month) - datetime.timedelta(days=1)
    return first, last


def plan_month_of(start_date: datetime.date, day: datetime.date) -> int:
    """Which month of the plan `day` falls in (1 for the first month; 0 before the start)."""
    if day < start_date:
        return 0
    month = (day.year - start_date.year) * 12 + day.month - start_date.month + 1
    while plan_month_bounds(start_date, month)[0] > day:
        month -= 1
    return month


def plain(value: Decimal) -> Decimal:
    """A stored target without its trailing zeros and never in exponent form: 90000.0000 reads
    90000, not 9E+4 (which `Decimal.normalize` alone would give), and 0.0500 reads 0.05."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def is_additive(metric: Metric) -> bool:
    """Counts and money add up over days and pace linearly; ratios do not."""
    return not metric.is_ratio


@dataclass(frozen=True)
class TargetPace:
    target: EngagementTarget
    metric: Metric
    period_start: datetime.date
    period_end: datetime.date
    state: str  # upcoming, current or ended (as of the date asked for)
    days_elapsed: int
    days_total: int
    actual: Decimal | int | None  # period-to-date, through the date asked for
    expected: Decimal | None  # where the period-to-date should be by now
    forecast: Decimal | None  # where the period will end at this pace
    on_pace: bool | None  # None: no data yet, or the period has not started

    @property
    def value(self) -> Decimal:
        return self.target.value

    @property
    def meets(self) -> bool:
        return self.target.comparison != "<="

    @property
    def achievement(self) -> Decimal | None:
        """Period-to-date against the target (达成率): actual / target, from the same sums."""
        if self.actual is None or not self.target.value:
            return None
        return (Decimal(self.actual) / self.target.value).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    @property
    def pace_ratio(self) -> Decimal | None:
        """Forecast against the target: above 1 is ahead for a "≥" target."""
        if self.forecast is None or not self.target.value:
            return None
        return (self.forecast / self.target.value).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    def as_dict(self) -> dict:
        """JSON-safe (decimals as strings), for the brief and the API."""

        def text(value):
            return None if value is None else str(value)

        return {
            "metric": self.metric.name,
            "comparison": self.target.comparison,
            "target": text(plain(self.target.value)),
            "period": self.target.period,
            "by_month": self.target.by_month,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "state": self.state,
            "days_elapsed": self.days_elapsed,
            "days_total": self.days_total,
            "actual": text(self.actual),
            "expected": text(self.expected),
            "forecast": text(self.forecast),
            "achievement": text(self.achievement),
            "on_pace": self.on_pace,
        }


def _money_or_ratio(metric: Metric, value: Decimal) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-metric.places), rounding=ROUND_HALF_UP)


def target_period(
    engagement: Engagement, target: EngagementTarget
) -> tuple[datetime.date, datetime.date]:
    """The first and last day a target is measured over."""
    return plan_month_bounds(engagement.start_date, target.by_month, target.period == "cumulative")


def period_state(first: datetime.date, last: datetime.date, as_of: datetime.date) -> str:
    """Upcoming, current or ended, as of a day with data through it."""
    if as_of < first:
        return UPCOMING
    return ENDED if as_of >= last else CURRENT


def _pace(target, metric, first, last, as_of, actual) -> TargetPace:
    days_total = (last - first).days + 1
    state = period_state(first, last, as_of)
    days_elapsed = {UPCOMING: 0, ENDED: days_total}.get(state, (as_of - first).days + 1)
    expected = forecast = on_pace = None
    if days_elapsed:
        if is_additive(metric):
            expected = _money_or_ratio(metric, target.value * days_elapsed / days_total)
            if actual is not None:
                forecast = _money_or_ratio(metric, Decimal(actual) * days_total / days_elapsed)
        else:
            expected = target.value
            forecast = None if actual is None else Decimal(actual)
        if forecast is not None:
            on_pace = (
                forecast >= target.value
                if target.comparison != "<="
                else (forecast <= target.value)
            )
    return TargetPace(
        target=target,
        metric=metric,
        period_start=first,
        period_end=last,
        state=state,
        days_elapsed=days_elapsed,
        days_total=days_total,
        actual=actual,
        expected=expected,
        forecast=forecast,
        on_pace=on_pace,
    )


def targets_pacing(
    *, engagement: Engagement, as_of: datetime.date, targets=None
) -> list[TargetPace]:
    """Every live target of the engagement (metrics the registry knows), paced as of `as_of`
    (data through that day). One metric query per distinct target period, whatever the history."""
    if targets is None:
        targets = list(EngagementTarget.objects.filter(engagement=engagement))
    periods: dict[tuple[datetime.date, datetime.date], list[EngagementTarget]] = defaultdict(list)
    for target in targets:
        if target.metric in METRICS:
            periods[target_period(engagement, target)].append(target)
    paces = []
    for (first, last), period_targets in periods.items():
        sums: dict = {}
        if as_of >= first:
            rows = metrics_query(
                store_ids=[engagement.store_id],
                start=first,
                end=min(as_of, last),
                grain="total",
                metrics=sorted({target.metric for target in period_targets}),
            )
            sums = rows[0] if rows else {}
        for target in period_targets:
            metric = METRICS[target.metric]
            paces.append(_pace(target, metric, first, last, as_of, sums.get(target.metric)))
    paces.sort(key=lambda pace: (pace.period_start, pace.period_end, pace.target.metric))
    return paces


def _live(entries: list[tuple]) -> list:
    """From (item, state, first, last) entries, the items that matter today: those whose period
    is running, else (between periods or after the last) the next upcoming ones, else the last
    ended ones."""
    current = [item for item, state, _first, _last in entries if state == CURRENT]
    if current:
        return current
    upcoming = [(item, first) for item, state, first, _last in entries if state == UPCOMING]
    if upcoming:
        soonest = min(first for _item, first in upcoming)
        return [item for item, first in upcoming if first == soonest]
    if not entries:
        return []
    latest = max(last for *_rest, last in entries)
    return [item for item, _state, _first, last in entries if last == latest]


def current_paces(paces: list[TargetPace]) -> list[TargetPace]:
    """The paces of the targets that matter today (see `_live`)."""
    return _live([(pace, pace.state, pace.period_start, pace.period_end) for pace in paces])


def live_paces(*, engagement: Engagement, as_of: datetime.date, targets=None) -> list[TargetPace]:
    """`current_paces(targets_pacing(...))`, choosing the live targets from their periods first
    so that only their periods are queried (a plan may hold a target for every month)."""
    if targets is None:
        targets = list(EngagementTarget.objects.filter(engagement=engagement))
    entries = []
    for target in targets:
        if target.metric in METRICS:
            first, last = target_period(engagement, target)
            entries.append((target, period_state(first, last, as_of), first, last))
    chosen = _live(entries)
    if not chosen:
        return []
    return current_paces(targets_pacing(engagement=engagement, as_of=as_of, targets=chosen))
