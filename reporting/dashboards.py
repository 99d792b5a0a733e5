"""What the dashboards show: the reads behind the engagement dashboard and the agency overview.

Every figure comes from the one metric query (`execution.metrics.query.metrics_query`) or from
target pacing (`execution.metrics.pacing`, which reads the same query); this module only chooses
ranges, orders rows and formats values for reading. A ratio is never averaged here: the range
totals are asked for at grain "total", so a week's conversion rate is Σ buyers / Σ visitors.

The engagement dashboard asks the database a fixed number of questions whatever the range or
history (one day-grain query covering the range and the period before it for the trend charts,
one total per range, one each for sources, campaigns and products, one for the alerts, and one per
live target period); the overview asks one question for all stores' last data dates and one for
all open alert counts, and paces each engagement's live targets only (not every month of its plan).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Q, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.models import Engagement, EngagementStatus, EngagementTarget
from execution.metrics.formatting import (
    format_change,
    format_percent,
    format_value,
    relative_change,
)
from execution.metrics.pacing import TargetPace, live_paces
from execution.metrics.query import metrics_query
from execution.metrics.registry import METRICS
from execution.metrics.rules import SEVERITY_RANK, finding_text
from execution.metrics.schema import AdTool
from execution.models import Alert, AlertSeverity, IngestionRun, StoreDayFact
from execution.setup.selectors import setup_overdue_counts

MAX_RANGE_DAYS = 731  # two years, a leap day included
DEFAULT_RANGE_DAYS = 30
STALE_AFTER_DAYS = 2  # the last data date is flagged when it is older than this many days
ALERT_LIMIT = 50
PRODUCT_LIMIT = 10

TREND_METRICS = ("gmv", "visitors", "conversion_rate", "aov", "ad_spend", "roi")
SOURCE_METRICS = ("visitors", "paying_buyers", "conversion_rate", "gmv")
CAMPAIGN_METRICS = ("impressions", "clicks", "ctr", "ad_spend", "cpc", "ad_gmv", "roi")
PRODUCT_METRICS = ("visitors", "paying_buyers", "conversion_rate", "gmv")

# The campaign table's orderings (the `sort` query parameter, "-" for descending).
CAMPAIGN_SORT_KEYS = ("campaign", "ad_tool", *CAMPAIGN_METRICS)
DEFAULT_CAMPAIGN_SORT = "-ad_spend"
# What ranks the top and bottom products (the `rank` query parameter).
PRODUCT_RANK_KEYS = ("gmv", "visitors", "conversion_rate")
DEFAULT_PRODUCT_RANK = "gmv"


AT_RISK, WATCH, ON_TRACK = "at_risk", "watch", "on_track"
HEALTH_LABELS = {
    AT_RISK: gettext_lazy("At risk"),
    WATCH: gettext_lazy("Watch"),
    ON_TRACK: gettext_lazy("On track"),
}
HEALTH_RANK = {AT_RISK: 0, WATCH: 1, ON_TRACK: 2}
OVERVIEW_SORT_KEYS = ("title", "brand", "health", "alerts", "last_data")
DEFAULT_OVERVIEW_SORT = "health"


def _plain(value):
    """A value for the charts' JSON: Decimal as its exact string, counts as int, None as null."""
    return str(value) if isinstance(value, Decimal) else value


# --- ranges -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    start: datetime.date
    end: datetime.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> DateRange:
        """The period of the same length immediately before (the overlay of every chart)."""
        end = self.start - datetime.timedelta(days=1)
        return DateRange(end - datetime.timedelta(days=self.days - 1), end)

    def dates(self) -> list[datetime.date]:
        return [self.start + datetime.timedelta(days=n) for n in range(self.days)]


PRESETS = ("7", "30", "90", "month")


def preset_range(preset: str, anchor: datetime.date) -> DateRange:
    """A preset of the range picker, ending on `anchor` (the last day with data): the last 7, 30
    or 90 days, or the anchor's month up to the anchor ("month")."""
    if preset == "month":
        return DateRange(anchor.replace(day=1), anchor)
    days = int(preset)
    return DateRange(anchor - datetime.timedelta(days=days - 1), anchor)


def default_range(anchor: datetime.date) -> DateRange:
    return preset_range(str(DEFAULT_RANGE_DAYS), anchor)


def store_last_data_dates(*, store_ids) -> dict[int, datetime.date]:
    """Each store's last day with store facts, in one grouped query."""
    rows = (
        StoreDayFact.objects.filter(store_id__in=list(store_ids))
        .values("store_id")
        .annotate(last=Max("date"))
        .order_by()
    )
    return {row["store_id"]: row["last"] for row in rows}


@dataclass(frozen=True)
class DataVersion:
    """What the dashboard depends on, read in one query: the engagement's last change; the store's
    succeeded ingestion runs (every fact is written by a run, in the transaction that marks the
    run succeeded, so new or corrected facts always come with a new run); the targets' rows; the
    store's last day with data; and the alerts (new ones, deleted ones, acknowledgements).
    Equal versions, equal figures (and equal alerts)."""

    updated_at: datetime.datetime
    last_data: datetime.date | None
    runs: tuple
    targets: tuple
    alerts: tuple

    def figures_key(self) -> str:
        return f"{self.updated_at.isoformat()}|{self.last_data}|{self.runs}|{self.targets}"

    def alerts_key(self) -> str:
        return f"{self.updated_at.isoformat()}|{self.alerts}"


# Every subquery names the agency (the tenant manager is not involved in raw SQL); the engagement
# and store ids come from an engagement already loaded through the scoped manager. One aggregate
# per table rather than one subquery per figure: PostgreSQL plans this on every request, and
# planning eight subqueries took longer than running them.
_VERSION_SQL = """
SELECT facts.last_data, runs.last_id, runs.total, targets.last_id, targets.total,
    alerts.last_id, alerts.total, alerts.last_acknowledged
FROM
    (SELECT max(date) AS last_data FROM {facts}
        WHERE agency_id = %(agency)s AND store_id = %(store)s) AS facts,
    (SELECT max(id) AS last_id, count(*) AS total FROM {runs}
        WHERE agency_id = %(agency)s AND store_id = %(store)s AND status = %(succeeded)s) AS runs,
    (SELECT max(id) AS last_id, count(*) AS total FROM {targets}
        WHERE agency_id = %(agency)s AND engagement_id = %(engagement)s) AS targets,
    (SELECT max(id) AS last_id, count(*) AS total, max(acknowledged_at) AS last_acknowledged
        FROM {alerts} WHERE agency_id = %(agency)s AND engagement_id = %(engagement)s) AS alerts
"""


def dashboard_data_version(*, engagement: Engagement) -> DataVersion:
    """The engagement's DataVersion. Plain SQL on purpose: it runs on every dashboard view,
    before any cache, and the ORM spends several times the query's own time compiling its
    subqueries (about 3 ms against 0.4 ms here)."""
    sql = _VERSION_SQL.format(
        facts=StoreDayFact._meta.db_table,
        runs=IngestionRun._meta.db_table,
        targets=EngagementTarget._meta.db_table,
        alerts=Alert._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "agency": engagement.agency_id,
                "store": engagement.store_id,
                "engagement": engagement.pk,
                "succeeded": IngestionRun.Status.SUCCEEDED.value,
            },
        )
        last_data, *counts = cursor.fetchone()
    if isinstance(last_data, str):  # SQLite (the embedded demo) returns raw dates as text
        last_data = datetime.date.fromisoformat(last_data[:10])
    return DataVersion(
        updated_at=engagement.updated_at,
        last_data=last_data,
        runs=tuple(counts[0:2]),
        targets=tuple(counts[2:4]),
        alerts=tuple(counts[4:7]),
    )


def data_anchor(last_data: datetime.date | None, today: datetime.date) -> datetime.date:
    """The day ranges end on by default: the last day with data, never after today."""
    return min(last_data, today) if last_data else today


def is_stale(last_data: datetime.date | None, today: datetime.date) -> bool:
    return last_data is None or (today - last_data).days > STALE_AFTER_DAYS


# --- targets ----------------------------------------------------------------------------------


def _comparison_text(pace: TargetPace) -> str:
    sign = "≥" if pace.meets else "≤"
    return f"{sign} {format_value(pace.metric.name, pace.value)}"


def kpi_card(pace: TargetPace) -> dict:
    """One KPI card: the target, where the period stands, and whether it is on pace."""
    name = pace.metric.name
    if pace.target.period == "cumulative":
        period = _("Months 1–%(month)s") % {"month": pace.target.by_month}
    else:
        period = _("Month %(month)s") % {"month": pace.target.by_month}
    if pace.on_pace is None:
        status, status_label = "unknown", _("No data yet")
    elif pace.on_pace:
        status, status_label = "on", _("On pace")
    else:
        status, status_label = "off", _("Off pace")
    achievement = pace.achievement
    return {
        "metric": name,
        "label": pace.metric.label,
        "target": _comparison_text(pace),
        "period": period,
        "period_start": pace.period_start,
        "period_end": pace.period_end,
        "days_elapsed": pace.days_elapsed,
        "days_total": pace.days_total,
        "actual": format_value(name, pace.actual),
        "expected": format_value(name, pace.expected),
        "forecast": format_value(name, pace.forecast),
        "achievement": format_percent(achievement),
        "progress": min(int(achievement * 100), 100) if achievement and achievement > 0 else 0,
        "status": status,
        "status_label": status_label,
        "on_pace": pace.on_pace,
        "state": pace.state,
    }


# --- the engagement dashboard -----------------------------------------------------------------


def range_totals(*, store_id: int, date_range: DateRange, metrics=TREND_METRICS) -> dict:
    """The range's totals (ratios from the range's sums): {metric: value}."""
    rows = metrics_query(
        store_ids=[store_id],
        start=date_range.start,
        end=date_range.end,
        grain="total",
        metrics=list(metrics),
    )
    return rows[0] if rows else {}


def range_summary(*, store_id: int, date_range: DateRange) -> list[dict]:
    """The trend metrics over the range against the previous period of the same length."""
    current = range_totals(store_id=store_id, date_range=date_range)
    previous = range_totals(store_id=store_id, date_range=date_range.previous())
    summary = []
    for name in TREND_METRICS:
        change = relative_change(current.get(name), previous.get(name))
        better = METRICS[name].higher_is_better
        if change is None or change == 0 or better is None:
            direction = ""
        else:
            direction = "good" if (change > 0) == better else "bad"
        summary.append(
            {
                "metric": name,
                "label": METRICS[name].label,
                "value": current.get(name),
                "previous_value": previous.get(name),
                "display": format_value(name, current.get(name)),
                "previous": format_value(name, previous.get(name)),
                "change": format_change(change),
                "direction": direction,
            }
        )
    return summary


def trend_series(*, store_id: int, date_range: DateRange) -> dict:
    """The trend charts' data: every trend metric day by day over the range and, aligned day by
    day, over the previous period; one day-grain query covers both. Days without data are null
    (a gap in the line), never 0."""
    previous = date_range.previous()
    rows = metrics_query(
        store_ids=[store_id],
        start=previous.start,
        end=date_range.end,
        grain="day",
        metrics=list(TREND_METRICS),
    )
    by_day = {row["period_start"]: row for row in rows}
    current_dates, previous_dates = date_range.dates(), previous.dates()
    series = []
    for name in TREND_METRICS:
        metric = METRICS[name]
        series.append(
            {
                "metric": name,
                "label": str(metric.label),
                "unit": "multiple" if name == "roi" else metric.unit,
                "current": [_plain(by_day.get(day, {}).get(name)) for day in current_dates],
                "previous": [_plain(by_day.get(day, {}).get(name)) for day in previous_dates],
            }
        )
    return {
        "dates": [day.isoformat() for day in current_dates],
        "previous_dates": [day.isoformat() for day in previous_dates],
        "current_label": _("%(start)s to %(end)s")
        % {"start": date_range.start.isoformat(), "end": date_range.end.isoformat()},
        "previous_label": _("Previous period (%(start)s to %(end)s)")
        % {"start": previous.start.isoformat(), "end": previous.end.isoformat()},
        "series": series,
        "has_data": any(row["period_start"] >= date_range.start for row in rows),
    }


def source_mix(*, store_id: int, date_range: DateRange) -> list[dict]:
    """Traffic by source over the range, most visitors first, with each source's share."""
    rows = metrics_query(
        store_ids=[store_id],
        start=date_range.start,
        end=date_range.end,
        grain="total",
        metrics=list(SOURCE_METRICS),
        by="source",
    )
    total = sum(row["visitors"] or 0 for row in rows)
    rows.sort(key=lambda row: (-(row["visitors"] or 0), row["source"]))
    return [
        {
            "source": row["source"],
            "visitors_value": row["visitors"],
            "share": format_percent(
                None if not total else Decimal(row["visitors"] or 0) / Decimal(total)
            ),
            **{name: format_value(name, row[name]) for name in SOURCE_METRICS},
        }
        for row in rows
    ]


def parse_sort(value: str | None, keys, default: str) -> tuple[str, bool]:
    """A `sort` parameter checked against its whitelist: (the sort, whether it was accepted).
    An unknown value falls back to the default, never into a query."""
    if not value:
        return default, True
    return (
        (value, True) if value.lstrip("-") in keys and value.count("-") <= 1 else (default, False)
    )


def _ordered(rows: list[dict], key: str, descending: bool) -> list[dict]:
    """Rows ordered by `key`; rows without a value last whichever the direction."""
    present = [row for row in rows if row.get(key) is not None]
    missing = [row for row in rows if row.get(key) is None]
    present.sort(key=lambda row: row[key], reverse=descending)
    return present + missing


def campaign_table(*, store_id: int, date_range: DateRange, sort: str) -> list[dict]:
    """The range's ad campaigns (per ad tool and plan), ordered by a whitelisted `sort`."""
    rows = metrics_query(
        store_ids=[store_id],
        start=date_range.start,
        end=date_range.end,
        grain="total",
        metrics=list(CAMPAIGN_METRICS),
        by="campaign",
    )
    rows.sort(key=lambda row: (row["ad_tool"], row["campaign"]))  # ties stay in name order
    tool_labels = dict(AdTool.choices)
    for row in rows:
        row["ad_tool_label"] = tool_labels.get(row["ad_tool"], row["ad_tool"])
    key = sort.lstrip("-")
    rows = _ordered(rows, "ad_tool_label" if key == "ad_tool" else key, sort.startswith("-"))
    return [
        {
            "campaign": row["campaign"],
            "ad_tool": row["ad_tool_label"],
            **{name: format_value(name, row[name]) for name in CAMPAIGN_METRICS},
        }
        for row in rows
    ]


def product_rankings(
    *, store_id: int, date_range: DateRange, rank: str, limit: int = PRODUCT_LIMIT
) -> tuple[list[dict], list[dict]]:
    """The top and the bottom products of the range by `rank` (GMV, visitors or conversion
    rate); the bottom list holds products with visitors only (a product nobody saw has no
    conversion to judge) and never repeats one of the top list."""
    rows = metrics_query(
        store_ids=[store_id],
        start=date_range.start,
        end=date_range.end,
        grain="total",
        metrics=list(PRODUCT_METRICS),
        by="product",
    )
    rows.sort(key=lambda row: row["item_id"])
    ranked = _ordered(rows, rank, descending=True)
    top = ranked[:limit]
    shown = {row["item_id"] for row in top}
    seen = [row for row in ranked if (row["visitors"] or 0) > 0 and row["item_id"] not in shown]
    bottom = [row for row in reversed(seen) if row.get(rank) is not None][:limit]

    def display(row):
        return {
            "item_id": row["item_id"],
            "item_name": row["item_name"],
            **{name: format_value(name, row[name]) for name in PRODUCT_METRICS},
        }

    return [display(row) for row in top], [display(row) for row in bottom]


@dataclass
class AlertView:
    """An alert as the dashboard shows it: its rule's message and action in the reader's
    language (rendered from the evidence), and the acknowledgement (the note is staff-only)."""

    alert: Alert
    message: str
    action: str
    evidence: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.alert.is_open


def alert_evidence_rows(evidence: dict) -> list[tuple[str, str]]:
    """The evidence's registry metrics as label/value pairs (labelled in the reader's language,
    formatted like every figure here). The rule's message tells the whole story with these and
    its other numbers; keys that are no metric (dates, thresholds, changes) appear only there."""
    pairs = []
    for key, value in (evidence or {}).items():
        if key not in METRICS or value is None or isinstance(value, bool | dict | list):
            continue
        try:
            shown = format_value(key, Decimal(str(value)))
        except ArithmeticError:
            continue
        pairs.append((str(METRICS[key].label), shown))
    return pairs


def alert_view(alert: Alert) -> AlertView:
    message, action = finding_text(alert.rule, alert.evidence)
    return AlertView(
        alert=alert,
        message=str(message),
        action=str(action),
        evidence=alert_evidence_rows(alert.evidence),
    )


def engagement_alerts(
    *, engagement: Engagement, date_range: DateRange, limit: int = ALERT_LIMIT
) -> list[AlertView]:
    """The engagement's alerts: every open one (most severe, then newest, first), then the
    acknowledged ones of the range, newest first."""
    alerts = (
        Alert.objects.filter(engagement=engagement)
        .filter(
            Q(acknowledged_at__isnull=True)
            | Q(date__gte=date_range.start, date__lte=date_range.end)
        )
        .annotate(
            open_rank=Case(
                When(acknowledged_at__isnull=True, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            severity_rank=Case(
                *(
                    When(severity=severity, then=Value(rank))
                    for severity, rank in SEVERITY_RANK.items()
                ),
                default=Value(len(SEVERITY_RANK)),
                output_field=IntegerField(),
            ),
        )
        .select_related("acknowledged_by")
        .order_by("open_rank", F("severity_rank").asc(), "-date", "rule", "cause", "pk")
    )
    return [alert_view(alert) for alert in alerts[:limit]]


# --- the agency overview ----------------------------------------------------------------------


@dataclass
class EngagementHealth:
    """One row of the agency overview."""

    engagement: Engagement
    paces: list[TargetPace]
    open_alerts: int
    worst_severity: str | None
    last_data: datetime.date | None
    stale: bool
    overdue_setup: int = 0

    @property
    def on_pace(self) -> int:
        return sum(1 for pace in self.paces if pace.on_pace is True)

    @property
    def off_pace(self) -> int:
        return sum(1 for pace in self.paces if pace.on_pace is False)

    @property
    def unpaced(self) -> int:
        return sum(1 for pace in self.paces if pace.on_pace is None)

    @property
    def health(self) -> str:
        """At risk: a live target off pace or an open critical alert. Watch: an open warning,
        data missing or older than STALE_AFTER_DAYS, or overdue setup items. On track
        otherwise."""
        if self.off_pace or self.worst_severity == AlertSeverity.CRITICAL:
            return AT_RISK
        if self.worst_severity == AlertSeverity.WARNING or self.stale or self.overdue_setup:
            return WATCH
        return ON_TRACK

    @property
    def health_label(self):
        return HEALTH_LABELS[self.health]

    @property
    def worst_severity_label(self):
        return AlertSeverity(self.worst_severity).label if self.worst_severity else ""


def open_alert_counts(*, engagement_ids) -> dict[int, tuple[int, str | None]]:
    """Open alerts per engagement with the most severe one's severity, in one grouped query."""
    rows = (
        Alert.objects.filter(engagement_id__in=list(engagement_ids), acknowledged_at__isnull=True)
        .values("engagement_id")
        .annotate(
            total=Count("id"),
            critical=Count("id", filter=Q(severity=AlertSeverity.CRITICAL)),
            warning=Count("id", filter=Q(severity=AlertSeverity.WARNING)),
        )
        .order_by()
    )
    counts = {}
    for row in rows:
        if row["critical"]:
            worst = AlertSeverity.CRITICAL
        elif row["warning"]:
            worst = AlertSeverity.WARNING
        else:
            worst = AlertSeverity.INFO
        counts[row["engagement_id"]] = (row["total"], str(worst))
    return counts


def agency_overview(
    *,
    engagements,
    today: datetime.date,
    health: str = "",
    sort: str = DEFAULT_OVERVIEW_SORT,
) -> list[EngagementHealth]:
    """The health of every active engagement of `engagements` (a scoped queryset, already
    filtered by manager or stage), optionally only those of one health, ordered by `sort` (one
    of OVERVIEW_SORT_KEYS, "-" for descending). Queries: the engagements, their targets, the last
    data dates, the open alert counts, the overdue setup items, and one metric query per live
    target period."""
    engagements = list(
        engagements.filter(status=EngagementStatus.ACTIVE).select_related(
            "store__brand", "account_manager__user"
        )
    )
    ids = [engagement.pk for engagement in engagements]
    targets: dict[int, list[EngagementTarget]] = defaultdict(list)
    for target in EngagementTarget.objects.filter(engagement_id__in=ids):
        targets[target.engagement_id].append(target)
    last_dates = store_last_data_dates(
        store_ids={engagement.store_id for engagement in engagements}
    )
    alerts = open_alert_counts(engagement_ids=ids)
    overdue_setup = setup_overdue_counts(engagement_ids=ids, today=today)
    rows = []
    for engagement in engagements:
        last_data = last_dates.get(engagement.store_id)
        open_count, worst = alerts.get(engagement.pk, (0, None))
        paces = []
        if targets[engagement.pk]:
            paces = live_paces(
                engagement=engagement,
                as_of=data_anchor(last_data, today),
                targets=targets[engagement.pk],
            )
        rows.append(
            EngagementHealth(
                engagement=engagement,
                paces=paces,
                open_alerts=open_count,
                worst_severity=worst,
                last_data=last_data,
                stale=is_stale(last_data, today),
                overdue_setup=overdue_setup.get(engagement.pk, 0),
            )
        )
    if health:
        rows = [row for row in rows if row.health == health]
    return sort_overview(rows, sort)


def sort_overview(rows: list[EngagementHealth], sort: str) -> list[EngagementHealth]:
    """Rows by `sort`: title or brand A to Z, health worst first, open alerts fewest first (ties:
    the least severe first), last data oldest first; "-" reverses. Ties keep title order."""
    key, descending = sort.lstrip("-"), sort.startswith("-")
    rows = sorted(rows, key=lambda row: (row.engagement.title.lower(), row.engagement.pk))
    if key == "title":
        return sorted(rows, key=lambda row: row.engagement.title.lower(), reverse=descending)
    if key == "brand":
        return sorted(
            rows, key=lambda row: row.engagement.store.brand.name.lower(), reverse=descending
        )
    if key == "health":
        # Worst first: at risk, then the most off-pace targets and open alerts.
        return sorted(
            rows,
            key=lambda row: (HEALTH_RANK[row.health], -row.off_pace, -row.open_alerts),
            reverse=descending,
        )
    if key == "alerts":
        return sorted(
            rows,
            key=lambda row: (row.open_alerts, -SEVERITY_RANK.get(row.worst_severity, 3)),
            reverse=descending,
        )
    # last_data: the stalest first; no data at all before any date
    return sorted(
        rows,
        key=lambda row: row.last_data or datetime.date.min,
        reverse=descending,
    )
