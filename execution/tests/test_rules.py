"""The alert and insight rules: each fires on data built to trigger it and stays quiet on data
built not to (minimum volumes, short or flat history), on data ingested the real way."""

import datetime
import json
import statistics
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from agency.tenancy import agency_scope
from engagements.models import EngagementStatus, EngagementTarget
from execution.metrics import rules
from execution.metrics.ingestion import ingestion_pull
from execution.metrics.query import metrics_query
from execution.metrics.rules import (
    RULES,
    Finding,
    RuleContext,
    finding_text,
    findings_for_day,
    sum_rows,
)

D = datetime.date(2026, 6, 20)  # month 6 of a plan that starts on 1 January 2026


def day(offset: int) -> datetime.date:
    return D + datetime.timedelta(days=offset)


def dates(first: int, last: int = 0) -> list[datetime.date]:
    return [day(offset) for offset in range(first, last + 1)]


STORE_DAY = {
    "visitors": 1000,
    "paying_buyers": 30,
    "gmv": "3000.00",
    "new_buyers": 10,
    "refund_amount": "60.00",
    "cs_sessions": 100,
    "cs_first_reply_seconds_sum": 2000,
}


def store_rows(first: int = -28, last: int = 0, overrides: dict | None = None, **values):
    """A store-day row a day from D+first to D+last: STORE_DAY with `values`, then the
    `overrides` of single days ({offset: {field: value}})."""
    rows = []
    for offset in range(first, last + 1):
        row = {"date": day(offset).isoformat(), **STORE_DAY, **values}
        row.update((overrides or {}).get(offset, {}))
        rows.append(row)
    return rows


def ad_rows(first: int, last: int, tool: str, campaign: str, item_id: str = "", **values):
    return [
        {"date": date.isoformat(), "ad_tool": tool, "campaign": campaign, "item_id": item_id}
        | values
        for date in dates(first, last)
    ]


@pytest.fixture
def engagement(make_engagement, store_a, demo_manager):
    """Paused, so that pushing data queues no alert evaluation: these tests call the rules."""
    return make_engagement(store_a, demo_manager, status=EngagementStatus.PAUSED)


@pytest.fixture
def findings(engagement):
    def evaluate(date: datetime.date = D, rule: str | None = None) -> list[Finding]:
        with agency_scope(engagement.agency_id), translation.override("en"):
            found = findings_for_day(engagement=engagement, date=date)
            for finding in found:  # every finding reads, in the active language
                assert finding.message() and finding.action()
        return [f for f in found if rule is None or f.rule == rule]

    return evaluate


@pytest.fixture
def target(engagement):
    def make(metric, value, comparison=">=", period="month", by_month=6):
        with agency_scope(engagement.agency_id):
            return EngagementTarget.objects.create(
                engagement=engagement,
                metric=metric,
                comparison=comparison,
                value=Decimal(value),
                period=period,
                by_month=by_month,
            )

    return make


# --- The registry of rules ---------------------------------------------------------------------


def test_every_rule_the_issue_names_exists_with_a_severity_and_a_title():
    required = {
        "traffic_up_conversion_down",
        "product_low_conversion",
        "product_low_ctr",
        "roi_below_target",
        "cpc_rising",
        "channel_cac_high",
        "gmv_pacing_behind",
        "cs_reply_slow",
        "refund_rate_jump",
        "metric_anomaly",
    }
    assert required <= {rule_id for rule_id, rule in RULES.items() if rule.is_alert}
    insights = [rule for rule in RULES.values() if not rule.is_alert]
    assert len(insights) >= 4
    for rule in RULES.values():
        assert rule.severity in {"critical", "warning", "info"}
        assert str(rule.title)
    assert all(rule.severity == "info" for rule in insights)


# --- traffic_up_conversion_down ----------------------------------------------------------------


def test_traffic_up_conversion_down_fires_when_visitors_rise_and_conversion_falls(
    push, store_a, findings
):
    push(store_a, "store_day", store_rows(-7, 0, {0: {"visitors": 1500, "paying_buyers": 30}}))
    [finding] = findings(rule="traffic_up_conversion_down")
    assert finding.severity == "warning"
    assert finding.cause == ""
    assert finding.evidence["visitors"] == 1500
    assert finding.evidence["visitors_avg_7d"] == "1000.00"
    assert finding.evidence["visitors_change"] == "0.5000"
    assert finding.evidence["conversion_rate"] == "0.020000"
    assert finding.evidence["conversion_rate_7d"] == "0.030000"  # Σ 210 buyers / Σ 7,000
    assert "1,500" in finding.message() and "2.00%" in finding.message()
    assert "detail page" in finding.action()


@pytest.mark.parametrize(
    ("first", "today"),
    [
        (-7, {"visitors": 1500, "paying_buyers": 45}),  # conversion held
        (-7, {"visitors": 1100, "paying_buyers": 20}),  # visitors up only 10 %
        (-7, {"visitors": 1000, "paying_buyers": 10}),  # conversion down, traffic flat
        (-3, {"visitors": 1500, "paying_buyers": 30}),  # 3 trailing days: no baseline
    ],
)
def test_traffic_up_conversion_down_quiet(push, store_a, findings, first, today):
    push(store_a, "store_day", store_rows(first, 0, {0: today}))
    assert findings(rule="traffic_up_conversion_down") == []


def test_traffic_up_conversion_down_needs_a_day_with_enough_visitors(push, store_a, findings):
    rows = store_rows(-7, 0, {0: {"visitors": 150, "paying_buyers": 1}}, visitors=100)
    push(store_a, "store_day", [row | {"paying_buyers": 3} for row in rows[:-1]] + rows[-1:])
    assert findings(rule="traffic_up_conversion_down") == []


# --- product_low_conversion ---------------------------------------------------------------------


def product_rows(item_id, visitors, buyers, gmv="0", first=-6, last=0, name=""):
    return [
        {
            "date": date.isoformat(),
            "item_id": item_id,
            "item_name": name or f"Product {item_id}",
            "visitors": visitors,
            "paying_buyers": buyers,
            "gmv": gmv,
        }
        for date in dates(first, last)
    ]


def test_product_low_conversion_fires_on_a_busy_product_that_does_not_sell(push, store_a, findings):
    push(store_a, "store_day", store_rows(-6, 0))  # store: 210 / 7,000 = 3 %
    push(
        store_a,
        "store_day_product",
        product_rows("A", 100, 1)  # 700 visitors, 1 %
        + product_rows("B", 100, 4)  # converts above the store
        + product_rows("C", 3, 0, first=0),  # 3 visitors, no buyer: too few to judge
    )
    [finding] = findings(rule="product_low_conversion")
    assert finding.cause == "A"
    assert finding.evidence["visitors"] == 700
    assert finding.evidence["paying_buyers"] == 7
    assert finding.evidence["conversion_rate"] == "0.010000"
    assert finding.evidence["store_conversion_rate"] == "0.030000"
    assert "Product A (A)" in finding.message()
    assert "price" in finding.action()


def test_product_low_conversion_reports_at_most_three_products_busiest_first(
    push, store_a, findings
):
    push(store_a, "store_day", store_rows(-6, 0))
    rows = []
    for number, visitors in enumerate([60, 100, 80, 90, 70]):
        rows += product_rows(f"P{number}", visitors, 0)
    push(store_a, "store_day_product", rows)
    found = findings(rule="product_low_conversion")
    assert [f.cause for f in found] == ["P1", "P3", "P2"]


@pytest.mark.parametrize(("daily", "fires"), [(40, False), (43, True)])
def test_product_low_conversion_minimum_visitors(push, store_a, findings, daily, fires):
    push(store_a, "store_day", store_rows(-6, 0))
    push(store_a, "store_day_product", product_rows("A", daily, 0))  # 280 or 301 visitors
    assert bool(findings(rule="product_low_conversion")) is fires


# --- product_low_ctr ---------------------------------------------------------------------------


def test_product_low_ctr_fires_on_a_product_whose_ads_are_not_clicked(push, store_a, findings):
    push(store_a, "store_day", store_rows(-6, 0))
    push(
        store_a,
        "store_day_ad",
        ad_rows(-6, 0, "zhitongche", "Search", impressions=10000, clicks=300, ad_spend="300")
        + ad_rows(-6, 0, "wanxiangtai", "Push A", "A", impressions=1000, clicks=5, ad_spend="10")
        + ad_rows(-6, 0, "wanxiangtai", "Push B", "B", impressions=1000, clicks=30, ad_spend="30")
        + ad_rows(0, 0, "wanxiangtai", "Push C", "C", impressions=100, clicks=0, ad_spend="1"),
    )
    [finding] = findings(rule="product_low_ctr")
    assert finding.cause == "A"
    assert finding.evidence["impressions"] == 7000
    assert finding.evidence["ctr"] == "0.005000"
    # The store's CTR is over all its ads: (2,100 + 35 + 210) / (70,000 + 7,000 + 7,000 + 100).
    assert finding.evidence["store_ctr"] == "0.027883"
    assert "main image" in finding.action()


def test_product_low_ctr_quiet_below_the_minimum_impressions(push, store_a, findings):
    push(store_a, "store_day", store_rows(-6, 0))
    push(
        store_a,
        "store_day_ad",
        ad_rows(-6, 0, "zhitongche", "Search", impressions=10000, clicks=300, ad_spend="300")
        + ad_rows(-6, 0, "wanxiangtai", "Push A", "A", impressions=700, clicks=0, ad_spend="10"),
    )
    assert findings(rule="product_low_ctr") == []  # 4,900 < 5,000 impressions


# --- roi_below_target --------------------------------------------------------------------------


def campaign(name, spend, gmv, first=-6, last=0, tool="zhitongche"):
    return ad_rows(
        first, last, tool, name, impressions=5000, clicks=100, ad_spend=spend, ad_gmv=gmv
    )


def test_roi_below_break_even_without_a_target_is_critical(push, store_a, findings):
    push(
        store_a,
        "store_day_ad",
        campaign("Losing", "100", "50")
        + campaign("Winning", "100", "400")
        + campaign("Tiny", "5", "0", first=0)  # ¥5 of spend says nothing
        + campaign("Paused", "100", "50", last=-1),  # no spend on the day: nothing to adjust
    )
    [finding] = findings(rule="roi_below_target")
    assert finding.cause == "zhitongche:Losing"
    assert finding.severity == "critical"
    assert finding.evidence["roi"] == "0.500000"
    assert finding.evidence["ad_spend"] == "700.00"
    assert finding.evidence["threshold"] == "1"
    assert finding.evidence["threshold_kind"] == "break_even"
    assert "losing money" in finding.message()
    assert "bids" in finding.action()


def test_roi_below_the_engagements_roi_target_is_a_warning(push, store_a, findings, target):
    target("roi", "3")
    push(store_a, "store_day_ad", campaign("Fair", "100", "200") + campaign("Good", "100", "400"))
    [finding] = findings(rule="roi_below_target")
    assert finding.cause == "zhitongche:Fair"
    assert finding.severity == "warning"
    assert finding.evidence["threshold"] == "3"
    assert finding.evidence["threshold_kind"] == "target"
    assert "target of 3.00" in finding.message()


def test_roi_above_break_even_without_a_target_is_quiet(push, store_a, findings):
    push(store_a, "store_day_ad", campaign("Fair", "100", "200"))
    assert findings(rule="roi_below_target") == []


@pytest.mark.parametrize(("daily", "fires"), [("40", False), ("43", True)])
def test_roi_minimum_spend(push, store_a, findings, daily, fires):
    push(store_a, "store_day_ad", campaign("Small", daily, "0"))  # ¥280 or ¥301 in 7 days
    assert bool(findings(rule="roi_below_target")) is fires


# --- cpc_rising -------------------------------------------------------------------------------


def cpc_weeks(before: str, now: str, clicks: int = 50):
    return ad_rows(
        -13, -7, "zhitongche", "Search", impressions=5000, clicks=clicks, ad_spend=before
    ) + ad_rows(-6, 0, "zhitongche", "Search", impressions=5000, clicks=clicks, ad_spend=now)


def test_cpc_rising_week_over_week(push, store_a, findings):
    push(store_a, "store_day_ad", cpc_weeks("50.00", "75.00"))
    [finding] = findings(rule="cpc_rising")
    assert finding.evidence["cpc"] == "1.50"
    assert finding.evidence["cpc_previous"] == "1.00"
    assert finding.evidence["cpc_change"] == "0.5000"
    assert finding.evidence["clicks"] == 350
    assert "+50.0%" in finding.message()


@pytest.mark.parametrize(
    ("before", "now", "clicks"),
    [("50.00", "55.00", 50), ("50.00", "40.00", 50), ("10.00", "15.00", 10)],
    ids=["10 % rise", "falling", "too few clicks"],
)
def test_cpc_rising_quiet(push, store_a, findings, before, now, clicks):
    push(store_a, "store_day_ad", cpc_weeks(before, now, clicks))
    assert findings(rule="cpc_rising") == []


# --- channel_cac_high --------------------------------------------------------------------------


def source_rows(source, new_buyers, visitors=500, first=-6, last=0):
    return [
        {
            "date": date.isoformat(),
            "source": source,
            "visitors": visitors,
            "paying_buyers": new_buyers * 2,
            "new_buyers": new_buyers,
            "gmv": "100.00",
        }
        for date in dates(first, last)
    ]


def tool_spend(tool, spend):
    return ad_rows(-6, 0, tool, f"{tool} plan", impressions=5000, clicks=100, ad_spend=spend)


def test_channel_cac_high_against_the_paid_channels_average(push, store_a, findings):
    push(store_a, "store_day", store_rows(-6, 0))
    push(
        store_a,
        "store_day_ad",
        tool_spend("zhitongche", "200") + tool_spend("wanxiangtai", "200"),
    )
    push(
        store_a,
        "store_day_source",
        source_rows("直通车", 2) + source_rows("万相台", 10) + source_rows("手淘搜索", 50),
    )
    [finding] = findings(rule="channel_cac_high")
    # 直通车: ¥1,400 / 14 new buyers; the paid average: ¥2,800 / 84 = ¥33.33.
    assert finding.cause == "zhitongche"
    assert finding.evidence["source"] == "直通车"
    assert finding.evidence["cac"] == "100.00"
    assert finding.evidence["new_buyers"] == 14
    assert finding.evidence["average_cac"] == "33.33"
    assert finding.evidence["store_cac"] == "40.00"  # ¥2,800 / 70 store new buyers
    assert "¥100.00" in finding.message() and "¥33.33" in finding.message()


def test_channel_that_spent_and_won_no_new_buyer(push, store_a, findings):
    push(
        store_a,
        "store_day_ad",
        tool_spend("zhitongche", "200") + tool_spend("yinlimofang", "200"),
    )
    push(store_a, "store_day_source", source_rows("直通车", 5) + source_rows("引力魔方", 0))
    [finding] = findings(rule="channel_cac_high")
    assert finding.cause == "yinlimofang"
    assert finding.evidence["cac"] is None
    assert finding.evidence["new_buyers"] == 0
    assert "no new buyer" in finding.message()


@pytest.mark.parametrize(
    ("spend", "sources"),
    [
        ("60", [("直通车", 2), ("万相台", 10)]),  # ¥420 in 7 days: below the minimum spend
        ("200", [("万相台", 10)]),  # no 直通车 source row: its new buyers are unknown
        ("200", [("直通车", 1), ("万相台", 0)]),  # 7 paid new buyers: no average to compare
    ],
    ids=["small spend", "no source row", "too few new buyers"],
)
def test_channel_cac_high_quiet(push, store_a, findings, spend, sources):
    push(
        store_a,
        "store_day_ad",
        tool_spend("zhitongche", spend) + tool_spend("wanxiangtai", "200"),
    )
    push(store_a, "store_day_source", [r for s, n in sources for r in source_rows(s, n)])
    found = findings(rule="channel_cac_high")
    assert [f.cause for f in found if f.cause == "zhitongche"] == []


# --- gmv_pacing_behind and the target insights ------------------------------------------------


def june(gmv: str, last_day: int = 20):
    return [
        {"date": datetime.date(2026, 6, n).isoformat(), **STORE_DAY, "gmv": gmv}
        for n in range(1, last_day + 1)
    ]


def test_gmv_pacing_behind_critical_far_below_target(push, store_a, findings, target):
    target("gmv", "100000")
    push(store_a, "store_day", june("2000.00"))
    [finding] = findings(rule="gmv_pacing_behind")
    assert finding.severity == "critical"  # heading for 60 % of the target
    assert finding.cause == "gmv:month:6"
    evidence = finding.evidence
    assert evidence["actual"] == "40000.00"
    assert evidence["expected"] == "66666.67"
    assert evidence["forecast"] == "60000.00"
    assert evidence["pace_ratio"] == "0.6000"
    assert (evidence["days_elapsed"], evidence["days_total"], evidence["days_left"]) == (20, 30, 10)
    # ¥60,000 to go in 10 days.
    assert "¥6,000.00 a day" in finding.action()
    assert findings(rule="target_on_pace") == []


def test_gmv_pacing_behind_warning_close_to_target(push, store_a, findings, target):
    target("gmv", "100000")
    push(store_a, "store_day", june("3000.00"))
    [finding] = findings(rule="gmv_pacing_behind")
    assert finding.severity == "warning"
    assert finding.evidence["forecast"] == "90000.00"


def test_gmv_on_pace_is_an_insight_not_an_alert(push, store_a, findings, target):
    target("gmv", "100000")
    target("gmv", "1000000", by_month=7)  # next month's target: not current
    push(store_a, "store_day", june("4000.00"))
    assert findings(rule="gmv_pacing_behind") == []
    [insight] = findings(rule="target_on_pace")
    assert insight.cause == "gmv:month:6"
    assert insight.evidence["forecast"] == "120000.00"
    assert not insight.is_alert


def test_gmv_pacing_not_judged_on_the_first_two_days(push, store_a, findings, target):
    target("gmv", "100000")
    push(store_a, "store_day", june("100.00", last_day=2))
    assert findings(datetime.date(2026, 6, 2), rule="gmv_pacing_behind") == []
    assert findings(datetime.date(2026, 6, 2), rule="target_off_pace") == []


def test_a_target_other_than_gmv_off_pace_is_an_insight(push, store_a, findings, target):
    target("conversion_rate", "0.05")
    push(store_a, "store_day", june("3000.00"))
    [insight] = findings(rule="target_off_pace")
    assert insight.evidence["metric"] == "conversion_rate"
    assert insight.evidence["forecast"] == "0.030000"
    assert "3.00%" in insight.message()


# --- cs_reply_slow -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sessions", "seconds", "fires"),
    [(100, 4500, True), (100, 3000, False), (100, 2500, False), (5, 500, False)],
    ids=["45 s", "30 s exactly", "25 s", "5 sessions"],
)
def test_cs_reply_slow(push, store_a, findings, sessions, seconds, fires):
    push(
        store_a,
        "store_day",
        store_rows(0, 0, cs_sessions=sessions, cs_first_reply_seconds_sum=seconds),
    )
    found = findings(rule="cs_reply_slow")
    assert bool(found) is fires
    if fires:
        assert found[0].evidence["cs_avg_first_reply"] == "45.00"
        assert "45.0 s" in found[0].message() and "30.0 s" in found[0].message()


# --- refund_rate_jump --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "fires"),
    [
        ({"gmv": "5000.00", "refund_amount": "600.00"}, True),  # 12 % against 2 %
        ({"gmv": "5000.00", "refund_amount": "150.00"}, False),  # 3 %: not a jump
        ({"gmv": "500.00", "refund_amount": "100.00"}, False),  # 20 % of a slow day
    ],
)
def test_refund_rate_jump(push, store_a, findings, today, fires):
    push(
        store_a,
        "store_day",
        store_rows(-7, 0, {0: today}, gmv="5000.00", refund_amount="100.00"),
    )
    found = findings(rule="refund_rate_jump")
    assert bool(found) is fires
    if fires:
        assert found[0].evidence["refund_rate"] == "0.120000"
        assert found[0].evidence["refund_rate_7d"] == "0.020000"


def test_refund_rate_jump_needs_a_trailing_week(push, store_a, findings):
    push(store_a, "store_day", store_rows(-2, 0, {0: {"refund_amount": "900.00"}}))
    assert findings(rule="refund_rate_jump") == []


# --- metric_anomaly ----------------------------------------------------------------------------


def wavy(offset: int) -> int:
    """Everyday variation: 900 to 1,100 visitors."""
    return 1000 + (offset * 37 % 9 - 4) * 25


def test_metric_anomaly_fires_outside_the_robust_range(push, store_a, findings):
    rows = store_rows(-28, 0)
    for offset, row in zip(range(-28, 1), rows, strict=True):
        row["visitors"] = wavy(offset)
        row["gmv"] = f"{wavy(offset) * 3}.00"
    rows[-1].update(visitors=2500, gmv="900.00")
    push(store_a, "store_day", rows)
    found = {f.cause: f for f in findings(rule="metric_anomaly")}
    assert set(found) == {"visitors", "gmv", "conversion_rate"}
    visitors = found["visitors"]
    assert visitors.severity == "info"  # more visitors is good news, still worth a look
    assert visitors.evidence["direction"] == "above"
    assert visitors.evidence["days"] == 28
    history = [wavy(offset) for offset in range(-28, 0)]
    assert Decimal(visitors.evidence["median"]) == statistics.median(history)
    assert Decimal(visitors.evidence["high"]) < 2500
    gmv = found["gmv"]
    assert gmv.severity == "warning" and gmv.evidence["direction"] == "below"
    assert "data is complete" in gmv.action()
    assert found["conversion_rate"].evidence["direction"] == "below"  # 30 / 2,500


def test_metric_anomaly_quiet_on_flat_data(push, store_a, findings):
    # MAD 0: any change is "outside" median ± k·MAD, but 10 % is not an anomaly.
    push(store_a, "store_day", store_rows(-28, 0, {0: {"visitors": 1100, "gmv": "3300.00"}}))
    assert findings(rule="metric_anomaly") == []


def test_metric_anomaly_quiet_on_short_history(push, store_a, findings):
    push(store_a, "store_day", store_rows(-13, 0, {0: {"visitors": 5000, "gmv": "100.00"}}))
    assert findings(rule="metric_anomaly") == []  # 13 days of history < 14


def test_metric_anomaly_quiet_when_ads_start(push, store_a, findings):
    push(store_a, "store_day_ad", ad_rows(-20, -1, "zhitongche", "Search", ad_spend="0"))
    push(
        store_a,
        "store_day_ad",
        ad_rows(0, 0, "zhitongche", "Search", impressions=100, clicks=5, ad_spend="500"),
    )
    assert findings(rule="metric_anomaly") == []  # a median of ¥0: the ads were off


def test_metric_anomaly_quiet_within_the_usual_range(push, store_a, findings):
    rows = store_rows(-28, 0)
    for offset, row in zip(range(-28, 1), rows, strict=True):
        row["visitors"] = wavy(offset)
    rows[-1]["visitors"] = 1150
    push(store_a, "store_day", rows)
    assert findings(rule="metric_anomaly") == []


# --- Insights ---------------------------------------------------------------------------------


def quiet_week(push, store):
    """A normal store: every report, nothing wrong."""
    push(store, "store_day", store_rows(-28, 0, {0: {"gmv": "3300.00"}}))
    push(
        store,
        "store_day_source",
        source_rows("手淘搜索", 6, visitors=450)
        + source_rows("直通车", 2, visitors=200)
        + source_rows("万相台", 2, visitors=150),
    )
    push(
        store,
        "store_day_product",
        product_rows("A", 300, 12, gmv="1500.00", name="Cotton sheet set")
        + product_rows("B", 200, 6, gmv="900.00"),
    )
    push(
        store,
        "store_day_ad",
        campaign("Search", "100", "450")
        + campaign("Display", "100", "250", tool="wanxiangtai")
        + ad_rows(-13, -7, "zhitongche", "Search", impressions=5000, clicks=100, ad_spend="100"),
    )


def test_a_quiet_day_yields_three_to_five_insights_with_numbers_and_actions(
    push, store_a, findings, target
):
    target("gmv", "90000")
    quiet_week(push, store_a)
    found = findings()
    alerts = [f for f in found if f.is_alert]
    insights = [f for f in found if not f.is_alert]
    assert alerts == []
    assert 3 <= len(insights) <= 5
    assert {f.rule for f in insights} == {
        "gmv_vs_last_week",
        "top_traffic_source",
        "top_product",
        "best_campaign",
        "target_on_pace",
    }
    for insight in insights:
        assert any(character.isdigit() for character in insight.message())
        assert insight.action()
    by_rule = {f.rule: f for f in insights}
    assert by_rule["gmv_vs_last_week"].evidence["change"] == "0.1000"
    assert "+10.0%" in by_rule["gmv_vs_last_week"].message()
    top_source = by_rule["top_traffic_source"]
    assert (top_source.cause, top_source.evidence["share"]) == ("手淘搜索", "0.4500")
    top_product = by_rule["top_product"]
    assert top_product.cause == "A"
    assert top_product.evidence["gmv"] == "10500.00"
    assert "Cotton sheet set (A)" in top_product.message()
    best = by_rule["best_campaign"]
    assert (best.cause, best.evidence["roi"]) == ("zhitongche:Search", "4.500000")


def test_no_data_no_findings(findings):
    assert findings() == []


def test_gmv_vs_last_week_needs_the_same_weekday(push, store_a, findings):
    push(store_a, "store_day", store_rows(-6, 0))
    assert findings(rule="gmv_vs_last_week") == []


# --- Findings: order, text, JSON ---------------------------------------------------------------


def test_findings_most_severe_first_and_json_safe(push, store_a, findings):
    push(
        store_a,
        "store_day",
        store_rows(-7, 0, {0: {"cs_first_reply_seconds_sum": 9000}}),
    )
    push(store_a, "store_day_ad", campaign("Losing", "100", "50"))
    found = findings()
    ranks = [rules.SEVERITY_RANK[f.severity] for f in found]
    assert ranks == sorted(ranks)
    assert found[0].rule == "roi_below_target"  # critical
    for finding in found:
        encoded = json.loads(json.dumps(finding.as_dict(), ensure_ascii=False))
        assert set(encoded) == {"rule", "severity", "cause", "evidence", "message", "action"}
        assert encoded["evidence"]["date"] == D.isoformat()


def test_finding_text_is_rendered_at_call_time_in_the_active_language(monkeypatch):
    evidence = {
        "date": "2026-06-20",
        "cs_avg_first_reply": "45.00",
        "cs_sessions": 100,
        "sla_seconds": "30",
    }
    monkeypatch.setattr(rules, "_", lambda text: f"[{translation.get_language()}] {text}")
    with translation.override("zh-hans"):
        message, action = finding_text("cs_reply_slow", evidence)
    assert message.startswith("[zh-hans] Customer service took")
    assert "[zh-hans] 45.0 s" in message  # the unit too
    assert action.startswith("[zh-hans] ")
    with translation.override("en"):
        assert finding_text("cs_reply_slow", evidence)[0].startswith("[en] ")


def test_finding_text_of_evidence_that_does_not_fit_its_rule_still_reads():
    with translation.override("en"):
        message, action = finding_text("gmv_pacing_behind", {"gmv": "1000.00"})
        assert message == "GMV behind target pace: gmv 1000.00"
        assert action == ""
        assert finding_text("a_retired_rule", {"x": 1}) == ("a_retired_rule", "")


# --- Figures: windows from summed parts, bounded queries -----------------------------------


def test_a_window_of_the_series_equals_the_metric_query_total(push, store_a, engagement):
    # Day ratios differ a lot: the mean of daily rates would not be the window's rate.
    push(
        store_a,
        "store_day",
        store_rows(-6, 0, {-6: {"visitors": 100, "paying_buyers": 20}, 0: {"visitors": 5000}}),
    )
    push(store_a, "store_day_ad", cpc_weeks("50.00", "75.00"))
    names = ["visitors", "conversion_rate", "aov", "cpc", "ctr", "roi", "cac", "refund_rate"]
    with agency_scope(store_a.agency_id):
        context = RuleContext(engagement=engagement, date=D)
        window = context.total(day(-6), D, names)
        [total] = metrics_query(
            store_ids=[store_a.pk], start=day(-6), end=D, grain="total", metrics=names
        )
    assert window == {name: total[name] for name in names}
    assert window["conversion_rate"] == Decimal("0.019802")  # 200 / 10,100
    assert sum_rows([], ["conversion_rate"]) == {"conversion_rate": None}


def test_a_shared_context_must_be_of_the_same_engagement_and_day(engagement):
    with agency_scope(engagement.agency_id):
        context = RuleContext(engagement=engagement, date=D)
        with pytest.raises(ValueError, match="another engagement or date"):
            findings_for_day(engagement=engagement, date=day(-1), context=context)


def _with_targets(engagement):
    with agency_scope(engagement.agency_id):
        for metric, value, period in (
            ("gmv", "100000", "month"),
            ("roi", "3", "month"),
            ("gmv", "500000", "cumulative"),
        ):
            EngagementTarget.objects.create(
                engagement=engagement,
                metric=metric,
                comparison=">=",
                value=Decimal(value),
                period=period,
                by_month=6,
            )


def test_queries_are_the_same_for_30_days_and_2_years_of_history(
    make_engagement, store_a, store_b, demo_manager, django_assert_max_num_queries
):
    """The daily brief of 1,000 engagements depends on this: the rules read bounded windows."""
    short = make_engagement(store_a, demo_manager, start_date=datetime.date(2026, 1, 1))
    long = make_engagement(store_b, demo_manager, start_date=datetime.date(2026, 1, 1))
    with agency_scope(store_a.agency_id):
        ingestion_pull(store=store_a, connector_name="demo", start=day(-29), end=D)
        ingestion_pull(store=store_b, connector_name="demo", start=day(-730), end=D)
    _with_targets(short)
    _with_targets(long)
    with agency_scope(store_a.agency_id):
        with CaptureQueriesContext(connection) as captured:
            short_findings = findings_for_day(engagement=short, date=D)
        count = len(captured.captured_queries)
        assert count <= 12
        with django_assert_max_num_queries(count):
            long_findings = findings_for_day(engagement=long, date=D)
    assert short_findings and long_findings  # the demo stores have something to say
