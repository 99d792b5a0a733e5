"""The target planner: the funnel arithmetic, summed-part ratios, and the risk flags."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from proposals.planner import (
    DEFAULTS,
    ChannelAssumption,
    PlannerAssumptions,
    assumptions_as_dict,
    assumptions_from_baseline,
    assumptions_from_dict,
    plan,
    target_checks,
)

D = Decimal


def assumptions(**overrides):
    values = {
        "months": 3,
        "organic_visitors": 10_000,
        "organic_growth": D("0.10"),
        "conversion_rate": D("0.02"),
        "aov": D("200.00"),
        "channels": (
            ChannelAssumption("zhitongche", D("20000.00"), D("2.00"), D("0.03")),
            ChannelAssumption("wanxiangtai", D("10000.00"), D("1.25"), D("0.025")),
        ),
    }
    values.update(overrides)
    return PlannerAssumptions(**values)


def target(metric, value, by_month=3, period="month", comparison=">="):
    return {
        "metric": metric,
        "comparison": comparison,
        "value": str(value),
        "period": period,
        "by_month": by_month,
    }


def test_the_funnel_follows_budget_cpc_conversion_aov():
    month1, _month2, month3 = plan(assumptions()).months
    zhitongche, wanxiangtai = month1.channels
    assert zhitongche.clicks == 10_000  # 20,000 ÷ 2.00
    assert zhitongche.orders == 300  # 10,000 × 3 %
    assert zhitongche.gmv == D("60000.00")  # 300 × 200
    assert zhitongche.roi == D("3.000000")
    assert wanxiangtai.clicks == 8_000 and wanxiangtai.orders == 200
    assert month1.organic_visitors == 10_000 and month1.organic_orders == 200
    assert month1.visitors == 28_000 and month1.orders == 700
    assert month1.gmv == D("140000.00") and month1.spend == D("30000.00")
    assert month1.paid_gmv == D("100000.00") and month1.roi == D("3.333333")
    assert month3.organic_visitors == 12_100  # +10 % a month, compounded


def test_ratios_over_several_months_come_from_summed_parts():
    result = plan(assumptions(months=2))
    totals = result.totals(1, 2)
    assert totals["orders"] == sum(m.orders for m in result.months)
    check = target_checks([target("conversion_rate", "0.001", 2, "cumulative")], result, {})[0]
    assert check.implied == (totals["orders"] / totals["visitors"]).quantize(D("0.000001"))


def test_a_target_the_plan_reaches_is_on_plan_and_no_risk():
    result = plan(assumptions())
    [check] = target_checks([target("gmv", 140_000, 1)], result, {"conversion_rate": D("0.02")})
    assert check.status == "on_plan" and not check.risk and check.implied == D("140000.00")


def test_a_target_the_plan_misses_is_short_and_a_risk():
    result = plan(assumptions())
    [check] = target_checks([target("gmv", 500_000, 3)], result, {"conversion_rate": D("0.02")})
    assert check.status == "short" and check.risk
    assert "The plan implies" in str(check.reasons[0])


def test_a_target_needing_three_times_the_baseline_conversion_is_a_risk():
    result = plan(assumptions())
    visitors = result.months[2].visitors
    gmv_at_3x = D("0.06") * visitors * D("200")  # 6 % conversion against a 2 % baseline
    [check] = target_checks([target("gmv", gmv_at_3x, 3)], result, {"conversion_rate": D("0.02")})
    assert check.risk
    assert any("3.0× the baseline 2.00%" in str(reason) for reason in check.reasons)
    # The same target against a 4 % baseline needs only 1.5×: the plan's shortfall alone.
    [milder] = target_checks([target("gmv", gmv_at_3x, 3)], result, {"conversion_rate": D("0.04")})
    assert not any("baseline" in str(reason) for reason in milder.reasons)


def test_roi_and_aov_targets_far_above_the_baseline_are_risks():
    result = plan(assumptions())
    checks = target_checks(
        [target("roi", 3, 1), target("aov", 320, 1)], result, {"roi": D("1.2"), "aov": D("200")}
    )
    assert [check.risk for check in checks] == [True, True]
    fine = target_checks([target("roi", 2, 1)], result, {"roi": D("1.5")})[0]
    assert fine.status == "on_plan" and not fine.risk


def test_unmodelled_metrics_and_months_beyond_the_plan_are_said_so():
    result = plan(assumptions())
    checks = target_checks(
        [target("refund_rate", "0.05", 1, comparison="<="), target("gmv", 1, 4)], result, {}
    )
    assert [check.status for check in checks] == ["not_modelled", "not_modelled"]
    assert not any(check.risk for check in checks)


def test_assumptions_round_trip_and_bad_fields_are_named():
    original = assumptions()
    assert assumptions_from_dict(assumptions_as_dict(original)) == original
    data = assumptions_as_dict(original)
    data.update(months=0, aov="abc", conversion_rate="1.5")
    data["channels"][1].update(channel="tv", cpc="0")
    with pytest.raises(ValidationError) as error:
        assumptions_from_dict(data)
    assert set(error.value.message_dict) == {
        "months",
        "aov",
        "conversion_rate",
        "channels.1.channel",
        "channels.1.cpc",
    }


class FakeWindow:
    def __init__(self, values):
        self.values = values


class FakeBaseline:
    def __init__(self, windows):
        self.windows = windows
        self.last_data_date = datetime.date(2026, 11, 1) if windows else None

    @property
    def has_data(self):
        return bool(self.windows)


def test_assumptions_start_from_the_baseline_or_from_defaults():
    baseline = FakeBaseline(
        {
            30: FakeWindow({"visitors": 50_000, "clicks": 8_000}),
            90: FakeWindow({"conversion_rate": D("0.031"), "aov": D("180.50"), "cpc": D("1.10")}),
        }
    )
    seeded = assumptions_from_baseline(baseline, months=6, budgets={"zhitongche": D("15000")})
    assert seeded.organic_visitors == 42_000
    assert seeded.conversion_rate == D("0.031") and seeded.aov == D("180.50")
    assert seeded.channels[0].cpc == D("1.10") and seeded.channels[0].monthly_budget == 15000
    empty = assumptions_from_baseline(FakeBaseline({}), months=3, budgets={})
    assert empty.organic_visitors == DEFAULTS["organic_visitors"]
    assert empty.conversion_rate == DEFAULTS["conversion_rate"] and empty.channels == ()
