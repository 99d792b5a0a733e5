"""The alert and insight rules: small declarative functions over registry metrics, one module.

Each rule has a stable id, a severity, a title, and three small functions: `evaluate` (the
condition, over a `RuleContext`, returning findings with their evidence), `message` and `action`
(the evidence as one sentence and as a concrete recommendation, translated at call time, so a
stored alert reads in whoever's language opens it). Alert rules (`is_alert`) are stored as
`execution.models.Alert` by `execution.alerts`; insight rules (info only) feed the daily brief's
insights, so that a quiet day still says something useful with numbers.

Where the figures come from: every figure is a metric of the registry computed by
`metrics_query`. The context reads bounded windows only, whatever the history (a constant number
of queries per engagement and day, about ten):
- the store series at grain day over the 28 days before the date and the date itself (two
  queries: store facts and ad facts); a window inside it (the trailing 7 days, the week before)
  is the sum of its days' components evaluated by the registry formula — exactly what
  `metrics_query(grain="total")` would return for that window (a test checks this), without a
  round trip per window;
- the 7 days through the date by campaign (day grain, to know which campaigns still spend), by ad
  tool, by traffic source (day grain, for the day and the week) and by product;
- the engagement's targets, and `targets_pacing` for those whose period contains the date.
Ratios are never averaged: a window's conversion rate is Σ buyers / Σ visitors over its days.

Windows: "the day" is the date asked for; "trailing 7 days" the 7 days before it; "the last 7
days" the 7 days through it (campaigns, products and channels: one day of a product or a plan is
noise, and ad sales are credited to the click day for up to 15 days, so the last days' ROI still
grows as late orders arrive).
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engagements.models import Engagement, EngagementTarget
from execution.metrics.pacing import plain, plan_month_bounds, targets_pacing
from execution.metrics.query import metrics_query
from execution.metrics.registry import METRICS, MONEY, RATIO, SECONDS, components_of
from execution.metrics.schema import AdTool
from execution.models import AlertSeverity

CRITICAL, WARNING, INFO = (
    AlertSeverity.CRITICAL.value,
    AlertSeverity.WARNING.value,
    AlertSeverity.INFO.value,
)
SEVERITY_RANK = {CRITICAL: 0, WARNING: 1, INFO: 2}

# --- Thresholds (each with why) ---------------------------------------------------------------

# Windows. 7 days is the trailing comparison agencies use in a 日报; 28 days is four full weeks,
# so the anomaly range sees every weekday four times.
TRAILING_DAYS = 7
ANOMALY_WINDOW_DAYS = 28
# A trailing figure from fewer days with data than this is not a baseline.
TRAILING_MIN_DAYS = 5
# Below this many visitors a day's conversion rate swings by chance (2 buyers more or less).
STORE_MIN_VISITORS = 200

# traffic_up_conversion_down: visitors ≥ 20 % above the trailing daily average while the
# conversion rate is ≥ 15 % (relative) below the trailing rate: bigger than everyday noise.
TRAFFIC_MIN_RISE = Decimal("0.20")
CONVERSION_MIN_DROP = Decimal("0.15")

# product_low_conversion: a product needs this many visitors in the last 7 days before its
# conversion rate means anything (3 visitors and no buyer says nothing), and converts at less
# than half the store's rate.
PRODUCT_MIN_VISITORS = 300
PRODUCT_CONVERSION_RATIO = Decimal("0.5")
# product_low_ctr: enough ad impressions that the click-through rate is stable (at a 1 % CTR,
# 5,000 impressions are ~50 clicks), and a CTR below 60 % of the store's ad CTR.
PRODUCT_MIN_IMPRESSIONS = 5000
PRODUCT_CTR_RATIO = Decimal("0.6")
# At most this many products per product rule and day: the worst first, not a wall of alerts.
PRODUCT_FINDINGS_MAX = 3

# roi_below_target: a campaign must have spent this much in the last 7 days (¥5 of spend says
# nothing about a plan) and still spend on the day (a paused plan needs no new bids). Without an
# ROI target, the bar is break-even: ROI 1 returns what it costs, below it loses money.
ROI_MIN_SPEND = Decimal("300")
ROI_BREAK_EVEN = Decimal("1")

# cpc_rising: the last 7 days' CPC ≥ 20 % above the 7 days before, each week with at least
# 200 clicks (fewer and a few expensive clicks move the average).
CPC_MAX_RISE = Decimal("0.20")
CPC_MIN_CLICKS = 200

# channel_cac_high: a channel (ad tool) that spent at least ¥500 in the last 7 days and paid
# more than 1.5 × the engagement's average cost per new buyer. The average is over the paid
# channels (their spend / their new buyers): the store-wide CAC (all ad spend / all new buyers)
# counts organic new buyers too, so every paid channel would always be "above average". The
# average needs 10 new buyers behind it.
CHANNEL_MIN_SPEND = Decimal("500")
CHANNEL_CAC_RATIO = Decimal("1.5")
CHANNEL_MIN_NEW_BUYERS = 10
# 生意参谋 names paid traffic sources after the ad tool that bought them.
SOURCE_AD_TOOL: dict[str, str] = {
    "直通车": AdTool.ZHITONGCHE.value,
    "万相台": AdTool.WANXIANGTAI.value,
    "引力魔方": AdTool.YINLIMOFANG.value,
}

# gmv_pacing_behind: not before the 3rd day of the period (a forecast from one or two days is
# mostly the weekday); critical when the forecast is below 80 % of the target.
PACING_MIN_DAYS = 3
PACING_CRITICAL_RATIO = Decimal("0.8")

# cs_reply_slow: the service level agreed with Tmall agencies' clients is a first reply within
# 30 s (DESIGN.md); a day with fewer than 20 sessions is too few conversations to judge.
CS_REPLY_SLA_SECONDS = Decimal("30")
CS_MIN_SESSIONS = 20

# refund_rate_jump: the day's refund rate at least twice its trailing 7-day rate and at least
# 5 points above it, on a day with ¥1,000 of GMV and ¥200 of refunds (one refund on a slow day
# is not a jump).
REFUND_JUMP_RATIO = Decimal("2")
REFUND_JUMP_MIN_POINTS = Decimal("0.05")
REFUND_MIN_GMV = Decimal("1000")
REFUND_MIN_AMOUNT = Decimal("200")

# metric_anomaly: outside median ± k · MAD of the trailing 28 days, MAD scaled by 1.4826 so it
# estimates the standard deviation of normal data (k = 3: ~0.3 % of normal days by chance);
# at least 14 days with data; and at least 25 % away from the median, so that flat data (MAD 0)
# does not turn every small change into an anomaly. A metric whose median is 0 (ads not running)
# is not anomalous when it starts.
ANOMALY_METRICS = ("gmv", "visitors", "conversion_rate", "ad_spend")
ANOMALY_K = Decimal("3")
MAD_SCALE = Decimal("1.4826")
ANOMALY_MIN_DAYS = 14
ANOMALY_MIN_RELATIVE = Decimal("0.25")

# gmv_vs_last_week: a change smaller than 5 % is "steady".
STEADY_CHANGE = Decimal("0.05")
# top_product: one product with more than half the GMV is a concentration risk.
PRODUCT_CONCENTRATION = Decimal("0.5")

# What the store series carries: the components the rules sum over windows, and the day ratios
# they read (a caller sharing the context may ask for more, see RuleContext).
SERIES_METRICS = [
    "visitors",
    "paying_buyers",
    "gmv",
    "new_buyers",
    "refund_amount",
    "cs_first_reply_seconds_sum",
    "cs_sessions",
    "impressions",
    "clicks",
    "ad_spend",
    "ad_gmv",
    "conversion_rate",
    "refund_rate",
    "cs_avg_first_reply",
]
CAMPAIGN_METRICS = ["impressions", "clicks", "ad_spend", "ad_gmv", "ad_orders", "roi"]
SOURCE_METRICS = ["visitors", "paying_buyers", "new_buyers", "gmv", "conversion_rate"]
PRODUCT_METRICS = [
    "visitors",
    "paying_buyers",
    "gmv",
    "impressions",
    "clicks",
    "conversion_rate",
    "ctr",
]
WEEK_METRICS = [
    "visitors",
    "paying_buyers",
    "gmv",
    "new_buyers",
    "impressions",
    "clicks",
    "ad_spend",
    "conversion_rate",
    "ctr",
    "cpc",
    "cac",
]


# --- Findings and rules -----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One rule that holds for an engagement on a day: about what (`cause`: a campaign
    "zhitongche:计划A", an item id, a source, a metric; "" for the store), and the numbers behind
    it (`evidence`, JSON-safe). Its text is rendered from the rule and the evidence."""

    rule: str
    severity: str
    cause: str
    evidence: dict

    def message(self) -> str:
        return finding_text(self.rule, self.evidence)[0]

    def action(self) -> str:
        return finding_text(self.rule, self.evidence)[1]

    @property
    def is_alert(self) -> bool:
        return RULES[self.rule].is_alert

    def as_dict(self) -> dict:
        message, action = finding_text(self.rule, self.evidence)
        return {
            "rule": self.rule,
            "severity": self.severity,
            "cause": self.cause,
            "evidence": self.evidence,
            "message": message,
            "action": action,
        }


@dataclass(frozen=True)
class Rule:
    """A rule: its condition (`evaluate`), its usual severity (a finding may escalate or, for a
    favourable change, relax it), and how its evidence reads (`message`, `action`)."""

    id: str
    severity: str
    title: Promise
    is_alert: bool
    evaluate: Callable[[RuleContext], list[Finding]]
    message: Callable[[dict], str]
    action: Callable[[dict], str]


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    *,
    severity: str,
    title: Promise,
    message: Callable[[dict], str],
    action: Callable[[dict], str],
    is_alert: bool = True,
) -> Callable:
    """Register the decorated condition as a rule."""

    def register(evaluate: Callable[[RuleContext], list[Finding]]):
        if rule_id in RULES:
            raise ValueError(f"A rule with id {rule_id!r} is already registered.")
        RULES[rule_id] = Rule(rule_id, severity, title, is_alert, evaluate, message, action)
        return evaluate

    return register


def finding_text(rule: str, evidence: dict) -> tuple[str, str]:
    """(message, action) of a finding or a stored alert, in the active language. Evidence that no
    longer fits its rule's text (an old alert, a rule since renamed) still reads, plainly."""
    definition = RULES.get(rule)
    if definition is None:
        return rule, ""
    try:
        return definition.message(evidence), definition.action(evidence)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        details = ", ".join(f"{key} {value}" for key, value in sorted(evidence.items()))
        return _("%(title)s: %(details)s") % {"title": definition.title, "details": details}, ""


# --- Number formats for messages --------------------------------------------------------------


def _yuan(value) -> str:
    return f"¥{Decimal(value):,.2f}"


def _count(value) -> str:
    return f"{Decimal(value):,.0f}"


def _percent(value) -> str:
    return f"{Decimal(value) * 100:.2f}%"


def _change(value) -> str:
    return f"{Decimal(value) * 100:+.1f}%"


def _seconds(value) -> str:
    return _("%(seconds)s s") % {"seconds": f"{Decimal(value):.1f}"}


def _metric_value(metric: str, value) -> str:
    unit = METRICS[metric].unit
    if unit == MONEY:
        return _yuan(value)
    if unit == RATIO:
        return _percent(value)
    if unit == SECONDS:
        return _seconds(value)
    return _count(value)


def _metric_label(metric: str) -> str:
    return str(METRICS[metric].label) if metric in METRICS else metric


def _tool_label(tool: str) -> str:
    return str(AdTool(tool).label) if tool in AdTool.values else tool


def _text(value) -> str | None:
    """Evidence form of a figure: Decimals as strings, None kept."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    return value


def _ratio(numerator, denominator, places: int = 4) -> Decimal | None:
    """A relative figure (a change, a share) from two registry values, or None."""
    if numerator is None or not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )


def _product_name(evidence: dict) -> str:
    name = evidence.get("item_name") or ""
    return f"{name} ({evidence['item_id']})" if name else evidence["item_id"]


# --- The context: bounded windows, read once per engagement and day ---------------------------


def _days(end: datetime.date, count: int) -> tuple[datetime.date, datetime.date]:
    """The `count` days ending on `end`."""
    return end - datetime.timedelta(days=count - 1), end


def sum_rows(rows: Iterable[dict], names: list[str]) -> dict:
    """The metrics `names` over several rows of `metrics_query` (days of one series): components
    summed, ratios evaluated from the sums by the registry, as `metrics_query(grain="total")`
    does in the database. The rows must carry the components of `names`."""
    rows = list(rows)
    sums: dict = {}
    for component in components_of(names):
        values = [row[component] for row in rows if row.get(component) is not None]
        sums[component] = sum(values) if values else None
    return {name: METRICS[name].evaluate(sums) for name in names}


class RuleContext:
    """What the rules of one engagement and day read, each piece queried once, on first use."""

    def __init__(
        self, *, engagement: Engagement, date: datetime.date, series_metrics: Iterable[str] = ()
    ):
        """`series_metrics`: registry metrics the store series should carry besides the rules'
        own (the daily brief reads its day, day-before and 7-day figures from the same rows)."""
        self.engagement = engagement
        self.date = date
        self.series_metrics = list(dict.fromkeys([*SERIES_METRICS, *series_metrics]))
        self.store_ids = [engagement.store_id]
        self.week_start, _end = _days(date, TRAILING_DAYS)

    def _query(self, start, end, **arguments) -> list[dict]:
        return metrics_query(store_ids=self.store_ids, start=start, end=end, **arguments)

    # The store series: the 28 days before the date, and the date.
    @cached_property
    def series(self) -> dict[datetime.date, dict]:
        start = self.date - datetime.timedelta(days=ANOMALY_WINDOW_DAYS)
        rows = self._query(start, self.date, grain="day", metrics=self.series_metrics)
        return {row["period_start"]: row for row in rows}

    def series_between(self, start: datetime.date, end: datetime.date) -> list[dict]:
        return [row for day, row in sorted(self.series.items()) if start <= day <= end]

    def total(self, start: datetime.date, end: datetime.date, names: list[str]) -> dict:
        return sum_rows(self.series_between(start, end), names)

    @cached_property
    def today(self) -> dict | None:
        return self.series.get(self.date)

    @cached_property
    def trailing_rows(self) -> list[dict]:
        """The trailing 7 days (before the date)."""
        return self.series_between(*_days(self.date - datetime.timedelta(days=1), TRAILING_DAYS))

    @cached_property
    def trailing(self) -> dict:
        return sum_rows(self.trailing_rows, [*WEEK_METRICS, "refund_amount", "refund_rate"])

    @cached_property
    def last_week(self) -> dict:
        """The last 7 days, through the date."""
        return self.total(self.week_start, self.date, WEEK_METRICS)

    @cached_property
    def week_before(self) -> dict:
        """The 7 days before the last 7."""
        end = self.week_start - datetime.timedelta(days=1)
        return self.total(*_days(end, TRAILING_DAYS), WEEK_METRICS)

    # Breakdowns over the last 7 days.
    @cached_property
    def campaigns(self) -> list[dict]:
        """Per campaign: the last 7 days' totals, and `spend_today`."""
        rows = self._query(
            self.week_start, self.date, grain="day", by="campaign", metrics=CAMPAIGN_METRICS
        )
        by_campaign: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for row in rows:
            by_campaign[row["ad_tool"], row["campaign"]].append(row)
        campaigns = []
        for (tool, campaign), days in sorted(by_campaign.items()):
            totals = sum_rows(days, CAMPAIGN_METRICS)
            today = [day for day in days if day["period_start"] == self.date]
            totals.update(
                ad_tool=tool,
                campaign=campaign,
                spend_today=today[0]["ad_spend"] if today else None,
            )
            campaigns.append(totals)
        return campaigns

    @cached_property
    def ad_tools(self) -> list[dict]:
        return self._query(
            self.week_start,
            self.date,
            grain="total",
            by="ad_tool",
            metrics=["ad_spend", "ad_gmv", "roi"],
        )

    @cached_property
    def _source_rows(self) -> list[dict]:
        return self._query(
            self.week_start, self.date, grain="day", by="source", metrics=SOURCE_METRICS
        )

    @cached_property
    def sources_today(self) -> list[dict]:
        return [row for row in self._source_rows if row["period_start"] == self.date]

    @cached_property
    def sources_week(self) -> dict[str, dict]:
        by_source: dict[str, list[dict]] = defaultdict(list)
        for row in self._source_rows:
            by_source[row["source"]].append(row)
        return {source: sum_rows(days, SOURCE_METRICS) for source, days in by_source.items()}

    @cached_property
    def products(self) -> list[dict]:
        return self._query(
            self.week_start, self.date, grain="total", by="product", metrics=PRODUCT_METRICS
        )

    # Targets.
    @cached_property
    def targets(self) -> list[EngagementTarget]:
        """The targets whose period contains the date."""
        engagement = self.engagement
        current = []
        for target in EngagementTarget.objects.filter(engagement=engagement):
            first, last = plan_month_bounds(
                engagement.start_date, target.by_month, target.period == "cumulative"
            )
            if first <= self.date <= last:
                current.append(target)
        return current

    @cached_property
    def paces(self):
        if not self.targets:
            return []
        return targets_pacing(engagement=self.engagement, as_of=self.date, targets=self.targets)

    @cached_property
    def roi_target(self) -> Decimal | None:
        """The ROI bar of the date: the month's target if there is one, else the cumulative one
        (the highest, if several)."""
        targets = [t for t in self.targets if t.metric == "roi" and t.comparison != "<="]
        monthly = [t for t in targets if t.period == "month"] or targets
        return max((plain(t.value) for t in monthly), default=None)

    def finding(self, rule_id: str, cause: str, evidence: dict, severity: str | None = None):
        evidence = {"date": self.date.isoformat(), **evidence}
        return Finding(
            rule=rule_id,
            severity=severity or RULES[rule_id].severity,
            cause=cause,
            evidence={key: _text(value) for key, value in evidence.items()},
        )


def findings_for_day(
    *, engagement: Engagement, date: datetime.date, context: RuleContext | None = None
) -> list[Finding]:
    """Every rule, alert and insight, evaluated for the engagement's store on `date` (data
    through that day), most severe first. A constant number of queries whatever the history.
    A caller that reads the same figures (the daily brief) may pass its own `RuleContext` of the
    same engagement and date, so they are queried once."""
    if context is None:
        context = RuleContext(engagement=engagement, date=date)
    elif context.engagement.pk != engagement.pk or context.date != date:
        raise ValueError("The rule context is of another engagement or date.")
    order = {rule_id: index for index, rule_id in enumerate(RULES)}
    findings = [finding for rule in RULES.values() for finding in rule.evaluate(context)]
    # Stable: within a rule, the rule's own order (the worst product first) stands.
    findings.sort(key=lambda f: (SEVERITY_RANK[f.severity], order[f.rule]))
    return findings


# --- Alert rules ------------------------------------------------------------------------------


@rule(
    "traffic_up_conversion_down",
    severity=WARNING,
    title=gettext_lazy("Traffic up, conversion down"),
    message=lambda e: (
        _(
            "Visitors rose to %(visitors)s on %(date)s (%(visitors_change)s against the trailing "
            "7-day average of %(visitors_avg)s) while the conversion rate fell to %(conversion)s "
            "(trailing 7 days: %(conversion_7d)s)."
        )
        % {
            "visitors": _count(e["visitors"]),
            "date": e["date"],
            "visitors_change": _change(e["visitors_change"]),
            "visitors_avg": _count(e["visitors_avg_7d"]),
            "conversion": _percent(e["conversion_rate"]),
            "conversion_7d": _percent(e["conversion_rate_7d"]),
        }
    ),
    action=lambda e: _(
        "The extra visitors are not buying: check which traffic sources grew and whether their "
        "targeting (keywords, crowds) fits the product, and whether the detail page (main image, "
        "price, reviews, promotion) answers what they came for."
    ),
)
def traffic_up_conversion_down(context: RuleContext) -> list[Finding]:
    today = context.today
    trailing_days = [row for row in context.trailing_rows if row["visitors"]]
    if today is None or len(trailing_days) < TRAILING_MIN_DAYS:
        return []
    visitors, conversion = today["visitors"], today["conversion_rate"]
    conversion_7d = context.trailing["conversion_rate"]
    if not visitors or visitors < STORE_MIN_VISITORS or conversion is None or not conversion_7d:
        return []
    average = _ratio(context.trailing["visitors"], len(trailing_days), 2)
    visitors_change = _ratio(visitors, average) - 1
    conversion_change = _ratio(conversion, conversion_7d) - 1
    if visitors_change < TRAFFIC_MIN_RISE or conversion_change > -CONVERSION_MIN_DROP:
        return []
    return [
        context.finding(
            "traffic_up_conversion_down",
            "",
            {
                "visitors": visitors,
                "visitors_avg_7d": average,
                "visitors_change": visitors_change,
                "conversion_rate": conversion,
                "conversion_rate_7d": conversion_7d,
                "conversion_change": conversion_change,
                "paying_buyers": today["paying_buyers"],
            },
        )
    ]


@rule(
    "product_low_conversion",
    severity=WARNING,
    title=gettext_lazy("Product with many visitors converts poorly"),
    message=lambda e: (
        _(
            "%(product)s had %(visitors)s visitors in the 7 days to %(date)s but converted "
            "%(conversion)s of them, against %(store_conversion)s for the store."
        )
        % {
            "product": _product_name(e),
            "visitors": _count(e["visitors"]),
            "date": e["date"],
            "conversion": _percent(e["conversion_rate"]),
            "store_conversion": _percent(e["store_conversion_rate"]),
        }
    ),
    action=lambda e: _(
        "Compare its price with competing listings and review its detail page (main image, "
        "selling points, reviews, sizes or variants in stock); if price is the gap, test a "
        "coupon or a bundle."
    ),
)
def product_low_conversion(context: RuleContext) -> list[Finding]:
    store_conversion = context.last_week["conversion_rate"]
    if not store_conversion:
        return []
    findings = []
    products = sorted(context.products, key=lambda p: (-(p["visitors"] or 0), p["item_id"]))
    for product in products:
        conversion = product["conversion_rate"]
        if (product["visitors"] or 0) < PRODUCT_MIN_VISITORS or conversion is None:
            continue
        if conversion >= store_conversion * PRODUCT_CONVERSION_RATIO:
            continue
        findings.append(
            context.finding(
                "product_low_conversion",
                product["item_id"],
                {
                    "item_id": product["item_id"],
                    "item_name": product["item_name"],
                    "visitors": product["visitors"],
                    "paying_buyers": product["paying_buyers"] or 0,
                    "conversion_rate": conversion,
                    "store_conversion_rate": store_conversion,
                    "window_start": context.week_start.isoformat(),
                },
            )
        )
        if len(findings) == PRODUCT_FINDINGS_MAX:
            break
    return findings


@rule(
    "product_low_ctr",
    severity=WARNING,
    title=gettext_lazy("Product ads are shown but not clicked"),
    message=lambda e: (
        _(
            "The ads of %(product)s were shown %(impressions)s times in the 7 days to %(date)s "
            "with a click-through rate of %(ctr)s, against %(store_ctr)s for all the store's ads."
        )
        % {
            "product": _product_name(e),
            "impressions": _count(e["impressions"]),
            "date": e["date"],
            "ctr": _percent(e["ctr"]),
            "store_ctr": _percent(e["store_ctr"]),
        }
    ),
    action=lambda e: _(
        "Test a new main image and a clearer selling point in the creative (price, promotion, "
        "what sets it apart), and drop the keywords or crowds where it is shown but not clicked."
    ),
)
def product_low_ctr(context: RuleContext) -> list[Finding]:
    store_ctr = context.last_week["ctr"]
    if not store_ctr:
        return []
    findings = []
    products = sorted(context.products, key=lambda p: (-(p["impressions"] or 0), p["item_id"]))
    for product in products:
        ctr = product["ctr"]
        if (product["impressions"] or 0) < PRODUCT_MIN_IMPRESSIONS or ctr is None:
            continue
        if ctr >= store_ctr * PRODUCT_CTR_RATIO:
            continue
        findings.append(
            context.finding(
                "product_low_ctr",
                product["item_id"],
                {
                    "item_id": product["item_id"],
                    "item_name": product["item_name"],
                    "impressions": product["impressions"],
                    "clicks": product["clicks"] or 0,
                    "ctr": ctr,
                    "store_ctr": store_ctr,
                    "window_start": context.week_start.isoformat(),
                },
            )
        )
        if len(findings) == PRODUCT_FINDINGS_MAX:
            break
    return findings


def _roi_message(e: dict) -> str:
    values = {
        "campaign": e["campaign"],
        "tool": _tool_label(e["ad_tool"]),
        "roi": f"{Decimal(e['roi']):.2f}",
        "spend": _yuan(e["ad_spend"]),
        "ad_gmv": _yuan(e["ad_gmv"] or 0),
        "date": e["date"],
        "target": f"{Decimal(e['threshold']):.2f}",
    }
    if e["threshold_kind"] == "target":
        return (
            _(
                "%(campaign)s (%(tool)s) returned an ROI of %(roi)s in the 7 days to %(date)s "
                "(%(ad_gmv)s of sales on %(spend)s of spend), below the target of %(target)s."
            )
            % values
        )
    return (
        _(
            "%(campaign)s (%(tool)s) returned an ROI of %(roi)s in the 7 days to %(date)s "
            "(%(ad_gmv)s of sales on %(spend)s of spend): it is losing money."
        )
        % values
    )


@rule(
    "roi_below_target",
    severity=WARNING,
    title=gettext_lazy("Campaign ROI below target"),
    message=_roi_message,
    action=lambda e: (
        _(
            "Lower the bids on the keywords and crowds that spend without orders, narrow the "
            "targeting to the crowds that buy, and refresh the creatives; pause the plan if its "
            "ROI stays below %(target)s for another week."
        )
        % {"target": f"{Decimal(e['threshold']):.2f}"}
    ),
)
def roi_below_target(context: RuleContext) -> list[Finding]:
    target = context.roi_target
    threshold = target if target is not None else ROI_BREAK_EVEN
    findings = []
    for campaign in context.campaigns:
        roi, spend = campaign["roi"], campaign["ad_spend"]
        if spend is None or spend < ROI_MIN_SPEND or not campaign["spend_today"] or roi is None:
            continue
        if roi >= threshold:
            continue
        findings.append(
            context.finding(
                "roi_below_target",
                f"{campaign['ad_tool']}:{campaign['campaign']}",
                {
                    "ad_tool": campaign["ad_tool"],
                    "campaign": campaign["campaign"],
                    "ad_spend": spend,
                    "ad_gmv": campaign["ad_gmv"],
                    "roi": roi,
                    "threshold": threshold,
                    "threshold_kind": "target" if target is not None else "break_even",
                    "window_start": context.week_start.isoformat(),
                },
                severity=CRITICAL if roi < ROI_BREAK_EVEN else WARNING,
            )
        )
    return findings


@rule(
    "cpc_rising",
    severity=WARNING,
    title=gettext_lazy("Cost per click rising"),
    message=lambda e: (
        _(
            "The average cost per click rose to %(cpc)s in the 7 days to %(date)s, %(change)s "
            "against %(cpc_before)s the week before (%(clicks)s clicks for %(spend)s)."
        )
        % {
            "cpc": _yuan(e["cpc"]),
            "date": e["date"],
            "change": _change(e["cpc_change"]),
            "cpc_before": _yuan(e["cpc_previous"]),
            "clicks": _count(e["clicks"]),
            "spend": _yuan(e["ad_spend"]),
        }
    ),
    action=lambda e: _(
        "Find the keywords and crowds whose clicks got dearer (more competition, an aggressive "
        "bidding strategy), lower the bids where ROI fell, and add long-tail keywords with "
        "cheaper clicks."
    ),
)
def cpc_rising(context: RuleContext) -> list[Finding]:
    now, before = context.last_week, context.week_before
    if (now["clicks"] or 0) < CPC_MIN_CLICKS or (before["clicks"] or 0) < CPC_MIN_CLICKS:
        return []
    change = _ratio(now["cpc"], before["cpc"])
    if change is None or change - 1 < CPC_MAX_RISE:
        return []
    return [
        context.finding(
            "cpc_rising",
            "",
            {
                "cpc": now["cpc"],
                "cpc_previous": before["cpc"],
                "cpc_change": change - 1,
                "clicks": now["clicks"],
                "clicks_previous": before["clicks"],
                "ad_spend": now["ad_spend"],
                "ad_spend_previous": before["ad_spend"],
                "window_start": context.week_start.isoformat(),
            },
        )
    ]


def _channel_message(e: dict) -> str:
    values = {
        "tool": _tool_label(e["ad_tool"]),
        "spend": _yuan(e["ad_spend"]),
        "new_buyers": _count(e["new_buyers"]),
        "cac": _yuan(e["cac"]) if e["cac"] is not None else "—",
        "average": _yuan(e["average_cac"]),
        "date": e["date"],
    }
    if e["cac"] is None:
        return (
            _(
                "%(tool)s spent %(spend)s in the 7 days to %(date)s and brought no new buyer, "
                "while the paid channels paid %(average)s per new buyer on average."
            )
            % values
        )
    return (
        _(
            "%(tool)s paid %(cac)s per new buyer in the 7 days to %(date)s (%(spend)s for "
            "%(new_buyers)s new buyers), against %(average)s on average across the paid channels."
        )
        % values
    )


@rule(
    "channel_cac_high",
    severity=WARNING,
    title=gettext_lazy("Channel's cost per new buyer high"),
    message=_channel_message,
    action=lambda e: (
        _(
            "Aim %(tool)s's plans at new-customer crowds (exclude past buyers), or move part of "
            "its budget to the channels that win new buyers for less."
        )
        % {"tool": _tool_label(e["ad_tool"])}
    ),
)
def channel_cac_high(context: RuleContext) -> list[Finding]:
    """Channel = ad tool: its spend from the ad facts (by ad tool), its new buyers from the
    traffic source of the same name (SOURCE_AD_TOOL). A channel whose source is not in the
    traffic-source report is skipped: its new buyers are unknown, not zero."""
    channels = []
    for row in context.ad_tools:
        sources = [s for s, tool in SOURCE_AD_TOOL.items() if tool == row["ad_tool"]]
        values = [
            context.sources_week[s]["new_buyers"] for s in sources if s in context.sources_week
        ]
        if row["ad_spend"] is None or all(value is None for value in values):
            continue
        new_buyers = sum(value or 0 for value in values)
        cac = METRICS["cac"].evaluate({"ad_spend": row["ad_spend"], "new_buyers": new_buyers})
        sources = [s for s in sources if s in context.sources_week]
        channels.append((row["ad_tool"], "/".join(sources), row["ad_spend"], new_buyers, cac))
    paid_new_buyers = sum(channel[3] for channel in channels)
    if paid_new_buyers < CHANNEL_MIN_NEW_BUYERS:
        return []
    average = METRICS["cac"].evaluate(
        {"ad_spend": sum(channel[2] for channel in channels), "new_buyers": paid_new_buyers}
    )
    findings = []
    for tool, source, spend, new_buyers, cac in channels:
        if spend < CHANNEL_MIN_SPEND or (cac is not None and cac <= average * CHANNEL_CAC_RATIO):
            continue
        findings.append(
            context.finding(
                "channel_cac_high",
                tool,
                {
                    "ad_tool": tool,
                    "source": source,
                    "ad_spend": spend,
                    "new_buyers": new_buyers,
                    "cac": cac,
                    "average_cac": average,
                    "store_cac": context.last_week["cac"],
                    "window_start": context.week_start.isoformat(),
                },
            )
        )
    return findings


def _target_cause(pace) -> str:
    target = pace.target
    return f"{target.metric}:{target.period}:{target.by_month}"


def _pace_evidence(pace) -> dict:
    days_left = pace.days_total - pace.days_elapsed
    return {
        "metric": pace.metric.name,
        "comparison": pace.target.comparison,
        "target": plain(pace.target.value),
        "period": pace.target.period,
        "by_month": pace.target.by_month,
        "period_start": pace.period_start.isoformat(),
        "period_end": pace.period_end.isoformat(),
        "days_elapsed": pace.days_elapsed,
        "days_total": pace.days_total,
        "days_left": days_left,
        "actual": pace.actual,
        "expected": pace.expected,
        "forecast": pace.forecast,
        "pace_ratio": pace.pace_ratio,
    }


def _pacing_message(e: dict) -> str:
    values = {
        "target": _yuan(e["target"]),
        "start": e["period_start"],
        "end": e["period_end"],
        "actual": _yuan(e["actual"]),
        "expected": _yuan(e["expected"]),
        "forecast": _yuan(e["forecast"]),
        "elapsed": e["days_elapsed"],
        "total": e["days_total"],
        "pace": _percent(e["pace_ratio"]),
    }
    if not e["days_left"]:
        return (
            _(
                "GMV ended the period %(start)s to %(end)s at %(actual)s, %(pace)s of its target "
                "of %(target)s."
            )
            % values
        )
    return (
        _(
            "GMV is behind its target of %(target)s for %(start)s to %(end)s: %(actual)s after "
            "%(elapsed)s of %(total)s days (pace: %(expected)s), heading for %(forecast)s "
            "(%(pace)s of target)."
        )
        % values
    )


def _pacing_action(e: dict) -> str:
    if not e["days_left"]:
        return _(
            "Review with the brand why the month fell short (traffic, conversion or order value) "
            "and adjust the next period's plan and budget."
        )
    needed = (Decimal(e["target"]) - Decimal(e["actual"])) / int(e["days_left"])
    return _(
        "To reach the target, GMV must average %(needed)s a day for the remaining %(days)s days: "
        "plan a promotion or event, add budget to the campaigns with the best ROI, and push the "
        "best-selling products."
    ) % {"needed": _yuan(needed.quantize(Decimal("0.01"))), "days": e["days_left"]}


@rule(
    "gmv_pacing_behind",
    severity=WARNING,
    title=gettext_lazy("GMV behind target pace"),
    message=_pacing_message,
    action=_pacing_action,
)
def gmv_pacing_behind(context: RuleContext) -> list[Finding]:
    findings = []
    for pace in context.paces:
        if pace.metric.name != "gmv" or not pace.meets or pace.on_pace is not False:
            continue
        if pace.days_elapsed < PACING_MIN_DAYS:
            continue
        ratio = pace.pace_ratio
        critical = ratio is not None and ratio < PACING_CRITICAL_RATIO
        findings.append(
            context.finding(
                "gmv_pacing_behind",
                _target_cause(pace),
                _pace_evidence(pace),
                severity=CRITICAL if critical else WARNING,
            )
        )
    return findings


@rule(
    "cs_reply_slow",
    severity=WARNING,
    title=gettext_lazy("Customer service replies slowly"),
    message=lambda e: (
        _(
            "Customer service took %(seconds)s on average to reply first on %(date)s, over "
            "%(sessions)s sessions; the service level is %(sla)s."
        )
        % {
            "seconds": _seconds(e["cs_avg_first_reply"]),
            "date": e["date"],
            "sessions": _count(e["cs_sessions"]),
            "sla": _seconds(e["sla_seconds"]),
        }
    ),
    action=lambda e: _(
        "Staff the busy hours with more agents, set up quick replies and the auto-reply robot "
        "for the common questions, and check which agents reply slowly."
    ),
)
def cs_reply_slow(context: RuleContext) -> list[Finding]:
    today = context.today
    if today is None or (today["cs_sessions"] or 0) < CS_MIN_SESSIONS:
        return []
    reply = today["cs_avg_first_reply"]
    if reply is None or reply <= CS_REPLY_SLA_SECONDS:
        return []
    return [
        context.finding(
            "cs_reply_slow",
            "",
            {
                "cs_avg_first_reply": reply,
                "cs_sessions": today["cs_sessions"],
                "sla_seconds": CS_REPLY_SLA_SECONDS,
            },
        )
    ]


@rule(
    "refund_rate_jump",
    severity=WARNING,
    title=gettext_lazy("Refund rate jumped"),
    message=lambda e: (
        _(
            "Refunds came to %(refunds)s on %(date)s, %(rate)s of the day's GMV, against "
            "%(rate_7d)s over the trailing 7 days."
        )
        % {
            "refunds": _yuan(e["refund_amount"]),
            "date": e["date"],
            "rate": _percent(e["refund_rate"]),
            "rate_7d": _percent(e["refund_rate_7d"]),
        }
    ),
    action=lambda e: _(
        "Read the day's refund reasons by product: a defect or a wrong size chart, slow "
        "shipping, or a detail page that promises more than the product; fix the cause and have "
        "customer service contact the buyers with open requests."
    ),
)
def refund_rate_jump(context: RuleContext) -> list[Finding]:
    today = context.today
    trailing_days = [row for row in context.trailing_rows if row["gmv"]]
    if today is None or len(trailing_days) < TRAILING_MIN_DAYS:
        return []
    rate, rate_7d = today["refund_rate"], context.trailing["refund_rate"]
    if rate is None or rate_7d is None:
        return []
    if (today["gmv"] or 0) < REFUND_MIN_GMV or (today["refund_amount"] or 0) < REFUND_MIN_AMOUNT:
        return []
    if rate < rate_7d * REFUND_JUMP_RATIO or rate - rate_7d < REFUND_JUMP_MIN_POINTS:
        return []
    return [
        context.finding(
            "refund_rate_jump",
            "",
            {
                "refund_amount": today["refund_amount"],
                "gmv": today["gmv"],
                "refund_rate": rate,
                "refund_rate_7d": rate_7d,
                "refund_amount_7d": context.trailing["refund_amount"],
            },
        )
    ]


def _anomaly_action(e: dict) -> str:
    if e["direction"] == "above" and METRICS[e["metric"]].higher_is_better:
        return _(
            "Find what lifted %(metric)s (a promotion, a campaign, a product that took off) and "
            "whether it can be repeated; check the stock of the products that sold."
        ) % {"metric": _metric_label(e["metric"])}
    return _(
        "First check that the day's data is complete (every report ingested); then look for the "
        "cause in the day's traffic sources, campaigns and products (a budget that ran out, a "
        "listing taken down, a price change, a competitor's promotion)."
    )


@rule(
    "metric_anomaly",
    severity=WARNING,
    title=gettext_lazy("Metric outside its usual range"),
    message=lambda e: (
        _(
            "%(metric)s was %(value)s on %(date)s, outside its usual range of %(low)s to %(high)s "
            "(median of the %(days)s days with data in the last 28: %(median)s)."
        )
        % {
            "metric": _metric_label(e["metric"]),
            "value": _metric_value(e["metric"], e["value"]),
            "date": e["date"],
            "low": _metric_value(e["metric"], max(Decimal(e["low"]), Decimal(0))),
            "high": _metric_value(e["metric"], e["high"]),
            "days": e["days"],
            "median": _metric_value(e["metric"], e["median"]),
        }
    ),
    action=_anomaly_action,
)
def metric_anomaly(context: RuleContext) -> list[Finding]:
    today = context.today
    if today is None:
        return []
    start = context.date - datetime.timedelta(days=ANOMALY_WINDOW_DAYS)
    history = context.series_between(start, context.date - datetime.timedelta(days=1))
    findings = []
    for name in ANOMALY_METRICS:
        value = today[name]
        if value is None:
            continue
        if name == "conversion_rate" and (today["visitors"] or 0) < STORE_MIN_VISITORS:
            continue
        sample = [Decimal(row[name]) for row in history if row[name] is not None]
        if len(sample) < ANOMALY_MIN_DAYS:
            continue
        median = Decimal(statistics.median(sample))
        if not median:
            continue
        mad = Decimal(statistics.median(abs(x - median) for x in sample))
        spread = ANOMALY_K * MAD_SCALE * mad
        low, high = median - spread, median + spread
        value = Decimal(value)
        if low <= value <= high or abs(value - median) < ANOMALY_MIN_RELATIVE * abs(median):
            continue
        direction = "above" if value > high else "below"
        better = METRICS[name].higher_is_better
        favourable = better is not None and (direction == "above") == better
        places = Decimal("0.000001") if METRICS[name].unit == RATIO else Decimal("0.01")
        findings.append(
            context.finding(
                "metric_anomaly",
                name,
                {
                    "metric": name,
                    "value": value,
                    "median": median.quantize(places, rounding=ROUND_HALF_UP),
                    "mad": mad.quantize(places, rounding=ROUND_HALF_UP),
                    "low": low.quantize(places, rounding=ROUND_HALF_UP),
                    "high": high.quantize(places, rounding=ROUND_HALF_UP),
                    "k": ANOMALY_K,
                    "days": len(sample),
                    "direction": direction,
                    "change": _ratio(value, median) - 1,
                },
                severity=INFO if favourable else WARNING,
            )
        )
    return findings


# --- Insight rules (info only, not stored as alerts) ------------------------------------------


def _week_message(e: dict) -> str:
    return _(
        "GMV was %(gmv)s on %(date)s, %(change)s against %(before)s on the same weekday last "
        "week (%(date_before)s)."
    ) % {
        "gmv": _yuan(e["gmv"]),
        "date": e["date"],
        "change": _change(e["change"]),
        "before": _yuan(e["gmv_last_week"]),
        "date_before": e["date_last_week"],
    }


def _week_action(e: dict) -> str:
    change = Decimal(e["change"])
    if change >= STEADY_CHANGE:
        return _(
            "See which traffic sources and products drove the rise and do more of it: budget, "
            "stock and featured placement."
        )
    if change <= -STEADY_CHANGE:
        return _(
            "Compare the day's traffic sources and products with the same day last week to find "
            "what dropped, and act on the largest gap first."
        )
    return _(
        "GMV is steady: look for growth in the traffic sources and products that convert best."
    )


@rule(
    "gmv_vs_last_week",
    severity=INFO,
    title=gettext_lazy("GMV against the same day last week"),
    message=_week_message,
    action=_week_action,
    is_alert=False,
)
def gmv_vs_last_week(context: RuleContext) -> list[Finding]:
    today = context.today
    before_day = context.date - datetime.timedelta(days=7)
    before = context.series.get(before_day)
    if today is None or before is None or today["gmv"] is None or not before["gmv"]:
        return []
    return [
        context.finding(
            "gmv_vs_last_week",
            "gmv",
            {
                "gmv": today["gmv"],
                "gmv_last_week": before["gmv"],
                "date_last_week": before_day.isoformat(),
                "change": _ratio(today["gmv"], before["gmv"]) - 1,
            },
        )
    ]


def _source_action(e: dict) -> str:
    store = e["store_conversion_rate"]
    rate = e["conversion_rate"]
    if rate is not None and store is not None and Decimal(rate) >= Decimal(store):
        return _(
            "It converts at or above the store's rate: keep feeding it (keywords and ranking "
            "for search, budget for paid sources, content for live and video) and look for "
            "the next source that could grow."
        )
    return _(
        "It converts below the store's rate: check that the products and pages these visitors "
        "land on fit what they look for, before buying more of this traffic."
    )


@rule(
    "top_traffic_source",
    severity=INFO,
    title=gettext_lazy("Largest traffic source"),
    message=lambda e: (
        _(
            "%(source)s brought %(visitors)s visitors on %(date)s, %(share)s of the store's, and "
            "converted %(conversion)s of them (store: %(store_conversion)s)."
        )
        % {
            "source": e["source"],
            "visitors": _count(e["visitors"]),
            "date": e["date"],
            "share": _percent(e["share"]),
            "conversion": _percent(e["conversion_rate"]) if e["conversion_rate"] else "—",
            "store_conversion": (
                _percent(e["store_conversion_rate"]) if e["store_conversion_rate"] else "—"
            ),
        }
    ),
    action=_source_action,
    is_alert=False,
)
def top_traffic_source(context: RuleContext) -> list[Finding]:
    today = context.today
    sources = [row for row in context.sources_today if row["visitors"]]
    if not sources or today is None or not today["visitors"]:
        return []
    top = max(sources, key=lambda row: (row["visitors"], row["source"]))
    return [
        context.finding(
            "top_traffic_source",
            top["source"],
            {
                "source": top["source"],
                "visitors": top["visitors"],
                "store_visitors": today["visitors"],
                "share": _ratio(top["visitors"], today["visitors"]),
                "conversion_rate": top["conversion_rate"],
                "store_conversion_rate": today["conversion_rate"],
                "new_buyers": top["new_buyers"],
            },
        )
    ]


def _product_action(e: dict) -> str:
    if Decimal(e["share"]) > PRODUCT_CONCENTRATION:
        return _(
            "One product carries over half the sales: secure its stock and ranking, and use its "
            "traffic to lead visitors to related products (bundles, recommendations) so the "
            "store depends less on it."
        )
    return _(
        "Keep its stock and ranking secure, and use its traffic to promote related products "
        "(bundles, recommendations on its detail page)."
    )


@rule(
    "top_product",
    severity=INFO,
    title=gettext_lazy("Best-selling product"),
    message=lambda e: (
        _(
            "%(product)s sold %(gmv)s in the 7 days to %(date)s, %(share)s of the store's GMV, "
            "to %(buyers)s buyers."
        )
        % {
            "product": _product_name(e),
            "gmv": _yuan(e["gmv"]),
            "date": e["date"],
            "share": _percent(e["share"]),
            "buyers": _count(e["paying_buyers"] or 0),
        }
    ),
    action=_product_action,
    is_alert=False,
)
def top_product(context: RuleContext) -> list[Finding]:
    store_gmv = context.last_week["gmv"]
    products = [p for p in context.products if p["gmv"]]
    if not products or not store_gmv:
        return []
    top = max(products, key=lambda p: (p["gmv"], p["item_id"]))
    return [
        context.finding(
            "top_product",
            top["item_id"],
            {
                "item_id": top["item_id"],
                "item_name": top["item_name"],
                "gmv": top["gmv"],
                "store_gmv": store_gmv,
                "share": _ratio(top["gmv"], store_gmv),
                "paying_buyers": top["paying_buyers"],
                "conversion_rate": top["conversion_rate"],
                "window_start": context.week_start.isoformat(),
            },
        )
    ]


@rule(
    "best_campaign",
    severity=INFO,
    title=gettext_lazy("Best-returning campaign"),
    message=lambda e: (
        _(
            "%(campaign)s (%(tool)s) returned an ROI of %(roi)s in the 7 days to %(date)s "
            "(%(ad_gmv)s of sales on %(spend)s of spend), the best of the store's campaigns."
        )
        % {
            "campaign": e["campaign"],
            "tool": _tool_label(e["ad_tool"]),
            "roi": f"{Decimal(e['roi']):.2f}",
            "date": e["date"],
            "ad_gmv": _yuan(e["ad_gmv"]),
            "spend": _yuan(e["ad_spend"]),
        }
    ),
    action=lambda e: _(
        "Move budget from weaker plans to this one while its ROI holds, and copy its best "
        "keywords or crowds into similar plans."
    ),
    is_alert=False,
)
def best_campaign(context: RuleContext) -> list[Finding]:
    bar = max(context.roi_target or ROI_BREAK_EVEN, ROI_BREAK_EVEN)
    candidates = [
        c
        for c in context.campaigns
        if c["ad_spend"] is not None
        and c["ad_spend"] >= ROI_MIN_SPEND
        and c["roi"] is not None
        and c["roi"] >= bar
    ]
    if not candidates:
        return []
    best = max(candidates, key=lambda c: (c["roi"], c["ad_tool"], c["campaign"]))
    return [
        context.finding(
            "best_campaign",
            f"{best['ad_tool']}:{best['campaign']}",
            {
                "ad_tool": best["ad_tool"],
                "campaign": best["campaign"],
                "ad_spend": best["ad_spend"],
                "ad_gmv": best["ad_gmv"],
                "roi": best["roi"],
                "window_start": context.week_start.isoformat(),
            },
        )
    ]


def _target_values(e: dict) -> dict:
    metric = e["metric"]
    return {
        "metric": _metric_label(metric),
        "comparison": "≥" if e["comparison"] != "<=" else "≤",
        "target": _metric_value(metric, e["target"]),
        "forecast": _metric_value(metric, e["forecast"]),
        "actual": _metric_value(metric, e["actual"]),
        "end": e["period_end"],
        "elapsed": e["days_elapsed"],
        "total": e["days_total"],
    }


@rule(
    "target_on_pace",
    severity=INFO,
    title=gettext_lazy("Target on pace"),
    message=lambda e: (
        _(
            "%(metric)s is on pace for its target of %(comparison)s %(target)s by %(end)s: "
            "%(actual)s after %(elapsed)s of %(total)s days, heading for %(forecast)s."
        )
        % _target_values(e)
    ),
    action=lambda e: _(
        "Keep the plan, and use the margin to test one growth lever (a new crowd, a bundle, a "
        "content format) without putting the target at risk."
    ),
    is_alert=False,
)
def target_on_pace(context: RuleContext) -> list[Finding]:
    return [
        context.finding("target_on_pace", _target_cause(pace), _pace_evidence(pace))
        for pace in context.paces
        if pace.on_pace
    ]


@rule(
    "target_off_pace",
    severity=INFO,
    title=gettext_lazy("Target off pace"),
    message=lambda e: (
        _(
            "%(metric)s is off pace for its target of %(comparison)s %(target)s by %(end)s: "
            "%(actual)s after %(elapsed)s of %(total)s days, heading for %(forecast)s."
        )
        % _target_values(e)
    ),
    action=lambda e: (
        _(
            "Agree with the team which lever moves %(metric)s this period (traffic, conversion, "
            "order value or ad efficiency), and check it in the next daily briefs."
        )
        % {"metric": _metric_label(e["metric"])}
    ),
    is_alert=False,
)
def target_off_pace(context: RuleContext) -> list[Finding]:
    """Targets other than GMV off pace (GMV has its own alert, gmv_pacing_behind)."""
    return [
        context.finding("target_off_pace", _target_cause(pace), _pace_evidence(pace))
        for pace in context.paces
        if pace.on_pace is False
        and pace.days_elapsed >= PACING_MIN_DAYS
        and not (pace.metric.name == "gmv" and pace.meets)
    ]
