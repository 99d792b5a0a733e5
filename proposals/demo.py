"""Demo proposals for `seed_demo`: Brand A's renewal proposal waiting for the owner's approval
(its first version sent back with requested changes), and Brand B's launch proposal approved,
its targets live. Written through the services, as staff and the brand owners would.

Idempotent: an engagement that already has a proposal of the demo's title is left alone.
"""

from __future__ import annotations

import datetime

from agency.models import Agency, Membership
from engagements.models import Engagement
from proposals import services
from proposals.models import Proposal

BRAND_A_ENGAGEMENT = "Brand A 全链路增长 2026"
BRAND_A_TITLE = "Brand A 2026 下半年续约运营方案"
BRAND_B_ENGAGEMENT = "Brand B 新品破零"
BRAND_B_TITLE = "Brand B 新品上市 6 个月运营方案"

TERMS = (
    "1. 服务期内按月结算基础服务费，次月 10 日前支付。\n"
    "2. 销售提成按当月支付金额（扣除退款）分段计算。\n"
    "3. 广告预算由品牌方直接充值至投放账户，代运营方不垫付。\n"
    "4. 任一方提前 30 天书面通知可终止合作。"
)


def _fill(actor: Membership, version, engagement: Engagement, *, gmv_target: str) -> None:
    """The content both demo proposals share: targets, a phase plan, resources, labour, fees."""
    # Due dates from today for an engagement already under way (a renewal), else from its start.
    start = max(engagement.start_date, datetime.date.today())
    services.version_update(
        actor=actor,
        version=version,
        scope_services=list(engagement.scope_services),
        monthly_base_fee="30000.00",
        kpi_bonus="第 6 个月月度支付金额达到 80 万元，额外奖励 5 万元。",
        terms=TERMS,
    )
    for metric, value, by_month, period in (
        ("gmv", gmv_target, 3, "month"),
        ("roi", "3", 3, "month"),
        ("conversion_rate", "0.03", 6, "month"),
        ("gmv", "2400000", 6, "cumulative"),
    ):
        services.target_add(
            actor=actor,
            version=version,
            metric=metric,
            comparison=">=",
            value=value,
            period=period,
            by_month=by_month,
        )
    for month, title, description in (
        (1, "店铺基础搭建与诊断问题修复", "首页改版、主推款详情页重做、类目与标题关键词优化。"),
        (2, "付费推广起量", "直通车关键词计划与万相台货品加速同步开启，测款定主推。"),
        (3, "聚划算活动", "报名聚划算，配合达人直播冲击单月 GMV 目标。"),
        (4, "会员与复购运营", "新客 / 复购客 / 高价值会员分层策略上线，客服首响 30 秒内。"),
        (6, "复盘与下半年规划", "全面复盘目标达成情况，制定双11备战方案。"),
    ):
        services.milestone_add(
            actor=actor, version=version, month=month, title=title, description=description
        )
    for kind, channel, month, description, amount in (
        ("paid_budget", "zhitongche", None, "搜索关键词推广", "20000"),
        ("paid_budget", "wanxiangtai", None, "货品加速与拉新", "15000"),
        ("platform_event", "juhuasuan", 3, "聚划算单品团", None),
        ("influencer", "livestream", 3, "腰部达人直播 2 场", "30000"),
    ):
        services.resource_add(
            actor=actor,
            version=version,
            kind=kind,
            channel=channel,
            month=month,
            description=description,
            amount=amount,
        )
    for party, task, owner, days in (
        ("brand", "提供品牌授权书与质检报告", "品牌方法务", 7),
        ("brand", "确认主推款价格与库存", "品牌方电商负责人", 10),
        ("agency", "完成首页与详情页改版", "设计组", 30),
        ("agency", "提交首月数据月报", "客户经理", 35),
    ):
        services.responsibility_add(
            actor=actor,
            version=version,
            party=party,
            task=task,
            owner=owner,
            due_date=start + datetime.timedelta(days=days),
        )
    for gmv_from, gmv_to, rate in (("0", "500000", "3"), ("500000", None, "5")):
        services.commission_tier_add(
            actor=actor, version=version, gmv_from=gmv_from, gmv_to=gmv_to, rate_percent=rate
        )


def _owner(agency: Agency, email: str) -> Membership:
    return Membership.objects.select_related("user").get(agency=agency, user__email=email)


def proposals_seed_demo(*, agency: Agency) -> None:
    """Load the demo proposals into the `demo` agency (call inside its `agency_scope`)."""
    if agency.slug != "demo":
        return
    manager = _owner(agency, "manager@demo.test")

    engagement = Engagement.objects.filter(title=BRAND_A_ENGAGEMENT).first()
    if (
        engagement is not None
        and not Proposal.objects.filter(engagement=engagement, title=BRAND_A_TITLE).exists()
    ):
        owner = _owner(agency, "owner@brand-a.test")
        proposal = services.proposal_create(
            actor=manager, engagement=engagement, title=BRAND_A_TITLE
        )
        first = proposal.versions.get()
        _fill(manager, first, engagement, gmv_target="600000")
        first = services.version_send(actor=manager, version=first)
        services.version_request_changes(
            actor=owner,
            version=first,
            comment="第 3 个月单月 60 万的目标偏高，聚划算排期未定，建议调整为 50 万；"
            "另外希望增加一场品牌日活动。",
        )
        services.proposal_comment_add(
            actor=manager,
            proposal=proposal,
            body="品牌方对第 3 个月目标有顾虑，新版下调至 50 万并增加品牌日。",
            internal=True,
        )
        second = services.proposal_new_version(actor=manager, proposal=proposal)
        gmv = second.targets.get(metric="gmv", period="month")
        services.version_row_delete(actor=manager, version=second, section="targets", row_id=gmv.pk)
        services.target_add(
            actor=manager,
            version=second,
            metric="gmv",
            comparison=">=",
            value="500000",
            period="month",
            by_month=3,
        )
        services.resource_add(
            actor=manager,
            version=second,
            kind="platform_event",
            channel="brand_day",
            month=5,
            description="天猫品牌日（待平台确认排期）",
        )
        services.version_send(actor=manager, version=second)
        services.proposal_comment_add(
            actor=manager,
            proposal=proposal,
            body="已按您的意见调整第 3 个月目标并增加品牌日，请查阅第 2 版。",
        )

    engagement = Engagement.objects.filter(title=BRAND_B_ENGAGEMENT).first()
    if (
        engagement is not None
        and not Proposal.objects.filter(engagement=engagement, title=BRAND_B_TITLE).exists()
    ):
        owner = _owner(agency, "owner@brand-b.test")
        proposal = services.proposal_create(
            actor=manager, engagement=engagement, title=BRAND_B_TITLE
        )
        version = proposal.versions.get()
        _fill(manager, version, engagement, gmv_target="500000")
        version = services.version_send(actor=manager, version=version)
        services.version_approve(
            actor=owner,
            version=version,
            signed_name=owner.user.full_name or owner.user.email,
            ip="127.0.0.1",
            user_agent="seed_demo",
        )
