"""The one metric query: sums in the database, ratios from the sums, any grain."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from agency.tenancy import agency_scope
from execution.metrics.query import metrics_query
from execution.metrics.registry import METRICS, metric_get


def d(day):
    return datetime.date(2026, 9, day)


@pytest.fixture
def september(push, store_a, store_b):
    # Day 1: a small day with a high rate; day 2: a big day with a low rate.
    push(
        store_a,
        "store_day",
        [
            {
                "date": "2026-09-01",
                "visitors": 100,
                "paying_buyers": 10,
                "gmv": "1000.00",
                "new_buyers": 4,
                "bounced_visitors": 0,
            },
            {
                "date": "2026-09-02",
                "visitors": 900,
                "paying_buyers": 9,
                "gmv": "900.00",
                "new_buyers": 5,
            },
            {"date": "2026-09-30", "visitors": 0, "paying_buyers": 0, "gmv": "0"},
            {"date": "2026-10-01", "visitors": 50, "paying_buyers": 1, "gmv": "10.00"},
        ],
    )
    push(
        store_a,
        "store_day_ad",
        [
            {
                "date": "2026-09-01",
                "ad_tool": "zhitongche",
                "campaign": "A",
                "impressions": 1000,
                "clicks": 40,
                "ad_spend": "60.00",
                "ad_gmv": "300.00",
                "ad_orders": 2,
            },
            {
                "date": "2026-09-01",
                "ad_tool": "wanxiangtai",
                "campaign": "B",
                "item_id": "9",
                "impressions": 3000,
                "clicks": 20,
                "ad_spend": "30.00",
                "ad_gmv": "60.00",
            },
        ],
    )
    push(store_b, "store_day", [{"date": "2026-09-01", "visitors": 1000, "paying_buyers": 1}])
    return store_a


def query(store, **arguments):
    with agency_scope(store.agency_id):
        return metrics_query(store_ids=[store.pk], **arguments)


def test_ratios_come_from_summed_parts_not_averaged(september):
    [total] = query(
        september,
        start=d(1),
        end=d(2),
        grain="total",
        metrics=["visitors", "conversion_rate", "aov"],
    )
    assert total["visitors"] == 1000
    assert total["conversion_rate"] == Decimal("0.019000")  # 19 / 1000, not (10% + 1%) / 2
    assert total["aov"] == Decimal("100.00")  # 1900 / 19


def test_day_grain_and_a_zero_denominator_is_no_value(september):
    rows = query(
        september,
        start=d(1),
        end=d(30),
        grain="day",
        metrics=["conversion_rate", "roi", "ctr", "cpc", "cpm", "cac"],
    )
    assert [row["period_start"] for row in rows] == [d(1), d(2), d(30)]
    first, _second, last = rows
    assert first["roi"] == Decimal("4.000000")  # (300 + 60) / (60 + 30): the tools add up
    assert first["ctr"] == Decimal("0.015000")  # 60 / 4000
    assert first["cpc"] == Decimal("1.50")
    assert first["cpm"] == Decimal("22.50")
    assert first["cac"] == Decimal("22.50")  # 90 / 4: spend of one table, buyers of the other
    assert last["conversion_rate"] is None  # 0 / 0
    assert last["roi"] is None  # no ad data that day


def test_month_and_week_grains(september):
    months = query(
        september,
        start=d(1),
        end=datetime.date(2026, 10, 31),
        grain="month",
        metrics=["visitors", "gmv"],
    )
    assert [(r["period_start"], r["period_end"], r["visitors"], r["gmv"]) for r in months] == [
        (d(1), d(30), 1000, Decimal("1900.00")),
        (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31), 50, Decimal("10.00")),
    ]
    weeks = query(september, start=d(1), end=d(30), grain="week", metrics=["visitors"])
    # 2026-09-01 is a Tuesday: its ISO week starts on Monday 31 August, clipped to the range.
    assert weeks[0]["period_start"] == d(1) and weeks[0]["period_end"] == d(6)
    assert weeks[-1]["period_start"] == datetime.date(2026, 9, 28)


def test_several_stores_add_up_and_other_agencies_see_nothing(september, store_b, rival_agency):
    with agency_scope(september.agency_id):
        [total] = metrics_query(
            store_ids=[september.pk, store_b.pk],
            start=d(1),
            end=d(1),
            grain="total",
            metrics=["visitors", "paying_buyers"],
        )
    assert (total["visitors"], total["paying_buyers"]) == (1100, 11)
    with agency_scope(rival_agency):
        assert metrics_query(store_ids=[september.pk], start=d(1), end=d(30), grain="total") == []


def test_bad_arguments_are_named(september):
    with pytest.raises(ValueError, match="grain"):
        query(september, start=d(1), end=d(2), grain="year")
    with pytest.raises(ValueError, match="before"):
        query(september, start=d(2), end=d(1))
    with pytest.raises(KeyError, match="gmv_per_day"):
        query(september, start=d(1), end=d(2), metrics=["gmv_per_day"])


def test_every_metric_of_the_glossary_is_registered():
    glossary = {
        "visitors",
        "page_views",
        "paying_buyers",
        "paid_orders",
        "paid_units",
        "gmv",
        "new_buyers",
        "repeat_buyers",
        "refund_amount",
        "add_to_cart_users",
        "favorites",
        "bounced_visitors",
        "impressions",
        "clicks",
        "ad_spend",
        "ad_gmv",
        "ad_orders",
        "cs_first_reply_seconds_sum",
        "cs_sessions",
        "conversion_rate",
        "aov",
        "uv_value",
        "bounce_rate",
        "repurchase_rate",
        "refund_rate",
        "ctr",
        "cpc",
        "cpm",
        "click_conversion_rate",
        "roi",
        "cac",
        "cs_avg_first_reply",
    }
    assert set(METRICS) == glossary
    assert metric_get("roi").formula == "Σ ad_gmv / Σ ad_spend"


def test_the_command_prints_what_the_query_returns(september, capsys):
    call_command(
        "metrics_query",
        "--store",
        str(september.pk),
        "--start",
        "2026-09-01",
        "--end",
        "2026-09-02",
        "--grain",
        "total",
        "--metrics",
        "visitors,aov,roi",
    )
    assert json.loads(capsys.readouterr().out) == [
        {
            "period_start": "2026-09-01",
            "period_end": "2026-09-02",
            "visitors": 1000,
            "aov": "100.00",
            "roi": "4.000000",
        }
    ]


def test_breakdowns_by_campaign_ad_tool_and_product(september, push):
    push(
        september,
        "store_day_product",
        [
            {"date": "2026-09-01", "item_id": "9", "item_name": "Tea", "visitors": 50},
            {"date": "2026-09-02", "item_id": "9", "item_name": "Tea", "visitors": 150},
            {"date": "2026-09-02", "item_id": "7", "item_name": "Cup", "visitors": 10},
        ],
    )
    push(
        september,
        "store_day_source",
        [
            {"date": "2026-09-01", "source": "直通车", "visitors": 40, "new_buyers": 2},
            {"date": "2026-09-02", "source": "直通车", "visitors": 60, "new_buyers": 0},
            {"date": "2026-09-02", "source": "手淘搜索", "visitors": 5, "paying_buyers": 1},
        ],
    )
    campaigns = query(september, start=d(1), end=d(30), grain="total", by="campaign")
    assert [(r["ad_tool"], r["campaign"], r["roi"]) for r in campaigns] == [
        ("wanxiangtai", "B", Decimal("2.000000")),
        ("zhitongche", "A", Decimal("5.000000")),
    ]
    assert "conversion_rate" not in campaigns[0]  # not computable from ad facts alone
    products = query(
        september, start=d(1), end=d(30), grain="total", by="product", metrics=["visitors", "ctr"]
    )
    assert [(r["item_id"], r["item_name"], r["visitors"], r["ctr"]) for r in products] == [
        ("7", "Cup", 10, None),
        ("9", "Tea", 200, Decimal("0.006667")),  # the ad row naming the product: 20 / 3000
    ]
    days = query(september, start=d(1), end=d(2), grain="day", by="source", metrics=["visitors"])
    assert [(r["period_start"], r["source"], r["visitors"]) for r in days] == [
        (d(1), "直通车", 40),
        (d(2), "手淘搜索", 5),
        (d(2), "直通车", 60),
    ]


def test_a_breakdown_refuses_metrics_it_cannot_compute(september):
    with pytest.raises(ValueError, match="not available by campaign: conversion_rate"):
        query(september, start=d(1), end=d(2), by="campaign", metrics=["conversion_rate"])
    with pytest.raises(ValueError, match="Unknown breakdown 'shop'"):
        query(september, start=d(1), end=d(2), by="shop")
