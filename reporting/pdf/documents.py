"""What each report's PDF shows: the template, its context, the title, the date range for the
footer and the file name. Objects arrive already loaded through their access-checked getters
(the views do that); every figure comes from the report's stored content or from the one metric
query, formatted by `execution.metrics.formatting`.

Charts: the brief shows the last 14 days of GMV and visitors through its day, a review the
period's daily GMV and visitors against the previous period's, the diagnosis the 90 days of GMV
and visitors up to the last day with data on or before the report's date (the window of its
baseline), a full review the GMV of each month of its period and the ROI of each ad tool. The
brief's, diagnosis' and full review's monthly GMV are read from the data as it is now: a late
correction shows in them (a corrected brief also gets its own revision); every other figure of a
full review or a long-term plan is the stored one.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from diagnostics.models import DiagnosisReport
from engagements.models import Engagement
from execution.metrics.formatting import format_percent, format_value, metric_label
from execution.metrics.query import metrics_query
from execution.models import Campaign, Offer, SetupItem
from proposals.models import ProposalVersion
from proposals.selectors import version_approval
from reporting import reviews
from reporting.briefs.render import brief_display
from reporting.full_review.figures import MIN_SPEND_SHARE, MIN_VISITOR_SHARE
from reporting.full_review.page import full_review_page, plan_page
from reporting.models import DailyBrief, FullReview, LongTermPlan, Review
from reporting.pdf.charts import Series, bar_chart, line_chart
from reporting.pdf.render import agency_colour

BRIEF_TREND_DAYS = 14
DIAGNOSIS_TREND_DAYS = 90
# How far back the diagnosis looks for its last day with data (a store whose data stopped).
DIAGNOSIS_LOOKBACK_DAYS = 365
TREND_METRICS = ("gmv", "visitors")
PREVIOUS_COLOUR = "#9aa0a6"
SOURCE_BARS = 8
# A full review lists the campaigns with the best ROI; the rest are counted, not listed.
FULL_REVIEW_CAMPAIGNS = 20
TIMELINE_KINDS = {"campaign": Campaign, "offer": Offer, "setup": SetupItem}


@dataclass(frozen=True)
class PdfDocument:
    template: str
    context: dict
    title: str
    period: tuple[datetime.date, datetime.date | None] | None
    filename: str


def pdf_filename(*parts: str) -> str:
    """A file name from its parts ("品牌A-数据日报-2026-09-10.pdf"): no path separators, quotes
    or control characters, at most 120 characters before ".pdf"."""
    joined = "-".join(part for part in parts if part)
    cleaned = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "", joined)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .-") or "report"
    return cleaned[:120] + ".pdf"


def _period_name(start: datetime.date, end: datetime.date | None) -> str:
    return start.isoformat() if end is None or end == start else f"{start}_{end}"


def _local_date(engagement: Engagement, moment: datetime.datetime | None) -> datetime.date:
    zone = zoneinfo.ZoneInfo(engagement.agency.time_zone)
    return timezone.localdate(moment or timezone.now(), timezone=zone)


def _trend_charts(rows: list[dict], days: list[datetime.date], colour: str) -> list[dict]:
    """One line chart per trend metric over `days`, from metric-query rows by day."""
    by_day = {row["period_start"]: row for row in rows}
    labels = [day.strftime("%m-%d") for day in days]
    charts = []
    for name in TREND_METRICS:
        values = [(by_day.get(day) or {}).get(name) for day in days]
        svg = line_chart(
            days=labels,
            series=[Series(label=metric_label(name), values=values, colour=colour)],
            value_text=lambda number, name=name: format_value(name, number),
        )
        if svg:
            charts.append({"label": metric_label(name), "svg": svg, "legend": []})
    return charts


# --- diagnosis ---------------------------------------------------------------------------------


def diagnosis_document(*, engagement: Engagement, report: DiagnosisReport) -> PdfDocument:
    as_of = _local_date(engagement, report.published_at or report.updated_at)
    rows = metrics_query(
        store_ids=[engagement.store_id],
        start=as_of - datetime.timedelta(days=DIAGNOSIS_LOOKBACK_DAYS - 1),
        end=as_of,
        grain="day",
        metrics=list(TREND_METRICS),
    )
    period = None
    charts: list[dict] = []
    if rows:
        last = rows[-1]["period_start"]
        first = last - datetime.timedelta(days=DIAGNOSIS_TREND_DAYS - 1)
        days = [first + datetime.timedelta(days=n) for n in range(DIAGNOSIS_TREND_DAYS)]
        charts = _trend_charts(
            [row for row in rows if row["period_start"] >= first],
            days,
            agency_colour(engagement.agency),
        )
        period = (first, last)
    brand = engagement.store.brand.name
    return PdfDocument(
        template="reporting/pdf/diagnosis.html",
        context={"engagement": engagement, "report": report, "charts": charts},
        title=report.title,
        period=period,
        filename=pdf_filename(brand, report.title, f"v{report.number}"),
    )


# --- proposal ----------------------------------------------------------------------------------


def proposal_document(*, version: ProposalVersion) -> PdfDocument:
    proposal = version.proposal
    engagement = proposal.engagement
    period = (engagement.start_date, engagement.end_date)
    return PdfDocument(
        template="reporting/pdf/proposal.html",
        context={
            "engagement": engagement,
            "proposal": proposal,
            "version": version,
            "content": version.content(),
            "approval": version_approval(version=version),
        },
        title=proposal.title,
        period=period,
        filename=pdf_filename(engagement.store.brand.name, proposal.title, f"v{version.number}"),
    )


# --- daily brief -------------------------------------------------------------------------------


def brief_document(*, brief: DailyBrief) -> PdfDocument:
    engagement = brief.engagement
    display = brief_display(brief.content, revision=brief.revision)
    colour = agency_colour(engagement.agency)
    first = brief.date - datetime.timedelta(days=BRIEF_TREND_DAYS - 1)
    rows = metrics_query(
        store_ids=[engagement.store_id],
        start=first,
        end=brief.date,
        grain="day",
        metrics=list(TREND_METRICS),
    )
    days = [first + datetime.timedelta(days=n) for n in range(BRIEF_TREND_DAYS)]
    sources = (brief.content or {}).get("sources") or []
    source_chart = bar_chart(
        rows=[
            (
                source.get("source", ""),
                source.get("visitors"),
                format_value("visitors", source.get("visitors")),
            )
            for source in sources[:SOURCE_BARS]
        ],
        colour=colour,
    )
    return PdfDocument(
        template="reporting/pdf/brief.html",
        context={
            "engagement": engagement,
            "stored_brief": brief,
            "brief": display,
            "charts": _trend_charts(rows, days, colour),
            "source_chart": source_chart,
        },
        title=display["title"],
        period=(brief.date, brief.date),
        filename=pdf_filename(
            engagement.store.brand.name,
            _("Daily brief"),
            brief.date.isoformat(),
            f"r{brief.revision}" if brief.revision > 1 else "",
        ),
    )


# --- weekly and monthly reviews ----------------------------------------------------------------


def _review_charts(content: dict, colour: str) -> list[dict]:
    charts_content = content.get("charts") or {}
    days = charts_content.get("days") or []
    previous_days = charts_content.get("previous_days") or []
    series = charts_content.get("series") or {}
    labels = [day[5:] if len(day) == 10 else day for day in days]
    charts = []
    for name in TREND_METRICS:
        figures = series.get(name) or {}
        current, previous = figures.get("current") or [], figures.get("previous") or []
        this_period, before = _("This period"), _("Previous period")
        svg = line_chart(
            days=labels,
            series=[
                Series(label=before, values=previous, colour=PREVIOUS_COLOUR, dashed=True),
                Series(label=this_period, values=current, colour=colour),
            ],
            value_text=lambda number, name=name: format_value(name, number),
        )
        if svg:
            before_text = (
                f"{before} ({previous_days[0]} – {previous_days[-1]})" if previous_days else before
            )
            legend = [(this_period, colour, False), (before_text, PREVIOUS_COLOUR, True)]
            charts.append({"label": metric_label(name), "svg": svg, "legend": legend})
    return charts


def review_document(*, review: Review) -> PdfDocument:
    engagement = review.engagement
    colour = agency_colour(engagement.agency)
    page = reviews.review_page(review=review)
    # The HTML page's own small charts are for the screen; the PDF draws its own, larger ones.
    page = {**page, "charts": []}
    content = review.content or {}
    sources = content.get("sources") or []
    source_chart = bar_chart(
        rows=[
            (
                row.get("source", ""),
                row.get("visitors"),
                format_value("visitors", row.get("visitors")),
            )
            for row in sources[:SOURCE_BARS]
        ],
        colour=colour,
    )
    kind = review.get_kind_display()
    brand = engagement.store.brand.name
    return PdfDocument(
        template="reporting/pdf/review.html",
        context={
            "engagement": engagement,
            "review": review,
            "page": page,
            "action_items": reviews.review_action_items(review=review),
            "brand_view": True,
            "charts": _review_charts(content, colour),
            "source_chart": source_chart,
        },
        title=f"{kind} · {brand}",
        period=(review.period_start, review.period_end),
        filename=pdf_filename(brand, kind, _period_name(review.period_start, review.period_end)),
    )


# --- full review and long-term plan (steps 7 and 8) --------------------------------------------


def _month_gmv_chart(content: dict, colour: str) -> SafeString:
    """Bars of the GMV of each calendar month of the period (the first and last clipped to it),
    from the review's stored figures: a published review's PDF does not move with late data."""
    return bar_chart(
        rows=[
            (row["month"], row["gmv"], format_value("gmv", row["gmv"]))
            for row in content.get("months") or []
        ],
        colour=colour,
    )


def _channel_roi_chart(content: dict, colour: str) -> SafeString:
    return bar_chart(
        rows=[
            (
                reviews.ad_tool_label(row.get("ad_tool", "")),
                row.get("roi"),
                format_value("roi", row.get("roi")),
            )
            for row in content.get("channels") or []
        ],
        colour=colour,
    )


def _tier_rows(tiers: dict | None) -> list[dict]:
    """The first and the last month's tiers side by side, one row per tier."""
    if not tiers:
        return []
    first = {row["tier"]: row for row in tiers["first"]}
    last = {row["tier"]: row for row in tiers["last"]}
    order = [row["tier"] for row in tiers["first"]]
    order += [row["tier"] for row in tiers["last"] if row["tier"] not in first]
    return [{"tier": tier, "first": first.get(tier), "last": last.get(tier)} for tier in order]


def full_review_document(*, review: FullReview, brand_view: bool) -> PdfDocument:
    """The full review as the reader may see it: the brand's view leaves out the timeline's
    internal entries (staff see them, marked)."""
    engagement = review.engagement
    colour = agency_colour(engagement.agency)
    page = full_review_page(review=review, brand_view=brand_view)
    for entry in page["timeline"]:
        model = TIMELINE_KINDS.get(entry["kind"])
        entry["kind_label"] = capfirst(model._meta.verbose_name) if model else entry["kind"]
    campaigns = page["campaigns"][:FULL_REVIEW_CAMPAIGNS]
    brand = engagement.store.brand.name
    title = _("Full review")
    return PdfDocument(
        template="reporting/pdf/full_review.html",
        context={
            "engagement": engagement,
            "review": review,
            "page": page,
            "brand_view": brand_view,
            "campaigns": campaigns,
            "campaigns_more": max(page["campaigns_total"] - len(campaigns), 0),
            "tier_rows": _tier_rows(page["tiers"]),
            "min_spend_share": format_percent(MIN_SPEND_SHARE),
            "min_visitor_share": format_percent(MIN_VISITOR_SHARE),
            "month_chart": _month_gmv_chart(review.content, colour),
            "channel_chart": _channel_roi_chart(review.content or {}, colour),
        },
        title=f"{title} · {brand}",
        period=(review.period_start, review.period_end),
        filename=pdf_filename(brand, title, _period_name(review.period_start, review.period_end)),
    )


def plan_document(*, plan: LongTermPlan) -> PdfDocument:
    engagement = plan.engagement
    review = plan.full_review
    brand = engagement.store.brand.name
    title = _("Long-term plan")
    return PdfDocument(
        template="reporting/pdf/plan.html",
        context={"engagement": engagement, "plan": plan, "page": plan_page(plan=plan)},
        title=f"{title} · {brand}",
        period=(review.period_start, review.period_end),
        filename=pdf_filename(brand, title, _period_name(review.period_start, review.period_end)),
    )
