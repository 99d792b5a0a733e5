"""The one registry of metric definitions (shared/GLOSSARY.md): name, labels, unit, formula over
summed parts, and whether higher is better. Briefs, dashboards, alerts, the CLI and the API read
metrics only through `execution.metrics.query`, which evaluates these definitions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

COUNT, MONEY, RATIO, SECONDS = "count", "money", "ratio", "seconds"

# Where each stored component lives: the store-day facts or the ad facts.
STORE_DAY_COMPONENTS = (
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
    "cs_first_reply_seconds_sum",
    "cs_sessions",
)
AD_COMPONENTS = ("impressions", "clicks", "ad_spend", "ad_gmv", "ad_orders")


@dataclass(frozen=True)
class Metric:
    """A metric: a stored component (summed), or a ratio of two summed components."""

    name: str
    label: Promise
    zh_header: str  # how 生意参谋 and the ad platforms head the column
    unit: str
    higher_is_better: bool | None = True
    numerator: str | None = None
    denominator: str | None = None
    scale: int = 1  # cpm: per thousand impressions

    @property
    def is_ratio(self) -> bool:
        return self.numerator is not None

    @property
    def formula(self) -> str:
        if not self.is_ratio:
            return f"Σ {self.name}"
        scaled = f" × {self.scale}" if self.scale != 1 else ""
        return f"Σ {self.numerator} / Σ {self.denominator}{scaled}"

    @property
    def places(self) -> int:
        """Decimal places of a computed value: money to the cent, ratios to 1e-6."""
        return 2 if self.unit in {MONEY, SECONDS} else 6

    def evaluate(self, sums: dict[str, Decimal | int | None]) -> Decimal | int | None:
        """The value from summed components; a zero or missing denominator gives None."""
        if not self.is_ratio:
            value = sums.get(self.name)
            if self.unit == MONEY and value is not None:
                # SQLite sums decimals with extra digits; money is always to the cent.
                return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            return value
        numerator, denominator = sums.get(self.numerator), sums.get(self.denominator)
        if numerator is None or not denominator:
            return None
        value = Decimal(numerator) * self.scale / Decimal(denominator)
        return value.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)


def _count(name, label, header, better=True):
    return Metric(name, label, header, COUNT, better)


def _money(name, label, header, better=True):
    return Metric(name, label, header, MONEY, better)


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in [
        _count("visitors", _("Visitors"), "访客数"),
        _count("page_views", _("Page views"), "浏览量"),
        _count("paying_buyers", _("Paying buyers"), "支付买家数"),
        _count("paid_orders", _("Paid orders"), "支付子订单数"),
        _count("paid_units", _("Paid units"), "支付件数"),
        _money("gmv", _("GMV"), "支付金额"),
        _count("new_buyers", _("New buyers"), "支付新买家数"),
        _count("repeat_buyers", _("Repeat buyers"), "支付老买家数"),
        _money("refund_amount", _("Refunds"), "成功退款金额", better=False),
        _count("add_to_cart_users", _("Add-to-cart users"), "加购人数"),
        _count("favorites", _("Favourites"), "收藏人数"),
        _count("bounced_visitors", _("Bounced visitors"), "跳失访客数", better=False),
        _count("impressions", _("Impressions"), "展现量"),
        _count("clicks", _("Clicks"), "点击量"),
        _money("ad_spend", _("Ad spend"), "花费", better=None),
        _money("ad_gmv", _("Ad GMV"), "总成交金额"),
        _count("ad_orders", _("Ad orders"), "总成交笔数"),
        Metric(
            "cs_first_reply_seconds_sum",
            _("First-reply seconds (sum)"),
            "响应时长合计",
            SECONDS,
            None,
        ),
        _count("cs_sessions", _("Customer-service sessions"), "咨询人数", better=None),
        Metric(
            "conversion_rate",
            _("Conversion rate"),
            "支付转化率",
            RATIO,
            True,
            "paying_buyers",
            "visitors",
        ),
        Metric("aov", _("Average order value"), "客单价", MONEY, True, "gmv", "paying_buyers"),
        Metric("uv_value", _("Value per visitor"), "UV价值", MONEY, True, "gmv", "visitors"),
        Metric(
            "bounce_rate", _("Bounce rate"), "跳失率", RATIO, False, "bounced_visitors", "visitors"
        ),
        Metric(
            "repurchase_rate",
            _("Repurchase rate"),
            "复购率",
            RATIO,
            True,
            "repeat_buyers",
            "paying_buyers",
        ),
        Metric("refund_rate", _("Refund rate"), "退款率", RATIO, False, "refund_amount", "gmv"),
        Metric("ctr", _("Click-through rate"), "点击率", RATIO, True, "clicks", "impressions"),
        Metric("cpc", _("Cost per click"), "平均点击花费", MONEY, False, "ad_spend", "clicks"),
        Metric(
            "cpm",
            _("Cost per thousand impressions"),
            "千次展现花费",
            MONEY,
            False,
            "ad_spend",
            "impressions",
            scale=1000,
        ),
        Metric(
            "click_conversion_rate",
            _("Click conversion rate"),
            "点击转化率",
            RATIO,
            True,
            "ad_orders",
            "clicks",
        ),
        Metric("roi", _("Return on ad spend"), "投入产出比", RATIO, True, "ad_gmv", "ad_spend"),
        Metric(
            "cac",
            _("Customer acquisition cost"),
            "获客成本",
            MONEY,
            False,
            "ad_spend",
            "new_buyers",
        ),
        Metric(
            "cs_avg_first_reply",
            _("Average first reply"),
            "平均响应时长",
            SECONDS,
            False,
            "cs_first_reply_seconds_sum",
            "cs_sessions",
        ),
    ]
}


def metric_get(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"Unknown metric {name!r}; known metrics: {', '.join(METRICS)}") from None


def components_of(names: list[str]) -> set[str]:
    """The stored components the given metrics need."""
    needed: set[str] = set()
    for name in names:
        metric = metric_get(name)
        if metric.is_ratio:
            needed.update({metric.numerator, metric.denominator})
        else:
            needed.add(name)
    return needed
