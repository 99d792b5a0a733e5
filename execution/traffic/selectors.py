"""Reads of the traffic area, inside the request's tenant scope (which already limits brand users
to their brands): campaigns with their ad figures and budget burn, the event calendar, search
keywords with their rank history, and the summary the engagement page shows.

Campaign figures come from ONE metric query per page, whatever the number of campaigns (plus
one for how far each ad tool's reports reach): the union of the campaigns' date ranges, by day
and by ad campaign; each campaign then sums the
components of its own days and gets its ratios from the registry (`Metric.evaluate`), so a
ratio is always Σ part / Σ part, never an average of daily ratios.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, QuerySet
from django.http import Http404

from agency.models import Agency, Membership
from engagements.models import Engagement
from execution.metrics.query import metrics_query
from execution.metrics.registry import AD_COMPONENTS, METRICS
from execution.models import (
    Campaign,
    CampaignCreative,
    CampaignStatus,
    KeywordRank,
    PlatformEvent,
    SearchKeyword,
    StoreDayAdFact,
)
from execution.traffic.charts import BurnBar, RankChart, burn_bar, rank_chart
from execution.workspace import visible_to, workspace_is_open

# What a campaign on an ad tool shows, in this order.
CAMPAIGN_METRICS = ("ad_spend", "impressions", "clicks", "ctr", "cpc", "ad_gmv", "roi")
# Spend within ±10% of the linear plan is on plan.
PACE_TOLERANCE = Decimal("0.10")
RATIO_PLACES = Decimal("0.0001")


# --- campaigns -------------------------------------------------------------------------------


def campaign_list(*, engagement: Engagement, membership: Membership) -> QuerySet[Campaign]:
    """The engagement's campaigns the member may see (brand users: brand-visible ones)."""
    campaigns = Campaign.objects.filter(engagement=engagement).select_related("event")
    return visible_to(campaigns, membership)


def campaign_get_for(
    *, engagement: Engagement, membership: Membership, campaign_id: int
) -> Campaign:
    """One campaign of the engagement; the same 404 for missing, another engagement's, and (for
    brand users) internal campaigns."""
    campaign = campaign_list(engagement=engagement, membership=membership).filter(pk=campaign_id)
    campaign = campaign.first()
    if campaign is None:
        raise Http404
    campaign.engagement = engagement
    return campaign


def creative_list(*, campaign: Campaign) -> QuerySet[CampaignCreative]:
    return CampaignCreative.objects.filter(campaign=campaign).select_related("created_by")


def creative_get_for(
    *, engagement: Engagement, membership: Membership, creative_id: int
) -> CampaignCreative:
    """A creative of one of the engagement's campaigns that the member may see (404 alike)."""
    creatives = CampaignCreative.objects.filter(
        pk=creative_id, campaign__engagement=engagement
    ).select_related("campaign")
    if not membership.is_staff_member:
        creatives = creatives.filter(campaign__brand_visible=True)
    creative = creatives.first()
    if creative is None:
        raise Http404
    creative.campaign.engagement = engagement
    return creative


@dataclass
class CampaignResult:
    """What a campaign has done so far. Only campaigns on an ad tool have figures; `figures`
    None on such a campaign means no ad report names it yet ("no ad data yet")."""

    campaign: Campaign
    figures: dict[str, object] | None = None
    first_day: datetime.date | None = None  # the days the figures cover
    as_of: datetime.date | None = None
    spend: Decimal | None = None
    burn: Decimal | None = None  # spend / budget
    planned: Decimal | None = None  # budget × elapsed days / campaign days
    planned_share: Decimal | None = None  # planned / budget
    pace: Decimal | None = None  # spend / planned
    bar: BurnBar | None = None

    @property
    def on_ad_tool(self) -> bool:
        return self.campaign.ad_tool is not None

    @property
    def no_ad_data(self) -> bool:
        return self.on_ad_tool and self.figures is None

    @property
    def pace_state(self) -> str | None:
        """ "ahead" (spending faster than the linear plan), "behind" or "on_plan"."""
        if self.pace is None:
            return None
        if self.pace > 1 + PACE_TOLERANCE:
            return "ahead"
        if self.pace < 1 - PACE_TOLERANCE:
            return "behind"
        return "on_plan"


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES, ROUND_HALF_UP)


def campaign_burn(
    result: CampaignResult, budget: Decimal | None, start: datetime.date, end: datetime.date
) -> None:
    """Fill in the burn of a result that has its spend and `as_of`: spend to date / budget, and
    the linear plan to date, budget × elapsed days / campaign days."""
    if budget is None or budget <= 0 or result.spend is None or result.as_of is None:
        return
    campaign_days = (end - start).days + 1
    elapsed = min(max((result.as_of - start).days + 1, 0), campaign_days)
    result.burn = _ratio(result.spend, budget)
    result.planned = (budget * elapsed / campaign_days).quantize(Decimal("0.01"), ROUND_HALF_UP)
    result.planned_share = _ratio(elapsed, campaign_days)
    result.pace = _ratio(result.spend, result.planned)
    result.bar = burn_bar(result.burn, result.planned_share)


def ad_tool_last_days(
    *, store_id: int, tools: set[str], start: datetime.date, end: datetime.date
) -> dict[str, datetime.date]:
    """The last day each ad tool's reports reach for the store (between start and end): the
    day a campaign's figures and its plan to date run to. One query."""
    rows = (
        StoreDayAdFact.objects.filter(
            store_id=store_id, ad_tool__in=tools, date__gte=start, date__lte=end
        )
        .values("ad_tool")
        .annotate(last=Max("date"))
        .order_by()
    )
    return {row["ad_tool"]: row["last"] for row in rows}


def campaign_results(
    *, campaigns: list[Campaign], store_id: int, today: datetime.date
) -> dict[int, CampaignResult]:
    """Each campaign's ad figures and burn, from one metric query for all of them and one for
    how far each tool's reports reach (none when no campaign is on an ad tool and under way)."""
    results = {campaign.pk: CampaignResult(campaign=campaign) for campaign in campaigns}
    linked = [c for c in campaigns if c.ad_tool is not None and c.start_date <= today]
    if not linked:
        return results
    start = min(c.start_date for c in linked)
    end = min(max(c.end_date for c in linked), today)
    rows = metrics_query(
        store_ids=[store_id],
        start=start,
        end=end,
        grain="day",
        metrics=list(AD_COMPONENTS),
        by="campaign",
    )
    by_plan: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        by_plan[row["ad_tool"], row["campaign"]].append(row)
    last_day_of_tool = ad_tool_last_days(
        store_id=store_id, tools={c.ad_tool for c in linked}, start=start, end=today
    )
    for campaign in linked:
        window_end = min(campaign.end_date, today)
        days = [
            row
            for row in by_plan.get((campaign.ad_tool, campaign.report_name), [])
            if campaign.start_date <= row["period_start"] <= window_end
        ]
        if not days:
            continue
        sums: dict[str, object] = {}
        for component in AD_COMPONENTS:
            values = [row[component] for row in days if row[component] is not None]
            sums[component] = sum(values) if values else None
        result = results[campaign.pk]
        result.figures = {name: METRICS[name].evaluate(sums) for name in CAMPAIGN_METRICS}
        result.spend = result.figures["ad_spend"] or Decimal("0.00")
        result.first_day = campaign.start_date
        # The figures reach as far as the tool's reports do, never past the campaign's end.
        result.as_of = min(window_end, last_day_of_tool[campaign.ad_tool])
        campaign_burn(result, campaign.budget, campaign.start_date, campaign.end_date)
    return results


def campaign_rows(
    *, engagement: Engagement, membership: Membership, today: datetime.date
) -> list[CampaignResult]:
    """The engagement's visible campaigns with their figures, in date order (two queries)."""
    campaigns = list(
        campaign_list(engagement=engagement, membership=membership).annotate(
            creative_count=Count("creatives")
        )
    )
    results = campaign_results(campaigns=campaigns, store_id=engagement.store_id, today=today)
    return [results[campaign.pk] for campaign in campaigns]


def traffic_summary(*, engagement: Engagement, membership: Membership) -> dict:
    """The traffic step at a glance, for the engagement page: campaigns by status, the running
    ones with their total budget and spend to date, and how many keywords are tracked."""
    from django.utils import timezone

    today = timezone.localdate()
    campaigns = list(campaign_list(engagement=engagement, membership=membership))
    counts = {status: 0 for status in CampaignStatus.values}
    for campaign in campaigns:
        counts[campaign.status] += 1
    running = [c for c in campaigns if c.status == CampaignStatus.RUNNING]
    results = campaign_results(campaigns=running, store_id=engagement.store_id, today=today)
    budgets = [c.budget for c in running if c.budget is not None]
    spends = [results[c.pk].spend for c in running if results[c.pk].spend is not None]
    return {
        "workspace_open": workspace_is_open(engagement),
        "campaigns_total": len(campaigns),
        "by_status": [
            {"status": value, "label": label, "count": counts[value]}
            for value, label in CampaignStatus.choices
        ],
        "running": running,
        "running_count": len(running),
        "running_budget": sum(budgets, Decimal("0.00")) if budgets else None,
        "running_spend": sum(spends, Decimal("0.00")) if spends else None,
        "keywords_tracked": SearchKeyword.objects.filter(engagement=engagement).count(),
    }


# --- the event calendar ----------------------------------------------------------------------


def platform_event_list(
    *,
    agency: Agency,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> QuerySet[PlatformEvent]:
    """The agency's events (brand users see them too: the calendar is the platform's), those
    overlapping [start, end] when given."""
    events = PlatformEvent.objects.filter(agency=agency)
    if end is not None:
        events = events.filter(start_date__lte=end)
    if start is not None:
        events = events.filter(end_date__gte=start)
    return events


def platform_event_get_for(*, agency: Agency, event_id: int) -> PlatformEvent:
    event = platform_event_list(agency=agency).filter(pk=event_id).first()
    if event is None:
        raise Http404
    return event


def calendar_campaigns(
    *,
    agency: Agency,
    membership: Membership,
    start: datetime.date,
    end: datetime.date,
    engagement: Engagement | None = None,
) -> QuerySet[Campaign]:
    """Campaigns overlapping [start, end]: of one engagement, or of every engagement of the
    agency the member may see (brand users: their brands' brand-visible campaigns)."""
    campaigns = Campaign.objects.filter(
        agency=agency, start_date__lte=end, end_date__gte=start
    ).select_related("engagement__store__brand", "event")
    if engagement is not None:
        campaigns = campaigns.filter(engagement=engagement)
    return visible_to(campaigns, membership).order_by("start_date", "name", "pk")


# --- search keywords -------------------------------------------------------------------------


def keyword_list(*, engagement: Engagement) -> QuerySet[SearchKeyword]:
    return SearchKeyword.objects.filter(engagement=engagement)


def keyword_get_for(*, engagement: Engagement, keyword_id: int) -> SearchKeyword:
    keyword = keyword_list(engagement=engagement).filter(pk=keyword_id).first()
    if keyword is None:
        raise Http404
    keyword.engagement = engagement
    return keyword


@dataclass
class KeywordStats:
    """A keyword with its rank history (date order) and what people ask of it. A change is
    in places gained: positive means the product moved up (rank 12 -> 8 is +4)."""

    keyword: SearchKeyword
    history: list[tuple[datetime.date, int | None]] = field(default_factory=list)
    latest_date: datetime.date | None = None
    latest_rank: int | None = None
    best_rank: int | None = None
    best_date: datetime.date | None = None
    change_7: int | None = None
    change_30: int | None = None
    chart: RankChart | None = None

    @property
    def reaches_target(self) -> bool | None:
        if self.keyword.target_rank is None or self.latest_date is None:
            return None
        return self.latest_rank is not None and self.latest_rank <= self.keyword.target_rank


def _rank_on_or_before(history, day: datetime.date) -> tuple[datetime.date, int | None] | None:
    found = None
    for entry in history:
        if entry[0] > day:
            break
        found = entry
    return found


def keyword_stats_of(
    keyword: SearchKeyword,
    history: list[tuple[datetime.date, int | None]],
    *,
    today: datetime.date,
    chart_days: int = 60,
    chart_size: tuple[int, int] = (240, 64),
    chart_margin: tuple[int, int, int, int] = (6, 6, 6, 6),
) -> KeywordStats:
    stats = KeywordStats(keyword=keyword, history=history)
    if history:
        stats.latest_date, stats.latest_rank = history[-1]
        found = [(rank, day) for day, rank in history if rank is not None]
        if found:
            stats.best_rank, stats.best_date = min(
                found, key=lambda pair: (pair[0], -pair[1].toordinal())
            )
        for days, attribute in ((7, "change_7"), (30, "change_30")):
            earlier = _rank_on_or_before(history, stats.latest_date - datetime.timedelta(days=days))
            if earlier and earlier[1] is not None and stats.latest_rank is not None:
                setattr(stats, attribute, earlier[1] - stats.latest_rank)
    end = max(today, stats.latest_date or today)
    width, height = chart_size
    stats.chart = rank_chart(
        history,
        start=end - datetime.timedelta(days=chart_days - 1),
        end=end,
        width=width,
        height=height,
        target=keyword.target_rank,
        margin=chart_margin,
    )
    return stats


def keyword_rows(*, engagement: Engagement, today: datetime.date) -> list[KeywordStats]:
    """Every keyword of the engagement with its stats and a 60-day chart (two queries)."""
    keywords = list(keyword_list(engagement=engagement))
    histories: dict[int, list] = defaultdict(list)
    ranks = KeywordRank.objects.filter(keyword__engagement=engagement).order_by("keyword", "date")
    for keyword_id, day, rank in ranks.values_list("keyword_id", "date", "rank"):
        histories[keyword_id].append((day, rank))
    return [keyword_stats_of(k, histories[k.pk], today=today) for k in keywords]


def keyword_detail(
    *, keyword: SearchKeyword, today: datetime.date, days: int = 180
) -> KeywordStats:
    """A keyword's whole history and a large chart over it (at least 30 days, at most `days`)."""
    history = list(
        KeywordRank.objects.filter(keyword=keyword).order_by("date").values_list("date", "rank")
    )
    shown = days
    if history:
        shown = min(days, max(30, (today - history[0][0]).days + 1))
    return keyword_stats_of(
        keyword,
        history,
        today=today,
        chart_days=shown,
        chart_size=(720, 240),
        chart_margin=(12, 12, 24, 36),
    )


def keyword_ranks_on(*, engagement: Engagement, date: datetime.date) -> dict[int, int | None]:
    """The ranks already recorded on a date, by keyword id (to pre-fill the record form)."""
    return dict(
        KeywordRank.objects.filter(keyword__engagement=engagement, date=date).values_list(
            "keyword_id", "rank"
        )
    )
