"""Column headers of exports: their spellings, the header row, and which report a file is.

Headers are compared after normalization (full-width to ASCII, no spaces, a trailing unit in
brackets dropped, lower case): `花费（元）`, `花费(元)` and `花费` are one header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from execution.metrics.schema import GRAINS, KIND_AD_TOOL, KIND_GRAIN, ReportKind

# canonical field -> its spellings, the preferred first (when a file has two, the first wins).
FIELD_HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("统计日期", "日期", "数据日期", "时间"),
    "source": ("流量来源", "来源名称", "来源"),
    "item_id": ("商品id", "宝贝id"),
    "item_name": ("商品名称", "商品标题", "宝贝名称", "宝贝标题"),
    "campaign": ("计划名称", "计划名字", "推广计划名称", "推广计划"),
    "visitors": ("访客数", "商品访客数", "uv"),
    "page_views": ("浏览量", "商品浏览量", "pv"),
    "paying_buyers": ("支付买家数",),
    "paid_orders": ("支付子订单数", "支付订单数"),
    "paid_units": ("支付件数", "支付商品件数"),
    "gmv": ("支付金额",),
    "new_buyers": ("支付新买家数",),
    "repeat_buyers": ("支付老买家数",),
    "refund_amount": ("成功退款金额", "退款金额"),
    "add_to_cart_users": ("加购人数", "商品加购人数"),
    "favorites": ("收藏人数", "商品收藏买家数", "收藏买家数"),
    "cs_sessions": ("咨询人数",),
    "impressions": ("展现量",),
    "clicks": ("点击量",),
    "ad_spend": ("花费", "消耗"),
    "ad_gmv": ("总成交金额", "成交金额"),
    "ad_orders": ("总成交笔数", "成交笔数"),
}
# Columns read only to derive a count: bounced_visitors = 跳失率 × 访客数,
# cs_first_reply_seconds_sum = 平均响应时长 × 咨询人数.
BOUNCE_RATE = ("跳失率",)
REPLY_SECONDS = ("平均响应时长", "平均首次响应时长")
# Known columns that are not stored: ratios recomputed from summed parts, and figures of no fact.
KNOWN_IGNORED = frozenset(
    {
        "支付转化率", "客单价", "uv价值", "复购率", "退款率", "点击率", "ctr", "平均点击花费",
        "ppc", "cpc", "千次展现花费", "cpm", "点击转化率", "投入产出比", "实际投产比", "roi",
        "获客成本", "达成率", "平均停留时长", "人均浏览量", "序号",
    }
)  # fmt: skip
REQUIRED_KEYS = {"source", "campaign"}  # besides date; item_id is required for products only

_AD_TOOL_WORDS = {
    ReportKind.ZHITONGCHE: ("直通车", "zhitongche"),
    ReportKind.WANXIANGTAI: ("万相台", "wanxiangtai"),
    ReportKind.YINLIMOFANG: ("引力魔方", "yinlimofang"),
}
_UNIT = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")
_SPACE = re.compile(r"\s+")
_HEADER_FIELD = {
    spelling: (name, rank)
    for name, spellings in FIELD_HEADERS.items()
    for rank, spelling in enumerate(spellings)
}
_KNOWN = set(_HEADER_FIELD) | set(BOUNCE_RATE) | set(REPLY_SECONDS) | KNOWN_IGNORED


def normalize_header(text: object) -> str:
    s = _SPACE.sub("", unicodedata.normalize("NFKC", str(text)))
    return _UNIT.sub("", s).lower()


def count_known(cells: list[str]) -> int:
    return sum(1 for cell in cells if normalize_header(cell) in _KNOWN)


def find_header_row(rows: list[list[str]]) -> int | None:
    """Index of the header row among the first rows of a sheet: the row with the most known
    headers (at least two), the first such row on a tie; None when there is none."""
    best, best_count = None, 1
    for index, cells in enumerate(rows):
        known = count_known(cells)
        if known > best_count:
            best, best_count = index, known
    return best


@dataclass
class HeaderMatch:
    """What a header row says: where each canonical field is, and what is left over."""

    columns: dict[str, int]  # canonical field -> column index (the preferred spelling)
    bounce_rate: int | None
    reply_seconds: int | None
    unknown: list[int]  # columns with a header nobody knows
    normalized: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.columns


def match_headers(cells: list[str]) -> HeaderMatch:
    chosen: dict[str, tuple[int, int]] = {}  # field -> (rank, column)
    bounce = reply = None
    unknown = []
    normalized = [normalize_header(cell) for cell in cells]
    for column, name in enumerate(normalized):
        if not name:
            continue
        if name in _HEADER_FIELD:
            canonical, rank = _HEADER_FIELD[name]
            if canonical not in chosen or rank < chosen[canonical][0]:
                chosen[canonical] = (rank, column)
        elif name in BOUNCE_RATE:
            bounce = column if bounce is None else bounce
        elif name in REPLY_SECONDS:
            reply = column if reply is None else reply
        elif name not in KNOWN_IGNORED:
            unknown.append(column)
    columns = {name: column for name, (_, column) in chosen.items()}
    return HeaderMatch(columns, bounce, reply, unknown, normalized)


def candidate_kinds(match: HeaderMatch, hint: str) -> list[str]:
    """The report kinds a file could be, from its headers and (for ad reports, whose headers are
    much alike) the words in its title lines and file name (`hint`)."""
    if match.has("campaign") and (match.has("impressions") or match.has("ad_spend")):
        named = [kind for kind, words in _AD_TOOL_WORDS.items() if any(w in hint for w in words)]
        spend = match.normalized[match.columns["ad_spend"]] if match.has("ad_spend") else ""
        if spend == "花费":  # 直通车 says 花费 (with 平均点击花费); the others say 消耗
            by_headers = [ReportKind.ZHITONGCHE]
        elif spend == "消耗" and match.has("item_id"):  # a 万相台 product report
            by_headers = [ReportKind.WANXIANGTAI]
        elif spend == "消耗":
            by_headers = [ReportKind.WANXIANGTAI, ReportKind.YINLIMOFANG]
        else:
            by_headers = list(_AD_TOOL_WORDS)
        if len(named) == 1:
            return named
        both = [kind for kind in named if kind in by_headers]
        return both if len(both) == 1 else by_headers
    kinds = []
    if match.has("item_id"):
        kinds.append(ReportKind.PRODUCTS)
    if match.has("source"):
        kinds.append(ReportKind.TRAFFIC_SOURCES)
    if not kinds and match.has("visitors") and match.has("gmv"):
        kinds.append(ReportKind.STORE_OVERVIEW)
    return [str(kind) for kind in kinds]


def required_fields(kind: str) -> list[str]:
    """Columns a report of `kind` cannot do without."""
    spec = GRAINS[KIND_GRAIN[kind]]
    keys = [name for name in spec.key_fields if name in REQUIRED_KEYS]
    if kind == ReportKind.PRODUCTS:
        keys.append("item_id")
    return ["date", *keys]


def stored_fields(kind: str, match: HeaderMatch) -> list[str]:
    """The grain's fields this file carries (key, text, count and money fields, GRAINS order),
    counting the derived counts whose inputs are present; `ad_tool` comes from the kind."""
    spec = GRAINS[KIND_GRAIN[kind]]
    derived = {
        "bounced_visitors": match.bounce_rate is not None and match.has("visitors"),
        "cs_first_reply_seconds_sum": match.reply_seconds is not None and match.has("cs_sessions"),
    }
    names = [*spec.key_fields, *spec.text_fields, *spec.count_fields, *spec.money_fields]
    return [
        name
        for name in names
        if name != "ad_tool" and (match.has(name) or derived.get(name, False))
    ]


def ad_tool_of(kind: str) -> str | None:
    tool = KIND_AD_TOOL.get(kind)
    return str(tool) if tool is not None else None
