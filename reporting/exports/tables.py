"""What the data handover holds: one table per kind of engagement data, each a list of columns
(a Chinese and an English header, and the kind of value) and a row iterator that reads the
database in bounded memory (`values_list(...).iterator(chunk_size=...)`, never a list of model
objects), through the scoped default managers.

Headers are "<Chinese> <english_key>" (one header row, one space; the Chinese part has no
space), so a person reads the Chinese and a program takes the last word. Metric columns use the
metric registry's `zh_header` and canonical name ("支付金额 gmv"); the other columns name the
stored field. Choice fields are written as their stored codes ("zhitongche", "done"), which do
not depend on the reader's language; the README of the ZIP says so.

Audience: the brand export holds what the brand sees in the portal (brand-visible campaigns,
setup items and offers; published reviews, full reviews and long-term plans with their action
items, findings and recommendations; no targeting notes, no visibility flags, no reminder
settings, no rule codes); the internal export adds every internal row and field.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, QuerySet

from engagements.models import Engagement, EngagementTarget
from execution.metrics.registry import METRICS, STORE_DAY_COMPONENTS
from execution.models import (
    Campaign,
    KeywordRank,
    Offer,
    SearchKeyword,
    SetupItem,
    StoreDayAdFact,
    StoreDayFact,
    StoreDayProductFact,
    StoreDaySourceFact,
    TierSnapshot,
)
from reporting.models import (
    ExportAudience,
    FullReview,
    FullReviewAction,
    FullReviewFinding,
    LongTermPlan,
    Recommendation,
    Review,
    ReviewActionItem,
    ReviewStatus,
)

CHUNK_SIZE = 2000

# Kinds of cell: how each writer puts a value down.
TEXT, INTEGER, MONEY, DECIMAL, RATIO, DATE = "text", "integer", "money", "decimal", "ratio", "date"
BOOLEAN = "boolean"
CENT = Decimal("0.01")

# The main figures of a review, read from its stored content.
REVIEW_FIGURES = ("gmv", "visitors", "paying_buyers", "conversion_rate", "ad_spend", "roi")
# The whole-period totals of a full review (`content["totals"]`).
FULL_REVIEW_FIGURES = (
    "gmv",
    "visitors",
    "paying_buyers",
    "conversion_rate",
    "aov",
    "repurchase_rate",
    "ad_spend",
    "ad_gmv",
    "roi",
)


@dataclass(frozen=True)
class Column:
    key: str  # the English, machine-readable name
    zh: str  # the Chinese header, without spaces
    kind: str = TEXT

    @property
    def header(self) -> str:
        return f"{self.zh} {self.key}"


@dataclass(frozen=True)
class Table:
    """One sheet of the workbook, one CSV file of the ZIP."""

    key: str  # sheet and file name
    zh: str
    description: str  # for the README (English; the zh name says it in Chinese)
    columns: tuple[Column, ...]
    rows: Callable[[], Iterator[tuple]]
    count: Callable[[], int]

    @property
    def filename(self) -> str:
        return f"{self.key}.csv"

    @property
    def sheet_title(self) -> str:
        return f"{self.zh} {self.key}"[:31]


def metric_column(name: str) -> Column:
    """A fact column headed as the registry names the metric; its kind from the unit."""
    metric = METRICS[name]
    kind = MONEY if metric.unit == "money" else INTEGER
    if metric.unit == "ratio":
        kind = DECIMAL if name == "roi" else RATIO  # ROI reads as a multiple (3.25), not a %
    return Column(name, metric.zh_header, kind)


DATE_COLUMN = Column("date", "日期", DATE)


# --- the range and the audience ---------------------------------------------------------------


@dataclass(frozen=True)
class ExportScope:
    """Which data: the engagement's store from its start date to its end date (or, while it
    runs, the last day of data), for the brand or for the agency's own staff."""

    engagement: Engagement
    audience: str

    @property
    def internal(self) -> bool:
        return self.audience == ExportAudience.INTERNAL

    @property
    def date_start(self) -> datetime.date:
        return self.engagement.start_date

    @property
    def date_end(self) -> datetime.date | None:
        return self.engagement.end_date

    def facts(self, model) -> QuerySet:
        rows = model.objects.filter(
            store_id=self.engagement.store_id, date__gte=self.engagement.start_date
        )
        if self.engagement.end_date is not None:
            rows = rows.filter(date__lte=self.engagement.end_date)
        return rows

    def visible(self, queryset: QuerySet) -> QuerySet:
        return queryset if self.internal else queryset.filter(brand_visible=True)

    def reviews(self) -> QuerySet:
        reviews = Review.objects.filter(engagement=self.engagement)
        return reviews if self.internal else reviews.filter(status=ReviewStatus.PUBLISHED)

    def full_reviews(self) -> QuerySet:
        reviews = FullReview.objects.filter(engagement=self.engagement)
        return reviews if self.internal else reviews.filter(status=ReviewStatus.PUBLISHED)

    def plans(self) -> QuerySet:
        plans = LongTermPlan.objects.filter(engagement=self.engagement)
        return plans if self.internal else plans.filter(status=ReviewStatus.PUBLISHED)

    def local_date(self, moment: datetime.datetime | None) -> datetime.date | None:
        """A stored time as the agency's local date (reports use local dates)."""
        if moment is None:
            return None
        return moment.astimezone(zoneinfo.ZoneInfo(self.engagement.agency.time_zone)).date()


def data_last_day(engagement: Engagement) -> datetime.date | None:
    """The last day any fact of the engagement's period has (what "to date" means while the
    engagement runs)."""
    scope = ExportScope(engagement=engagement, audience=ExportAudience.BRAND)
    days = [
        scope.facts(model).aggregate(last=Max("date"))["last"]
        for model in (StoreDayFact, StoreDaySourceFact, StoreDayProductFact, StoreDayAdFact)
    ]
    days = [day for day in days if day is not None]
    return max(days) if days else None


# --- the tables ----------------------------------------------------------------------------


def _stream(queryset: QuerySet, fields: list[str]) -> Iterator[tuple]:
    return queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)


def _fact_table(scope, model, key, zh, description, keys: list[str], order: list[str]) -> Table:
    labels = {"source": "来源", "item_id": "商品ID", "item_name": "商品名称"}
    labels |= {"ad_tool": "推广工具", "campaign": "推广计划"}
    columns = [DATE_COLUMN]
    metric_names = []
    for name in keys:
        if name in labels:
            columns.append(Column(name, labels[name]))
        else:
            columns.append(metric_column(name))
            metric_names.append(name)
    queryset = scope.facts(model)
    return Table(
        key=key,
        zh=zh,
        description=description,
        columns=tuple(columns),
        rows=lambda: _stream(queryset.order_by("date", *order), ["date", *keys]),
        count=queryset.count,
    )


def _owner_name(full_name: str | None, email: str | None) -> str | None:
    return full_name or email or None


def _targets(scope: ExportScope) -> Table:
    queryset = EngagementTarget.objects.filter(engagement=scope.engagement)
    columns = (
        Column("metric", "指标"),
        Column("comparison", "比较"),
        Column("value", "目标值", DECIMAL),
        Column("period", "周期"),
        Column("by_month", "第几个月", INTEGER),
    )
    fields = ["metric", "comparison", "value", "period", "by_month"]
    return Table(
        key="targets",
        zh="KPI目标",
        description="The engagement's live KPI targets (metric, comparison, value, period, by "
        "which month of the engagement).",
        columns=columns,
        rows=lambda: _stream(queryset.order_by("by_month", "metric", "pk"), fields),
        count=queryset.count,
    )


def _campaigns(scope: ExportScope) -> Table:
    queryset = scope.visible(Campaign.objects.filter(engagement=scope.engagement))
    columns = [
        Column("name", "推广名称"),
        Column("channel", "渠道"),
        Column("platform_event", "平台活动"),
        Column("goal", "目标"),
        Column("start_date", "开始日期", DATE),
        Column("end_date", "结束日期", DATE),
        Column("budget", "预算", MONEY),
        Column("status", "状态"),
        Column("ad_report_name", "广告报表计划名"),
    ]
    fields = ["name", "channel", "event__name", "goal", "start_date", "end_date", "budget"]
    fields += ["status", "ad_campaign_name"]
    if scope.internal:
        columns += [
            Column("brand_visible", "品牌可见", BOOLEAN),
            Column("targeting_notes", "定向备注"),
        ]
        fields += ["brand_visible", "targeting_notes"]

    def rows() -> Iterator[tuple]:
        for row in _stream(queryset.order_by("start_date", "name", "pk"), fields):
            row = list(row)
            row[8] = row[8] or row[0]  # the name as the ad reports spell it (default: its name)
            yield tuple(row)

    return Table(
        key="campaigns",
        zh="推广活动",
        description="Traffic campaigns: channel, platform event, goal, dates, budget (CNY), "
        "status and the plan name in the ad reports.",
        columns=tuple(columns),
        rows=rows,
        count=queryset.count,
    )


def _setup_items(scope: ExportScope) -> Table:
    queryset = scope.visible(SetupItem.objects.filter(engagement=scope.engagement))
    columns = [
        Column("section", "模块"),
        Column("title", "事项"),
        Column("description", "说明"),
        Column("product_item_id", "商品ID"),
        Column("product_name", "商品名称"),
        Column("owner", "负责人"),
        Column("due_date", "截止日期", DATE),
        Column("status", "状态"),
        Column("needs_brand_approval", "需品牌确认", BOOLEAN),
        Column("brand_decision", "品牌意见"),
        Column("brand_comment", "品牌备注"),
        Column("document_kind", "资质类型"),
        Column("issue_date", "签发日期", DATE),
        Column("expiry_date", "到期日期", DATE),
        Column("completed_on", "完成日期", DATE),
    ]
    fields = ["section", "title", "description", "product_item_id", "product_name"]
    fields += ["owner__user__full_name", "owner__user__email", "due_date", "status"]
    fields += ["needs_brand_approval", "brand_decision", "brand_comment", "document_kind"]
    fields += ["issue_date", "expiry_date", "completed_at"]
    if scope.internal:
        columns += [
            Column("brand_visible", "品牌可见", BOOLEAN),
            Column("reminder_days", "提前提醒天数"),
        ]
        fields += ["brand_visible", "reminder_days"]

    def rows() -> Iterator[tuple]:
        for row in _stream(queryset.order_by("position", "pk"), fields):
            row = list(row)
            row[5:7] = [_owner_name(row[5], row[6])]
            row[14] = scope.local_date(row[14])
            yield tuple(row)

    return Table(
        key="setup_items",
        zh="店铺搭建事项",
        description="The store-setup checklist: section, item, owner, due date, status, the "
        "brand's decision, qualification documents' dates, and when each item was done.",
        columns=tuple(columns),
        rows=rows,
        count=queryset.count,
    )


def _offers(scope: ExportScope) -> Table:
    queryset = scope.visible(Offer.objects.filter(engagement=scope.engagement))
    columns = [
        Column("name", "优惠名称"),
        Column("kind", "类型"),
        Column("threshold", "门槛金额", MONEY),
        Column("discount", "优惠", MONEY),
        Column("target_tier", "目标人群"),
        Column("start_date", "开始日期", DATE),
        Column("end_date", "结束日期", DATE),
        Column("budget", "预算", MONEY),
        Column("issued", "发放数", INTEGER),
        Column("redeemed", "使用数", INTEGER),
        Column("orders", "订单数", INTEGER),
        Column("gmv", "优惠成交金额", MONEY),
        Column("cost", "优惠让利金额", MONEY),
        Column("notes", "备注"),
    ]
    fields = ["name", "kind", "threshold", "discount", "target_tier", "start_date", "end_date"]
    fields += ["budget", "issued", "redeemed", "orders", "gmv", "cost", "notes"]
    if scope.internal:
        columns.append(Column("brand_visible", "品牌可见", BOOLEAN))
        fields.append("brand_visible")
    return Table(
        key="offers",
        zh="优惠券与折扣",
        description="Coupon and discount plans with their results (discount: the amount off "
        "in CNY, or the percent off for kind 'discount').",
        columns=tuple(columns),
        rows=lambda: _stream(queryset.order_by("start_date", "name", "pk"), fields),
        count=queryset.count,
    )


def _keyword_ranks(scope: ExportScope) -> Table:
    ranks = KeywordRank.objects.filter(keyword__engagement=scope.engagement)
    unranked = SearchKeyword.objects.filter(engagement=scope.engagement, ranks__isnull=True)
    columns = (
        Column("keyword", "关键词"),
        Column("product_item_id", "商品ID"),
        Column("product_name", "商品名称"),
        Column("search_volume", "月搜索量", INTEGER),
        Column("target_rank", "目标排名", INTEGER),
        Column("date", "日期", DATE),
        Column("rank", "排名", INTEGER),
    )
    keyword_fields = ["product_item_id", "product_name", "search_volume", "target_rank"]

    def rows() -> Iterator[tuple]:
        # Keywords never checked yet come first, with no date and no rank.
        for row in _stream(unranked.order_by("keyword", "pk"), ["keyword", *keyword_fields]):
            yield (*row, None, None)
        fields = ["keyword__keyword", *(f"keyword__{name}" for name in keyword_fields)]
        yield from _stream(
            ranks.order_by("keyword__keyword", "keyword_id", "date"), [*fields, "date", "rank"]
        )

    return Table(
        key="keyword_ranks",
        zh="关键词排名",
        description="Search keywords with their rank on each day checked (no rank: not found "
        "in the positions checked; no date: never checked).",
        columns=columns,
        rows=rows,
        count=lambda: ranks.count() + unranked.count(),
    )


def _tier_snapshots(scope: ExportScope) -> Table:
    queryset = TierSnapshot.objects.filter(engagement=scope.engagement)
    columns = (
        Column("month", "月份", DATE),
        Column("tier", "人群分层"),
        Column("buyers", "买家数", INTEGER),
        Column("orders", "订单数", INTEGER),
        Column("gmv", "支付金额", MONEY),
    )
    fields = ["month", "tier", "buyers", "orders", "gmv"]
    return Table(
        key="tier_snapshots",
        zh="用户分层",
        description="User tiers (new, repeat, high-value, at-risk) per month: buyers, orders "
        "and GMV (CNY).",
        columns=columns,
        rows=lambda: _stream(queryset.order_by("month", "tier"), fields),
        count=queryset.count,
    )


def _stored_number(name: str, value):
    """A metric's value as stored in a report's JSON (a decimal string or a count): a number."""
    if value is None:
        return None
    if METRICS[name].unit == "count":
        return int(value)
    return Decimal(str(value))


def _figure(content: dict, name: str):
    """A review's stored figure as a number."""
    return _stored_number(name, ((content.get("metrics") or {}).get(name) or {}).get("value"))


def _reviews(scope: ExportScope) -> Table:
    queryset = scope.reviews()
    columns = [
        Column("review_id", "复盘编号", INTEGER),
        Column("kind", "类型"),
        Column("period_start", "开始日期", DATE),
        Column("period_end", "结束日期", DATE),
    ]
    if scope.internal:
        columns.append(Column("status", "状态"))
    columns += [Column("published_on", "发布日期", DATE), Column("narrative", "总结")]
    columns += [metric_column(name) for name in REVIEW_FIGURES]
    fields = ["pk", "kind", "period_start", "period_end", "status", "published_at"]
    fields += ["narrative", "content"]

    def rows() -> Iterator[tuple]:
        for pk, kind, start, end, status, published_at, narrative, content in _stream(
            queryset.order_by("period_start", "kind", "pk"), fields
        ):
            row = [pk, kind, start, end]
            if scope.internal:
                row.append(status)
            row += [scope.local_date(published_at), narrative]
            row += [_figure(content or {}, name) for name in REVIEW_FIGURES]
            yield tuple(row)

    return Table(
        key="reviews",
        zh="周报月报",
        description="Weekly and monthly reviews: period, summary and the main figures "
        "(conversion_rate as a fraction, roi as a multiple).",
        columns=tuple(columns),
        rows=rows,
        count=queryset.count,
    )


def _action_items(queryset, review_column: Column, key: str, zh: str, description: str) -> Table:
    """A table of action items (weekly/monthly or full reviews'): what, who, by when, status."""
    columns = (
        review_column,
        Column("title", "行动项"),
        Column("owner", "负责人"),
        Column("due_date", "截止日期", DATE),
        Column("status", "状态"),
    )
    fields = ["review_id", "title", "owner__user__full_name", "owner__user__email"]
    fields += ["due_date", "status"]

    def rows() -> Iterator[tuple]:
        order = ("review__period_start", "review_id", "due_date", "pk")
        for review_id, title, full_name, email, due, status in _stream(
            queryset.order_by(*order), fields
        ):
            yield (review_id, title, _owner_name(full_name, email), due, status)

    return Table(
        key=key, zh=zh, description=description, columns=columns, rows=rows, count=queryset.count
    )


def _review_actions(scope: ExportScope) -> Table:
    return _action_items(
        ReviewActionItem.objects.filter(review__in=scope.reviews()),
        Column("review_id", "复盘编号", INTEGER),
        key="review_actions",
        zh="复盘行动项",
        description="The reviews' action items: what, who, by when, and how it went.",
    )


FULL_REVIEW_ID = Column("full_review_id", "全面复盘编号", INTEGER)
PLAN_ID = Column("plan_id", "合作建议编号", INTEGER)


def _full_reviews(scope: ExportScope) -> Table:
    queryset = scope.full_reviews()
    columns = [
        FULL_REVIEW_ID,
        Column("period_start", "开始日期", DATE),
        Column("period_end", "结束日期", DATE),
    ]
    if scope.internal:
        columns.append(Column("status", "状态"))
    columns.append(Column("published_on", "发布日期", DATE))
    columns += [metric_column(name) for name in FULL_REVIEW_FIGURES]
    columns += [
        Column("targets_met", "达成目标数", INTEGER),
        Column("targets_judged", "已结束目标数", INTEGER),
        Column("narrative", "总结"),
        Column("target_answer", "目标是否达成"),
        Column("cause_answer", "问题与原因"),
    ]
    fields = ["pk", "period_start", "period_end", "status", "published_at", "content"]
    fields += ["narrative", "target_answer", "cause_answer"]

    def rows() -> Iterator[tuple]:
        for pk, start, end, status, published_at, content, *answers in _stream(
            queryset.order_by("period_start", "period_end", "pk"), fields
        ):
            content = content or {}
            totals = content.get("totals") or {}
            row = [pk, start, end]
            if scope.internal:
                row.append(status)
            row.append(scope.local_date(published_at))
            row += [_stored_number(name, totals.get(name)) for name in FULL_REVIEW_FIGURES]
            row += [content.get("targets_met"), content.get("targets_judged"), *answers]
            yield tuple(row)

    return Table(
        key="full_reviews",
        zh="全面复盘",
        description="Full reviews of the engagement or a stage of it: period, the period's "
        "totals (conversion_rate and repurchase_rate as fractions, roi as a multiple), targets "
        'met of those whose period ended, the summary and the answers to "did we hit the '
        'target?" and "what went wrong, and why?".',
        columns=tuple(columns),
        rows=rows,
        count=queryset.count,
    )


def _full_review_findings(scope: ExportScope) -> Table:
    queryset = FullReviewFinding.objects.filter(review__in=scope.full_reviews())
    columns = [
        FULL_REVIEW_ID,
        Column("kind", "类型"),
        Column("statement", "发现"),
        Column("evidence", "依据"),
    ]
    fields = ["review_id", "kind", "statement", "evidence"]
    if scope.internal:
        columns.append(Column("rule", "规则"))
        fields.append("rule")
    order = ("review__period_start", "review_id", "kind", "position", "pk")
    return Table(
        key="full_review_findings",
        zh="全面复盘发现",
        description="The full reviews' strengths and weak spots (kind strength or weakness), "
        "each with its evidence.",
        columns=tuple(columns),
        rows=lambda: _stream(queryset.order_by(*order), fields),
        count=queryset.count,
    )


def _full_review_actions(scope: ExportScope) -> Table:
    return _action_items(
        FullReviewAction.objects.filter(review__in=scope.full_reviews()),
        FULL_REVIEW_ID,
        key="full_review_actions",
        zh="全面复盘行动项",
        description="The full reviews' action items: what, who, by when, and how it went.",
    )


def _plans(scope: ExportScope) -> Table:
    queryset = scope.plans()
    columns = [PLAN_ID, FULL_REVIEW_ID]
    if scope.internal:
        columns.append(Column("status", "状态"))
    columns += [
        Column("published_on", "发布日期", DATE),
        Column("summary", "总结"),
        Column("suggested_services", "建议服务范围"),
    ]
    fields = ["pk", "full_review_id", "status", "published_at", "summary", "suggested_services"]

    def rows() -> Iterator[tuple]:
        order = ("full_review__period_start", "full_review_id", "pk")
        for pk, review_id, status, published_at, summary, services in _stream(
            queryset.order_by(*order), fields
        ):
            row = [pk, review_id]
            if scope.internal:
                row.append(status)
            row += [scope.local_date(published_at), summary, ",".join(services or [])]
            yield tuple(row)

    return Table(
        key="long_term_plans",
        zh="长期合作建议",
        description="Long-term plans drawn from the full reviews: the summary and the "
        "suggested scope (service codes, comma-separated).",
        columns=tuple(columns),
        rows=rows,
        count=queryset.count,
    )


def _recommendations(scope: ExportScope) -> Table:
    queryset = Recommendation.objects.filter(plan__in=scope.plans())
    columns = [
        PLAN_ID,
        Column("position", "序号", INTEGER),
        Column("title", "建议"),
        Column("reason", "理由"),
    ]
    if scope.internal:
        columns.append(Column("rule", "规则"))

    def rows() -> Iterator[tuple]:
        fields = ["plan_id", "title", "reason", "rule"]
        order = ("plan__full_review__period_start", "plan_id", "position", "pk")
        current, number = None, 0
        for plan_id, title, reason, rule in _stream(queryset.order_by(*order), fields):
            number = number + 1 if plan_id == current else 1
            current = plan_id
            row = [plan_id, number, title, reason]
            if scope.internal:
                row.append(rule)
            yield tuple(row)

    return Table(
        key="plan_recommendations",
        zh="合作建议明细",
        description="The long-term plans' recommendations, numbered in each plan's order, "
        "each with its reason.",
        columns=tuple(columns),
        rows=rows,
        count=queryset.count,
    )


def export_tables(*, engagement: Engagement, audience: str) -> list[Table]:
    """Every table of the handover, in the order of the workbook's sheets."""
    scope = ExportScope(engagement=engagement, audience=audience)
    store_day = list(STORE_DAY_COMPONENTS)
    sources = ["source", "visitors", "paying_buyers", "new_buyers", "add_to_cart_users", "gmv"]
    products = ["item_id", "item_name", "visitors", "page_views", "paying_buyers", "paid_orders"]
    products += ["paid_units", "add_to_cart_users", "favorites", "gmv", "refund_amount"]
    ads = ["ad_tool", "campaign", "item_id", "item_name", "impressions", "clicks", "ad_orders"]
    ads += ["ad_spend", "ad_gmv"]
    return [
        _fact_table(
            scope,
            StoreDayFact,
            "store_day",
            "店铺日数据",
            "生意参谋 store overview, one row a day (counts, and money in CNY).",
            store_day,
            [],
        ),
        _fact_table(
            scope,
            StoreDaySourceFact,
            "store_day_source",
            "流量来源日数据",
            "生意参谋 traffic sources, one row a day and source.",
            sources,
            ["source"],
        ),
        _fact_table(
            scope,
            StoreDayProductFact,
            "store_day_product",
            "商品日数据",
            "生意参谋 product report, one row a day and product (item id).",
            products,
            ["item_id"],
        ),
        _fact_table(
            scope,
            StoreDayAdFact,
            "store_day_ad",
            "推广日数据",
            "Ad reports (直通车, 万相台, 引力魔方), one row a day, ad tool, plan and product "
            "(empty item id: the plan's own row).",
            ads,
            ["ad_tool", "campaign", "item_id"],
        ),
        _targets(scope),
        _campaigns(scope),
        _setup_items(scope),
        _offers(scope),
        _keyword_ranks(scope),
        _tier_snapshots(scope),
        _reviews(scope),
        _review_actions(scope),
        _full_reviews(scope),
        _full_review_findings(scope),
        _full_review_actions(scope),
        _plans(scope),
        _recommendations(scope),
    ]
