"""Reads of the diagnosis: scoped getters that 404 alike for missing and not-yours, the report
versions a member may see (brand users: published only), and the store's baseline.

`diagnosis_baseline` is a public interface: the proposals app's target planner reads it. Every
number in it comes from `execution.metrics.query.metrics_query` (grain "total"); nothing here
computes a metric.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max, QuerySet
from django.http import Http404

from agency.models import Membership
from diagnostics.models import (
    Competitor,
    DiagnosisIntake,
    DiagnosisReport,
    Persona,
    ReportStatus,
)
from engagements.models import Engagement
from execution.metrics.query import metrics_query
from execution.models import StoreDayFact

BASELINE_METRICS = (
    "visitors",
    "paying_buyers",
    "conversion_rate",
    "aov",
    "gmv",
    "uv_value",
    "ad_spend",
    "clicks",
    "cpc",
    "roi",
)
BASELINE_DAYS = (30, 90)
CHANGE_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class BaselineWindow:
    """The last `days` days of store data and the `days` days before them, for comparison."""

    days: int  # 30 or 90
    start: datetime.date
    end: datetime.date
    values: dict[str, Decimal | int | None]  # BASELINE_METRICS over [start, end]
    previous: dict[str, Decimal | int | None]  # the same over the `days` days before start

    def change(self, metric: str) -> Decimal | None:
        """values / previous - 1; None when either is missing or the previous value is 0."""
        current, before = self.values.get(metric), self.previous.get(metric)
        if current is None or before is None or not before:
            return None
        ratio = Decimal(current) / Decimal(before) - 1
        return ratio.quantize(CHANGE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Baseline:
    """Where the store stands before the engagement's work: the last 30 and 90 days of data."""

    last_data_date: datetime.date | None  # None: the store has no data
    windows: dict[int, BaselineWindow]  # {30: ..., 90: ...}; {} when no data

    @property
    def has_data(self) -> bool:
        return self.last_data_date is not None


def _totals(store_id: int, start: datetime.date, end: datetime.date) -> dict:
    rows = metrics_query(
        store_ids=[store_id], start=start, end=end, grain="total", metrics=list(BASELINE_METRICS)
    )
    row = rows[0] if rows else {}
    return {name: row.get(name) for name in BASELINE_METRICS}


def diagnosis_baseline(*, engagement: Engagement) -> Baseline:
    """The engagement's store baseline. Windows end at the store's last day with store-day
    facts, not today: a store whose data stopped (or whose figures were entered by month) still
    has a baseline, and a day without data yet does not drag the figures down."""
    last = StoreDayFact.objects.filter(store_id=engagement.store_id).aggregate(last=Max("date"))[
        "last"
    ]
    if last is None:
        return Baseline(last_data_date=None, windows={})
    windows = {}
    for days in BASELINE_DAYS:
        span = datetime.timedelta(days=days - 1)
        start = last - span
        previous_end = start - datetime.timedelta(days=1)
        previous_start = previous_end - span
        windows[days] = BaselineWindow(
            days=days,
            start=start,
            end=last,
            values=_totals(engagement.store_id, start, last),
            previous=_totals(engagement.store_id, previous_start, previous_end),
        )
    return Baseline(last_data_date=last, windows=windows)


# --- intake, competitors, personas -------------------------------------------------------------


def diagnosis_intake_of(*, engagement: Engagement) -> DiagnosisIntake | None:
    return DiagnosisIntake.objects.filter(engagement=engagement).first()


def competitor_list(*, engagement: Engagement) -> QuerySet[Competitor]:
    return Competitor.objects.filter(engagement=engagement)


def competitor_get_for(*, engagement: Engagement, competitor_id: int) -> Competitor:
    """A competitor of this engagement (already fetched through the member's scope); 404 alike
    for missing, another engagement's and another agency's."""
    competitor = competitor_list(engagement=engagement).filter(pk=competitor_id).first()
    if competitor is None:
        raise Http404
    return competitor


def persona_list(*, engagement: Engagement) -> QuerySet[Persona]:
    return Persona.objects.filter(engagement=engagement)


def persona_get_for(*, engagement: Engagement, persona_id: int) -> Persona:
    persona = persona_list(engagement=engagement).filter(pk=persona_id).first()
    if persona is None:
        raise Http404
    return persona


# --- report versions ---------------------------------------------------------------------------


def report_versions(*, membership: Membership, engagement: Engagement) -> QuerySet[DiagnosisReport]:
    """Every version for staff; only published ones for brand users (newest first)."""
    reports = DiagnosisReport.objects.filter(engagement=engagement).select_related(
        "created_by", "published_by"
    )
    if not membership.is_staff_member:
        reports = reports.filter(status=ReportStatus.PUBLISHED)
    return reports


def report_get_for(
    *, membership: Membership, engagement: Engagement, report_id: int
) -> DiagnosisReport:
    """A version the member may read; a draft is a 404 for a brand user, as if it did not exist."""
    report = (
        report_versions(membership=membership, engagement=engagement).filter(pk=report_id).first()
    )
    if report is None:
        raise Http404
    return report


def report_latest_published(*, engagement: Engagement) -> DiagnosisReport | None:
    return (
        DiagnosisReport.objects.filter(engagement=engagement, status=ReportStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )


def report_draft(*, engagement: Engagement) -> DiagnosisReport | None:
    return DiagnosisReport.objects.filter(engagement=engagement, status=ReportStatus.DRAFT).first()


@dataclass(frozen=True)
class DiagnosisStatus:
    """What the engagement page's panel says about step 1."""

    has_intake: bool
    competitors: int
    personas: int
    draft: DiagnosisReport | None
    published: DiagnosisReport | None


def diagnosis_status(*, engagement: Engagement) -> DiagnosisStatus:
    return DiagnosisStatus(
        has_intake=DiagnosisIntake.objects.filter(engagement=engagement).exists(),
        competitors=competitor_list(engagement=engagement).count(),
        personas=persona_list(engagement=engagement).count(),
        draft=report_draft(engagement=engagement),
        published=report_latest_published(engagement=engagement),
    )
