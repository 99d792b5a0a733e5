"""Demo conversion work for `seed_demo`: Brand A's year-long engagement gets its offers (the 双11
spend-and-save, a store coupon for new customers, an internal member discount being tested),
60 days of customer-service figures entered from the workbench (with a few days over the
30-second target), a year of synthetic orders (about 3,000, buyers hashed like any import)
with the user tiers computed from them, and a strategy per tier. Written through the services,
as the staff would; runs on SQLite as on PostgreSQL.

Idempotent: offers, days, orders and strategies that exist are left alone.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from agency.models import Agency
from engagements.models import Engagement
from execution.models import (
    CustomerOrder,
    Offer,
    OfferKind,
    OrderImport,
    ServiceDay,
    Tier,
    TierStrategy,
)

from . import services
from .orders import buyer_key_function, orders_write
from .tiers import tiers_compute

DEMO_ENGAGEMENT = "Brand A 全链路增长 2026"
SERVICE_DAYS = 60
ORDER_MONTHS = 12
DEMO_BUYERS = 1_400
BREACH_DAYS_AGO = (4, 17, 18, 39)  # a busy weekend and two other slow days

STRATEGIES = {
    Tier.NEW: (
        "新客专享 满99减10 店铺券",
        "短信 + 店铺首页弹窗",
        "首单后 7 天内一次",
        "引导关注店铺、加入会员；第二单送小样。",
    ),
    Tier.REPEAT: (
        "复购券 满199减20",
        "旺旺消息 + 会员群",
        "每月一次",
        "按上次购买的品类推荐补货装。",
    ),
    Tier.HIGH_VALUE: (
        "会员专属 9 折 + 新品优先试用",
        "专属客服 + 企业微信 1 对 1",
        "每两周一次",
        "大促前一周预告，生日月加赠礼盒。",
    ),
    Tier.AT_RISK: (
        "召回券 无门槛 15 元",
        "短信 + 引力魔方 定向人群",
        "流失后第 30 天、第 60 天各一次",
        "两次未回应即停止触达，避免打扰。",
    ),
}


def conversion_seed_demo(*, agency: Agency, today: datetime.date | None = None) -> None:
    """Load the demo's conversion work into the `demo` agency (call inside its agency_scope)."""
    if agency.slug != "demo":
        return
    engagement = (
        Engagement.objects.filter(title=DEMO_ENGAGEMENT)
        .select_related("store", "account_manager__user", "agency")
        .first()
    )
    if engagement is None:
        return
    today = today or services.agency_today(agency)
    actor = engagement.account_manager
    _offers(engagement, actor, today)
    _service_days(engagement, actor, today)
    _orders(engagement, actor, today)
    _strategies(engagement, actor)


def _last_double_eleven(today: datetime.date) -> datetime.date:
    this_year = datetime.date(today.year, 11, 11)
    return this_year if this_year < today else datetime.date(today.year - 1, 11, 11)


def _demo_offers(today: datetime.date) -> list[dict]:
    """The demo's three offers as `offer_create` takes them: last 双11's spend-and-save, a
    running store coupon for new customers and an internal member discount still to come."""
    double_eleven = _last_double_eleven(today)
    day = datetime.timedelta(days=1)
    return [
        {
            "name": "双11 跨店满减 满300减50",
            "kind": OfferKind.FULL_REDUCTION,
            "threshold": Decimal(300),
            "discount": Decimal(50),
            "target_tier": "",
            "start_date": double_eleven - 10 * day,
            "end_date": double_eleven,
            "budget": Decimal(250_000),
            "issued": 12_000,
            "redeemed": 4_350,
            "orders": 4_350,
            "gmv": Decimal("1652300.00"),
            "cost": Decimal("217500.00"),
            "notes": "与平台跨店满减叠加；预售定金 10 月 24 日起。",
            "brand_visible": True,
        },
        {
            "name": "新客专享 店铺券 满99减10",
            "kind": OfferKind.STORE_COUPON,
            "threshold": Decimal(99),
            "discount": Decimal(10),
            "target_tier": Tier.NEW,
            "start_date": today - 20 * day,
            "end_date": today + 40 * day,
            "budget": Decimal(20_000),
            "issued": 6_800,
            "redeemed": 1_240,
            "orders": 1_240,
            "gmv": Decimal("161200.00"),
            "cost": Decimal("12400.00"),
            "notes": "店铺首页与详情页领取；每人限领一张。",
            "brand_visible": True,
        },
        {
            "name": "高价值会员 专属9折（内部测试）",
            "kind": OfferKind.DISCOUNT,
            "threshold": Decimal(0),
            "discount": Decimal(10),
            "target_tier": Tier.HIGH_VALUE,
            "start_date": today + 10 * day,
            "end_date": today + 24 * day,
            "budget": Decimal(30_000),
            "notes": "内部：先对 200 位会员小范围测试，核算毛利后再对品牌开放。",
            "brand_visible": False,
        },
    ]


def _offers(engagement: Engagement, actor, today: datetime.date) -> None:
    if Offer.objects.filter(engagement=engagement).exists():
        return
    for offer in _demo_offers(today):
        services.offer_create(actor=actor, engagement=engagement, **offer)


def _service_days(engagement: Engagement, actor, today: datetime.date) -> None:
    """The last SERVICE_DAYS days as typed in from the workbench. Where the store also has
    ingested figures for a day, those win for sessions and first reply; the inquiry and
    after-sales figures are the entered ones."""
    if ServiceDay.objects.filter(store=engagement.store).exists():
        return
    rng = np.random.default_rng(engagement.store_id * 7 + 5)
    for days_ago in range(SERVICE_DAYS, 0, -1):
        date = today - datetime.timedelta(days=days_ago)
        weekend = date.weekday() >= 5
        sessions = int(rng.integers(380, 521)) + (140 if weekend else 0)
        average = Decimal(str(round(rng.uniform(14, 26), 1)))
        if days_ago in BREACH_DAYS_AGO:
            average = Decimal(str(round(rng.uniform(34, 52), 1)))
        asked = round(sessions * rng.uniform(0.35, 0.45))
        services.service_day_enter(
            actor=actor,
            engagement=engagement,
            date=date,
            sessions=sessions,
            average_first_reply_seconds=average,
            inquiry_buyers=asked,
            inquiry_paying_buyers=round(asked * rng.uniform(0.22, 0.34)),
            after_sales_requests=int(rng.integers(6, 23)),
        )


def demo_orders_frame(
    *, agency_id: int, start: datetime.date, end: datetime.date, buyers: int, seed: int
) -> pd.DataFrame:
    """Synthetic paid orders between `start` and `end` (Asia/Shanghai), in the shape
    `orders_write` takes: most buyers order once or twice, a few loyal ones often; each buyer's
    orders follow their first at irregular gaps, so some buyers lapse."""
    rng = np.random.default_rng(seed)
    days = (end - start).days + 1
    per_buyer = rng.geometric(0.45, buyers) + (rng.random(buyers) < 0.08) * 6
    first_day = rng.integers(0, days, buyers)
    rows_buyer = np.repeat(np.arange(buyers), per_buyer)
    gaps = rng.exponential(40, len(rows_buyer)).astype(np.int64) + 1
    order_day = first_day[rows_buyer] + _spread(rows_buyer, gaps)
    kept = order_day < days
    rows_buyer, order_day = rows_buyer[kept], order_day[kept]
    seconds = rng.integers(8 * 3600, 24 * 3600, len(rows_buyer))
    local = np.datetime64(start, "s") + (order_day * 86400 + seconds).astype("timedelta64[s]")
    utc = local - np.timedelta64(8, "h")  # Asia/Shanghai, no daylight saving
    spend = np.round(rng.lognormal(np.log(168), 0.55, len(rows_buyer)), 1)
    key = buyer_key_function(agency_id)
    keys = np.array([key(f"tb_{seed}_{n:05d}") for n in range(buyers)], dtype=object)
    first_id = 3_800_000_000_000_000_000 + seed * 1_000_000
    return pd.DataFrame(
        {
            "order_id": [str(first_id + i) for i in range(len(rows_buyer))],
            "buyer_key": keys[rows_buyer],
            "paid_epoch": utc.astype(np.int64),
            "amount": [f"{value:.2f}" for value in spend],
        }
    )


def _spread(rows_buyer: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Days after the buyer's first order: a running sum of the gaps that restarts at each
    buyer's first order (rows are grouped by buyer)."""
    starts = np.r_[True, rows_buyer[1:] != rows_buyer[:-1]]
    steps = np.where(starts, 0, gaps)
    total = steps.cumsum()
    base = np.maximum.accumulate(np.where(starts, total, 0))
    return total - base


def _orders(engagement: Engagement, actor, today: datetime.date) -> None:
    store = engagement.store
    if CustomerOrder.objects.filter(store=store).exists():
        return
    end = today - datetime.timedelta(days=1)
    start = (end.replace(day=1) - pd.DateOffset(months=ORDER_MONTHS - 1)).date()
    frame = demo_orders_frame(
        agency_id=engagement.agency_id, start=start, end=end, buyers=DEMO_BUYERS, seed=11
    )
    with transaction.atomic():
        record = OrderImport.objects.create(
            engagement=engagement,
            filename="订单报表_演示.csv",
            status=OrderImport.Status.SUCCEEDED,
            rows_read=len(frame),
            date_start=start,
            date_end=end,
            created_by=actor.user,
        )
        written = orders_write(store=store, order_import=record, frame=frame)
        record.orders_written = written.written
        record.message = _(
            "Orders read: %(rows)d (new: %(new)d, corrected: %(changed)d, unchanged: %(same)d)."
        ) % {"rows": len(frame), "new": written.new, "changed": written.changed, "same": 0}
        record.save(update_fields=["orders_written", "message"])
    tiers_compute(engagement=engagement)


def _strategies(engagement: Engagement, actor) -> None:
    existing = set(
        TierStrategy.objects.filter(engagement=engagement).values_list("tier", flat=True)
    )
    for tier, (offer, channel, cadence, notes) in STRATEGIES.items():
        if tier in existing:
            continue
        services.tier_strategy_save(
            actor=actor,
            engagement=engagement,
            tier=tier,
            offer=offer,
            channel=channel,
            cadence=cadence,
            notes=notes,
            brand_visible=True,
        )
