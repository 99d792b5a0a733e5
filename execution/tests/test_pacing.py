"""Target pacing: plan months, period-to-date, expected pace, forecast and on / off pace, for
monthly and cumulative targets, additive and ratio metrics, "≥" and "≤" targets."""

import datetime
import json
from decimal import Decimal

import pytest

from agency.tenancy import agency_scope
from engagements.models import EngagementTarget
from execution.metrics.pacing import (
    CURRENT,
    ENDED,
    UPCOMING,
    add_months,
    current_paces,
    plain,
    plan_month_bounds,
    plan_month_of,
    targets_pacing,
)

date = datetime.date


# --- Plan months -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),  # across the year
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 5, 10), 0, date(2026, 5, 10)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_plan_months_from_the_31st():
    start = date(2026, 1, 31)
    assert plan_month_bounds(start, 1) == (date(2026, 1, 31), date(2026, 2, 27))
    assert plan_month_bounds(start, 2) == (date(2026, 2, 28), date(2026, 3, 30))
    assert plan_month_bounds(start, 3) == (date(2026, 3, 31), date(2026, 4, 29))
    assert plan_month_bounds(start, 3, cumulative=True) == (start, date(2026, 4, 29))


@pytest.mark.parametrize(
    "start", [date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 28), date(2028, 2, 29)]
)
def test_plan_months_tile_the_calendar(start):
    """No gap and no overlap, and every day belongs to the month whose bounds hold it."""
    previous_last = start - datetime.timedelta(days=1)
    for month in range(1, 25):
        first, last = plan_month_bounds(start, month)
        assert first == previous_last + datetime.timedelta(days=1)
        assert last >= first
        for day in (first, last):
            assert plan_month_of(start, day) == month
        previous_last = last
    assert plan_month_of(start, start - datetime.timedelta(days=1)) == 0


# --- targets_pacing ----------------------------------------------------------------------------


@pytest.fixture
def engagement(make_engagement, store_a, demo_manager):
    """Plan from 1 June 2026 (month 1: June, month 2: July)."""
    return make_engagement(store_a, demo_manager, start_date=date(2026, 6, 1))


@pytest.fixture
def target(engagement):
    def make(metric, value, comparison=">=", period="month", by_month=1):
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


@pytest.fixture
def june(push, store_a):
    """June 1 to 10: a small day with a high rate, then big days with a low one, so the period's
    conversion rate (Σ buyers / Σ visitors) differs from the mean of daily rates."""
    rows = [
        {
            "date": date(2026, 6, n).isoformat(),
            "visitors": 100 if n == 1 else 1000,
            "paying_buyers": 20 if n == 1 else 10,
            "gmv": "2000.00",
            "refund_amount": "100.00",
        }
        for n in range(1, 11)
    ]
    push(store_a, "store_day", rows)
    return store_a


def pacing(engagement, as_of):
    with agency_scope(engagement.agency_id):
        return {
            (pace.target.metric, pace.target.period, pace.target.by_month): pace
            for pace in targets_pacing(engagement=engagement, as_of=as_of)
        }


def test_an_additive_monthly_target_paces_linearly(engagement, target, june):
    target("gmv", "90000")
    pace = pacing(engagement, date(2026, 6, 10))["gmv", "month", 1]
    assert (pace.period_start, pace.period_end) == (date(2026, 6, 1), date(2026, 6, 30))
    assert pace.state == CURRENT
    assert (pace.days_elapsed, pace.days_total) == (10, 30)
    assert pace.actual == Decimal("20000.00")
    assert pace.expected == Decimal("30000.00")  # 90,000 × 10 / 30
    assert pace.forecast == Decimal("60000.00")  # 20,000 / 10 × 30
    assert pace.on_pace is False
    assert pace.achievement == Decimal("0.2222")
    assert pace.pace_ratio == Decimal("0.6667")


def test_a_ratio_target_is_judged_on_the_period_ratio_from_summed_parts(engagement, target, june):
    target("conversion_rate", "0.012")
    pace = pacing(engagement, date(2026, 6, 10))["conversion_rate", "month", 1]
    # Σ 110 buyers / Σ 9,100 visitors; the mean of daily rates would be 2.9 %.
    assert pace.actual == Decimal("0.012088")
    assert pace.expected == Decimal("0.012")  # a ratio does not accumulate: its pace is itself
    assert pace.forecast == Decimal("0.012088")
    assert pace.on_pace is True


def test_at_most_targets(engagement, target, june):
    target("refund_rate", "0.04", comparison="<=")  # 5 % of GMV is refunded
    target("refund_amount", "3000", comparison="<=")  # heading for 1,000 / 10 × 30 = 3,000
    paces = pacing(engagement, date(2026, 6, 10))
    refund_rate = paces["refund_rate", "month", 1]
    assert refund_rate.actual == Decimal("0.050000")
    assert refund_rate.on_pace is False
    refund_amount = paces["refund_amount", "month", 1]
    assert refund_amount.forecast == Decimal("3000.00")
    assert refund_amount.on_pace is True  # at the limit is within it


def test_a_cumulative_target_runs_from_the_plan_start(engagement, target, june, push, store_a):
    push(store_a, "store_day", [{"date": "2026-07-05", "gmv": "5000.00"}])
    target("gmv", "100000", period="cumulative", by_month=2)
    target("gmv", "50000", period="month", by_month=2)
    paces = pacing(engagement, date(2026, 7, 5))
    cumulative = paces["gmv", "cumulative", 2]
    assert (cumulative.period_start, cumulative.period_end) == (date(2026, 6, 1), date(2026, 7, 31))
    assert cumulative.actual == Decimal("25000.00")  # June's 20,000 and July's 5,000
    assert (cumulative.days_elapsed, cumulative.days_total) == (35, 61)
    monthly = paces["gmv", "month", 2]
    assert monthly.actual == Decimal("5000.00")
    assert monthly.period_start == date(2026, 7, 1)


def test_upcoming_current_and_ended(engagement, target, june):
    target("gmv", "90000", by_month=1)
    target("gmv", "100000", by_month=2)
    paces = pacing(engagement, date(2026, 6, 30))
    june_pace, july_pace = paces["gmv", "month", 1], paces["gmv", "month", 2]
    assert june_pace.state == ENDED  # its last day is done
    assert (june_pace.days_elapsed, june_pace.forecast) == (30, Decimal("20000.00"))
    assert july_pace.state == UPCOMING
    assert (july_pace.days_elapsed, july_pace.actual, july_pace.expected) == (0, None, None)
    assert july_pace.on_pace is None
    assert current_paces(list(paces.values())) == [july_pace]
    after = pacing(engagement, date(2026, 9, 1))
    assert {pace.state for pace in after.values()} == {ENDED}
    assert current_paces(list(after.values())) == [after["gmv", "month", 2]]
    during = pacing(engagement, date(2026, 6, 15))
    assert current_paces(list(during.values())) == [during["gmv", "month", 1]]


def test_no_data_yet_is_no_verdict(engagement, target):
    target("gmv", "90000")
    pace = pacing(engagement, date(2026, 6, 5))["gmv", "month", 1]
    assert (pace.actual, pace.forecast, pace.on_pace) == (None, None, None)
    assert pace.expected == Decimal("15000.00")


def test_unknown_metrics_are_ignored_and_as_dict_is_json(engagement, target, june):
    target("gmv", "90000")
    target("not_a_metric", "1")
    paces = pacing(engagement, date(2026, 6, 10))
    assert list(paces) == [("gmv", "month", 1)]
    encoded = json.loads(json.dumps(paces["gmv", "month", 1].as_dict()))
    assert encoded["target"] == "90000"
    assert encoded["forecast"] == "60000.00"
    assert encoded["state"] == "current"


def test_one_query_per_target_period_whatever_the_history(
    engagement, target, june, django_assert_num_queries
):
    target("gmv", "90000")
    target("visitors", "30000")
    target("roi", "3", period="cumulative", by_month=2)
    target("gmv", "100000", by_month=2)  # upcoming: no query
    # The targets, June's store facts, and the cumulative period's ad facts.
    with agency_scope(engagement.agency_id), django_assert_num_queries(3):
        targets_pacing(engagement=engagement, as_of=date(2026, 6, 10))


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("90000.0000", "90000"), ("0.0500", "0.05"), ("3.0000", "3"), ("0.0000", "0")],
)
def test_targets_read_plainly(stored, shown):
    assert str(plain(Decimal(stored))) == shown
