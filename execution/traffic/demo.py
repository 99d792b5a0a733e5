"""Demo traffic for `seed_demo`: the usual platform events of this year and next for the demo
agency, and for Brand A's year-long engagement a handful of campaigns (a 直通车 plan that the
demo simulator's ad reports name, so it shows real spend, CTR, CPC, ROI and burn; a 双11
campaign; a livestream; an internal 引力魔方 test; last month's 万相台 push) and search keywords
for its best sellers with 60 days of rank history.

Idempotent: an engagement that already has campaigns (or keywords) gets none added. Runs on
PostgreSQL and on the embedded SQLite alike (ORM only).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import random
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agency.models import Agency
from engagements.models import Engagement
from execution.metrics.query import metrics_query
from execution.models import (
    Campaign,
    CampaignStatus,
    Channel,
    EventKind,
    KeywordRank,
    PlatformEvent,
    SearchKeyword,
)
from execution.traffic import services

DEMO_ENGAGEMENT = "Brand A 全链路增长 2026"
RANK_DAYS = 60
# The demo simulator's product names start with one of these (execution.metrics.connectors);
# a shopper searches for what follows.
NAME_PREFIXES = ("经典款", "新品", "升级版", "限定", "官方正品", "加量装", "热销", "明星同款")
NAME_PREFIXES += ("敏感肌", "大师系列")
FALLBACK_PRODUCTS = [
    ("600000000001", "氨基酸洗面奶 100ml"),
    ("600000000002", "烟酰胺身体乳 250ml"),
    ("600000000003", "护手霜 3瓶装"),
]


def traffic_seed_demo(*, agency: Agency, today: datetime.date | None = None) -> None:
    """Load the demo's traffic into the `demo` agency (call inside its `agency_scope`)."""
    if agency.slug != "demo":
        return
    today = today or timezone.localdate()
    for year in (today.year, today.year + 1):
        services.platform_events_seed_usual(actor=None, agency=agency, year=year)
    engagement = (
        Engagement.objects.filter(agency=agency, title=DEMO_ENGAGEMENT)
        .select_related("store", "account_manager__user")
        .first()
    )
    if engagement is None:
        return
    if not Campaign.objects.filter(engagement=engagement).exists():
        _campaigns(engagement, today)
    if not SearchKeyword.objects.filter(engagement=engagement).exists():
        _keywords(engagement, today)


def _status(start: datetime.date, end: datetime.date, today: datetime.date) -> str:
    if today < start:
        return CampaignStatus.PLANNED
    if today > end:
        return CampaignStatus.FINISHED
    return CampaignStatus.RUNNING


def _daily_spend(engagement: Engagement, tool: str, plan: str, today: datetime.date) -> Decimal:
    """The plan's average daily spend over the last 30 days of the simulator's reports."""
    rows = metrics_query(
        store_ids=[engagement.store_id],
        start=today - datetime.timedelta(days=30),
        end=today,
        grain="total",
        metrics=["ad_spend"],
        by="campaign",
    )
    for row in rows:
        if row["ad_tool"] == tool and row["campaign"] == plan and row["ad_spend"]:
            return row["ad_spend"] / 30
    return Decimal("300")


def _budget(daily: Decimal, days: int, headroom: str) -> Decimal:
    """A round budget: the expected spend with some headroom, to the nearest 500 yuan."""
    steps = (daily * days * Decimal(headroom) / 500).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(steps, Decimal(1)) * 500


def _banner(colour: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 800), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _campaigns(engagement: Engagement, today: datetime.date) -> None:
    """The demo's campaigns, oldest plan first. A row with an `ad_plan` (ad tool, the plan's
    name in the simulator's reports, budget headroom) is linked to that plan and budgeted from
    its spend; a row with a `creative` (title, file name, colour) gets a banner."""
    day = datetime.timedelta(days=1)
    last_month_end = today.replace(day=1) - day
    double_11 = (
        PlatformEvent.objects.filter(
            agency=engagement.agency, kind=EventKind.DOUBLE_11, start_date__year=today.year
        )
        .order_by("start_date")
        .first()
    )
    rows = [
        {
            "name": "直通车 核心词-精准 常年投放",
            "channel": Channel.ZHITONGCHE,
            "goal": "核心词排名稳定在首页，ROI ≥ 3",
            "start_date": today - 45 * day,
            "end_date": today + 15 * day,
            "ad_plan": ("zhitongche", "核心词-精准", "1.05"),
            "targeting_notes": "核心词出价 1.8–2.6 元；晚 8–11 点溢价 130%；否定词：小样、试用装。",
            "creative": ("主图 800×800（红）", "主图-红.png", "#c81623"),
        },
    ]
    if double_11 is not None:
        rows.append(
            {
                "name": f"双11 {today.year} 大促",
                "channel": Channel.PLATFORM_EVENT,
                "event": double_11,
                "goal": "预售定金 + 尾款，大促期 GMV 达成 150%",
                "start_date": double_11.start_date,
                "end_date": double_11.end_date,
                "budget": Decimal("80000.00"),
                "targeting_notes": "会场坑位已报名；满 300 减 50 叠加店铺券。",
            }
        )
    rows += [
        {
            "name": "品牌日 直播专场",
            "channel": Channel.LIVESTREAM,
            "goal": "直播间成交 20 万，新客占比 ≥ 40%",
            "start_date": today + 10 * day,
            "end_date": today + 12 * day,
            "budget": Decimal("15000.00"),
        },
        {
            "name": "引力魔方 竞品人群测试",
            "channel": Channel.YINLIMOFANG,
            "goal": "测试竞品人群的点击率与 ROI",
            "start_date": today - 20 * day,
            "end_date": today + 10 * day,
            "ad_plan": ("yinlimofang", "猜你喜欢-拉新", "0.9"),
            "targeting_notes": (
                "竞品店铺人群 + 加购未购 7 天；出价上限 1.6 元。内部测试，暂不向品牌方展示。"
            ),
            "brand_visible": False,
        },
        {
            "name": f"万相台 爆款加速 {last_month_end:%Y-%m}",
            "channel": Channel.WANXIANGTAI,
            "goal": "主推款加速，ROI ≥ 3",
            "start_date": last_month_end.replace(day=1),
            "end_date": last_month_end,
            "ad_plan": ("wanxiangtai", "货品运营-爆款加速", "1.0"),
        },
    ]
    for row in rows:
        _campaign_create(engagement, today, **row)


def _campaign_create(
    engagement: Engagement,
    today: datetime.date,
    *,
    ad_plan: tuple[str, str, str] | None = None,
    creative: tuple[str, str, str] | None = None,
    **fields,
) -> None:
    """One row of the demo's campaigns, created the way a member would; its status follows its
    dates."""
    start, end = fields["start_date"], fields["end_date"]
    if ad_plan is not None:
        tool, plan, headroom = ad_plan
        days = (end - start).days + 1
        fields["budget"] = _budget(_daily_spend(engagement, tool, plan, today), days, headroom)
        fields["ad_campaign_name"] = plan
    actor = engagement.account_manager
    campaign = services.campaign_create(
        actor=actor, engagement=engagement, status=_status(start, end, today), **fields
    )
    if creative is not None:
        title, filename, colour = creative
        services.creative_add(
            actor=actor,
            campaign=campaign,
            title=title,
            upload=SimpleUploadedFile(filename, _banner(colour)),
        )


def _top_products(engagement: Engagement, today: datetime.date) -> list[tuple[str, str]]:
    rows = metrics_query(
        store_ids=[engagement.store_id],
        start=today - datetime.timedelta(days=30),
        end=today,
        grain="total",
        metrics=["gmv"],
        by="product",
    )
    rows = [row for row in rows if row["gmv"] is not None and row["item_name"]]
    rows.sort(key=lambda row: row["gmv"], reverse=True)
    return [(row["item_id"], row["item_name"]) for row in rows[:3]] or FALLBACK_PRODUCTS


def _search_term(item_name: str) -> tuple[str, str]:
    """What shoppers type for a product: its noun without the marketing prefix, and its size."""
    head, _space, spec = item_name.partition(" ")
    for prefix in NAME_PREFIXES:
        if head.startswith(prefix) and len(head) > len(prefix):
            head = head[len(prefix) :]
            break
    return head, spec


def _keywords(engagement: Engagement, today: datetime.date) -> None:
    actor = engagement.account_manager
    rows = []
    for item_id, item_name in _top_products(engagement, today):
        noun, spec = _search_term(item_name)
        candidates = [(noun, 10), (f"{noun} 正品", 20)]
        if spec:
            candidates.append((f"{noun} {spec}", 5))
        for text, target in candidates:
            seed = int(hashlib.sha256(f"{item_id}:{text}".encode()).hexdigest()[:12], 16)
            draw = random.Random(seed)  # noqa: S311 - demo figures, not secrets
            keyword = services.keyword_create(
                actor=actor,
                engagement=engagement,
                product_item_id=item_id,
                product_name=item_name,
                keyword=text,
                search_volume=draw.randrange(5_000, 200_000, 100),
                target_rank=target,
            )
            # A rank that climbs with the campaigns, with the odd bad day; a long-tail term
            # starts outside the positions checked.
            rank = draw.uniform(25, 60)
            for offset in range(RANK_DAYS, 0, -1):
                rank = max(1.0, rank * draw.uniform(0.93, 1.03))
                shown: int | None = round(rank)
                not_found = text.endswith("正品") and offset > RANK_DAYS - 10
                if not_found or draw.random() < 0.04:
                    shown = None
                rows.append(
                    KeywordRank(
                        keyword=keyword,
                        agency_id=keyword.agency_id,
                        date=today - datetime.timedelta(days=offset - 1),
                        rank=shown,
                    )
                )
    KeywordRank.objects.bulk_create(rows)
