"""The full review (全面效果复盘) and the long-term plan (长期合作建议) as PDFs: what the reader
finds in the file (the Chinese title, the GMV total, the timeline as their audience may see it,
a recommendation), the monthly chart, and who may download them (the getters' rules: drafts
are staff only, another brand or agency gets 404)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from agency.tenancy import agency_scope
from engagements.models import EngagementTarget
from execution.metrics.formatting import format_value
from execution.models import Channel, TierSnapshot
from reporting.full_review import plan as plans
from reporting.full_review import services
from reporting.pdf.documents import full_review_document
from reporting.tests.test_pdf import ZH, pdf_text, squeeze, timed_get

PERIOD_START, PERIOD_END = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)
PERIOD_TEXT = "2026-01-01 – 2026-03-31"
# The period's GMV: 2,000.00 + 3,000.50 (January) + 4,200.00 (February) + 5,000.25 (March).
GMV_TOTAL = "14200.75"
VISIBLE_CAMPAIGN = "SpringLaunchPlan"
INTERNAL_CAMPAIGN = "InternalOnlyTestPlan"
RECOMMENDATION = "扩大直播投入"


@pytest.fixture
def review_data(push, engagement_a, make_campaign, make_setup_item):
    """Brand A's engagement (from 2026-01-01) with figures in January to March 2026 and one
    day of the diagnosis baseline before it, a brand-visible and an internal campaign, a setup
    item done in the period, a monthly target and the user tiers of January and March."""
    store = engagement_a.store
    push(
        store,
        "store_day",
        [
            {"date": "2025-12-20", "visitors": 400, "paying_buyers": 8, "gmv": "800.00"},
            {"date": "2026-01-05", "visitors": 1000, "paying_buyers": 20, "gmv": "2000.00"},
            {"date": "2026-01-20", "visitors": 1200, "paying_buyers": 30, "gmv": "3000.50"},
            {"date": "2026-02-14", "visitors": 1500, "paying_buyers": 40, "gmv": "4200.00"},
            {"date": "2026-03-10", "visitors": 2000, "paying_buyers": 50, "gmv": "5000.25"},
        ],
    )
    push(
        store,
        "store_day_ad",
        [
            {
                "date": "2026-01-05",
                "ad_tool": "zhitongche",
                "campaign": "核心词计划",
                "impressions": 10000,
                "clicks": 300,
                "ad_orders": 12,
                "ad_spend": "500.00",
                "ad_gmv": "2000.00",
            },
            {
                "date": "2026-03-10",
                "ad_tool": "wanxiangtai",
                "campaign": "拉新计划",
                "impressions": 5000,
                "clicks": 100,
                "ad_orders": 3,
                "ad_spend": "200.00",
                "ad_gmv": "300.00",
            },
        ],
    )
    push(
        store,
        "store_day_source",
        [
            {"date": "2026-01-05", "source": "手淘搜索", "visitors": 600},
            {"date": "2026-01-05", "source": "直通车", "visitors": 400},
        ],
    )
    push(
        store,
        "store_day_product",
        [
            {
                "date": "2026-01-05",
                "item_id": "6001",
                "item_name": "保湿面霜",
                "visitors": 500,
                "paying_buyers": 10,
                "gmv": "1500.00",
            },
            {
                "date": "2026-03-10",
                "item_id": "6002",
                "item_name": "修护精华",
                "visitors": 300,
                "paying_buyers": 3,
                "gmv": "600.00",
            },
        ],
    )
    make_campaign(
        engagement_a,
        name=VISIBLE_CAMPAIGN,
        channel=Channel.ZHITONGCHE,
        start_date=datetime.date(2026, 1, 5),
        end_date=datetime.date(2026, 1, 31),
    )
    make_campaign(
        engagement_a,
        name=INTERNAL_CAMPAIGN,
        channel=Channel.WANXIANGTAI,
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 2, 28),
        brand_visible=False,
    )
    make_setup_item(engagement_a, title="店铺首页装修", due_date=datetime.date(2026, 1, 15))
    with agency_scope(engagement_a.agency_id):
        EngagementTarget.objects.create(
            engagement=engagement_a,
            metric="gmv",
            comparison=">=",
            value=Decimal("10000"),
            period="month",
            by_month=1,
        )
        for month, buyers, gmv in ((1, 20, "5000.50"), (3, 45, "5000.25")):
            TierSnapshot.objects.create(
                engagement=engagement_a,
                month=datetime.date(2026, month, 1),
                tier="new",
                buyers=buyers,
                orders=buyers,
                gmv=gmv,
            )
    return engagement_a


@pytest.fixture
def full_review(review_data, demo_manager):
    """The full review of January to March, drafted, answered and with an action item;
    `publish=True` publishes it."""

    def make(publish: bool = True):
        with agency_scope(review_data.agency_id):
            review = services.full_review_draft(
                actor=demo_manager,
                engagement=review_data,
                period_start=PERIOD_START,
                period_end=PERIOD_END,
            )
            review = services.full_review_update(
                actor=demo_manager,
                review=review,
                narrative="一季度：搜索流量带动支付金额增长。",
                target_answer="一月支付金额目标未达成。",
                cause_answer="引力魔方拉新计划投入产出偏低。",
            )
            services.action_add(
                actor=demo_manager,
                review=review,
                title="调整拉新计划出价",
                owner=demo_manager,
                due_date=datetime.date(2026, 4, 15),
            )
            if publish:
                review = services.full_review_publish(actor=demo_manager, review=review)
        return review

    return make


@pytest.fixture
def long_term_plan(full_review, demo_manager):
    def make(publish: bool = False):
        review = full_review()
        with agency_scope(review.agency_id):
            plan = plans.plan_create(actor=demo_manager, review=review)
            plans.recommendation_add(
                actor=demo_manager,
                plan=plan,
                title=RECOMMENDATION,
                reason="直播间转化率高于店铺均值。\n建议每周加开两场。",
            )
            if publish:
                plan = plans.plan_publish(actor=demo_manager, plan=plan)
        return plan

    return make


@pytest.fixture
def chinese_reader(brand_a_owner):
    brand_a_owner.user.language = ZH
    brand_a_owner.user.save(update_fields=["language"])
    return brand_a_owner


@pytest.fixture
def chinese_staff(demo_manager):
    demo_manager.user.language = ZH
    demo_manager.user.save(update_fields=["language"])
    return demo_manager


def review_url(review) -> str:
    return reverse(
        "reporting:full_review_pdf",
        kwargs={"agency_slug": review.engagement.agency.slug, "full_review_id": review.pk},
    )


def plan_url(plan) -> str:
    return reverse(
        "reporting:plan_pdf",
        kwargs={"agency_slug": plan.engagement.agency.slug, "plan_id": plan.pk},
    )


# --- the full review -------------------------------------------------------------------------


def test_full_review_pdf_has_the_chinese_title_the_gmv_total_and_the_answers(
    full_review, chinese_reader, client_for, brand_a
):
    review = full_review()
    response = timed_get(client_for(chinese_reader), review_url(review))
    raw = pdf_text(response)
    text = squeeze(raw)
    with translation.override(ZH):
        title = gettext("Full review")
        gmv = format_value("gmv", GMV_TOTAL)
    assert title == "全面效果复盘"
    assert squeeze(f"{title} · {brand_a.name}") in text
    assert gmv == "¥14,200.75" and gmv in text
    assert "一季度：搜索流量带动支付金额增长。" in text  # the narrative
    assert "一月支付金额目标未达成。" in text and "引力魔方拉新计划投入产出偏低。" in text
    assert "调整拉新计划出价" in text and "2026-04-15" in text  # the action, with its due date
    assert "4.00" in text  # the ROI of 直通车 (2,000 / 500)
    assert "保湿面霜" in text  # the best product
    # The footer names the review's period on every page.
    pages = [squeeze(page) for page in raw.split("\f") if page.strip()]
    assert pages and all(squeeze(PERIOD_TEXT) in page for page in pages)
    expected = f"{brand_a.name}-全面效果复盘-2026-01-01_2026-03-31.pdf"
    assert response["Content-Disposition"].endswith(f"filename*=utf-8''{quote(expected)}")


def test_the_brand_pdf_leaves_internal_timeline_entries_out_and_staff_see_them(
    full_review, chinese_reader, chinese_staff, client_for
):
    review = full_review()
    brand_text = squeeze(pdf_text(client_for(chinese_reader).get(review_url(review))))
    assert VISIBLE_CAMPAIGN in brand_text and "店铺首页装修" in brand_text
    assert INTERNAL_CAMPAIGN not in brand_text
    staff_text = squeeze(pdf_text(client_for(chinese_staff).get(review_url(review))))
    assert VISIBLE_CAMPAIGN in staff_text and INTERNAL_CAMPAIGN in staff_text


def test_the_findings_evidence_keeps_its_lines(full_review, chinese_staff, client_for):
    review = full_review(publish=False)
    with agency_scope(review.agency_id):
        services.finding_add(
            actor=chinese_staff,
            review=review,
            kind="strength",
            statement="搜索流量稳定增长",
            evidence="一月访客 2,200\n三月访客 2,000",
        )
    raw = pdf_text(client_for(chinese_staff).get(review_url(review)))
    lines = [squeeze(line) for line in raw.splitlines()]
    assert "搜索流量稳定增长" in squeeze(raw)
    assert any(line.endswith("一月访客2,200") for line in lines)  # a line of its own
    assert any(line.endswith("三月访客2,000") for line in lines)


def test_the_full_review_pdf_charts_gmv_by_month(full_review, brand_a_owner):
    review = full_review()
    with agency_scope(review.agency_id, brand_ids=[review.engagement.store.brand_id]):
        document = full_review_document(review=review, brand_view=True)
    chart = document.context["month_chart"]
    assert chart.startswith("<svg") and chart.count("<rect") == 3
    for month, gmv in (("2026-01", "5000.50"), ("2026-02", "4200.00"), ("2026-03", "5000.25")):
        assert month in chart and format_value("gmv", gmv) in chart
    assert "<svg" in document.context["channel_chart"]  # the ROI of each ad tool
    assert document.period == (PERIOD_START, PERIOD_END)


def test_a_draft_full_review_pdf_is_404_for_the_brand_and_marked_draft_for_staff(
    full_review, brand_a_owner, chinese_staff, client
):
    review = full_review(publish=False)
    client.force_login(brand_a_owner.user)
    assert client.get(review_url(review)).status_code == 404
    client.force_login(chinese_staff.user)
    text = squeeze(pdf_text(client.get(review_url(review))))
    with translation.override(ZH):
        assert squeeze(gettext("Draft: the brand cannot see this report yet.")) in text


def test_the_full_review_pdf_of_another_brand_or_agency_is_404(
    full_review, brand_b_owner, rival_manager, client_for
):
    review = full_review()
    assert client_for(brand_b_owner).get(review_url(review)).status_code == 404
    client = client_for(rival_manager)
    assert client.get(review_url(review)).status_code == 404
    # Under their own agency's address, only the scoped lookup can refuse.
    own = reverse(
        "reporting:full_review_pdf",
        kwargs={"agency_slug": rival_manager.agency.slug, "full_review_id": review.pk},
    )
    assert client.get(own).status_code == 404


# --- the long-term plan ----------------------------------------------------------------------


def test_plan_pdf_has_the_title_the_review_period_and_the_recommendations(
    long_term_plan, chinese_staff, client_for, brand_a
):
    plan = long_term_plan()
    response = timed_get(client_for(chinese_staff), plan_url(plan))
    raw = pdf_text(response)
    text = squeeze(raw)
    with translation.override(ZH):
        title = gettext("Long-term plan")
    assert title == "长期合作建议"
    assert squeeze(f"{title} · {brand_a.name}") in text
    assert RECOMMENDATION in text
    assert "直播间转化率高于店铺均值。" in text and "建议每周加开两场。" in text
    assert squeeze(PERIOD_TEXT) in text
    expected = f"{brand_a.name}-长期合作建议-2026-01-01_2026-03-31.pdf"
    assert response["Content-Disposition"].endswith(f"filename*=utf-8''{quote(expected)}")


def test_a_draft_plan_pdf_is_404_for_the_brand_until_published(
    long_term_plan, chinese_reader, demo_manager, client_for
):
    plan = long_term_plan()
    client = client_for(chinese_reader)
    assert client.get(plan_url(plan)).status_code == 404
    with agency_scope(plan.agency_id):
        plans.plan_publish(actor=demo_manager, plan=plan)
    assert RECOMMENDATION in squeeze(pdf_text(client.get(plan_url(plan))))


def test_the_plan_pdf_of_another_brand_or_agency_is_404(
    long_term_plan, brand_b_owner, rival_manager, client_for
):
    plan = long_term_plan(publish=True)
    assert client_for(brand_b_owner).get(plan_url(plan)).status_code == 404
    client = client_for(rival_manager)
    assert client.get(plan_url(plan)).status_code == 404
    own = reverse(
        "reporting:plan_pdf",
        kwargs={"agency_slug": rival_manager.agency.slug, "plan_id": plan.pk},
    )
    assert client.get(own).status_code == 404
