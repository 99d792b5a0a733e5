"""The brief's content: its shape, its comparisons from summed parts, a day without data, the
insights, and a number of queries that does not grow with the history."""

import datetime
import json
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from agency.tenancy import agency_scope
from engagements.models import EngagementTarget
from execution.metrics.query import metrics_query
from execution.metrics.registry import METRICS
from reporting.briefs.builder import BRIEF_METRICS, brief_build, brief_fingerprint
from reporting.models import DailyBrief

DAY = datetime.date(2026, 9, 10)


def build(engagement, day=DAY, **arguments):
    with agency_scope(engagement.agency_id):
        return brief_build(engagement=engagement, date=day, **arguments)


def test_the_content_has_the_documented_shape(brief_data, engagement_a):
    content = build(engagement_a)
    assert json.loads(json.dumps(content)) == content  # JSON-safe as it is
    assert {
        "date",
        "engagement",
        "data_through",
        "metrics",
        "targets",
        "sources",
        "alerts",
        "insights",
    } <= set(content)
    assert content["date"] == "2026-09-10"
    assert content["engagement"] == {
        "id": engagement_a.pk,
        "title": "Brand A growth",
        "store": "Brand A 旗舰店",
        "brand": "Brand A",
    }
    assert content["data_through"] == "2026-09-10"
    core = {
        "gmv",
        "visitors",
        "paying_buyers",
        "conversion_rate",
        "aov",
        "uv_value",
        "ad_spend",
        "roi",
        "cpc",
        "ctr",
        "refund_rate",
        "new_buyers",
        "cs_avg_first_reply",
    }
    assert core <= set(content["metrics"]) <= set(METRICS)
    for block in content["metrics"].values():
        assert set(block) == {"value", "previous_day", "same_day_last_week", "avg_7d"}
    for insight in content["insights"]:
        assert {"rule", "severity", "evidence", "action", "message"} <= set(insight)


def test_comparisons_come_from_summed_parts(brief_data, engagement_a):
    metrics = build(engagement_a)["metrics"]
    visitors, conversion, aov, gmv = (
        metrics["visitors"],
        metrics["conversion_rate"],
        metrics["aov"],
        metrics["gmv"],
    )
    assert visitors == {
        "value": 500,
        "previous_day": 400,
        "same_day_last_week": 100,
        # Σ 1,400 visitors over the 3 of the 7 days that have data (not over 7).
        "avg_7d": "466.67",
    }
    assert gmv["avg_7d"] == "1333.33"  # (1000 + 1800 + 1200) / 3
    assert conversion["value"] == "0.040000"
    assert conversion["previous_day"] == "0.020000"
    assert conversion["same_day_last_week"] == "0.100000"
    # Σ buyers / Σ visitors = 27 / 1,400, not the mean of 10 %, 1 % and 2 % (4.33 %).
    assert conversion["avg_7d"] == "0.019286"
    # Σ GMV / Σ buyers = 4,000 / 27, not the mean of 100, 200 and 150 (150.00).
    assert aov["avg_7d"] == "148.15"
    with agency_scope(engagement_a.agency_id):
        week = metrics_query(
            store_ids=[engagement_a.store_id],
            start=DAY - datetime.timedelta(days=7),
            end=DAY - datetime.timedelta(days=1),
            grain="total",
            metrics=["aov", "conversion_rate", "roi"],
        )[0]
    assert aov["avg_7d"] == str(week["aov"])
    assert conversion["avg_7d"] == str(week["conversion_rate"])
    assert metrics["roi"]["avg_7d"] == str(week["roi"]) == "5.000000"  # 300 / 60, one ad day
    assert metrics["ad_spend"]["avg_7d"] == "60.00"  # over the one day with ad data
    assert metrics["cpc"] == {
        "value": "2.00",
        "previous_day": None,  # no ad data on the 9th
        "same_day_last_week": "1.50",
        "avg_7d": "1.50",
    }
    assert metrics["cs_avg_first_reply"]["value"] == "50.00"  # 1,500 s / 30 sessions
    assert metrics["refund_rate"]["value"] == "0.050000"


def test_a_week_of_daily_ratios_differs_from_the_ratio_of_sums(push, store_a, engagement_a):
    """Seven full days where the mean of daily rates is far from Σ buyers / Σ visitors."""
    rows = []
    for offset in range(1, 8):
        day = DAY - datetime.timedelta(days=offset)
        big = offset % 2 == 0
        rows.append(
            {
                "date": day.isoformat(),
                "visitors": 1000 if big else 10,
                "paying_buyers": 10 if big else 5,
                "gmv": "500.00" if big else "2500.00",
            }
        )
    rows.append({"date": DAY.isoformat(), "visitors": 100, "paying_buyers": 2, "gmv": "100.00"})
    push(store_a, "store_day", rows)
    metrics = build(engagement_a)["metrics"]
    # 3 big days (1,000 visitors, 10 buyers) and 4 small ones (10 visitors, 5 buyers).
    assert metrics["conversion_rate"]["avg_7d"] == str(
        (Decimal(3 * 10 + 4 * 5) / Decimal(3 * 1000 + 4 * 10)).quantize(Decimal("0.000001"))
    )
    mean_of_rates = (3 * Decimal("0.01") + 4 * Decimal("0.5")) / 7
    assert Decimal(metrics["conversion_rate"]["avg_7d"]) != mean_of_rates.quantize(
        Decimal("0.000001")
    )
    # AOV: Σ GMV / Σ buyers = (1,500 + 10,000) / 50 = 230, not the mean of 50 and 500.
    assert metrics["aov"]["avg_7d"] == "230.00"
    assert metrics["visitors"]["avg_7d"] == str((Decimal(3040) / 7).quantize(Decimal("0.01")))


def test_traffic_by_source_with_shares(brief_data, engagement_a):
    sources = build(engagement_a)["sources"]
    assert [source["source"] for source in sources] == ["手淘搜索", "直通车"]
    search, paid = sources
    assert search["visitors"] == 300
    assert search["visitor_share"] == "0.600000"
    assert search["conversion_rate"] == "0.040000"
    assert search["gmv"] == "1800.00"
    assert search["previous_day_visitors"] == 250
    assert paid["visitor_share"] == "0.400000"


def test_a_day_without_data_says_so(brief_data, engagement_a):
    content = build(engagement_a, DAY + datetime.timedelta(days=3))
    assert content["data_through"] == "2026-09-10"
    assert content["data_status"] == {"has_data": False, "days_behind": 3, "missing": []}
    assert content["metrics"]["gmv"]["value"] is None
    assert content["metrics"]["gmv"]["same_day_last_week"] is None  # the 6th had no data
    assert content["insights"] == []


def test_a_day_long_after_the_last_data_still_finds_it(brief_data, engagement_a):
    content = build(engagement_a, datetime.date(2026, 11, 1))
    assert content["data_through"] == "2026-09-10"
    assert content["data_status"]["days_behind"] == 52


def test_a_store_without_any_data(engagement_a):
    content = build(engagement_a)
    assert content["data_through"] is None
    assert content["insights"] == content["alerts"] == content["targets"] == []


def test_a_part_of_the_day_missing_is_named(push, brief_data, engagement_a):
    # The 11th has the store overview but no ads and no sources, which the days before had.
    push(brief_data, "store_day", [{"date": "2026-09-11", "visitors": 10}])
    content = build(engagement_a, DAY + datetime.timedelta(days=1))
    assert content["data_status"] == {
        "has_data": True,
        "days_behind": 0,
        "missing": ["ads", "sources"],
    }


def test_current_targets_are_paced(brief_data, engagement_a):
    with agency_scope(engagement_a.agency_id):
        for month in range(1, 13):  # a target for every month: only September's is current
            EngagementTarget.objects.create(
                engagement=engagement_a,
                metric="gmv",
                comparison=">=",
                value=Decimal("90000"),
                period="month",
                by_month=month,
            )
    targets = build(engagement_a)["targets"]
    assert len(targets) == 1
    (target,) = targets
    assert target["metric"] == "gmv"
    assert target["period_start"] == "2026-09-01"
    assert target["actual"] == "7000.00"  # 1,000 + 1,800 + 1,200 + 3,000
    assert target["state"] == "current"
    assert target["on_pace"] is False


def test_insights_are_three_to_five_most_severe_first(brief_data, engagement_a):
    content = build(engagement_a)
    insights = content["insights"]
    assert 3 <= len(insights) <= 5
    ranks = {"critical": 0, "warning": 1, "info": 2}
    assert [ranks[i["severity"]] for i in insights] == sorted(
        ranks[i["severity"]] for i in insights
    )
    # Customer service took 50 s on average to reply (the agreed 30 s): an alert, stored.
    assert insights[0]["rule"] == "cs_reply_slow"
    assert insights[0]["evidence"]["cs_avg_first_reply"] == "50.00"
    assert [alert["rule"] for alert in content["alerts"]] == ["cs_reply_slow"]
    assert content["alerts"][0]["id"]


def test_a_quiet_day_still_has_three_insights(push, store_a, engagement_a):
    push(
        store_a,
        "store_day",
        [
            {"date": "2026-09-09", "visitors": 100, "paying_buyers": 5, "gmv": "500.00"},
            {"date": DAY.isoformat(), "visitors": 120, "paying_buyers": 5, "gmv": "450.00"},
        ],
    )
    insights = build(engagement_a)["insights"]
    assert len(insights) == 3
    assert {insight["rule"] for insight in insights} == {"brief_metric_move"}
    assert insights[0]["cause"] == "visitors"  # +20 %, the biggest move
    assert "Visitors was 120" in insights[0]["message"]


def test_the_stored_copy_is_in_the_generation_language(push, store_a, engagement_a):
    push(
        store_a,
        "store_day",
        [
            {"date": "2026-09-09", "visitors": 100, "paying_buyers": 5, "gmv": "500.00"},
            {"date": DAY.isoformat(), "visitors": 120, "paying_buyers": 5, "gmv": "450.00"},
        ],
    )
    english = build(engagement_a, language="en")
    chinese = build(engagement_a, language="zh-hans")
    assert english["language"] == "en" and chinese["language"] == "zh-hans"
    assert "Visitors" in english["insights"][0]["message"]
    assert "访客数" in chinese["insights"][0]["message"]
    # The figures are the same brief, whatever the language.
    assert brief_fingerprint(english) == brief_fingerprint(chinese)


def test_the_fingerprint_follows_the_figures(push, brief_data, engagement_a):
    before = brief_fingerprint(build(engagement_a))
    assert brief_fingerprint(build(engagement_a)) == before
    push(brief_data, "store_day", [{"date": "2026-09-10", "visitors": 501}])
    assert brief_fingerprint(build(engagement_a)) != before


def test_building_raises_the_days_alerts_once(brief_data, engagement_a):
    from execution.models import Alert

    first = build(engagement_a)
    second = build(engagement_a)
    assert first["alerts"] == second["alerts"]
    with agency_scope(engagement_a.agency_id):
        assert Alert.objects.filter(engagement=engagement_a).count() == 1
        assert not DailyBrief.objects.exists()  # building stores no brief


def test_a_preview_build_writes_nothing(brief_data, engagement_a):
    from execution.models import Alert

    content = build(engagement_a, raise_alerts=False)
    assert [(alert["rule"], alert["id"]) for alert in content["alerts"]] == [
        ("cs_reply_slow", None)
    ]
    with agency_scope(engagement_a.agency_id):
        assert not Alert.objects.exists()
    stored = build(engagement_a)  # raised now: a preview then shows the stored alert
    assert build(engagement_a, raise_alerts=False)["alerts"] == stored["alerts"]
    assert stored["alerts"][0]["id"] is not None


def _history(days: int, end: datetime.date) -> dict[str, list[dict]]:
    dates = [end - datetime.timedelta(days=offset) for offset in range(days)]
    return {
        "store_day": [
            {
                "date": day.isoformat(),
                "visitors": 1000 + day.toordinal() % 97,
                "paying_buyers": 20 + day.toordinal() % 7,
                "gmv": f"{3000 + day.toordinal() % 500}.00",
                "new_buyers": 5,
                "refund_amount": "30.00",
                "cs_first_reply_seconds_sum": 500,
                "cs_sessions": 25,
            }
            for day in dates
        ],
        "store_day_source": [
            {"date": day.isoformat(), "source": source, "visitors": 300, "paying_buyers": 6}
            for day in dates
            for source in ("手淘搜索", "直通车")
        ],
        "store_day_ad": [
            {
                "date": day.isoformat(),
                "ad_tool": "zhitongche",
                "campaign": f"Plan {plan}",
                "impressions": 5000,
                "clicks": 100,
                "ad_spend": "150.00",
                "ad_gmv": "450.00",
                "ad_orders": 4,
            }
            for day in dates
            for plan in ("A", "B")
        ],
        "store_day_product": [
            {"date": day.isoformat(), "item_id": item, "item_name": f"Item {item}", "visitors": 400}
            for day in dates
            for item in ("1", "2")
        ],
    }


def test_queries_per_brief_do_not_grow_with_history(
    push, make_store, make_engagement, brand_a, demo_manager
):
    counts = {}
    for days in (30, 730):
        store = make_store(brand_a)
        engagement = make_engagement(store, demo_manager, start_date=DAY - datetime.timedelta(400))
        with agency_scope(engagement.agency_id):
            EngagementTarget.objects.create(
                engagement=engagement,
                metric="gmv",
                comparison=">=",
                value=Decimal("100000"),
                period="month",
                by_month=14,
            )
        for grain, rows in _history(days, DAY).items():
            push(store, grain, rows)
        build(engagement)  # the alerts of the day are raised once; count a steady build
        with CaptureQueriesContext(connection) as captured:
            content = build(engagement)
        assert content["data_through"] == DAY.isoformat()
        counts[days] = len(captured)
    assert counts[30] == counts[730], counts
    assert counts[730] <= 30, counts


def test_brief_metrics_are_registry_metrics():
    assert set(BRIEF_METRICS) <= set(METRICS)
