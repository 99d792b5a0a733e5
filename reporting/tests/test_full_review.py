"""The full review (全面效果复盘, step 7) and the long-term plan (长期合作建议, step 8).

Figures are checked against hand-computed totals of a store whose facts are known day by day:
an engagement starting on 15 June 2026 (a partial first month), reviewed from 15 June to
31 August, with a full 30-day diagnosis baseline before it and decoy rows just outside both
windows. Then the review's services (validation, findings, actions, publishing, the lifecycle
gate, what a brand user may see) and the plan's rules, each on figures at and just short of its
threshold, and "next proposal"."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from agency.models import Notification, Role
from agency.tenancy import agency_scope
from engagements.gates import GATES, gate_is_open
from engagements.lifecycle import Service, Stage
from engagements.models import EngagementTarget
from execution.models import Offer, OfferKind, SetupItemStatus, TierSnapshot
from proposals.models import Proposal, ProposalVersion
from reporting import permissions
from reporting.full_review import plan as plans
from reporting.full_review import services
from reporting.full_review.figures import full_review_figures
from reporting.models import (
    ActionStatus,
    FindingKind,
    FullReview,
    FullReviewAction,
    FullReviewFinding,
    LongTermPlan,
    Recommendation,
    ReviewStatus,
)
from reporting.reviews import ReviewRefused, agency_today

START = datetime.date(2026, 6, 15)  # the engagement's first day: June is a partial month
PERIOD_START, PERIOD_END = START, datetime.date(2026, 8, 31)
PRODUCT_DAY = datetime.date(2026, 7, 15)
REVIEW_GATE = next(gate for gate in GATES if gate.key == "review_published")


def d(month: int, day: int) -> datetime.date:
    return datetime.date(2026, month, day)


def daily(first: datetime.date, last: datetime.date, **values) -> list[dict]:
    """One store_day row a day from `first` to `last`, each with the same values."""
    rows, day = [], first
    while day <= last:
        rows.append({"date": day.isoformat(), **values})
        day += datetime.timedelta(days=1)
    return rows


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def fr_engagement(make_engagement, store_a, demo_manager):
    """Brand A, full service, at the review stage, started on 15 June 2026."""
    return make_engagement(
        store_a, demo_manager, stage=Stage.REVIEW, start_date=START, title="Brand A 年度运营"
    )


@pytest.fixture
def narrow_engagement(make_engagement, store_b, demo_manager):
    """Brand B, traffic only (not full service)."""
    return make_engagement(
        store_b,
        demo_manager,
        stage=Stage.REVIEW,
        start_date=START,
        services=[Service.TRAFFIC],
        title="Brand B 推广",
    )


@pytest.fixture
def fr_facts(push, store_a, fr_engagement):
    """The facts, per day with data on every day of every window:

        window                     days  visitors/d  buyers/d  gmv/d  repeat/d
        baseline 16 May–14 Jun      30      100         2       200      0
        first month 15–30 Jun       16      200         4       400      1
        July                        31      300         6       900      1
        last month August           31      400        10      1200      2
        decoys: 15 May and 1 Sep, 99,999 visitors each (outside every window)

    Ads in the period (campaign: spend → ad GMV, ROI):
        zhitongche  Search A  1,000+1,000 → 8,000 (4)    Search B  1,000 → 1,000 (1)
        wanxiangtai Feed C    2,000 → 5,000 (2.5)        Feed D    1,000 → 500 (0.5)
        yinlimofang Tiny E    10 → 400 (40: 0.17 % of the spend, under MIN_SPEND_SHARE)
        decoy: Search B on 1 Sep, 5,000 spend and no GMV.
    Products (one day, 15 July) and sources (10 July) in the tests that read them."""
    push(
        store_a,
        "store_day",
        [
            {"date": "2026-05-15", "visitors": 99999, "paying_buyers": 9999, "gmv": "999999.00"},
            *daily(d(5, 16), d(6, 14), visitors=100, paying_buyers=2, gmv="200.00",
                   repeat_buyers=0),
            *daily(d(6, 15), d(6, 30), visitors=200, paying_buyers=4, gmv="400.00",
                   repeat_buyers=1),
            *daily(d(7, 1), d(7, 31), visitors=300, paying_buyers=6, gmv="900.00",
                   repeat_buyers=1),
            *daily(d(8, 1), d(8, 31), visitors=400, paying_buyers=10, gmv="1200.00",
                   repeat_buyers=2),
            {"date": "2026-09-01", "visitors": 99999, "paying_buyers": 9999, "gmv": "999999.00"},
        ],
    )  # fmt: skip

    def ad(day, tool, campaign, spend, gmv):
        return {
            "date": day.isoformat(),
            "ad_tool": tool,
            "campaign": campaign,
            "impressions": 10000,
            "clicks": 100,
            "ad_spend": spend,
            "ad_gmv": gmv,
            "ad_orders": 1,
        }

    push(
        store_a,
        "store_day_ad",
        [
            ad(d(7, 1), "zhitongche", "Search A", "1000.00", "5000.00"),
            ad(d(8, 1), "zhitongche", "Search A", "1000.00", "3000.00"),
            ad(d(7, 2), "zhitongche", "Search B", "1000.00", "1000.00"),
            ad(d(7, 3), "wanxiangtai", "Feed C", "2000.00", "5000.00"),
            ad(d(7, 4), "wanxiangtai", "Feed D", "1000.00", "500.00"),
            ad(d(7, 5), "yinlimofang", "Tiny E", "10.00", "400.00"),
            ad(d(9, 1), "zhitongche", "Search B", "5000.00", "0.00"),
        ],
    )
    return store_a


@pytest.fixture
def fr_products(push, store_a):
    """Six products on 15 July (visitors, buyers, GMV, conversion):
    Tea A 5000/300/30000 (6 %), Tea B 4000/200/20000 (5 %), Cup C 3000/60/10000 (2 %),
    Pot D 2000/20/5000 (1 %), Spoon E 1000/30/3000 (3 %), Rare F 100/0/100 (0 %, 0.66 % of the
    15,100 visitors: under MIN_VISITOR_SHARE). A decoy on 1 Sep for Rare F."""

    def product(item_id, name, visitors, buyers, gmv, day=PRODUCT_DAY):
        return {
            "date": day.isoformat(),
            "item_id": item_id,
            "item_name": name,
            "visitors": visitors,
            "paying_buyers": buyers,
            "gmv": gmv,
        }

    push(
        store_a,
        "store_day_product",
        [
            product("1", "Tea A", 5000, 300, "30000.00"),
            product("2", "Tea B", 4000, 200, "20000.00"),
            product("3", "Cup C", 3000, 60, "10000.00"),
            product("4", "Pot D", 2000, 20, "5000.00"),
            product("5", "Spoon E", 1000, 30, "3000.00"),
            product("6", "Rare F", 100, 0, "100.00"),
            product("6", "Rare F", 90000, 9000, "900000.00", day=d(9, 1)),
        ],
    )
    return store_a


@pytest.fixture
def fr_sources(push, store_a):
    push(
        store_a,
        "store_day_source",
        [
            {"date": "2026-07-10", "source": "手淘搜索", "visitors": 6000},
            {"date": "2026-07-10", "source": "直通车", "visitors": 3000},
            {"date": "2026-07-10", "source": "淘内免费其他", "visitors": 2000},
            {"date": "2026-07-10", "source": "万相台", "visitors": 1000},
            {"date": "2026-09-01", "source": "付费流量", "visitors": 99999},
        ],
    )
    return store_a


@pytest.fixture
def fr_targets(fr_engagement):
    """Plan months from 15 June: month 1 = 15 Jun–14 Jul, month 2 = 15 Jul–14 Aug, month 3 =
    15 Aug–14 Sep (still running on 31 Aug), month 4 = 15 Sep–14 Oct (after the review)."""

    def target(metric, comparison, value, period, by_month):
        EngagementTarget.objects.create(
            engagement=fr_engagement,
            metric=metric,
            comparison=comparison,
            value=Decimal(value),
            period=period,
            by_month=by_month,
        )

    with agency_scope(fr_engagement.agency_id):
        target("gmv", ">=", "30000", "month", 1)  # 16×400 + 14×900 = 19,000: missed
        target("visitors", ">=", "10700", "month", 2)  # 17×300 + 14×400 = 10,700: met exactly
        target("conversion_rate", ">=", "0.02", "cumulative", 2)  # 390 / 18,100: met
        target("ad_spend", "<=", "6000", "cumulative", 2)  # 6,010 spent: missed
        target("gmv", ">=", "1", "month", 3)  # running on 31 August: not judged
        target("visitors", ">=", "1", "month", 4)  # after the review: not listed


def figures(engagement, start=PERIOD_START, end=PERIOD_END) -> dict:
    with agency_scope(engagement.agency_id):
        content = full_review_figures(engagement=engagement, period_start=start, period_end=end)
    json.dumps(content)  # stored as JSON: nothing in it may need a custom encoder
    return content


def draft(actor, engagement, start=PERIOD_START, end=PERIOD_END) -> FullReview:
    with agency_scope(engagement.agency_id):
        return services.full_review_draft(
            actor=actor, engagement=engagement, period_start=start, period_end=end
        )


def make_publishable(actor, review, owner) -> FullReview:
    with agency_scope(review.agency_id):
        services.full_review_update(
            actor=actor,
            review=review,
            narrative="A good first season.",
            target_answer="Two of four targets met.",
            cause_answer="The feed campaigns did not pay back.",
        )
        services.action_add(
            actor=actor,
            review=review,
            title="Move Feed D's budget to Search A",
            owner=owner,
            due_date=d(9, 15),
        )
    return review


def db_review(review) -> FullReview:
    with agency_scope(review.agency_id):
        return FullReview.objects.get(pk=review.pk)


# --- 1. figures against hand-computed totals --------------------------------------------------


def test_totals_are_the_period_sums_and_ratios_of_those_sums(fr_facts, fr_engagement):
    content = figures(fr_engagement)
    totals = content["totals"]
    visitors = 16 * 200 + 31 * 300 + 31 * 400  # 24,900
    buyers = 16 * 4 + 31 * 6 + 31 * 10  # 560
    assert (totals["visitors"], totals["paying_buyers"]) == (visitors, buyers) == (24900, 560)
    assert totals["gmv"] == "71500.00"  # 16×400 + 31×900 + 31×1200
    # Σ buyers / Σ visitors, not the mean of the daily rates (0.021987 here)
    assert totals["conversion_rate"] == "0.022490"
    assert totals["aov"] == "127.68"  # 71,500 / 560
    assert totals["uv_value"] == "2.87"  # 71,500 / 24,900
    assert totals["repeat_buyers"] == 16 + 31 + 62
    assert totals["repurchase_rate"] == "0.194643"  # 109 / 560
    assert (totals["ad_spend"], totals["ad_gmv"], totals["roi"]) == (
        "6010.00",
        "14900.00",
        "2.479201",
    )
    assert content["period"] == {"start": "2026-06-15", "end": "2026-08-31", "days": 78}
    assert content["data_days"] == 78


def test_roi_overall_per_ad_tool_and_per_campaign_is_ad_gmv_over_spend(fr_facts, fr_engagement):
    content = figures(fr_engagement)
    assert content["roi"] == {"ad_spend": "6010.00", "ad_gmv": "14900.00", "roi": "2.479201"}
    channels = {
        row["ad_tool"]: (row["ad_spend"], row["ad_gmv"], row["roi"]) for row in content["channels"]
    }
    assert channels == {
        "zhitongche": ("3000.00", "9000.00", "3.000000"),  # the 1 Sep decoy left out
        "wanxiangtai": ("3000.00", "5500.00", "1.833333"),
        "yinlimofang": ("10.00", "400.00", "40.000000"),
    }
    # By ROI, best first; every campaign listed, ranked or not.
    assert [(r["campaign"], r["ad_spend"], r["roi"]) for r in content["campaigns"]] == [
        ("Tiny E", "10.00", "40.000000"),
        ("Search A", "2000.00", "4.000000"),
        ("Feed C", "2000.00", "2.500000"),
        ("Search B", "1000.00", "1.000000"),
        ("Feed D", "1000.00", "0.500000"),
    ]
    assert content["campaigns_total"] == 5
    search_a = next(r for r in content["campaigns"] if r["campaign"] == "Search A")
    assert (search_a["ad_tool"], search_a["clicks"], search_a["cpc"]) == (
        "zhitongche",
        200,
        "10.00",
    )


def test_a_tiny_spend_campaign_is_not_ranked_and_none_is_both_best_and_worst(
    fr_facts, fr_engagement
):
    content = figures(fr_engagement)
    best = [row["campaign"] for row in content["best"]["campaigns"]]
    worst = [row["campaign"] for row in content["worst"]["campaigns"]]
    # Tiny E's ¥10 is 0.17 % of the ¥6,010 spent (under 2 %): its ROI of 40 ranks nowhere.
    assert "Tiny E" not in best + worst
    assert best[0] == "Search A"
    assert worst[0] == "Feed D"  # the worst first
    assert not set(best) & set(worst)
    assert sorted(best + worst) == ["Feed C", "Feed D", "Search A", "Search B"]


def test_with_two_ranked_channels_the_weaker_is_the_worst_not_one_of_the_best(
    fr_facts, fr_engagement
):
    """Only two channels have a meaningful spend: 直通车 (ROI 3) and 万相台 (ROI 1.83). The
    weaker one must be the worst channel, not listed among the best; otherwise the review
    names 万相台 "best" and the "weakest paid channel" finding can never appear (there are only
    three ad tools and BEST_WORST is 3, so the worst list is always empty)."""
    content = figures(fr_engagement)
    assert [row["ad_tool"] for row in content["best"]["channels"]][:1] == ["zhitongche"]
    assert [row["ad_tool"] for row in content["worst"]["channels"]] == ["wanxiangtai"]
    assert "wanxiangtai" not in [row["ad_tool"] for row in content["best"]["channels"]]


def test_with_two_ranked_campaigns_one_is_best_and_the_other_worst(
    push, store_b, narrow_engagement
):
    push(
        store_b,
        "store_day_ad",
        [
            {"date": "2026-07-01", "ad_tool": "zhitongche", "campaign": "Good",
             "ad_spend": "1000.00", "ad_gmv": "4000.00"},
            {"date": "2026-07-01", "ad_tool": "zhitongche", "campaign": "Poor",
             "ad_spend": "1000.00", "ad_gmv": "500.00"},
        ],
    )  # fmt: skip
    content = figures(narrow_engagement)
    assert [row["campaign"] for row in content["best"]["campaigns"]] == ["Good"]
    assert [row["campaign"] for row in content["worst"]["campaigns"]] == ["Poor"]


def test_products_top_share_and_the_worst_by_conversion_among_seen_products(
    fr_products, fr_engagement
):
    content = figures(fr_engagement)
    assert content["products_total"] == 6
    assert content["products_gmv"] == "68100.00"  # the 1 Sep decoy left out
    assert content["top_products_share"] == "0.8811"  # (30,000 + 20,000 + 10,000) / 68,100
    assert [(p["item_name"], p["gmv_share"]) for p in content["products"]] == [
        ("Tea A", "0.4405"),
        ("Tea B", "0.2937"),
        ("Cup C", "0.1468"),
        ("Pot D", "0.0734"),
        ("Spoon E", "0.0441"),
        ("Rare F", "0.0015"),
    ]
    tea_a = content["products"][0]
    assert (tea_a["visitors"], tea_a["paying_buyers"], tea_a["conversion_rate"]) == (
        5000,
        300,
        "0.060000",
    )
    assert [p["item_name"] for p in content["best"]["products"]] == ["Tea A", "Tea B", "Cup C"]
    # Rare F converts nobody, but 100 of 15,100 visitors is under 1 %: not judged.
    assert [p["item_name"] for p in content["worst"]["products"]] == ["Pot D", "Spoon E"]


def test_growth_compares_per_day_averages_of_a_partial_first_month_and_the_baseline(
    fr_facts, fr_engagement
):
    growth = figures(fr_engagement)["growth"]
    first, last, baseline = growth["first_month"], growth["last_month"], growth["baseline"]
    assert (first["start"], first["end"], first["days"], first["data_days"]) == (
        "2026-06-15",
        "2026-06-30",
        16,
        16,
    )
    assert (last["start"], last["end"], last["days"], last["data_days"]) == (
        "2026-08-01",
        "2026-08-31",
        31,
        31,
    )
    assert (first["values"]["visitors"], last["values"]["visitors"]) == (3200, 12400)
    # The 30 days before 15 June: 16 May to 14 June (the decoy of 15 May left out).
    assert (baseline["start"], baseline["end"], baseline["days"], baseline["data_days"]) == (
        "2026-05-16",
        "2026-06-14",
        30,
        30,
    )
    assert baseline["values"]["visitors"] == 3000
    changes = growth["changes"]
    # 400 a day against 200 a day: +100 % (the raw totals would say +287.5 %)
    assert changes["visitors"] == {"vs_first": "1.0000", "vs_baseline": "3.0000"}
    assert changes["gmv"] == {"vs_first": "2.0000", "vs_baseline": "5.0000"}
    assert changes["paying_buyers"] == {"vs_first": "1.5000", "vs_baseline": "4.0000"}
    # Ratios compare as they are: 2.5 % against 2 %, AOV 120 against 100.
    assert changes["conversion_rate"] == {"vs_first": "0.2500", "vs_baseline": "0.2500"}
    assert changes["aov"] == {"vs_first": "0.2000", "vs_baseline": "0.2000"}


def test_without_data_before_the_start_the_baseline_is_null(push, store_b, narrow_engagement):
    push(
        store_b,
        "store_day",
        [
            {"date": "2026-06-20", "visitors": 100, "paying_buyers": 1, "gmv": "100.00"},
            {"date": "2026-08-20", "visitors": 300, "paying_buyers": 6, "gmv": "600.00"},
        ],
    )
    content = figures(narrow_engagement)
    assert content["growth"]["baseline"] is None
    assert content["growth"]["changes"]["visitors"] == {"vs_first": "2.0000", "vs_baseline": None}
    assert content["tiers"] is None  # no RFM tiers computed
    assert content["best"] == {"channels": [], "campaigns": [], "products": []}
    assert content["roi"] == {"ad_spend": None, "ad_gmv": None, "roi": None}


def test_sources_name_their_share_and_a_zhitongche_source_counts_as_paid(fr_sources, fr_engagement):
    content = figures(fr_engagement)
    assert [(s["source"], s["visitors"], s["share"], s["paid"]) for s in content["sources"]] == [
        ("手淘搜索", 6000, "0.5000", False),
        ("直通车", 3000, "0.2500", True),
        ("淘内免费其他", 2000, "0.1667", False),
        ("万相台", 1000, "0.0833", True),
    ]
    assert content["paid_visitor_share"] == "0.3333"  # 4,000 of 12,000; the decoy left out


def test_targets_met_missed_and_still_running(fr_facts, fr_targets, fr_engagement):
    content = figures(fr_engagement)
    rows = [
        (t["metric"], t["period_start"], t["period_end"], t["actual"], t["met"])
        for t in content["targets"]
    ]
    assert rows == [
        ("gmv", "2026-06-15", "2026-07-14", "19000.00", False),
        ("ad_spend", "2026-06-15", "2026-08-14", "6010.00", False),  # ≤ 6,000: missed
        ("conversion_rate", "2026-06-15", "2026-08-14", "0.021547", True),  # 390 / 18,100
        ("visitors", "2026-07-15", "2026-08-14", "10700", True),  # exactly the target
        ("gmv", "2026-08-15", "2026-09-14", "20400.00", None),  # runs past 31 August
    ]
    assert (content["targets_met"], content["targets_judged"]) == (2, 4)


def test_tier_change_reads_the_first_and_last_snapshot_inside_the_period(fr_engagement):
    def snapshot(month, tier, buyers, orders, gmv):
        TierSnapshot.objects.create(
            engagement=fr_engagement,
            month=month,
            tier=tier,
            buyers=buyers,
            orders=orders,
            gmv=Decimal(gmv),
        )

    with agency_scope(fr_engagement.agency_id):
        snapshot(d(5, 1), "new", 999, 999, "99999")  # before the period's first month
        snapshot(d(6, 1), "new", 80, 80, "8000")
        snapshot(d(6, 1), "repeat", 20, 40, "4000")
        snapshot(d(7, 1), "new", 70, 70, "7000")
        snapshot(d(8, 1), "new", 60, 60, "6000")
        snapshot(d(8, 1), "repeat", 30, 60, "6000")
        snapshot(d(8, 1), "high_value", 10, 30, "8000")
        snapshot(d(9, 1), "new", 999, 999, "99999")  # after the period
    tiers = figures(fr_engagement)["tiers"]
    assert (tiers["first_month"], tiers["last_month"]) == ("2026-06-01", "2026-08-01")
    assert [(t["tier"], t["buyers"], t["buyer_share"], t["gmv_share"]) for t in tiers["first"]] == [
        ("new", 80, "0.8000", "0.6667"),
        ("repeat", 20, "0.2000", "0.3333"),
    ]
    assert [(t["tier"], t["buyers"], t["buyer_share"], t["gmv_share"]) for t in tiers["last"]] == [
        ("high_value", 10, "0.1000", "0.4000"),
        ("new", 60, "0.6000", "0.3000"),
        ("repeat", 30, "0.3000", "0.3000"),
    ]


def test_a_tier_snapshot_whose_month_ends_after_the_period_is_left_out(fr_engagement):
    """A snapshot is the tiers as of its month's end: a review ending on 15 August must not
    show August's tiers, which count buyers of 16 to 31 August (after the period)."""
    with agency_scope(fr_engagement.agency_id):
        for month, buyers in ((d(6, 1), 100), (d(7, 1), 200), (d(8, 1), 999)):
            TierSnapshot.objects.create(
                engagement=fr_engagement, month=month, tier="repeat", buyers=buyers,
                orders=buyers, gmv=Decimal(buyers),
            )  # fmt: skip
    tiers = figures(fr_engagement, end=d(8, 15))["tiers"]
    assert (tiers["first_month"], tiers["last_month"]) == ("2026-06-01", "2026-07-01")
    assert [t["buyers"] for t in tiers["last"]] == [200]


def test_timeline_lists_what_ran_or_finished_in_the_period_with_its_visibility(
    fr_engagement, make_campaign, make_setup_item
):
    eng = fr_engagement
    make_campaign(eng, name="Summer search push", start_date=d(7, 1), end_date=d(7, 31))
    make_campaign(
        eng, name="Autumn preheat", start_date=d(8, 20), end_date=d(9, 10), brand_visible=False
    )
    make_campaign(eng, name="Spring test", start_date=d(5, 1), end_date=d(6, 14))
    make_campaign(eng, name="October push", start_date=d(9, 1), end_date=d(9, 30))

    def at_noon(day):
        return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)

    make_setup_item(
        eng,
        title="Homepage redesign",
        section="visual",
        status=SetupItemStatus.DONE,
        completed_at=at_noon(d(7, 5)),
    )
    make_setup_item(eng, title="Internal price audit", due_date=d(8, 10), brand_visible=False)
    make_setup_item(
        eng, title="Early item", status=SetupItemStatus.DONE, completed_at=at_noon(d(6, 1))
    )
    make_setup_item(
        eng, title="Late item", status=SetupItemStatus.DONE, completed_at=at_noon(d(9, 2))
    )
    make_setup_item(eng, title="Someday item")  # unfinished, no due date
    with agency_scope(eng.agency_id):
        Offer.objects.create(
            engagement=eng,
            name="满300减30",
            kind=OfferKind.FULL_REDUCTION,
            threshold=Decimal(300),
            discount=Decimal(30),
            start_date=d(8, 1),
            end_date=d(8, 7),
        )
    timeline = figures(eng)["timeline"]
    assert [(e["kind"], e["title"], e["start"], e["brand_visible"]) for e in timeline] == [
        ("campaign", "Summer search push", "2026-07-01", True),
        ("setup", "Homepage redesign", "2026-07-05", True),
        ("offer", "满300减30", "2026-08-01", True),
        ("setup", "Internal price audit", "2026-08-10", False),
        ("campaign", "Autumn preheat", "2026-08-20", False),
    ]
    assert timeline[1]["status"] == SetupItemStatus.DONE


# --- 2. services ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (START - datetime.timedelta(days=1), d(7, 31), "period_start"),
        (d(7, 1), "today", "period_end"),
        (d(7, 1), "tomorrow", "period_end"),
        (d(7, 10), d(7, 9), "period_end"),
    ],
)
def test_a_draft_period_that_is_wrong_is_refused_naming_the_field(
    demo_manager, fr_engagement, start, end, field
):
    today = agency_today(fr_engagement.agency)
    end = {"today": today, "tomorrow": today + datetime.timedelta(days=1)}.get(end, end)
    with pytest.raises(ReviewRefused) as refused:
        draft(demo_manager, fr_engagement, start, end)
    assert list(refused.value.message_dict) == [field]
    with agency_scope(fr_engagement.agency_id):
        assert not FullReview.objects.exists()


def test_drafting_the_same_period_twice_returns_the_same_review(demo_manager, fr_engagement):
    first = draft(demo_manager, fr_engagement)
    second = draft(demo_manager, fr_engagement)
    assert second.pk == first.pk
    with agency_scope(fr_engagement.agency_id):
        assert FullReview.objects.filter(engagement=fr_engagement).count() == 1
    assert first.status == ReviewStatus.DRAFT
    assert first.created_by == demo_manager.user


def test_a_draft_proposes_findings_each_with_its_evidence(
    demo_manager, fr_facts, fr_products, fr_targets, fr_engagement
):
    review = draft(demo_manager, fr_engagement)
    with agency_scope(review.agency_id):
        findings = list(review.findings.all())
    rules = [f.rule for f in findings]
    assert set(rules) >= {
        "targets_met",
        "target_missed",
        "traffic_growth",
        "best_channel",
        "best_campaigns",
        "worst_campaigns",
        "best_products",
        "worst_products",
    }
    assert rules.count("target_missed") == 2  # GMV in month 1, ad spend to month 2
    assert all(f.evidence.strip() and f.statement.strip() for f in findings)
    by_rule = {f.rule: f for f in findings}
    assert by_rule["targets_met"].kind == FindingKind.STRENGTH
    assert by_rule["target_missed"].kind == FindingKind.WEAKNESS
    assert "Feed D" in by_rule["worst_campaigns"].evidence
    assert "Tiny E" not in by_rule["best_campaigns"].evidence
    assert "Pot D" in by_rule["worst_products"].evidence


def test_the_traffic_growth_evidence_shows_the_per_day_figures_it_compares(
    demo_manager, fr_facts, fr_engagement
):
    """The finding says "visitors per day +100 %": its evidence must show 400 a day against
    200 a day, not the month totals 12,400 and 3,200 (which read as +287.5 %)."""
    review = draft(demo_manager, fr_engagement)
    with agency_scope(review.agency_id):
        evidence = review.findings.get(rule="traffic_growth").evidence
    assert "+100.00%" in evidence
    assert re.search(r"(?<![\d,.])400(?:\.00)?(?![\d,])", evidence), evidence
    assert re.search(r"(?<![\d,.])200(?:\.00)?(?![\d,])", evidence), evidence


def test_a_finding_without_evidence_is_refused_and_nothing_is_written(demo_manager, fr_engagement):
    review = draft(demo_manager, fr_engagement)
    with agency_scope(review.agency_id):
        before = review.findings.count()
        with pytest.raises(ReviewRefused) as refused:
            services.finding_add(
                actor=demo_manager,
                review=review,
                kind=FindingKind.WEAKNESS,
                statement="Detail pages convert badly",
                evidence="   ",
            )
        assert list(refused.value.message_dict) == ["evidence"]
        assert review.findings.count() == before
        finding = services.finding_add(
            actor=demo_manager,
            review=review,
            kind=FindingKind.WEAKNESS,
            statement="Detail pages convert badly",
            evidence="Conversion 1.0 % on Pot D against 6.0 % on Tea A",
        )
        assert (finding.rule, finding.evidence) == (
            "",
            "Conversion 1.0 % on Pot D against 6.0 % on Tea A",
        )


def test_an_action_needs_its_owner_and_due_date(demo_manager, demo_operator, fr_engagement):
    review = draft(demo_manager, fr_engagement)
    with agency_scope(review.agency_id):
        with pytest.raises(ReviewRefused) as refused:
            services.action_add(
                actor=demo_manager, review=review, title="Fix the detail page", owner=None,
                due_date=d(9, 15),
            )  # fmt: skip
        assert list(refused.value.message_dict) == ["owner"]
        with pytest.raises(ReviewRefused) as refused:
            services.action_add(
                actor=demo_manager, review=review, title="Fix the detail page",
                owner=demo_operator, due_date=None,
            )  # fmt: skip
        assert list(refused.value.message_dict) == ["due_date"]
        with pytest.raises(ReviewRefused) as refused:
            services.action_add(
                actor=demo_manager, review=review, title=" ", owner=None, due_date=None
            )
        assert set(refused.value.message_dict) == {"title", "owner", "due_date"}
        assert not FullReviewAction.objects.exists()
        action = services.action_add(
            actor=demo_manager, review=review, title="Fix the detail page",
            owner=demo_operator, due_date=d(9, 15),
        )  # fmt: skip
        assert (action.owner, action.due_date, action.status) == (
            demo_operator,
            d(9, 15),
            ActionStatus.OPEN,
        )


def test_publishing_without_the_answers_is_refused_naming_them_and_changes_nothing(
    demo_manager, demo_operator, brand_a_owner, fr_engagement
):
    review = draft(demo_manager, fr_engagement)
    with agency_scope(review.agency_id):
        with pytest.raises(ReviewRefused) as refused:
            services.full_review_publish(actor=demo_manager, review=review)
        assert set(refused.value.message_dict) == {"target_answer", "cause_answer", "actions"}
        services.full_review_update(
            actor=demo_manager, review=review, narrative="", target_answer="Met two of four.",
            cause_answer=" ",
        )  # fmt: skip
        with pytest.raises(ReviewRefused) as refused:
            services.full_review_publish(actor=demo_manager, review=review)
        assert set(refused.value.message_dict) == {"cause_answer", "actions"}
        stored = FullReview.objects.get(pk=review.pk)
        assert (stored.status, stored.published_at, stored.published_by) == (
            ReviewStatus.DRAFT,
            None,
            None,
        )
        assert not Notification.objects.filter(user=brand_a_owner.user).exists()
        assert gate_is_open(REVIEW_GATE, fr_engagement) is False


def test_publishing_opens_the_review_gate_and_tells_the_brand(
    demo_manager, demo_operator, brand_a_owner, brand_b_owner, fr_engagement
):
    review = draft(demo_manager, fr_engagement)
    make_publishable(demo_manager, review, demo_operator)
    with agency_scope(review.agency_id):
        assert gate_is_open(REVIEW_GATE, fr_engagement) is False  # a draft does not open it
        published = services.full_review_publish(actor=demo_manager, review=review)
        stored = FullReview.objects.get(pk=review.pk)
        assert stored.status == ReviewStatus.PUBLISHED == published.status
        assert stored.published_by == demo_manager.user and stored.published_at is not None
        assert gate_is_open(REVIEW_GATE, fr_engagement) is True
        assert Notification.objects.filter(user=brand_a_owner.user).count() == 1
        assert not Notification.objects.filter(user=brand_b_owner.user).exists()


def test_a_published_review_refuses_every_edit_but_action_follow_up(
    demo_manager, demo_operator, fr_engagement
):
    review = draft(demo_manager, fr_engagement)
    make_publishable(demo_manager, review, demo_operator)
    with agency_scope(review.agency_id):
        services.full_review_publish(actor=demo_manager, review=review)
        finding = FullReviewFinding.objects.create(
            review=review, kind=FindingKind.STRENGTH, statement="kept", evidence="kept"
        )  # written before publishing, as if proposed
        edits = [
            lambda: services.full_review_update(
                actor=demo_manager, review=review, narrative="x", target_answer="x",
                cause_answer="x",
            ),
            lambda: services.finding_add(
                actor=demo_manager, review=review, kind=FindingKind.STRENGTH, statement="x",
                evidence="x",
            ),
            lambda: services.action_add(
                actor=demo_manager, review=review, title="x", owner=demo_operator,
                due_date=d(9, 30),
            ),
            lambda: services.finding_delete(actor=demo_manager, finding=finding),
            lambda: services.full_review_refresh(actor=demo_manager, review=review),
        ]  # fmt: skip
        for edit in edits:
            with pytest.raises(ReviewRefused, match="published"):
                edit()
        stored = FullReview.objects.get(pk=review.pk)
        assert stored.target_answer == "Two of four targets met."
        assert FullReviewFinding.objects.filter(pk=finding.pk).exists()
        assert stored.actions.count() == 1
        action = stored.actions.get()
        services.action_set_status(actor=demo_manager, action=action, status=ActionStatus.DONE)
        assert FullReviewAction.objects.get(pk=action.pk).status == ActionStatus.DONE


def test_a_brand_user_gets_404_for_a_draft_and_another_brand_for_a_published_review(
    demo_manager, demo_operator, brand_a_owner, brand_b_owner, brand_a, brand_b, fr_engagement
):
    review = draft(demo_manager, fr_engagement)
    agency = fr_engagement.agency_id
    with agency_scope(agency, brand_ids=[brand_a.pk]), pytest.raises(Http404):
        services.full_review_get_for(membership=brand_a_owner, full_review_id=review.pk)
    with agency_scope(agency):
        assert (
            services.full_review_get_for(membership=demo_manager, full_review_id=review.pk)
            == review
        )
    make_publishable(demo_manager, review, demo_operator)
    with agency_scope(agency):
        services.full_review_publish(actor=demo_manager, review=review)
    with agency_scope(agency, brand_ids=[brand_a.pk]):
        assert (
            services.full_review_get_for(membership=brand_a_owner, full_review_id=review.pk)
            == review
        )
    with agency_scope(agency, brand_ids=[brand_b.pk]), pytest.raises(Http404):
        services.full_review_get_for(membership=brand_b_owner, full_review_id=review.pk)


def test_staff_without_publishing_rights_cannot_publish(
    make_member, demo_agency, demo_admin, demo_manager, demo_operator, fr_engagement
):
    other_manager = make_member(demo_agency, Role.ACCOUNT_MANAGER)  # not this engagement's
    review = draft(demo_manager, fr_engagement)
    make_publishable(demo_manager, review, demo_operator)
    with agency_scope(review.agency_id):
        for member in (demo_operator, other_manager):
            assert permissions.can_publish_review(member, fr_engagement) is False
            with pytest.raises(PermissionDenied):
                services.full_review_publish(actor=member, review=review)
        assert FullReview.objects.get(pk=review.pk).status == ReviewStatus.DRAFT
        assert gate_is_open(REVIEW_GATE, fr_engagement) is False
        services.full_review_publish(actor=demo_admin, review=review)  # an admin may
        assert FullReview.objects.get(pk=review.pk).status == ReviewStatus.PUBLISHED


# --- 3. the long-term plan --------------------------------------------------------------------


def quiet_content(**changes) -> dict:
    """Figures on which no rule fires: ROI 2 with half the targets met, repeat buyers 30 %, the
    best 3 of 5 products at 50 % of product GMV, paid sources at 30 % of the visitors."""
    content = {
        "roi": {"ad_spend": "1000.00", "ad_gmv": "2000.00", "roi": "2.000000"},
        "targets_met": 1,
        "targets_judged": 2,
        "best": {
            "channels": [
                {"ad_tool": "zhitongche", "ad_spend": "800.00", "ad_gmv": "3200.00",
                 "roi": "4.000000"}
            ],
            "campaigns": [],
            "products": [],
        },
        "totals": {"repurchase_rate": "0.300000"},
        "tiers": None,
        "products": [{"item_id": str(n), "item_name": f"Product {n}"} for n in range(1, 6)],
        "products_total": 5,
        "products_gmv": "10000.00",
        "top_products_share": "0.5000",
        "paid_visitor_share": "0.3000",
    }  # fmt: skip
    content.update(changes)
    return content


def fired(engagement, content) -> dict[str, dict]:
    review = FullReview(engagement=engagement, period_start=START, period_end=PERIOD_END)
    review.content = content
    with agency_scope(engagement.agency_id):
        return {rule["rule"]: rule for rule in plans.plan_rules(review=review)}


def test_no_rule_fires_on_quiet_figures(fr_engagement, narrow_engagement):
    assert fired(fr_engagement, quiet_content()) == {}
    assert fired(narrow_engagement, quiet_content()) == {}


def test_targets_all_met_with_roi_at_3_widen_a_narrow_scope_or_scale_up_full_service(
    fr_engagement, narrow_engagement
):
    at = quiet_content(targets_met=2, roi={"roi": "3.000000"})
    short = quiet_content(targets_met=2, roi={"roi": "2.999999"})
    one_missed = quiet_content(targets_met=1, roi={"roi": "9.000000"})
    none_judged = quiet_content(targets_met=0, targets_judged=0, roi={"roi": "9.000000"})

    widen = fired(narrow_engagement, at)
    assert list(widen) == ["widen_scope"]
    assert widen["widen_scope"]["services"] == list(Service.values)
    assert widen["widen_scope"]["figures"] == {
        "targets_met": 2,
        "targets_judged": 2,
        "roi": "3.000000",
    }
    scale = fired(fr_engagement, at)
    assert list(scale) == ["scale_up"] and scale["scale_up"]["services"] == []
    for content in (short, one_missed, none_judged):
        assert fired(narrow_engagement, content) == {}
        assert fired(fr_engagement, content) == {}


def test_few_repeat_buyers_start_a_private_domain_programme(fr_engagement):
    low = fired(fr_engagement, quiet_content(totals={"repurchase_rate": "0.199999"}))
    assert low["private_domain"]["figures"] == {"repeat_share": "0.199999", "source": "facts"}
    assert fired(fr_engagement, quiet_content(totals={"repurchase_rate": "0.200000"})) == {}

    def tiers(repeat, high_value, new):
        return {
            "first_month": "2026-06-01",
            "last_month": "2026-08-01",
            "first": [],
            "last": [
                {"tier": "high_value", "buyers": high_value},
                {"tier": "new", "buyers": new},
                {"tier": "repeat", "buyers": repeat},
            ],
        }

    # The tiers (distinct buyers) win over the 生意参谋 rate when the orders were imported.
    low = fired(fr_engagement, quiet_content(tiers=tiers(150, 49, 801)))  # 199 of 1,000
    assert low["private_domain"]["figures"] == {"repeat_share": "0.1990", "source": "tiers"}
    enough = quiet_content(tiers=tiers(150, 50, 800), totals={"repurchase_rate": "0.010000"})
    assert fired(fr_engagement, enough) == {}  # 200 of 1,000


def test_a_concentrated_product_range_asks_for_a_broader_structure(fr_engagement):
    four = [{"item_id": str(n), "item_name": f"Product {n}"} for n in range(1, 5)]
    at = fired(fr_engagement, quiet_content(top_products_share="0.6000", products=four,
                                            products_total=4))  # fmt: skip
    assert at["product_structure"]["figures"] == {
        "top_products_share": "0.6000",
        "products_total": 4,
    }
    assert "Product 1、Product 2、Product 3" in at["product_structure"]["reason"]
    short = quiet_content(top_products_share="0.5999", products=four, products_total=4)
    assert fired(fr_engagement, short) == {}
    three = quiet_content(top_products_share="0.9500", products=four[:3], products_total=3)
    assert fired(fr_engagement, three) == {}


def test_mostly_paid_traffic_asks_for_content_and_organic_traffic(fr_engagement):
    at = fired(fr_engagement, quiet_content(paid_visitor_share="0.5000"))
    assert at["content_organic"]["figures"] == {"paid_visitor_share": "0.5000"}
    assert fired(fr_engagement, quiet_content(paid_visitor_share="0.4999")) == {}


def stored_review(engagement, content, *, published=True) -> FullReview:
    with agency_scope(engagement.agency_id):
        return FullReview.objects.create(
            engagement=engagement,
            period_start=START,
            period_end=PERIOD_END,
            content=content,
            status=ReviewStatus.PUBLISHED if published else ReviewStatus.DRAFT,
            published_at=timezone.now() if published else None,
        )


def test_a_plan_needs_a_published_review(demo_manager, fr_engagement):
    review = stored_review(fr_engagement, quiet_content(paid_visitor_share="0.9"), published=False)
    with agency_scope(fr_engagement.agency_id):
        with pytest.raises(ReviewRefused, match="Publish the full review first"):
            plans.plan_create(actor=demo_manager, review=review)
        assert not LongTermPlan.objects.exists()


def test_a_plan_holds_the_rules_recommendations_and_their_suggested_scope(
    demo_manager, narrow_engagement, fr_engagement
):
    content = quiet_content(targets_met=2, roi={"roi": "4.000000"}, paid_visitor_share="0.7000")
    with agency_scope(narrow_engagement.agency_id):
        plan = plans.plan_create(
            actor=demo_manager, review=stored_review(narrow_engagement, content)
        )
        assert [(r.rule, r.position) for r in plan.recommendations.all()] == [
            ("widen_scope", 0),
            ("content_organic", 1),
        ]
        assert all(r.reason.strip() for r in plan.recommendations.all())
        assert plan.suggested_services == list(Service.values)
        assert plan.status == ReviewStatus.DRAFT
        again = plans.plan_create(actor=demo_manager, review=plan.full_review)
        assert again.pk == plan.pk and LongTermPlan.objects.count() == 1
        full = plans.plan_create(
            actor=demo_manager,
            review=stored_review(fr_engagement, quiet_content(paid_visitor_share="0.7000")),
        )
        assert full.suggested_services == list(fr_engagement.scope_services)


def test_a_recommendation_needs_its_reason(demo_manager, fr_engagement):
    with agency_scope(fr_engagement.agency_id):
        plan = plans.plan_create(
            actor=demo_manager, review=stored_review(fr_engagement, quiet_content())
        )
        with pytest.raises(ReviewRefused) as refused:
            plans.recommendation_add(
                actor=demo_manager, plan=plan, title="Open a second store", reason="  "
            )
        assert list(refused.value.message_dict) == ["reason"]
        assert not Recommendation.objects.exists()
        own = plans.recommendation_add(
            actor=demo_manager,
            plan=plan,
            title="Open a second store",
            reason="Tea A carries 44 % of product GMV on one storefront.",
        )
        assert (own.rule, own.position) == ("", 0)


def test_a_plan_is_published_with_at_least_one_recommendation(
    demo_manager, brand_a_owner, fr_engagement
):
    with agency_scope(fr_engagement.agency_id):
        plan = plans.plan_create(
            actor=demo_manager, review=stored_review(fr_engagement, quiet_content())
        )
        assert not plan.recommendations.exists()  # quiet figures: no rule fired
        with pytest.raises(ReviewRefused) as refused:
            plans.plan_publish(actor=demo_manager, plan=plan)
        assert list(refused.value.message_dict) == ["recommendations"]
        assert LongTermPlan.objects.get(pk=plan.pk).status == ReviewStatus.DRAFT
        assert not Notification.objects.filter(user=brand_a_owner.user).exists()
        plans.recommendation_add(
            actor=demo_manager, plan=plan, title="Keep the scope", reason="ROI 2 on ¥1,000."
        )
        plans.plan_publish(actor=demo_manager, plan=plan)
        assert LongTermPlan.objects.get(pk=plan.pk).status == ReviewStatus.PUBLISHED
        assert Notification.objects.filter(user=brand_a_owner.user).count() == 1
        with pytest.raises(ReviewRefused, match="published"):
            plans.recommendation_add(actor=demo_manager, plan=plan, title="x", reason="y")


def test_next_proposal_is_a_draft_with_the_suggested_scope_and_the_recommendations(
    demo_manager, narrow_engagement
):
    content = quiet_content(targets_met=2, roi={"roi": "4.000000"}, paid_visitor_share="0.7000")
    with agency_scope(narrow_engagement.agency_id):
        plan = plans.plan_create(
            actor=demo_manager, review=stored_review(narrow_engagement, content)
        )
        plan = plans.plan_update(
            actor=demo_manager,
            plan=plan,
            summary="Year two: full service.",
            suggested_services=list(Service.values),
        )
        plans.recommendation_add(
            actor=demo_manager, plan=plan, title="Livestream weekly", reason="Paid is 70 %."
        )
        proposal = plans.plan_next_proposal(actor=demo_manager, plan=plan)
        version = proposal.versions.get()
        assert proposal.engagement_id == narrow_engagement.pk
        assert version.status == "draft" and version.number == 1
        # The engagement is traffic only; the plan suggests (and the draft holds) all four.
        assert narrow_engagement.scope_services == [Service.TRAFFIC]
        assert version.scope_services == list(Service.values)
        assert version.terms.startswith("Year two: full service.")
        for recommendation in plan.recommendations.all():
            assert recommendation.title in version.terms
            assert recommendation.reason in version.terms
        assert LongTermPlan.objects.get(pk=plan.pk).next_proposal_id == proposal.pk
        again = plans.plan_next_proposal(actor=demo_manager, plan=plan)
        assert again.pk == proposal.pk
        assert Proposal.objects.filter(engagement=narrow_engagement).count() == 1


def test_next_proposal_is_refused_while_another_proposal_is_open(
    demo_manager, narrow_engagement, make_proposal
):
    open_proposal, _version = make_proposal(narrow_engagement, demo_manager)
    content = quiet_content(paid_visitor_share="0.7000")
    with agency_scope(narrow_engagement.agency_id):
        plan = plans.plan_create(
            actor=demo_manager, review=stored_review(narrow_engagement, content)
        )
        with pytest.raises(ReviewRefused) as refused:
            plans.plan_next_proposal(actor=demo_manager, plan=plan)
        assert "already has a proposal waiting for approval" in refused.value.messages[0]
        assert list(Proposal.objects.values_list("pk", flat=True)) == [open_proposal.pk]
        assert ProposalVersion.objects.count() == 1
        assert LongTermPlan.objects.get(pk=plan.pk).next_proposal_id is None
