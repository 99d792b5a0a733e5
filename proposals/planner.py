"""The target planner: what a proposal's budget and assumptions imply, month by month, and whether
each KPI target is plausible against the brand's baseline.

The funnel per paid channel is the agencies' own arithmetic: budget ÷ CPC = clicks; clicks ×
conversion = orders; orders × AOV = GMV; GMV ÷ spend = ROI. Organic visitors grow by a monthly
rate and convert at the store's rate. Everything is Decimal; counts are rounded half up to whole
units, money to the cent. Ratios over several months come from the summed parts, as in the metric
registry. A target is a risk when the plan falls short of it, or when reaching it needs a
conversion rate (or ROI, or AOV) far above the baseline: RISK_MULTIPLE times it or more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A target needing this multiple of the baseline rate (conversion, ROI) is flagged as a risk;
# for the average order value, which brands move less, a smaller multiple already is.
RISK_MULTIPLE = Decimal(2)
AOV_RISK_MULTIPLE = Decimal("1.5")
MAX_MONTHS = 36

CHANNELS = {
    "zhitongche": _("Zhitongche (直通车)"),
    "wanxiangtai": _("Wanxiangtai (万相台)"),
    "yinlimofang": _("Yinlimofang (引力魔方)"),
    "taobaoke": _("Taobaoke (淘宝客)"),
    "content": _("Livestream and short video"),
}

# Used when the store has no data yet (a new brand) and staff have not entered their own.
DEFAULTS = {
    "organic_visitors": 10_000,
    "organic_growth": Decimal("0.05"),
    "conversion_rate": Decimal("0.02"),
    "aov": Decimal("150.00"),
    "cpc": Decimal("1.50"),
}

ONE, CENT, RATE = Decimal(1), Decimal("0.01"), Decimal("0.000001")


def _units(value: Decimal) -> Decimal:
    return value.quantize(ONE, rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(numerator: Decimal, denominator: Decimal, places: Decimal = RATE) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ChannelAssumption:
    channel: str
    monthly_budget: Decimal
    cpc: Decimal
    conversion_rate: Decimal


@dataclass(frozen=True)
class PlannerAssumptions:
    months: int
    organic_visitors: int  # in month 1
    organic_growth: Decimal  # per month: 0.05 is +5 %
    conversion_rate: Decimal  # of organic visitors
    aov: Decimal
    channels: tuple[ChannelAssumption, ...] = ()


@dataclass(frozen=True)
class ChannelMonth:
    channel: str
    spend: Decimal
    clicks: Decimal
    orders: Decimal
    gmv: Decimal
    roi: Decimal | None


@dataclass(frozen=True)
class MonthPlan:
    month: int
    channels: tuple[ChannelMonth, ...]
    organic_visitors: Decimal
    organic_orders: Decimal
    organic_gmv: Decimal
    visitors: Decimal
    orders: Decimal
    gmv: Decimal
    spend: Decimal
    paid_gmv: Decimal
    clicks: Decimal

    @property
    def roi(self) -> Decimal | None:
        return _ratio(self.paid_gmv, self.spend)

    @property
    def conversion_rate(self) -> Decimal | None:
        return _ratio(self.orders, self.visitors)


@dataclass(frozen=True)
class Plan:
    assumptions: PlannerAssumptions
    months: tuple[MonthPlan, ...]

    def totals(self, first: int, last: int) -> dict[str, Decimal]:
        """Summed parts over months first..last (1-based, inclusive)."""
        chosen = [month for month in self.months if first <= month.month <= last]
        names = ("visitors", "orders", "gmv", "spend", "paid_gmv", "clicks")
        return {name: sum((getattr(m, name) for m in chosen), Decimal(0)) for name in names}


@dataclass(frozen=True)
class TargetCheck:
    target: dict
    implied: Decimal | None
    status: str  # "on_plan", "short" or "not_modelled"
    risk: bool
    reasons: list = field(default_factory=list)  # lazy-translated strings, formatted


def plan(assumptions: PlannerAssumptions) -> Plan:
    """The month-by-month funnel the assumptions imply."""
    months = []
    growth = ONE + assumptions.organic_growth
    for number in range(1, assumptions.months + 1):
        organic_visitors = _units(Decimal(assumptions.organic_visitors) * growth ** (number - 1))
        organic_orders = _units(organic_visitors * assumptions.conversion_rate)
        organic_gmv = _money(organic_orders * assumptions.aov)
        channels = []
        for channel in assumptions.channels:
            clicks = _units(channel.monthly_budget / channel.cpc) if channel.cpc else Decimal(0)
            orders = _units(clicks * channel.conversion_rate)
            gmv = _money(orders * assumptions.aov)
            channels.append(
                ChannelMonth(
                    channel=channel.channel,
                    spend=channel.monthly_budget,
                    clicks=clicks,
                    orders=orders,
                    gmv=gmv,
                    roi=_ratio(gmv, channel.monthly_budget),
                )
            )
        paid = {
            name: sum((getattr(c, name) for c in channels), Decimal(0))
            for name in ("spend", "clicks", "orders", "gmv")
        }
        months.append(
            MonthPlan(
                month=number,
                channels=tuple(channels),
                organic_visitors=organic_visitors,
                organic_orders=organic_orders,
                organic_gmv=organic_gmv,
                visitors=organic_visitors + paid["clicks"],
                orders=organic_orders + paid["orders"],
                gmv=organic_gmv + paid["gmv"],
                spend=paid["spend"],
                paid_gmv=paid["gmv"],
                clicks=paid["clicks"],
            )
        )
    return Plan(assumptions=assumptions, months=tuple(months))


# The metrics the funnel models, from summed parts (the registry's formulas over the plan's parts).
MODELLED = {
    "gmv": lambda s: s["gmv"],
    "visitors": lambda s: s["visitors"],
    "paying_buyers": lambda s: s["orders"],
    "paid_orders": lambda s: s["orders"],
    "ad_spend": lambda s: s["spend"],
    "ad_gmv": lambda s: s["paid_gmv"],
    "clicks": lambda s: s["clicks"],
    "roi": lambda s: _ratio(s["paid_gmv"], s["spend"]),
    "conversion_rate": lambda s: _ratio(s["orders"], s["visitors"]),
    "aov": lambda s: _ratio(s["gmv"], s["orders"], CENT),
    "uv_value": lambda s: _ratio(s["gmv"], s["visitors"], CENT),
    "cpc": lambda s: _ratio(s["spend"], s["clicks"], CENT),
}


def _meets(implied: Decimal, comparison: str, value: Decimal) -> bool:
    return implied >= value if comparison == ">=" else implied <= value


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(CENT, rounding=ROUND_HALF_UP)}%"


def _needed_conversion(metric: str, value: Decimal, sums: dict, aov: Decimal) -> Decimal | None:
    """The conversion rate the period's planned visitors need to reach the target."""
    if metric == "conversion_rate":
        return value
    if metric in {"paying_buyers", "paid_orders"}:
        return _ratio(value, sums["visitors"])
    if metric == "gmv" and aov:
        return _ratio(value / aov, sums["visitors"])
    return None


def target_checks(targets: list[dict], plan: Plan, baseline_values: dict) -> list[TargetCheck]:
    """What the plan implies for each target, and why a target is a risk.

    `baseline_values` holds the diagnosis baseline's metrics (`conversion_rate`, `roi`, `aov`),
    or nothing for a store without data: then the assumptions' own rates are the yardstick.
    """
    assumptions = plan.assumptions
    baseline_conversion = baseline_values.get("conversion_rate") or assumptions.conversion_rate
    checks = []
    for target in targets:
        metric, comparison = target["metric"], target["comparison"]
        value, by_month = Decimal(str(target["value"])), int(target["by_month"])
        if metric not in MODELLED or by_month > assumptions.months or by_month < 1:
            checks.append(TargetCheck(target, None, "not_modelled", False))
            continue
        first = 1 if target["period"] == "cumulative" else by_month
        sums = plan.totals(first, by_month)
        implied = MODELLED[metric](sums)
        reasons = []
        if implied is None:
            status = "not_modelled"
        elif _meets(implied, comparison, value):
            status = "on_plan"
        else:
            status = "short"
            reasons.append(
                _("The plan implies %(implied)s, not %(comparison)s %(value)s.")
                % {"implied": implied, "comparison": comparison, "value": value}
            )
        if comparison == ">=":
            needed = _needed_conversion(metric, value, sums, assumptions.aov)
            if needed is not None and baseline_conversion:
                multiple = needed / baseline_conversion
                if multiple >= RISK_MULTIPLE:
                    reasons.append(
                        _(
                            "Needs a conversion rate of %(needed)s, %(multiple)s× the "
                            "baseline %(baseline)s."
                        )
                        % {
                            "needed": _percent(needed),
                            "multiple": multiple.quantize(Decimal("0.1")),
                            "baseline": _percent(baseline_conversion),
                        }
                    )
            for name, limit in (("roi", RISK_MULTIPLE), ("aov", AOV_RISK_MULTIPLE)):
                baseline = baseline_values.get(name)
                if metric == name and baseline and value / baseline >= limit:
                    reasons.append(
                        _("Needs %(multiple)s× the baseline %(metric)s (%(baseline)s).")
                        % {
                            "multiple": (value / baseline).quantize(Decimal("0.1")),
                            "metric": name.upper() if name == "roi" else _("AOV"),
                            "baseline": baseline,
                        }
                    )
        checks.append(TargetCheck(target, implied, status, bool(reasons), reasons))
    return checks


# Baseline and (de)serialisation ---------------------------------------------------------------


def baseline_values(baseline) -> dict:
    """The diagnosis baseline's 90-day values (or 30-day, or nothing without data)."""
    if baseline is None or not baseline.has_data:
        return {}
    window = baseline.windows.get(90) or baseline.windows.get(30)
    return {name: value for name, value in window.values.items() if value is not None}


def assumptions_from_baseline(baseline, *, months: int, budgets: dict) -> PlannerAssumptions:
    """Assumptions prefilled from the store's last 90 days (defaults where it has no data):
    organic visitors are the 30-day visitors less paid clicks; every channel starts at the
    store's CPC and conversion rate."""
    values = baseline_values(baseline)
    monthly = {}
    if baseline is not None and baseline.has_data and 30 in baseline.windows:
        monthly = baseline.windows[30].values
    organic = (monthly.get("visitors") or 0) - (monthly.get("clicks") or 0)
    conversion = values.get("conversion_rate") or DEFAULTS["conversion_rate"]
    cpc = values.get("cpc") or DEFAULTS["cpc"]
    return PlannerAssumptions(
        months=months,
        organic_visitors=max(int(organic), 0) if monthly else DEFAULTS["organic_visitors"],
        organic_growth=DEFAULTS["organic_growth"],
        conversion_rate=Decimal(conversion),
        aov=Decimal(values.get("aov") or DEFAULTS["aov"]),
        channels=tuple(
            ChannelAssumption(
                channel=channel,
                monthly_budget=Decimal(budget),
                cpc=Decimal(cpc),
                conversion_rate=Decimal(conversion),
            )
            for channel, budget in budgets.items()
        ),
    )


def assumptions_as_dict(assumptions: PlannerAssumptions) -> dict:
    return {
        "months": assumptions.months,
        "organic_visitors": assumptions.organic_visitors,
        "organic_growth": str(assumptions.organic_growth),
        "conversion_rate": str(assumptions.conversion_rate),
        "aov": str(assumptions.aov),
        "channels": [
            {
                "channel": c.channel,
                "monthly_budget": str(c.monthly_budget),
                "cpc": str(c.cpc),
                "conversion_rate": str(c.conversion_rate),
            }
            for c in assumptions.channels
        ],
    }


def finite_decimal(raw) -> Decimal | None:
    """A number typed or stored anywhere in a proposal, or None when it is not a finite one."""
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return value if value.is_finite() else None


def not_a_number(raw) -> str:
    return _("“%(value)s” is not a number.") % {"value": raw}


def _decimal(raw, field_name: str, errors: dict, *, low: Decimal, high: Decimal | None = None):
    value = finite_decimal(raw)
    if value is None:
        errors[field_name] = not_a_number(raw)
        return None
    if value < low or (high is not None and value > high):
        errors[field_name] = (
            _("Give a value from %(low)s to %(high)s.") % {"low": low, "high": high}
            if high is not None
            else _("Give a value of at least %(low)s.") % {"low": low}
        )
        return None
    return value


def assumptions_from_dict(data: dict) -> PlannerAssumptions:
    """Assumptions from a form or a stored snapshot; every bad field is named at once."""
    errors: dict = {}
    try:
        months = int(data.get("months"))
        if not 1 <= months <= MAX_MONTHS:
            raise ValueError
    except (TypeError, ValueError):
        errors["months"] = _("Plan from 1 to %(max)s months.") % {"max": MAX_MONTHS}
        months = 0
    organic = _decimal(data.get("organic_visitors"), "organic_visitors", errors, low=Decimal(0))
    growth = _decimal(
        data.get("organic_growth"), "organic_growth", errors, low=Decimal(-1), high=Decimal(10)
    )
    conversion = _decimal(
        data.get("conversion_rate"), "conversion_rate", errors, low=Decimal(0), high=ONE
    )
    aov = _decimal(data.get("aov"), "aov", errors, low=CENT)
    channels = []
    for index, raw in enumerate(data.get("channels") or []):
        prefix = f"channels.{index}"
        if raw.get("channel") not in CHANNELS:
            errors[f"{prefix}.channel"] = _("Unknown channel “%(channel)s”.") % {
                "channel": raw.get("channel")
            }
        budget = _decimal(
            raw.get("monthly_budget"), f"{prefix}.monthly_budget", errors, low=Decimal(0)
        )
        cpc = _decimal(raw.get("cpc"), f"{prefix}.cpc", errors, low=CENT)
        rate = _decimal(
            raw.get("conversion_rate"),
            f"{prefix}.conversion_rate",
            errors,
            low=Decimal(0),
            high=ONE,
        )
        if not errors:
            channels.append(ChannelAssumption(raw["channel"], budget, cpc, rate))
    if errors:
        raise ValidationError(errors)
    return PlannerAssumptions(
        months=months,
        organic_visitors=int(organic),
        organic_growth=growth,
        conversion_rate=conversion,
        aov=aov,
        channels=tuple(channels),
    )
