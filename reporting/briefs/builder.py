"""The daily brief's content: one engagement, one day (the day the data is about), as JSON-safe
structured data. Every figure comes from the one metric query (`execution.metrics.query`), the
target pacing (`execution.metrics.pacing`) and the alert rules (`execution.metrics.rules`,
`execution.alerts`); this module computes no metric of its own.

The shape (`CONTENT_VERSION` 1)::

    {
      "version": 1, "date": "YYYY-MM-DD", "language": "zh-hans",
      "engagement": {"id", "title", "store", "brand"},
      "data_through": "YYYY-MM-DD" | null,       # last day with data on or before the date
      "data_status": {"has_data", "days_behind", "missing": ["store" | "ads" | "sources"]},
      "metrics": {<canonical name>: {"value", "previous_day", "same_day_last_week", "avg_7d"}},
      "targets": [TargetPace.as_dict(), ...],    # the current targets, paced as of the date
      "sources": [{"source", "visitors", "paying_buyers", "conversion_rate", "gmv",
                   "visitor_share", "previous_day_visitors"}, ...],
      "alerts": [{"id", "rule", "severity", "cause", "evidence", "message", "action"}, ...],
      "insights": [{"rule", "severity", "cause", "evidence", "message", "action"}, ...],
      "correction": null | {"previous_revision", "changes": [...], "sections": [...]},
    }

Values are what the metric query returns, made JSON-safe: counts as ints, money and ratios as
decimal strings, no value as null. `avg_7d` covers the 7 days before the date: counts and money
are the 7-day sum over the number of those days that have the metric; ratios come from the 7-day
sums (never a mean of daily ratios). `message` and `action` are the generation language's copy;
pages, e-mails and robots render them again from `rule` and `evidence` in the reader's language.

A day without any data still gives a brief (`data_status.has_data` false, no insights), because
an agency needs to know that a store's data pipeline stopped; a store that never had data on or
before the date gives `data_through` null, and the sender issues no brief for it.

Queries per brief do not depend on the amount of history: two metric queries over the 8 days
(the day and the 7 before), one by source over the same days, the current targets' periods, and
the rules' own windows.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max
from django.utils import translation

from engagements.models import Engagement
from execution.metrics.pacing import live_paces
from execution.metrics.query import metrics_query
from execution.metrics.registry import METRICS
from execution.models import StoreDayAdFact, StoreDayFact

CONTENT_VERSION = 1

# The core metrics of the brief, in the order the table shows them.
BRIEF_METRICS = (
    "gmv",
    "visitors",
    "paying_buyers",
    "conversion_rate",
    "aov",
    "uv_value",
    "new_buyers",
    "refund_amount",
    "refund_rate",
    "ad_spend",
    "ad_gmv",
    "roi",
    "clicks",
    "cpc",
    "ctr",
    "cs_avg_first_reply",
)
SOURCE_METRICS = ("visitors", "paying_buyers", "conversion_rate", "gmv")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
MIN_INSIGHTS, MAX_INSIGHTS = 3, 5
AVERAGE_PLACES = Decimal("0.01")
SHARE_PLACES = Decimal("0.000001")

# Which metrics tell that a part of the day's data is there (a store-day row, an ad row).
_STORE_MARKERS = ("visitors", "paying_buyers", "gmv")
_AD_MARKERS = ("ad_spend", "clicks")


def jsonable(value):
    """Decimals as strings, dates as ISO strings, containers recursively; the rest as is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.get(severity, len(SEVERITY_ORDER))


def _present(row: dict | None, markers: tuple[str, ...]) -> bool:
    return row is not None and any(row.get(name) is not None for name in markers)


def _metric_block(name: str, day: datetime.date, by_day: dict, week: dict) -> dict:
    metric = METRICS[name]

    def value_on(when):
        row = by_day.get(when)
        return None if row is None else row.get(name)

    if metric.is_ratio:
        average = week.get(name)
    else:
        days = [
            day - datetime.timedelta(days=offset)
            for offset in range(1, 8)
            if value_on(day - datetime.timedelta(days=offset)) is not None
        ]
        total = week.get(name)
        average = (
            None
            if not days or total is None
            else (Decimal(total) / len(days)).quantize(AVERAGE_PLACES, rounding=ROUND_HALF_UP)
        )
    return jsonable(
        {
            "value": value_on(day),
            "previous_day": value_on(day - datetime.timedelta(days=1)),
            "same_day_last_week": value_on(day - datetime.timedelta(days=7)),
            "avg_7d": average,
        }
    )


def _targets(engagement: Engagement, day: datetime.date) -> list[dict]:
    return [pace.as_dict() for pace in live_paces(engagement=engagement, as_of=day)]


def _sources(store_id: int, day: datetime.date) -> tuple[list[dict], bool, bool]:
    """The day's traffic by source; whether the day has any, and whether the 7 days before had."""
    rows = metrics_query(
        store_ids=[store_id],
        start=day - datetime.timedelta(days=7),
        end=day,
        grain="day",
        metrics=list(SOURCE_METRICS),
        by="source",
    )
    today = [row for row in rows if row["period_start"] == day]
    before = any(row["period_start"] < day for row in rows)
    yesterday = {
        row["source"]: row["visitors"]
        for row in rows
        if row["period_start"] == day - datetime.timedelta(days=1)
    }
    total_visitors = sum(row["visitors"] or 0 for row in today)
    sources = []
    for row in sorted(today, key=lambda row: (-(row["visitors"] or 0), row["source"])):
        share = None
        if total_visitors and row["visitors"] is not None:
            share = (Decimal(row["visitors"]) / total_visitors).quantize(
                SHARE_PLACES, rounding=ROUND_HALF_UP
            )
        sources.append(
            jsonable(
                {
                    "source": row["source"],
                    **{name: row[name] for name in SOURCE_METRICS},
                    "visitor_share": share,
                    "previous_day_visitors": yesterday.get(row["source"]),
                }
            )
        )
    return sources, bool(today), before


def _last_day_with_data(store_id: int, day: datetime.date) -> datetime.date | None:
    """Only asked when the 8 days around the brief have no data: both fact tables' latest day
    (the unique key's index answers it without reading history)."""
    days = [
        model.objects.filter(store_id=store_id, date__lte=day).aggregate(last=Max("date"))["last"]
        for model in (StoreDayFact, StoreDayAdFact)
    ]
    days = [found for found in days if found is not None]
    return max(days) if days else None


def _alert_item(pk, rule, severity, cause, evidence) -> dict:
    from execution.metrics.rules import finding_text

    message, action = finding_text(rule, evidence)
    return {
        "id": pk,
        "rule": rule,
        "severity": str(severity),
        "cause": cause,
        "evidence": jsonable(evidence),
        "message": str(message),
        "action": str(action),
    }


def _alerts_and_insights(
    engagement: Engagement, day: datetime.date, has_data: bool, raise_alerts: bool
) -> tuple[list[dict], list[dict]]:
    """The day's alerts and its insights, from one evaluation of the rules. Alerts: what
    `alerts_evaluate` stores and returns (raised once); with `raise_alerts` false, the alerts
    already stored plus the alert findings not stored yet (id null), writing nothing. Insights:
    the findings, alert and insight rules alike, most severe first, at most five."""
    from execution.alerts import alerts_evaluate
    from execution.metrics.rules import RULES, finding_text, findings_for_day
    from execution.models import Alert

    findings = findings_for_day(engagement=engagement, date=day)
    if raise_alerts:
        stored = alerts_evaluate(engagement=engagement, date=day, findings=findings)
        alerts = [_alert_item(a.pk, a.rule, a.severity, a.cause, a.evidence) for a in stored]
    else:
        stored = Alert.objects.filter(engagement=engagement, date=day)
        alerts = [_alert_item(a.pk, a.rule, a.severity, a.cause, a.evidence) for a in stored]
        known = {(alert["rule"], alert["cause"]) for alert in alerts}
        alerts += [
            _alert_item(None, f.rule, f.severity, f.cause[:255], f.evidence)
            for f in findings
            if RULES[f.rule].is_alert and (f.rule, f.cause[:255]) not in known
        ]
    alerts.sort(key=lambda item: (severity_rank(item["severity"]), item["rule"], item["cause"]))
    insights = []
    if has_data:
        for finding in findings:
            message, action = finding_text(finding.rule, finding.evidence)
            insights.append(
                {
                    "rule": finding.rule,
                    "severity": str(finding.severity),
                    "cause": finding.cause or "",
                    "evidence": jsonable(finding.evidence),
                    "message": str(message),
                    "action": str(action),
                }
            )
        # Most severe first; the sort is stable, so the rules' own order breaks ties.
        insights.sort(key=lambda item: severity_rank(item["severity"]))
    return alerts, insights[:MAX_INSIGHTS]


def brief_build(
    *,
    engagement: Engagement,
    date: datetime.date,
    language: str | None = None,
    raise_alerts: bool = True,
) -> dict:
    """The brief of `engagement` covering `date`, as JSON-safe content (see the module's
    docstring for its shape). Stores and sends nothing. Runs inside the engagement's agency scope;
    `language` (default: the agency's) is the language of the stored message and action copies.
    The day's alert findings are raised as alerts (once; what the sender does); a preview passes
    `raise_alerts=False` to write nothing at all.
    """
    from reporting.briefs.observations import observations_for

    store = engagement.store
    language = language or engagement.agency.default_language
    day = date
    week_start = day - datetime.timedelta(days=7)
    daily = metrics_query(
        store_ids=[store.pk], start=week_start, end=day, grain="day", metrics=list(BRIEF_METRICS)
    )
    by_day = {row["period_start"]: row for row in daily}
    week: dict = {}
    if any(when < day for when in by_day):
        totals = metrics_query(
            store_ids=[store.pk],
            start=week_start,
            end=day - datetime.timedelta(days=1),
            grain="total",
            metrics=list(BRIEF_METRICS),
        )
        week = totals[0] if totals else {}
    metrics = {name: _metric_block(name, day, by_day, week) for name in BRIEF_METRICS}
    sources, sources_today, sources_before = _sources(store.pk, day)

    today = by_day.get(day)
    earlier = [row for when, row in by_day.items() if when < day]
    has_data = today is not None or sources_today
    missing = []  # parts of a day that has data: a day with none is missing as a whole
    if (
        has_data
        and not _present(today, _STORE_MARKERS)
        and any(_present(r, _STORE_MARKERS) for r in earlier)
    ):
        missing.append("store")
    if (
        has_data
        and not _present(today, _AD_MARKERS)
        and any(_present(row, _AD_MARKERS) for row in earlier)
    ):
        missing.append("ads")
    if has_data and not sources_today and sources_before:
        missing.append("sources")
    if has_data:
        data_through = day
    elif by_day:
        data_through = max(by_day)
    else:
        data_through = _last_day_with_data(store.pk, day)

    with translation.override(language):
        targets, alerts, insights = [], [], []
        if data_through is not None:  # a store that never had data has nothing to pace or raise
            targets = _targets(engagement, day)
            alerts, insights = _alerts_and_insights(engagement, day, has_data, raise_alerts)
        content = {
            "version": CONTENT_VERSION,
            "date": day.isoformat(),
            "language": language,
            "engagement": {
                "id": engagement.pk,
                "title": engagement.title,
                "store": store.name,
                "brand": store.brand.name,
            },
            "data_through": data_through.isoformat() if data_through else None,
            "data_status": {
                "has_data": bool(has_data),
                "days_behind": (day - data_through).days if data_through else None,
                "missing": missing,
            },
            "metrics": metrics,
            "targets": targets,
            "sources": sources,
            "alerts": alerts,
            "insights": insights,
            "correction": None,
        }
        if has_data and len(insights) < MIN_INSIGHTS:
            # A quiet day still says three things: the biggest moves against the 7-day average.
            content["insights"] += observations_for(content)[: MIN_INSIGHTS - len(insights)]
    return content


def brief_figures(content: dict) -> dict:
    """What a brief says in numbers, without its wording, ids or correction note: two builds
    with the same figures are the same brief, whatever the language or the engagement's name."""

    def findings(items):
        return sorted(
            (
                [
                    item.get("rule"),
                    item.get("severity"),
                    item.get("cause", ""),
                    item.get("evidence"),
                ]
                for item in items or []
            ),
            key=json.dumps,
        )

    return {
        "date": content.get("date"),
        "data_through": content.get("data_through"),
        "metrics": content.get("metrics") or {},
        # A target's figures, not its definition: a new proposal's targets correct nothing.
        "targets": sorted(
            [t.get("metric"), t.get("period_start"), t.get("period_end"), t.get("actual")]
            for t in content.get("targets") or []
        ),
        "sources": content.get("sources") or [],
        "alerts": findings(content.get("alerts")),
        "insights": findings(content.get("insights")),
    }


def brief_fingerprint(content: dict) -> str:
    """SHA-256 of the brief's figures (see `brief_figures`)."""
    canonical = json.dumps(
        brief_figures(content), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def brief_correction(previous: dict, current: dict, previous_revision: int) -> dict:
    """What changed between a sent brief and its rebuild: each core metric whose day value
    changed (before → after), and the other sections whose figures changed."""
    before, after = brief_figures(previous), brief_figures(current)
    changes = []
    for name in BRIEF_METRICS:
        old = (before["metrics"].get(name) or {}).get("value")
        new = (after["metrics"].get(name) or {}).get("value")
        if old != new:
            changes.append({"metric": name, "before": old, "after": new})
    sections = [
        section
        for section in ("data_through", "metrics", "targets", "sources", "alerts", "insights")
        if before[section] != after[section]
    ]
    return {"previous_revision": previous_revision, "changes": changes, "sections": sections}
