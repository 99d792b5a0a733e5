"""Connectors pull metric rows for a store from a platform, in the shape of `schema`.

A connector answers one question: "the rows of every grain for this store and these days". It
knows nothing of storage; the writer stores what it returns and replaces the days it covers, so a
daily job that fetches "yesterday" and a backfill that fetches a year must agree. The registry maps
a connector's `name` (what a store's settings and the daily job refer to) to one shared instance.

`DemoSimulator` invents a plausible Tmall store so that the portal has something to show before a
brand connects real exports: growth, seasons, weekdays, the platform events (618, 双11, 双12,
年货节), traffic sources, a long tail of products and paid campaigns, all internally consistent
(sources and products add up exactly to the store's day, to the cent).
"""

from __future__ import annotations

import abc
import datetime
import enum
import functools
import hashlib
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

from execution.metrics.schema import GRAINS, AdTool, Grain

Row = dict[str, Any]
RowsByGrain = dict[str, list[Row]]


class StoreLike(Protocol):
    """What a connector may read from a store: a `agency.models.Store`, or a stand-in in tests."""

    pk: Any
    shop_id: str
    name: str


class Connector(abc.ABC):
    """A source of metric rows for one store, registered in `CONNECTORS` under `name`."""

    name: str  # registry key, e.g. "demo"
    label: str  # shown to people choosing a data source

    @abc.abstractmethod
    def fetch(self, *, store: StoreLike, start: datetime.date, end: datetime.date) -> RowsByGrain:
        """Rows per grain (Grain values as keys) for the store and the inclusive date range.

        Each row is in the shape of `execution.metrics.schema`: a dict with 'date'
        (datetime.date), the grain's key fields (str, "" when absent), its text fields, its count
        fields (int) and its money fields (Decimal with 2 places).
        """


CONNECTORS: dict[str, Connector] = {}


def connector_register(connector: Connector) -> Connector:
    """Add a connector instance to the registry; a second one with the same name is a bug."""
    if connector.name in CONNECTORS:
        raise ValueError(f"A connector named {connector.name!r} is already registered.")
    CONNECTORS[connector.name] = connector
    return connector


def connector_get(name: str) -> Connector:
    """The registered connector called `name`; KeyError naming it (and the known ones) if none."""
    try:
        return CONNECTORS[name]
    except KeyError:
        known = ", ".join(sorted(CONNECTORS)) or "none"
        raise KeyError(f"No connector named {name!r} (registered: {known}).") from None


# --- Demo simulator ------------------------------------------------------------------------------

SOURCES: tuple[str, ...] = (
    "手淘搜索",
    "手淘推荐",
    "直通车",
    "万相台",
    "引力魔方",
    "直播",
    "短视频",
    "淘宝客",
    "站外",
    "其他",
)


@dataclass(frozen=True)
class _SourceTraits:
    organic_share: float  # share of organic traffic; paid sources get theirs from ad clicks
    conversion: float  # relative to the store's conversion rate
    aov: float  # relative basket size
    newness: float  # relative share of new buyers
    cart: float  # relative add-to-cart rate


_SOURCE_TRAITS: dict[str, _SourceTraits] = {
    "手淘搜索": _SourceTraits(0.34, 1.30, 1.00, 0.65, 1.15),
    "手淘推荐": _SourceTraits(0.22, 0.60, 0.95, 0.85, 0.90),
    "直通车": _SourceTraits(0.00, 1.20, 1.00, 0.80, 1.10),
    "万相台": _SourceTraits(0.00, 1.00, 1.00, 0.80, 1.00),
    "引力魔方": _SourceTraits(0.00, 0.55, 0.95, 0.90, 0.85),
    "直播": _SourceTraits(0.10, 1.60, 0.90, 0.60, 1.20),
    "短视频": _SourceTraits(0.07, 0.70, 0.95, 0.85, 0.90),
    "淘宝客": _SourceTraits(0.05, 1.50, 0.85, 0.90, 0.80),
    "站外": _SourceTraits(0.04, 0.40, 1.00, 0.90, 0.70),
    "其他": _SourceTraits(0.10, 0.90, 1.05, 0.40, 1.00),
}


@dataclass(frozen=True)
class _PlanTemplate:
    tool: str
    campaign: str
    cpc: tuple[float, float]
    ctr: tuple[float, float]
    roi: tuple[float, float]
    product_rank: int | None = None  # 万相台 plans promote one of the store's top products


_ZHITONGCHE, _WANXIANGTAI, _YINLIMOFANG = (tool.value for tool in AdTool)

# (plans to pick per store, candidates in order); 直通车 is search, so it converts best.
_PLAN_TEMPLATES: dict[str, tuple[tuple[int, int], tuple[_PlanTemplate, ...]]] = {
    _ZHITONGCHE: (
        (2, 3),
        (
            _PlanTemplate(_ZHITONGCHE, "核心词-精准", (1.4, 3.0), (0.025, 0.05), (2.5, 4.5)),
            _PlanTemplate(_ZHITONGCHE, "拉新-人群", (1.0, 2.2), (0.015, 0.035), (1.8, 3.2)),
            _PlanTemplate(_ZHITONGCHE, "竞品词", (1.2, 2.6), (0.015, 0.03), (1.5, 2.8)),
        ),
    ),
    _WANXIANGTAI: (
        (1, 2),
        (
            _PlanTemplate(
                _WANXIANGTAI,
                "货品运营-爆款加速",
                (0.9, 2.0),
                (0.02, 0.04),
                (2.5, 4.5),
                product_rank=0,
            ),
            _PlanTemplate(
                _WANXIANGTAI,
                "上新快-新品测款",
                (0.8, 1.6),
                (0.015, 0.03),
                (1.6, 3.0),
                product_rank=1,
            ),
        ),
    ),
    _YINLIMOFANG: (
        (1, 2),
        (
            _PlanTemplate(_YINLIMOFANG, "猜你喜欢-拉新", (0.8, 1.6), (0.01, 0.025), (1.5, 2.8)),
            _PlanTemplate(_YINLIMOFANG, "首页焦点图-再营销", (0.9, 1.8), (0.012, 0.03), (2.0, 3.5)),
        ),
    ),
}
_TOOL_SOURCE = {_ZHITONGCHE: "直通车", _WANXIANGTAI: "万相台", _YINLIMOFANG: "引力魔方"}
_TOOL_BUDGET_SHARE = {_ZHITONGCHE: 0.5, _WANXIANGTAI: 0.35, _YINLIMOFANG: 0.15}


def _words(text: str) -> list[str]:
    return text.split()


# Product names: prefix + noun + spec, from one category per store.
_CATALOGUES: dict[str, tuple[list[str], list[str]]] = {
    "个护": (
        _words("氨基酸洗面奶 控油洗发水 香氛沐浴露 烟酰胺身体乳 护手霜 头皮精华 漱口水 美白牙膏")
        + _words("卸妆油 防晒喷雾"),
        _words("100ml 250ml 400ml 500ml 2支装 3瓶装 旅行装 家庭装"),
    ),
    "家居": (
        _words("保温杯 收纳盒 乳胶枕 纯棉四件套 抽纸 平板拖把 香薰蜡烛 浴巾 晾衣架 垃圾袋"),
        _words("小号 大号 3件套 2只装 家庭装 礼盒装 1.8m床 加厚款"),
    ),
    "零食": (
        _words("每日坚果 牛肉干 芒果干 手撕面包 螺蛳粉 挂耳咖啡 燕麦片 海苔 辣条礼包 蛋黄酥"),
        _words("750g 30袋装 礼盒装 6包 1kg 量贩装 组合装 箱装"),
    ),
    "美妆": (
        _words("玻尿酸精华 修护面霜 丝绒口红 气垫粉底 紧致眼霜 补水面膜 定妆喷雾 眉笔 爽肤水")
        + _words("清爽防晒霜"),
        _words("30ml 50g 10片装 礼盒装 替换装 2件套 3.5g 120ml"),
    ),
}
_NAME_PREFIXES = _words("经典款 新品 升级版 限定 官方正品 加量装 热销 明星同款 敏感肌 大师系列")

# Day of the week, Monday first; Saturday and Sunday get the store's weekend lift on top.
_WEEKDAY_SHAPE = np.array([0.97, 0.95, 0.96, 0.98, 1.00, 1.00, 1.00])

# Spring Festival (春节): couriers stop for about ten days around it, so sales dip.
_SPRING_FESTIVAL = tuple(
    datetime.date.fromisoformat(day)
    for day in _words(
        "2019-02-05 2020-01-25 2021-02-12 2022-02-01 2023-01-22 2024-02-10 "
        "2025-01-29 2026-02-17 2027-02-06 2028-01-26 2029-02-13 2030-02-03"
    )
)

# The trend is anchored here: a store's base visitors are its level on this day.
_TREND_ANCHOR = datetime.date(2025, 1, 1).toordinal()
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class _DayEffect:
    """How a calendar day moves a store away from its ordinary level (1 = no change)."""

    traffic: float = 1.0
    conversion: float = 1.0
    aov: float = 1.0
    cart: float = 1.0  # add-to-cart and favourites: high in pre-sale, when people stock carts
    budget: float = 1.0  # ad budgets are raised ahead of the events
    roi: float = 1.0  # pre-sale clicks convert later (low ROI); peak days collect them (high)
    refund: float = 0.0  # added to the refund rate (returns after a peak)
    service: float = 1.0  # customer-service load: slower first replies


def _day_effect(month: int, day: int) -> _DayEffect:
    """The platform calendar; the same every year (dates as Tmall has run them since 2020)."""
    if month == 1 and 5 <= day <= 20:  # 年货节
        ramp = (day - 5) / 15
        return _DayEffect(1.1 + 0.25 * ramp, 1.05 + 0.1 * ramp, 1.03, 1.2, 1.2 + 0.2 * ramp, 1.1)
    if month == 5 and day >= 20:  # 618 pre-sale: deposits and full carts, little is paid yet
        ramp = (day - 20) / 11
        return _DayEffect(1.15, 0.8, 1.0, 1.6, 1.3 + 0.4 * ramp, 0.65, service=1.2)
    if month == 6 and day <= 3:  # 618 first wave (tail payments of the pre-sale)
        return _DayEffect(1.7, 1.35, 1.05, 1.3, 2.2, 1.3, service=1.6)
    if month == 6 and day <= 15:
        ramp = (day - 4) / 11
        return _DayEffect(1.15 + 0.3 * ramp, 0.95, 1.0, 1.3 + 0.3 * ramp, 1.8 + 0.5 * ramp, 0.9)
    if month == 6 and day <= 17:
        return _DayEffect(1.9, 1.15, 1.05, 1.6, 2.6, 1.2, service=1.3)
    if month == 6 and day == 18:
        return _DayEffect(3.5, 1.9, 1.1, 1.2, 3.5, 1.8, service=2.0)
    if month == 6 and day <= 21:  # after a peak: quiet days and returns
        return _DayEffect(0.85, 0.9, 1.0, 0.9, 0.8, 0.8, refund=0.02)
    if month == 10 and day <= 7:  # 国庆: people travel
        return _DayEffect(0.9, 0.95)
    if month == 10 and day >= 20:  # 双11 pre-sale
        ramp = (day - 20) / 11
        return _DayEffect(
            1.25 + 0.2 * ramp, 0.75, 1.0, 1.8 + 0.4 * ramp, 1.5 + 0.6 * ramp, 0.6, service=1.3
        )
    if month == 11 and day <= 3:  # 双11 first wave
        return _DayEffect(2.3, 1.5, 1.08, 1.3, 2.6, 1.4, service=1.8)
    if month == 11 and day <= 10:
        ramp = (day - 4) / 6
        return _DayEffect(
            1.3 + 0.4 * ramp, 0.85, 1.0, 1.7 + 0.5 * ramp, 1.9 + 0.8 * ramp, 0.75, service=1.3
        )
    if month == 11 and day == 11:
        return _DayEffect(5.0, 2.2, 1.12, 1.2, 4.5, 2.0, service=2.5)
    if month == 11 and day <= 15:
        return _DayEffect(0.85, 0.9, 1.0, 0.9, 0.8, 0.8, refund=0.025)
    if month == 12 and 9 <= day <= 11:  # 双12 warm-up
        return _DayEffect(1.2, 0.95, 1.0, 1.3, 1.4, 0.9)
    if month == 12 and day == 12:
        return _DayEffect(1.8, 1.35, 1.05, 1.1, 2.0, 1.4, service=1.4)
    return _DayEffect()


def _effect_tables() -> dict[str, np.ndarray]:
    """`_day_effect` as arrays indexed [month, day] so a whole range is looked up at once."""
    names = _DayEffect.__dataclass_fields__
    tables = {name: np.ones((13, 32)) for name in names}
    tables["refund"][:] = 0.0
    for month in range(1, 13):
        for day in range(1, 32):
            effect = _day_effect(month, day)
            for name in names:
                tables[name][month, day] = getattr(effect, name)
    return tables


_EFFECTS = _effect_tables()


@dataclass(frozen=True)
class _Product:
    item_id: str
    item_name: str


@dataclass(frozen=True)
class _Plan:
    tool: str
    campaign: str
    item_id: str
    item_name: str
    budget_share: float
    cpc: float
    ctr: float
    roi: float


@dataclass(frozen=True)
class _StoreProfile:
    """Everything that makes one demo store itself; derived from the store's key alone."""

    seed: int
    base_visitors: float
    growth: float  # per year
    season_amplitude: float
    season_peak_day: float
    drift_phases: tuple[float, float]
    weekend_lift: float
    conversion: float
    aov: float
    orders_per_buyer: float
    units_per_order: float
    repeat_share: float
    refund_rate: float
    cart_rate: float
    favorite_rate: float
    bounce_rate: float
    page_views_per_visitor: float
    cs_rate: float
    cs_reply_seconds: float
    ad_ratio: float  # planned ad spend as a share of expected GMV
    source_tilt: np.ndarray  # per source, multiplies its organic share
    products: tuple[_Product, ...]
    product_traffic: np.ndarray  # long-tail weights, top product first
    product_conversion: np.ndarray
    product_price: np.ndarray
    product_orders: np.ndarray  # orders per buyer, minus 1
    product_units: np.ndarray  # units per order, minus 1
    product_page_views: np.ndarray  # page views per visitor, minus 1
    product_cart: np.ndarray
    product_favorites: np.ndarray
    product_refunds: np.ndarray
    plans: tuple[_Plan, ...]


def _store_key(store: StoreLike) -> str:
    """Tmall's shop id when known (stable across databases), else the primary key."""
    shop_id = getattr(store, "shop_id", "") or ""
    if shop_id:
        return f"shop:{shop_id}"
    if getattr(store, "pk", None) is None:
        raise ValueError("A demo store needs a shop_id or a primary key.")
    return f"pk:{store.pk}"


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@functools.lru_cache(maxsize=256)
def _store_profile(key: str) -> _StoreProfile:
    seed = _hash64(key)
    rng = _StoreDraws(seed)

    catalogue = list(_CATALOGUES)[rng.integers(0, len(_CATALOGUES))]
    nouns, specs = _CATALOGUES[catalogue]
    combos = list(itertools.product(_NAME_PREFIXES, nouns, specs))
    product_count = rng.integers(20, 41)
    picks = rng.choice(len(combos), product_count)
    item_ids: set[str] = set()
    products = []
    for index, pick in enumerate(picks):
        prefix, noun, spec = combos[int(pick)]
        number = _hash64(f"{key}:item:{index}") % 10**11
        while (item_id := str(6 * 10**11 + number)) in item_ids:  # unique within the store
            number = (number + 1) % 10**11
        item_ids.add(item_id)
        products.append(_Product(item_id, f"{prefix}{noun} {spec}"))

    # A few products carry most of the sales: Zipf weights, top product first.
    ranks = np.arange(1, product_count + 1)
    traffic = ranks ** -rng.uniform(0.9, 1.3)
    conversion = rng.lognormal(0.0, 0.25, product_count) * np.where(ranks <= 3, 1.4, 1.0)

    plans = []
    for tool, ((fewest, most), templates) in _PLAN_TEMPLATES.items():
        chosen = templates[: rng.integers(fewest, most + 1)]
        shares = rng.uniform(0.5, 1.0, len(chosen))
        shares = shares / shares.sum() * _TOOL_BUDGET_SHARE[tool]
        for template, share in zip(chosen, shares, strict=True):
            product = products[template.product_rank] if template.product_rank is not None else None
            plans.append(
                _Plan(
                    tool=tool,
                    campaign=template.campaign,
                    item_id=product.item_id if product else "",
                    item_name=product.item_name if product else "",
                    budget_share=float(share),
                    cpc=rng.uniform(*template.cpc),
                    ctr=rng.uniform(*template.ctr),
                    roi=rng.uniform(*template.roi),
                )
            )

    return _StoreProfile(
        seed=seed,
        base_visitors=rng.uniform(2000, 8000),
        growth=rng.uniform(0.08, 0.35),
        season_amplitude=rng.uniform(0.04, 0.12),
        season_peak_day=rng.uniform(0, 365),
        drift_phases=(rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)),
        weekend_lift=rng.uniform(0.08, 0.2),
        conversion=rng.uniform(0.022, 0.032),
        aov=rng.uniform(150, 300),
        orders_per_buyer=rng.uniform(1.03, 1.12),
        units_per_order=rng.uniform(1.1, 1.5),
        repeat_share=rng.uniform(0.2, 0.35),
        refund_rate=rng.uniform(0.04, 0.055),
        cart_rate=rng.uniform(0.07, 0.11),
        favorite_rate=rng.uniform(0.025, 0.045),
        bounce_rate=rng.uniform(0.58, 0.67),
        page_views_per_visitor=rng.uniform(3.1, 3.4),
        cs_rate=rng.uniform(0.03, 0.05),
        cs_reply_seconds=rng.uniform(16, 28),
        ad_ratio=rng.uniform(0.06, 0.10),
        source_tilt=rng.lognormal(0.0, 0.25, len(SOURCES)),
        products=tuple(products),
        product_traffic=traffic,
        product_conversion=conversion,
        product_price=rng.lognormal(0.0, 0.3, product_count),
        product_orders=rng.uniform(0.02, 0.15, product_count),
        product_units=rng.uniform(0.05, 0.6, product_count),
        product_page_views=rng.uniform(1.8, 3.0, product_count),
        product_cart=rng.lognormal(0.0, 0.2, product_count),
        product_favorites=rng.lognormal(0.0, 0.3, product_count),
        product_refunds=rng.lognormal(0.0, 0.3, product_count),
        plans=tuple(plans),
    )


# --- Deterministic noise -------------------------------------------------------------------------
# Each day's random numbers come from a counter-based hash of (store, date, stream, column), not
# from a generator advanced through the range: a day's figures never depend on which range asked
# for it, so fetching a range in two halves equals fetching it at once, and it stays vectorized.

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijection on uint64 that scatters nearby inputs."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _MIX_1
        x = x ^ (x >> np.uint64(27))
        x = x * _MIX_2
        return x ^ (x >> np.uint64(31))


class _Stream(enum.IntEnum):
    """One per independent quantity, so adding a draw never shifts the others."""

    VISITORS = 1
    CONVERSION = 2
    ORDERS = 3
    UNITS = 4
    AOV = 5
    REPEAT = 6
    REFUND = 7
    CART = 8
    FAVORITES = 9
    BOUNCE = 10
    PAGE_VIEWS = 11
    CS_SESSIONS = 12
    CS_REPLY = 13
    AD_SPEND = 14
    AD_CPC = 15
    AD_CTR = 16
    AD_ROI = 17
    AD_AOV = 18
    SOURCE_TRAFFIC = 19
    SOURCE_CONVERSION = 20
    SOURCE_AOV = 21
    PRODUCT_TRAFFIC = 22
    PRODUCT_CONVERSION = 23


class _DayNoise:
    """Random numbers for each day of a range, each day seeded from (store, date) alone."""

    def __init__(self, store_seed: int, ordinals: np.ndarray):
        with np.errstate(over="ignore"):
            day = _mix64(ordinals.astype(np.uint64) * _GOLDEN)
        self._seeds = _mix64(np.uint64(store_seed) ^ day)

    def uniform(self, stream: _Stream, columns: int = 1) -> np.ndarray:
        """Uniform numbers in (0, 1), shape (days, columns)."""
        with np.errstate(over="ignore"):
            counters = (np.uint64(stream) << np.uint64(16)) + np.arange(columns, dtype=np.uint64)
            bits = _mix64(self._seeds[:, None] ^ _mix64(counters * _GOLDEN)[None, :])
        return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53

    def normal(self, stream: _Stream, columns: int = 1) -> np.ndarray:
        u = self.uniform(stream, 2 * columns)  # Box-Muller
        return np.sqrt(-2.0 * np.log(u[:, :columns])) * np.cos(2.0 * np.pi * u[:, columns:])

    def factor(self, stream: _Stream, sigma: float, columns: int = 1) -> np.ndarray:
        """Lognormal multipliers with mean 1."""
        return np.exp(sigma * self.normal(stream, columns) - sigma * sigma / 2)


class _StoreDraws:
    """A store's fixed traits, drawn in sequence from the same hash.

    Not `numpy.random.Generator`: its streams may change between numpy versions, and an upgrade
    must not rename a demo store's products or change its history under the daily job.
    """

    def __init__(self, seed: int):
        self._seed = np.uint64(seed)
        self._drawn = 0

    def _uniform(self, size: int) -> np.ndarray:
        with np.errstate(over="ignore"):
            counters = np.arange(self._drawn, self._drawn + size, dtype=np.uint64) + _GOLDEN
            bits = _mix64(self._seed ^ _mix64(counters))
        self._drawn += size
        return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53

    def uniform(self, low: float, high: float, size: int | None = None) -> Any:
        values = low + (high - low) * self._uniform(size or 1)
        return values if size is not None else float(values[0])

    def integers(self, low: int, high: int) -> int:
        """An integer in [low, high)."""
        return low + int(self._uniform(1)[0] * (high - low))

    def lognormal(self, mean: float, sigma: float, size: int) -> np.ndarray:
        u = self._uniform(2 * size)  # Box-Muller
        normal = np.sqrt(-2.0 * np.log(u[:size])) * np.cos(2.0 * np.pi * u[size:])
        return np.exp(mean + sigma * normal)

    def choice(self, population: int, size: int) -> np.ndarray:
        """`size` distinct indices below `population`."""
        return np.argsort(self._uniform(population), kind="stable")[:size]


# --- Exact allocation ----------------------------------------------------------------------------

_WEIGHT_SCALE = 1 << 24


def _allocate(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each row's integer total over the columns in proportion to the weights, exactly.

    Largest-remainder rounding in integer arithmetic, so the parts always sum to the total. Float
    weights are scaled to integers first; integer weights are used as they are, which guarantees
    that no part exceeds total × weight / Σ weight rounded up (used to respect caps). A row whose
    weights are all zero is split evenly.
    """
    totals = np.asarray(totals, dtype=np.int64)
    if np.issubdtype(weights.dtype, np.integer):
        units = weights.astype(np.int64)
    else:
        sums = weights.sum(axis=1, keepdims=True)
        scaled = np.divide(weights, sums, out=np.zeros_like(weights), where=sums > 0)
        units = np.rint(scaled * _WEIGHT_SCALE).astype(np.int64)
    units[units.sum(axis=1) == 0] = 1
    unit_sums = units.sum(axis=1, keepdims=True)
    numerators = totals[:, None] * units
    parts = numerators // unit_sums
    remainders = numerators % unit_sums
    short = totals - parts.sum(axis=1)
    order = np.argsort(-remainders, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(order.shape[1]), order.shape), 1)
    return parts + (ranks < short[:, None])


def _allocate_capped(totals: np.ndarray, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """`_allocate`, with no part above its cap (buyers ≤ visitors); needs total ≤ Σ caps."""
    parts = np.minimum(_allocate(totals, weights), caps)
    # What the caps cut off goes to the others in proportion to their headroom, never above it.
    return parts + _allocate(totals - parts.sum(axis=1), caps - parts)


def _round(values: np.ndarray) -> np.ndarray:
    return np.rint(values).astype(np.int64)


def _money(cents: np.ndarray) -> list[Decimal]:
    return [Decimal(value).scaleb(-2) for value in cents.ravel().tolist()]


# --- The simulator -------------------------------------------------------------------------------


class DemoSimulator(Connector):
    """Realistic, deterministic daily data for a demo Tmall store.

    Numbers depend only on the store (its shop id, else its primary key) and the day, so the same
    call returns the same rows and a daily fetch of yesterday agrees with the backfilled history.
    Everything is computed for the whole range with numpy, then turned into rows.
    """

    name = "demo"
    label = "Demo data (simulated Tmall store)"

    def fetch(self, *, store: StoreLike, start: datetime.date, end: datetime.date) -> RowsByGrain:
        if start > end:
            raise ValueError(f"The range starts ({start}) after it ends ({end}).")
        profile = _store_profile(_store_key(store))
        days = np.arange(
            np.datetime64(start, "D"), np.datetime64(end, "D") + 1, dtype="datetime64[D]"
        )
        dates = [start + datetime.timedelta(days=offset) for offset in range(len(days))]
        simulation = _Simulation(profile, days)
        return {
            Grain.STORE_DAY.value: simulation.store_rows(dates),
            Grain.STORE_DAY_SOURCE.value: simulation.source_rows(dates),
            Grain.STORE_DAY_PRODUCT.value: simulation.product_rows(dates),
            Grain.STORE_DAY_AD.value: simulation.ad_rows(dates),
        }


class _Simulation:
    """One store over one range of days: arrays shaped (days,) or (days, parts)."""

    def __init__(self, profile: _StoreProfile, days: np.ndarray):
        self.profile = profile
        epoch_days = days.astype(np.int64)
        ordinals = epoch_days + _EPOCH_ORDINAL
        self.noise = _DayNoise(profile.seed, ordinals)
        years = days.astype("datetime64[Y]")
        months = days.astype("datetime64[M]")
        month = (months - years).astype(np.int64) + 1
        day_of_month = (days - months).astype(np.int64) + 1
        day_of_year = (days - years).astype(np.int64)
        weekday = (epoch_days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        self.effect = {name: table[month, day_of_month] for name, table in _EFFECTS.items()}
        holiday = self._spring_festival(ordinals)
        self._store_day(ordinals, day_of_year, weekday, holiday)
        self._ads(holiday)
        self._sources()
        self._products()

    @staticmethod
    def _spring_festival(ordinals: np.ndarray) -> np.ndarray:
        festivals = np.array([day.toordinal() for day in _SPRING_FESTIVAL])
        distance = ordinals[:, None] - festivals[None, :]
        near = ((distance >= -5) & (distance <= 6)).any(axis=1)
        return np.where(near, 0.8, 1.0)

    def _store_day(self, ordinals, day_of_year, weekday, holiday) -> None:
        p, noise, effect = self.profile, self.noise, self.effect
        years = np.clip((ordinals - _TREND_ANCHOR) / 365.25, -8, 8)
        trend = (1 + p.growth) ** years
        season = 1 + p.season_amplitude * np.cos(
            2 * np.pi * (day_of_year - p.season_peak_day) / 365.25
        )
        # Slow, stateless wander (weeks to months) so the line is not a textbook curve.
        drift = (
            1
            + 0.05 * np.sin(2 * np.pi * ordinals / 53 + p.drift_phases[0])
            + 0.04 * np.sin(2 * np.pi * ordinals / 131 + p.drift_phases[1])
        )
        weekday_shape = _WEEKDAY_SHAPE.copy()
        weekday_shape[5:] += (p.weekend_lift, 0.85 * p.weekend_lift)
        self.baseline = p.base_visitors * trend * season * drift * holiday
        visitors = _round(
            self.baseline
            * weekday_shape[weekday]
            * effect["traffic"]
            * noise.factor(_Stream.VISITORS, 0.08)[:, 0]
        )
        self.visitors = np.maximum(visitors, 1)

        conversion = np.clip(
            p.conversion
            * effect["conversion"]
            * np.sqrt(holiday)
            * noise.factor(_Stream.CONVERSION, 0.1)[:, 0],
            0.005,
            0.12,
        )
        self.buyers = _round(self.visitors * conversion)
        extra_orders = (p.orders_per_buyer - 1) * noise.factor(_Stream.ORDERS, 0.2)[:, 0]
        self.orders = self.buyers + _round(self.buyers * extra_orders)
        extra_units = (p.units_per_order - 1) * noise.factor(_Stream.UNITS, 0.2)[:, 0]
        self.units = self.orders + _round(self.orders * extra_units)
        self.aov = p.aov * effect["aov"] * noise.factor(_Stream.AOV, 0.06)[:, 0]
        self.gmv = _round(self.buyers * self.aov * 100)  # cents

        # Peaks bring strangers: the repeat share falls when traffic jumps; loyalty grows slowly.
        repeat_share = np.clip(
            p.repeat_share
            * (1 + 0.05 * years)
            * noise.factor(_Stream.REPEAT, 0.1)[:, 0]
            / effect["traffic"] ** 0.3,
            0.05,
            0.7,
        )
        self.repeat = _round(self.buyers * repeat_share)
        self.new = self.buyers - self.repeat
        refund_rate = np.clip(
            p.refund_rate + effect["refund"] + 0.006 * noise.normal(_Stream.REFUND)[:, 0],
            0.03,
            0.08,
        )
        self.refund = _round(self.gmv * refund_rate)

        self.cart = np.minimum(
            _round(
                self.visitors
                * p.cart_rate
                * effect["cart"]
                * noise.factor(_Stream.CART, 0.08)[:, 0]
            ),
            self.visitors,
        )
        self.favorites = _round(
            self.visitors
            * p.favorite_rate
            * np.sqrt(effect["cart"])
            * noise.factor(_Stream.FAVORITES, 0.1)[:, 0]
        )
        bounce_rate = np.clip(
            p.bounce_rate
            + 0.02 * noise.normal(_Stream.BOUNCE)[:, 0]
            - 0.03 * (effect["traffic"] > 1.5),
            0.55,
            0.70,
        )
        self.bounced = _round(self.visitors * bounce_rate)
        pages_per_visitor = np.clip(
            p.page_views_per_visitor + 0.05 * noise.normal(_Stream.PAGE_VIEWS)[:, 0], 3.0, 3.5
        )
        self.page_views = _round(self.visitors * pages_per_visitor)
        self.cs_sessions = _round(
            self.visitors
            * p.cs_rate
            * np.sqrt(effect["cart"])
            * noise.factor(_Stream.CS_SESSIONS, 0.1)[:, 0]
        )
        reply_seconds = np.clip(
            p.cs_reply_seconds * effect["service"] * noise.factor(_Stream.CS_REPLY, 0.15)[:, 0],
            6,
            120,
        )
        self.cs_reply_sum = _round(self.cs_sessions * reply_seconds)

    def _ads(self, holiday) -> None:
        p, noise, effect = self.profile, self.noise, self.effect
        plans = len(p.plans)
        share = np.array([plan.budget_share for plan in p.plans])
        # Budgets are planned ahead from the expected level, not from the day's own traffic.
        expected_gmv = self.baseline * p.conversion * p.aov
        spend_plan = (
            (expected_gmv * p.ad_ratio * effect["budget"] * holiday)[:, None]
            * share[None, :]
            * noise.factor(_Stream.AD_SPEND, 0.12, plans)
        )
        cpc = np.clip(
            np.array([plan.cpc for plan in p.plans])[None, :]
            * (effect["budget"] ** 0.15)[:, None]
            * noise.factor(_Stream.AD_CPC, 0.08, plans),
            0.8,
            3.0,
        )
        self.clicks = _round(spend_plan / cpc)
        self.spend = _round(self.clicks * cpc * 100)  # cents
        ctr = np.clip(
            np.array([plan.ctr for plan in p.plans])[None, :]
            * noise.factor(_Stream.AD_CTR, 0.1, plans),
            0.01,
            0.05,
        )
        self.impressions = _round(self.clicks / ctr)
        roi = np.clip(
            np.array([plan.roi for plan in p.plans])[None, :]
            * effect["roi"][:, None]
            * noise.factor(_Stream.AD_ROI, 0.15, plans),
            0.5,
            10,
        )
        ad_aov = self.aov[:, None] * noise.factor(_Stream.AD_AOV, 0.1, plans)
        self.ad_orders = _round(self.spend / 100 * roi / ad_aov)
        self.ad_gmv = _round(self.ad_orders * ad_aov * 100)

    def _sources(self) -> None:
        p, noise = self.profile, self.noise
        traits = [_SOURCE_TRAITS[source] for source in SOURCES]
        count = len(SOURCES)
        # A paid source's visitors follow its ad clicks; many clickers also arrive organically
        # the same day and count once, hence fewer visitors than clicks. Organic shares the rest.
        paid = np.zeros((len(self.visitors), count))
        for column, plan in enumerate(p.plans):
            paid[:, SOURCES.index(_TOOL_SOURCE[plan.tool])] += 0.55 * self.clicks[:, column]
        paid_total = paid.sum(axis=1)
        paid_cap = 0.6 * self.visitors
        paid *= np.minimum(1.0, paid_cap / np.maximum(paid_total, 1))[:, None]
        organic = np.array([trait.organic_share for trait in traits]) * p.source_tilt
        organic = organic[None, :] * noise.factor(_Stream.SOURCE_TRAFFIC, 0.1, count)
        organic = organic / organic.sum(axis=1, keepdims=True)
        organic_visitors = self.visitors - paid.sum(axis=1)
        self.source_visitors = _allocate(self.visitors, paid + organic * organic_visitors[:, None])

        conversion = np.array([trait.conversion for trait in traits])[None, :]
        self.source_buyers = _allocate_capped(
            self.buyers,
            self.source_visitors * conversion * noise.factor(_Stream.SOURCE_CONVERSION, 0.1, count),
            self.source_visitors,
        )
        aov = np.array([trait.aov for trait in traits])[None, :]
        self.source_gmv = _allocate(
            self.gmv, self.source_buyers * aov * noise.factor(_Stream.SOURCE_AOV, 0.05, count)
        )
        newness = np.array([trait.newness for trait in traits])[None, :]
        self.source_new = _allocate_capped(
            self.new, self.source_buyers * newness, self.source_buyers
        )
        cart = np.array([trait.cart for trait in traits])[None, :]
        self.source_cart = _allocate_capped(
            self.cart, self.source_visitors * cart, self.source_visitors
        )

    def _products(self) -> None:
        p, noise = self.profile, self.noise
        count = len(p.products)
        traffic = p.product_traffic[None, :] * noise.factor(_Stream.PRODUCT_TRAFFIC, 0.2, count)
        visitors = _allocate(self.visitors, traffic)
        self.product_visitors = visitors
        self.product_page_views = visitors + _allocate(
            self.page_views - self.visitors, visitors * p.product_page_views
        )
        self.product_buyers = _allocate_capped(
            self.buyers,
            visitors * p.product_conversion * noise.factor(_Stream.PRODUCT_CONVERSION, 0.15, count),
            visitors,
        )
        buyers = self.product_buyers
        self.product_orders = buyers + _allocate(
            self.orders - self.buyers, buyers * p.product_orders
        )
        orders = self.product_orders
        self.product_units = orders + _allocate(self.units - self.orders, orders * p.product_units)
        self.product_gmv = _allocate(self.gmv, self.product_units * p.product_price)
        self.product_refund = _allocate(self.refund, self.product_gmv * p.product_refunds)
        self.product_cart = _allocate_capped(self.cart, visitors * p.product_cart, visitors)
        self.product_favorites = _allocate_capped(
            self.favorites, visitors * p.product_favorites, visitors
        )

    # --- rows ---

    def store_rows(self, dates: list[datetime.date]) -> list[Row]:
        columns = {
            "visitors": self.visitors,
            "page_views": self.page_views,
            "paying_buyers": self.buyers,
            "paid_orders": self.orders,
            "paid_units": self.units,
            "new_buyers": self.new,
            "repeat_buyers": self.repeat,
            "add_to_cart_users": self.cart,
            "favorites": self.favorites,
            "bounced_visitors": self.bounced,
            "cs_first_reply_seconds_sum": self.cs_reply_sum,
            "cs_sessions": self.cs_sessions,
        }
        money = {"gmv": self.gmv, "refund_amount": self.refund}
        return _rows(Grain.STORE_DAY, dates, [{}], columns, money)

    def source_rows(self, dates: list[datetime.date]) -> list[Row]:
        columns = {
            "visitors": self.source_visitors,
            "paying_buyers": self.source_buyers,
            "new_buyers": self.source_new,
            "add_to_cart_users": self.source_cart,
        }
        keys = [{"source": source} for source in SOURCES]
        return _rows(Grain.STORE_DAY_SOURCE, dates, keys, columns, {"gmv": self.source_gmv})

    def product_rows(self, dates: list[datetime.date]) -> list[Row]:
        columns = {
            "visitors": self.product_visitors,
            "page_views": self.product_page_views,
            "paying_buyers": self.product_buyers,
            "paid_orders": self.product_orders,
            "paid_units": self.product_units,
            "add_to_cart_users": self.product_cart,
            "favorites": self.product_favorites,
        }
        money = {"gmv": self.product_gmv, "refund_amount": self.product_refund}
        keys = [
            {"item_id": product.item_id, "item_name": product.item_name}
            for product in self.profile.products
        ]
        return _rows(Grain.STORE_DAY_PRODUCT, dates, keys, columns, money)

    def ad_rows(self, dates: list[datetime.date]) -> list[Row]:
        columns = {
            "impressions": self.impressions,
            "clicks": self.clicks,
            "ad_orders": self.ad_orders,
        }
        money = {"ad_spend": self.spend, "ad_gmv": self.ad_gmv}
        keys = [
            {
                "ad_tool": plan.tool,
                "campaign": plan.campaign,
                "item_id": plan.item_id,
                "item_name": plan.item_name,
            }
            for plan in self.profile.plans
        ]
        return _rows(Grain.STORE_DAY_AD, dates, keys, columns, money)


def _rows(
    grain: Grain,
    dates: list[datetime.date],
    keys: list[dict[str, str]],
    counts: dict[str, np.ndarray],
    money: dict[str, np.ndarray],
) -> list[Row]:
    """Rows day by day, then part by part; arrays are (days,) or (days, parts) in `keys` order."""
    spec = GRAINS[grain]
    declared = set(spec.key_fields) | set(spec.text_fields)
    declared |= set(spec.count_fields) | set(spec.money_fields)
    given = set(keys[0]) | set(counts) | set(money)
    if given != declared:  # a programming error: the schema and the simulator drifted apart
        raise AssertionError(f"{grain}: simulated fields {sorted(given)} != {sorted(declared)}")
    names = list(counts) + list(money)
    values = [array.ravel().tolist() for array in counts.values()]
    values += [_money(array) for array in money.values()]
    parts = len(keys)
    rows = []
    for index, row_values in enumerate(zip(*values, strict=True)):
        row = {"date": dates[index // parts], **keys[index % parts]}
        row.update(zip(names, row_values, strict=True))
        rows.append(row)
    return rows


connector_register(DemoSimulator())
