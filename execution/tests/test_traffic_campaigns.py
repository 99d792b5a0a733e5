"""Traffic campaigns: create, edit and delete through the pages and services; bad input named and
nothing written; the workspace closed before execution; creatives checked by content and handed
out as attachments; brand users see only their own brand's brand-visible campaigns."""

import datetime
import html
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from agency.tenancy import agency_scope
from engagements.lifecycle import Service, Stage
from execution.models import Campaign, CampaignCreative, CampaignStatus, Channel
from execution.traffic import services
from tests.images import png_bytes


@pytest.fixture
def running(make_engagement, store_a, demo_manager):
    """Brand A's engagement in execution (step 4)."""
    return make_engagement(store_a, demo_manager, stage=Stage.TRAFFIC, title="Brand A traffic")


def url(engagement, rest=""):
    return f"/demo/engagements/{engagement.pk}/traffic/{rest}"


def campaign_post(**overrides):
    data = {
        "name": "双11 直通车 核心词",
        "channel": Channel.ZHITONGCHE,
        "goal": "拉新",
        "start_date": "2026-10-20",
        "end_date": "2026-11-11",
        "budget": "30000.00",
        "status": CampaignStatus.PLANNED,
        "ad_campaign_name": "核心词-精准",
        "targeting_notes": "竞品词 出价 2.5",
        "brand_visible": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def create_through_the_service(engagement, actor, **overrides):
    """`services.campaign_create` with good values but for `overrides`."""
    fields = {
        "name": "双11 直通车 核心词",
        "channel": Channel.ZHITONGCHE,
        "start_date": datetime.date(2026, 10, 20),
        "end_date": datetime.date(2026, 11, 11),
    }
    with agency_scope(engagement.agency_id):
        return services.campaign_create(
            actor=actor, engagement=engagement, **{**fields, **overrides}
        )


def campaigns_of(engagement):
    with agency_scope(engagement.agency_id):
        return list(Campaign.objects.filter(engagement=engagement))


def test_staff_create_edit_and_delete_a_campaign(client_for, demo_operator, running, make_event):
    event = make_event(running.agency, name="双11 2026")
    client = client_for(demo_operator)
    response = client.post(url(running, "campaigns/new/"), campaign_post(event=event.pk))
    assert response.status_code == 302
    [campaign] = campaigns_of(running)
    assert campaign.event_id == event.pk
    assert campaign.budget == Decimal("30000.00")
    assert campaign.created_by == demo_operator.user
    assert campaign.report_name == "核心词-精准"

    page = client.get(url(running, f"campaigns/{campaign.pk}/"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "双11 直通车 核心词" in text and "竞品词 出价 2.5" in text and "双11 2026" in text
    assert "No ad data yet" in text or "not started" in text

    response = client.post(
        url(running, f"campaigns/{campaign.pk}/edit/"),
        campaign_post(name="双11 直通车 v2", status=CampaignStatus.RUNNING, brand_visible=None),
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status, campaign.brand_visible) == (
        "双11 直通车 v2",
        CampaignStatus.RUNNING,
        False,
    )

    listing = client.get(url(running))
    assert "双11 直通车 v2" in listing.content.decode()

    assert client.get(url(running, f"campaigns/{campaign.pk}/delete/")).status_code == 405
    assert client.post(url(running, f"campaigns/{campaign.pk}/delete/")).status_code == 302
    assert campaigns_of(running) == []


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"end_date": "2026-10-01"}, "end_date", ["2026-10-01", "2026-10-20"]),
        ({"budget": "-5"}, "budget", ["-5", "negative"]),
        ({"name": "   "}, "name", ["required"]),
        ({"channel": "tv"}, "channel", ["tv"]),
    ],
)
def test_bad_campaign_input_is_named_and_nothing_is_written(
    client_for, demo_manager, running, overrides, field, words
):
    response = client_for(demo_manager).post(
        url(running, "campaigns/new/"), campaign_post(**overrides)
    )
    assert response.status_code == 400
    errors = " ".join(str(error) for error in response.context["form"].errors.get(field, []))
    assert errors, response.context["form"].errors
    for word in words:
        assert word in errors
    assert campaigns_of(running) == []


def test_the_service_names_the_bad_values(running, demo_manager):
    with pytest.raises(ValidationError) as refused:
        create_through_the_service(
            running,
            demo_manager,
            name="",
            channel=Channel.LIVESTREAM,
            start_date=datetime.date(2026, 6, 18),
            end_date=datetime.date(2026, 5, 20),
            budget=Decimal("-1.00"),
        )
    errors = refused.value.message_dict
    assert set(errors) == {"name", "end_date", "budget"}
    assert "2026-05-20" in errors["end_date"][0] and "2026-06-18" in errors["end_date"][0]
    assert "-1.00" in errors["budget"][0]
    assert campaigns_of(running) == []


def test_an_event_of_another_agency_cannot_be_chosen(
    client_for, demo_manager, running, rival_agency, make_event
):
    rival_event = make_event(rival_agency, name="Rival 双11")
    response = client_for(demo_manager).post(
        url(running, "campaigns/new/"), campaign_post(event=rival_event.pk)
    )
    assert response.status_code == 400
    assert response.context["form"].errors["event"]
    assert campaigns_of(running) == []
    # ... nor given to the service by any other caller.
    with pytest.raises(ValidationError) as refused:
        create_through_the_service(
            running, demo_manager, channel=Channel.PLATFORM_EVENT, event=rival_event
        )
    assert "event" in refused.value.message_dict
    assert campaigns_of(running) == []


def test_writes_are_refused_before_execution_and_outside_the_scope(
    client_for, demo_manager, engagement_a, make_engagement, store_a
):
    # engagement_a is still at the diagnosis: the workspace reads, empty, and refuses writes.
    client = client_for(demo_manager)
    page = client.get(url(engagement_a))
    assert page.status_code == 200
    assert "The workspace opens when the proposal is approved" in page.content.decode()
    response = client.post(url(engagement_a, "campaigns/new/"), campaign_post())
    assert response.status_code == 400
    assert "The workspace opens when the proposal is approved" in response.content.decode()
    assert campaigns_of(engagement_a) == []

    setup_only = make_engagement(store_a, demo_manager, stage=Stage.SETUP, services=[Service.SETUP])
    response = client.post(url(setup_only, "campaigns/new/"), campaign_post())
    assert response.status_code == 400
    assert "is not in this engagement's scope" in html.unescape(response.content.decode())
    assert campaigns_of(setup_only) == []


def test_brand_users_see_only_brand_visible_campaigns_of_their_brand(
    client_for,
    brand_a_owner,
    brand_b_owner,
    running,
    make_campaign,
    make_engagement,
    store_b,
    demo_manager,
):
    shown = make_campaign(
        running,
        name="直播 双11 预热",
        channel=Channel.LIVESTREAM,
        targeting_notes="INTERNAL-TARGETING",
    )
    internal = make_campaign(running, name="INTERNAL-CAMPAIGN", brand_visible=False)
    client = client_for(brand_a_owner)
    listing = client.get(url(running)).content.decode()
    assert "直播 双11 预热" in listing
    assert "INTERNAL-CAMPAIGN" not in listing
    detail = client.get(url(running, f"campaigns/{shown.pk}/"))
    assert detail.status_code == 200
    assert "INTERNAL-TARGETING" not in detail.content.decode()
    assert client.get(url(running, f"campaigns/{internal.pk}/")).status_code == 404
    # Brand users write nothing: every write page is a 404 for them.
    assert client.get(url(running, "campaigns/new/")).status_code == 404
    assert client.post(url(running, f"campaigns/{shown.pk}/edit/"), {}).status_code == 404
    # Another brand's user sees nothing of Brand A.
    other = client_for(brand_b_owner)
    assert other.get(url(running)).status_code == 404
    assert other.get(url(running, f"campaigns/{shown.pk}/")).status_code == 404
    # ... and their own engagement's list does not hold Brand A's campaigns.
    engagement_b = make_engagement(store_b, demo_manager, stage=Stage.TRAFFIC)
    assert "直播 双11 预热" not in other.get(url(engagement_b)).content.decode()


def test_the_calendar_shows_brand_users_only_their_visible_campaigns(
    client_for, brand_a_owner, brand_b_owner, demo_manager, running, make_campaign
):
    today = datetime.date.today()
    dates = {"start_date": today.replace(day=1), "end_date": today.replace(day=2)}
    make_campaign(running, name="VISIBLE-A", **dates)
    make_campaign(running, name="HIDDEN-A", brand_visible=False, **dates)
    month = f"?month={today:%Y-%m}"
    staff = client_for(demo_manager).get(f"/demo/calendar/{month}").content.decode()
    assert "VISIBLE-A" in staff and "HIDDEN-A" in staff
    owner = client_for(brand_a_owner).get(f"/demo/calendar/{month}").content.decode()
    assert "VISIBLE-A" in owner and "HIDDEN-A" not in owner
    other = client_for(brand_b_owner).get(f"/demo/calendar/{month}").content.decode()
    assert "VISIBLE-A" not in other and "HIDDEN-A" not in other


# --- creatives -------------------------------------------------------------------------------


def creatives_of(campaign):
    with agency_scope(campaign.agency_id):
        return list(CampaignCreative.objects.filter(campaign=campaign))


def test_a_creative_is_uploaded_listed_downloaded_and_removed(
    client_for, demo_operator, running, make_campaign
):
    campaign = make_campaign(running)
    client = client_for(demo_operator)
    response = client.post(
        url(running, f"campaigns/{campaign.pk}/creatives/"),
        {"title": "主图 A", "file": SimpleUploadedFile("主图.png", png_bytes())},
    )
    assert response.status_code == 302
    [creative] = creatives_of(campaign)
    assert (creative.filename, creative.content_type) == ("主图.png", "image/png")
    assert "主图 A" in client.get(url(running, f"campaigns/{campaign.pk}/")).content.decode()

    download = client.get(url(running, f"creatives/{creative.pk}/"))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert "filename*=utf-8''%E4%B8%BB%E5%9B%BE.png" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == png_bytes()

    response = client.post(url(running, f"creatives/{creative.pk}/delete/"))
    assert response.status_code == 302
    assert creatives_of(campaign) == []


def test_a_creative_is_refused_by_its_content_not_its_name(
    client_for, demo_operator, running, make_campaign
):
    campaign = make_campaign(running)
    response = client_for(demo_operator).post(
        url(running, f"campaigns/{campaign.pk}/creatives/"),
        {"file": SimpleUploadedFile("banner.png", b"just some text, not an image")},
    )
    assert response.status_code == 400
    assert "banner.png is not an accepted kind of file" in response.content.decode()
    assert creatives_of(campaign) == []


def test_creatives_of_internal_campaigns_are_hidden_from_the_brand(
    client_for, brand_a_owner, brand_b_owner, running, make_campaign, make_creative
):
    visible = make_creative(make_campaign(running))
    hidden = make_creative(make_campaign(running, brand_visible=False))
    client = client_for(brand_a_owner)
    assert client.get(url(running, f"creatives/{visible.pk}/")).status_code == 200
    assert client.get(url(running, f"creatives/{hidden.pk}/")).status_code == 404
    assert client.post(url(running, f"creatives/{visible.pk}/delete/")).status_code == 404
    assert client_for(brand_b_owner).get(url(running, f"creatives/{visible.pk}/")).status_code == (
        404
    )
    assert len(creatives_of(visible.campaign)) == 1


def test_the_engagement_page_panel_summarises_the_traffic_step(
    rf, demo_manager, brand_a_owner, running, make_campaign, make_keyword
):
    from django.template.loader import render_to_string

    make_campaign(running, name="直通车 常年", status=CampaignStatus.RUNNING, budget=Decimal("800"))
    make_campaign(running, name="内部测试", status=CampaignStatus.RUNNING, brand_visible=False)
    make_keyword(running)
    for member, campaigns in ((demo_manager, "2 campaigns"), (brand_a_owner, "1 campaign")):
        request = rf.get("/")
        request.membership = member
        scope = None if member.is_staff_member else [running.store.brand_id]
        with agency_scope(running.agency_id, brand_ids=scope):
            text = render_to_string(
                "execution/traffic/_engagement_panel.html",
                {
                    "engagement": running,
                    "agency": running.agency,
                    "request": request,
                    "is_staff_member": member.is_staff_member,
                },
            )
        assert campaigns in text and "1 search keyword tracked" in text
        assert f"/demo/engagements/{running.pk}/traffic/" in text
