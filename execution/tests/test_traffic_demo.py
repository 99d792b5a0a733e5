"""The traffic demo: the usual events of this year and next, Brand A's campaigns (the 直通车 one
linked to the simulator's plan name), keywords with 60 days of ranks; a second run adds nothing."""

import datetime
from decimal import Decimal

from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from execution.models import Campaign, CampaignCreative, KeywordRank, PlatformEvent, SearchKeyword
from execution.traffic.demo import DEMO_ENGAGEMENT, traffic_seed_demo
from execution.traffic.selectors import campaign_results


def test_the_demo_is_loaded_once(demo_agency, make_engagement, store_a, demo_manager, push):
    today = datetime.date(2026, 11, 27)
    engagement = make_engagement(
        store_a, demo_manager, stage=Stage.MONITORING, title=DEMO_ENGAGEMENT
    )
    push(
        store_a,
        "store_day_ad",
        [
            {
                "date": (today - datetime.timedelta(days=n)).isoformat(),
                "ad_tool": "zhitongche",
                "campaign": "核心词-精准",
                "impressions": 10000,
                "clicks": 300,
                "ad_spend": "600.00",
                "ad_gmv": "2100.00",
            }
            for n in range(1, 31)
        ],
    )
    with agency_scope(demo_agency):
        traffic_seed_demo(agency=demo_agency, today=today)
        traffic_seed_demo(agency=demo_agency, today=today)
        events = PlatformEvent.objects.filter(agency=demo_agency)
        assert events.count() == 12  # six usual events, 2026 and 2027
        campaigns = list(Campaign.objects.filter(engagement=engagement))
        assert len(campaigns) == 5
        assert {c.brand_visible for c in campaigns} == {True, False}
        double_11 = next(c for c in campaigns if c.event_id)
        assert double_11.event.kind == "double11" and double_11.status == "finished"
        zhitongche = next(c for c in campaigns if c.ad_campaign_name == "核心词-精准")
        assert zhitongche.budget == Decimal("38500")  # 600 a day × 61 days × 1.05, to 500
        assert CampaignCreative.objects.filter(campaign=zhitongche).count() == 1
        result = campaign_results(campaigns=[zhitongche], store_id=store_a.pk, today=today)[
            zhitongche.pk
        ]
        assert result.figures["roi"] == Decimal("3.500000")
        assert result.pace_state is not None
        keywords = SearchKeyword.objects.filter(engagement=engagement)
        assert keywords.count() == 9  # three fallback products, three terms each
        assert KeywordRank.objects.filter(keyword__engagement=engagement).count() == 9 * 60
