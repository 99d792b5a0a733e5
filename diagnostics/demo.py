"""Demo content of step 1 for `seed_demo`: a filled-in diagnosis and a published report.

Idempotent: an engagement that already has a published report is left alone, and the intake,
competitors and personas are found by engagement and name before anything is created.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import translation

from agency.models import Membership
from diagnostics import selectors, services
from diagnostics.models import AgeBand, Competitor, DiagnosisReport, Persona
from engagements.models import Engagement

COMPETITORS = [
    {
        "name": "森屿家居旗舰店",
        "store_url": "https://senyu.tmall.com",
        "monthly_sales": Decimal("1850000.00"),
        "price_low": Decimal("89.00"),
        "price_high": Decimal("459.00"),
        "marketing_tactics": (
            "直通车核心词卡首屏，每月一次聚划算；达人短视频种草，店铺直播日播 6 小时。"
        ),
        "notes": "评价数多（主推款 2 万+），详情页强调环保材质与 30 天无理由退换。",
    },
    {
        "name": "木言生活官方旗舰店",
        "store_url": "https://muyan.tmall.com",
        "monthly_sales": Decimal("920000.00"),
        "price_low": Decimal("129.00"),
        "price_high": Decimal("699.00"),
        "marketing_tactics": "万相台拉新为主，会员日满减；小红书投放带搜索。",
        "notes": "客单价高于我们约 20%，复购靠会员积分。",
    },
]

PERSONAS = [
    {
        "name": "新婚小家庭",
        "age_bands": [AgeBand.AGE_25_30, AgeBand.AGE_31_35],
        "consumption_habits": (
            "集中在 618、双11 囤货；先在小红书种草再到天猫搜索比价；重视买家秀与评价。"
        ),
        "pain_points": "担心材质气味与安装麻烦；同款比价多，价格敏感；物流破损顾虑。",
    },
    {
        "name": "品质改善型中年用户",
        "age_bands": [AgeBand.AGE_36_40, AgeBand.AGE_41_50],
        "consumption_habits": "看重品牌与售后，愿意为设计与耐用性付溢价；常在晚间浏览、周末下单。",
        "pain_points": "需要清楚的尺寸与搭配建议；希望有送装一体服务。",
    },
]


@transaction.atomic
def diagnosis_seed_demo(*, engagement: Engagement, actor: Membership) -> DiagnosisReport:
    """Fill the engagement's diagnosis and publish a report, unless one is published already.

    `actor` must be able to publish (the engagement's account manager or an admin). The report
    is written in Simplified Chinese, as a Chinese agency's staff would write it.
    """
    published = selectors.report_latest_published(engagement=engagement)
    if published is not None:
        return published
    brand = engagement.store.brand.name
    services.diagnosis_intake_save(
        actor=actor,
        engagement=engagement,
        goal=engagement.goal,
        goal_notes=f"{brand} 希望在 12 个月内把天猫店月销售额做到 50 万以上，ROI 不低于 3。",
        budget_min=Decimal("300000.00"),
        budget_max=Decimal("500000.00"),
        budget_notes="含推广费用，不含服务费；大促月可上浮 30%。",
        category="家居日用 / 收纳整理",
        price_low=Decimal("69.00"),
        price_high=Decimal("399.00"),
        average_order_value=Decimal("168.00"),
        advantages="自有工厂，成本低于同类 15%；环保 E0 级材质；外观设计获红点奖。",
        has_tmall_store=bool(engagement.store.shop_id),
        past_operations=(
            "过去一年以自然流量为主，直通车零星投放，月均销售额约 20 万，大促期间峰值 60 万。"
        ),
    )
    for fields in COMPETITORS:
        if not Competitor.objects.filter(engagement=engagement, name=fields["name"]).exists():
            services.competitor_create(actor=actor, engagement=engagement, **fields)
    for fields in PERSONAS:
        if not Persona.objects.filter(engagement=engagement, name=fields["name"]).exists():
            services.persona_create(actor=actor, engagement=engagement, **fields)
    with translation.override("zh-hans"):
        draft = services.diagnosis_report_generate(actor=actor, engagement=engagement)
    sections = [
        {
            **section,
            "body": (
                "1. 自然搜索流量占比偏低，核心类目词排名在第 3 页之后，"
                "需优化标题关键词与主图点击率。\n"
                "2. 客单价与竞品接近，但转化率低于类目均值，详情页缺少场景化展示与尺寸说明。\n"
                "3. 建议先做店铺基础优化（首页、详情页、类目属性），再以直通车 + 万相台组合拉新，"
                "重点布局 618 与双11 两个节点。"
            ),
        }
        if section["key"] == "findings"
        else section
        for section in draft.sections
    ]
    services.diagnosis_report_update(
        actor=actor, report=draft, title=f"{brand} 品牌现状诊断报告", sections=sections
    )
    return services.diagnosis_report_publish(actor=actor, report=draft)
