"""Campaigns on an ad tool are linked to the ingested ad facts by their plan name: figures over the
campaign's own days with ratios from summed parts, budget burn and pace against a linear plan,
"no ad data yet" when no report names them, and a constant number of queries (one metric query)
for a whole page of campaigns."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from execution.models import CampaignStatus, Channel
from execution.traffic.selectors import campaign_results, traffic_summary


def d(day, month=9):
    return datetime.date(2026, month, day)


@pytest.fixture
def running(make_engagement, store_a, demo_manager):
    return make_engagement(store_a, demo_manager, stage=Stage.TRAFFIC, title="Brand A traffic")


def ad_row(day, tool, campaign, impressions, clicks, spend, gmv, **extra):
    return {
        "date": day.isoformat(),
        "ad_tool": tool,
        "campaign": campaign,
        "impressions": impressions,
        "clicks": clicks,
        "ad_spend": spend,
        "ad_gmv": gmv,
        **extra,
    }


@pytest.fixture
def september_ads(push, store_a, store_b):
    """直通车 "核心词-精准": a small day with a high ROI and a bigger one with a low ROI, a day
    before the campaign starts (not counted), and the same plan name on 万相台 (another tool,
    not counted); "拉新-人群" has data up to 09-05. Store B's facts never count for Store A."""
    push(
        store_a,
        "store_day_ad",
        [
            ad_row(d(31, 8), "zhitongche", "核心词-精准", 999, 99, "999.00", "999.00"),
            ad_row(d(1), "zhitongche", "核心词-精准", 1000, 40, "60.00", "300.00"),
            ad_row(d(2), "zhitongche", "核心词-精准", 3000, 20, "90.00", "90.00"),
            ad_row(d(5), "zhitongche", "拉新-人群", 500, 5, "10.00", "0.00"),
        ],
    )
    push(
        store_a,
        "store_day_ad",
        [ad_row(d(1), "wanxiangtai", "核心词-精准", 7777, 77, "777.00", "7.00", item_id="9")],
    )
    push(
        store_b,
        "store_day_ad",
        [ad_row(d(1), "zhitongche", "核心词-精准", 5000, 500, "5000.00", "5000.00")],
    )


def results_for(campaigns, store, today):
    with agency_scope(store.agency_id):
        return campaign_results(campaigns=campaigns, store_id=store.pk, today=today)


def test_figures_burn_and_pace_come_from_the_campaigns_own_days(
    running, store_a, make_campaign, september_ads
):
    campaign = make_campaign(
        running,
        name="直通车 核心词 9月",
        ad_campaign_name="核心词-精准",
        start_date=d(1),
        end_date=d(30),
        budget=Decimal("3000.00"),
    )
    result = results_for([campaign], store_a, today=d(10))[campaign.pk]
    figures = result.figures
    assert figures["ad_spend"] == Decimal("150.00")
    assert figures["impressions"] == 4000 and figures["clicks"] == 60
    assert figures["ad_gmv"] == Decimal("390.00")
    assert figures["ctr"] == Decimal("0.015000")  # 60 / 4000, not the mean of 4% and 0.67%
    assert figures["cpc"] == Decimal("2.50")  # 150 / 60
    assert figures["roi"] == Decimal("2.600000")  # 390 / 150, not the mean of 5.0 and 1.0
    # The 直通车 reports reach 09-05 (another plan), so the plan to date runs to 09-05.
    assert result.as_of == d(5)
    assert result.burn == Decimal("0.0500")  # 150 / 3000
    assert result.planned == Decimal("500.00")  # 3000 × 5 / 30
    assert result.pace == Decimal("0.3000")  # 150 / 500
    assert result.pace_state == "behind"
    assert result.bar.spent_width == "5.0" and result.bar.planned_x == "16.7"


def test_a_shorter_window_and_an_overspend(running, store_a, make_campaign, september_ads):
    campaign = make_campaign(
        running,
        ad_campaign_name="核心词-精准",
        start_date=d(2),
        end_date=d(3),
        budget=Decimal("50.00"),
    )
    result = results_for([campaign], store_a, today=d(10))[campaign.pk]
    assert result.figures["ad_spend"] == Decimal("90.00")  # 09-02 only
    assert result.figures["roi"] == Decimal("1.000000")
    assert result.as_of == d(3)  # the campaign's end, before the last day of data
    assert result.burn == Decimal("1.8000")
    assert result.pace == Decimal("1.8000") and result.pace_state == "ahead"
    assert result.bar.over and result.bar.spent_width == "100.0"


def test_an_unmatched_name_is_allowed_and_shows_no_ad_data(
    client_for, demo_manager, running, store_a, make_campaign, september_ads
):
    today = datetime.date.today()
    campaign = make_campaign(
        running,
        name="引力魔方 新计划",
        channel=Channel.YINLIMOFANG,
        start_date=today - datetime.timedelta(days=20),
        end_date=today + datetime.timedelta(days=10),
        budget=Decimal("1000.00"),
    )
    free = make_campaign(
        running,
        name="直播 品牌日",
        channel=Channel.LIVESTREAM,
        start_date=today - datetime.timedelta(days=3),
        end_date=today,
    )
    results = results_for([campaign, free], store_a, today=today)
    assert results[campaign.pk].no_ad_data and results[campaign.pk].burn is None
    assert results[free.pk].figures is None and not results[free.pk].on_ad_tool
    client = client_for(demo_manager)
    listing = client.get(f"/demo/engagements/{running.pk}/traffic/").content.decode()
    assert "No ad data yet" in listing and "Free channel: no ad report" in listing
    detail = client.get(f"/demo/engagements/{running.pk}/traffic/campaigns/{campaign.pk}/")
    assert "No ad data yet" in detail.content.decode()


def test_the_pages_show_the_figures(
    client_for, brand_a_owner, running, push, store_a, make_campaign
):
    today = datetime.date.today()
    start = today - datetime.timedelta(days=40)
    push(
        store_a,
        "store_day_ad",
        [
            ad_row(start, "wanxiangtai", "货品运营-爆款加速", 2000, 100, "1234.50", "4938.00"),
            ad_row(
                start + datetime.timedelta(days=9),
                "wanxiangtai",
                "货品运营-爆款加速",
                0,
                0,
                "0.00",
                "0.00",
            ),
        ],
    )
    campaign = make_campaign(
        running,
        name="货品运营-爆款加速",
        channel=Channel.WANXIANGTAI,
        start_date=start,
        end_date=start + datetime.timedelta(days=19),
        budget=Decimal("2469.00"),
        status=CampaignStatus.RUNNING,
    )
    client = client_for(brand_a_owner)
    detail = client.get(f"/demo/engagements/{running.pk}/traffic/campaigns/{campaign.pk}/")
    text = detail.content.decode()
    assert "¥1,234.50" in text  # spend
    assert "4.00" in text  # ROI 4938 / 1234.50
    assert "5.00%" in text  # CTR 100 / 2000
    assert "50.00% of the budget" in text  # 1234.50 / 2469
    assert "¥1,234.50 (50.00% of the budget)" in text
    # 10 of 20 days have data: the plan to date is half the budget, so spend is on plan.
    assert "On plan" in text
    listing = client.get(f"/demo/engagements/{running.pk}/traffic/").content.decode()
    assert "¥1,234.50" in listing and "<svg" in listing


def test_one_metric_query_for_a_whole_page_of_campaigns(
    running, store_a, make_campaign, september_ads
):
    def count_queries(campaigns):
        with CaptureQueriesContext(connection) as queries:
            results_for(campaigns, store_a, today=d(30))
        return len(queries)

    one = [make_campaign(running, ad_campaign_name="核心词-精准", start_date=d(1), end_date=d(5))]
    many = one + [
        make_campaign(
            running,
            channel=channel,
            ad_campaign_name=name,
            start_date=d(day),
            end_date=d(day + 10),
            budget=Decimal("100.00"),
        )
        for day, channel, name in [
            (2, Channel.ZHITONGCHE, "拉新-人群"),
            (3, Channel.WANXIANGTAI, "核心词-精准"),
            (4, Channel.YINLIMOFANG, "猜你喜欢-拉新"),
            (5, Channel.ZHITONGCHE, "不存在的计划"),
            (6, Channel.ZHITONGCHE, "竞品词"),
        ]
    ]
    # The metric query, and how far each tool's reports reach.
    assert count_queries(one) == count_queries(many) == 2


def test_the_campaign_page_runs_a_constant_number_of_queries(
    client_for, demo_manager, running, make_campaign, september_ads, django_assert_max_num_queries
):
    client = client_for(demo_manager)
    today = datetime.date.today()
    start = today - datetime.timedelta(days=30)

    def add(count):
        for number in range(count):
            make_campaign(
                running,
                name=f"直通车 计划 {number} {start}",
                start_date=start,
                end_date=today,
                budget=Decimal("100.00"),
                status=CampaignStatus.RUNNING,
            )

    add(1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/demo/engagements/{running.pk}/traffic/").status_code == 200
    add(8)
    with django_assert_max_num_queries(len(few)):
        assert client.get(f"/demo/engagements/{running.pk}/traffic/").status_code == 200


def test_the_summary_counts_running_campaigns_budget_and_spend(
    running, store_a, brand_a_owner, demo_manager, make_campaign, make_keyword, push
):
    today = datetime.date.today()
    start = today - datetime.timedelta(days=5)
    push(
        store_a,
        "store_day_ad",
        [ad_row(start, "zhitongche", "核心词-精准", 100, 10, "25.00", "80.00")],
    )
    common = {"start_date": start, "end_date": today + datetime.timedelta(days=5)}
    make_campaign(
        running,
        ad_campaign_name="核心词-精准",
        budget=Decimal("500.00"),
        status=CampaignStatus.RUNNING,
        **common,
    )
    make_campaign(
        running,
        channel=Channel.LIVESTREAM,
        budget=Decimal("300.00"),
        status=CampaignStatus.RUNNING,
        brand_visible=False,
        **common,
    )
    make_campaign(running, status=CampaignStatus.PLANNED, budget=Decimal("9999.00"), **common)
    make_keyword(running)
    with agency_scope(running.agency_id):
        summary = traffic_summary(engagement=running, membership=demo_manager)
    assert summary["campaigns_total"] == 3 and summary["running_count"] == 2
    assert summary["running_budget"] == Decimal("800.00")
    assert summary["running_spend"] == Decimal("25.00")
    assert summary["keywords_tracked"] == 1
    counts = {row["status"]: row["count"] for row in summary["by_status"]}
    assert counts["running"] == 2 and counts["planned"] == 1
    # A brand user's summary leaves out the internal campaign.
    with agency_scope(running.agency_id, brand_ids=[store_a.brand_id]):
        summary = traffic_summary(engagement=running, membership=brand_a_owner)
    assert summary["campaigns_total"] == 2 and summary["running_budget"] == Decimal("500.00")
