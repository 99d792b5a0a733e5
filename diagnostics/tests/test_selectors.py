"""The baseline: every figure equals the one metric query's answer for the same days."""

import datetime
from decimal import Decimal

import pytest

from agency.tenancy import agency_scope
from diagnostics.selectors import BASELINE_METRICS, BaselineWindow, diagnosis_baseline
from execution.metrics.query import metrics_query

LAST = datetime.date(2026, 3, 31)


def _days(end, count):
    return [end - datetime.timedelta(days=offset) for offset in range(count)]


@pytest.fixture
def history(push, store_a):
    """180 days of store figures: the last 90 days twice the traffic of the 90 before, and
    ad figures on the last 30 days."""
    rows = []
    for date in _days(LAST, 180):
        recent = date > LAST - datetime.timedelta(days=90)
        visitors = 2000 if recent else 1000
        rows.append(
            {
                "date": date,
                "visitors": visitors,
                "paying_buyers": visitors // 50,
                "gmv": f"{visitors * 3}.50",
            }
        )
    push(store_a, "store_day", rows)
    ads = [
        {
            "date": date,
            "ad_tool": "zhitongche",
            "campaign": "核心词",
            "impressions": 5000,
            "clicks": 200,
            "ad_spend": "300.00",
            "ad_gmv": "1200.00",
            "ad_orders": 8,
        }
        for date in _days(LAST, 30)
    ]
    push(store_a, "store_day_ad", ads)


def test_no_data_means_no_baseline(engagement_a):
    with agency_scope(engagement_a.agency_id):
        baseline = diagnosis_baseline(engagement=engagement_a)
    assert baseline.has_data is False
    assert baseline.last_data_date is None and baseline.windows == {}


def test_windows_end_at_the_last_day_with_data_and_equal_the_metric_query(
    engagement_a, store_a, history
):
    with agency_scope(engagement_a.agency_id):
        baseline = diagnosis_baseline(engagement=engagement_a)
        assert baseline.has_data and baseline.last_data_date == LAST
        assert set(baseline.windows) == {30, 90}
        for days, window in baseline.windows.items():
            assert window.end == LAST
            assert window.start == LAST - datetime.timedelta(days=days - 1)
            expected = metrics_query(
                store_ids=[store_a.pk],
                start=window.start,
                end=window.end,
                grain="total",
                metrics=list(BASELINE_METRICS),
            )[0]
            before = metrics_query(
                store_ids=[store_a.pk],
                start=window.start - datetime.timedelta(days=days),
                end=window.start - datetime.timedelta(days=1),
                grain="total",
                metrics=list(BASELINE_METRICS),
            )[0]
            assert window.values == {name: expected[name] for name in BASELINE_METRICS}
            assert window.previous == {name: before[name] for name in BASELINE_METRICS}


def test_known_figures_and_trend(engagement_a, history):
    with agency_scope(engagement_a.agency_id):
        baseline = diagnosis_baseline(engagement=engagement_a)
    short, long = baseline.windows[30], baseline.windows[90]
    assert short.values["visitors"] == 60_000
    assert short.values["paying_buyers"] == 1_200
    assert short.values["gmv"] == Decimal("180015.00")  # 30 × 6000.50
    assert short.values["conversion_rate"] == Decimal("0.020000")
    assert short.values["aov"] == Decimal("150.01")  # 180015.00 / 1200, to the cent
    assert short.values["ad_spend"] == Decimal("9000.00") and short.values["clicks"] == 6000
    assert short.values["cpc"] == Decimal("1.50") and short.values["roi"] == Decimal("4.000000")
    # The 30 days before the last 30 are in the same (doubled) regime: traffic flat; no ads then.
    assert short.change("visitors") == Decimal("0")
    assert short.previous["ad_spend"] is None and short.change("ad_spend") is None
    # The last 90 days against the 90 before: traffic doubled.
    assert long.values["visitors"] == 180_000 and long.previous["visitors"] == 90_000
    assert long.change("visitors") == Decimal("1")
    assert long.change("conversion_rate") == Decimal("0")


def test_a_store_whose_data_stopped_keeps_its_baseline(engagement_a, push, store_a):
    push(
        store_a,
        "store_day",
        [{"date": datetime.date(2025, 6, 30), "visitors": 10, "paying_buyers": 1, "gmv": "99.00"}],
    )
    with agency_scope(engagement_a.agency_id):
        baseline = diagnosis_baseline(engagement=engagement_a)
    assert baseline.last_data_date == datetime.date(2025, 6, 30)
    assert baseline.windows[30].values["gmv"] == Decimal("99.00")
    assert baseline.windows[30].previous["gmv"] is None
    assert baseline.windows[30].change("gmv") is None


def test_change_is_none_for_a_zero_previous_value():
    window = BaselineWindow(
        days=30,
        start=LAST,
        end=LAST,
        values={"visitors": 10, "gmv": Decimal("5.00")},
        previous={"visitors": 0, "gmv": Decimal("4.00")},
    )
    assert window.change("visitors") is None
    assert window.change("gmv") == Decimal("0.25")
    assert window.change("aov") is None


def test_another_agencys_store_data_never_reaches_the_baseline(
    engagement_a, rival_engagement, push, rival_store
):
    push(
        rival_store, "store_day", [{"date": LAST, "visitors": 5, "paying_buyers": 1, "gmv": "1.00"}]
    )
    with agency_scope(engagement_a.agency_id):
        assert diagnosis_baseline(engagement=engagement_a).has_data is False
