"""Pages of the daily brief: the list, one brief, the preview and the settings; who sees what
(brand users read their brand's briefs, never the deliveries or the robot)."""

import datetime

import pytest
from django.urls import reverse

from agency.tenancy import agency_scope
from reporting.models import BriefDelivery, BriefSettings, DailyBrief
from reporting.tasks.briefs import send_due_briefs_at

DUE = datetime.datetime(2026, 9, 11, 1, 30, tzinfo=datetime.UTC)


def url(name, engagement=None, brief=None):
    kwargs = {"agency_slug": "demo"}
    if engagement is not None:
        kwargs["engagement_id"] = engagement.pk
    if brief is not None:
        kwargs["brief_id"] = brief.pk
    return reverse(f"reporting:{name}", kwargs=kwargs)


@pytest.fixture
def sent_brief(brief_data, engagement_a, brand_a_owner, robot_server):
    with agency_scope(engagement_a.agency_id):
        BriefSettings.objects.create(
            engagement=engagement_a,
            webhook_kind="wecom",
            webhook_url=robot_server.url + "/send?key=ROBOT-KEY-123",
        )
    send_due_briefs_at(DUE)
    with agency_scope(engagement_a.agency_id):
        return DailyBrief.objects.get(engagement=engagement_a)


def test_staff_see_the_briefs_and_their_deliveries(client_for, demo_manager, sent_brief):
    client = client_for(demo_manager)
    listing = client.get(url("brief_list", sent_brief.engagement))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "2026-09-10" in page and url("brief_detail", brief=sent_brief) in page
    assert "3 sent" in page  # the manager, the brand owner, the robot
    detail = client.get(url("brief_detail", brief=sent_brief)).content.decode()
    assert "¥3,000.00" in detail and "手淘搜索" in detail
    assert "owner@brand-a.test" in detail  # who received it
    assert "wecom:127.0.0.1" in detail
    assert "ROBOT-KEY-123" not in detail


def test_a_brand_user_reads_the_brief_but_not_its_deliveries(client_for, brand_a_owner, sent_brief):
    client = client_for(brand_a_owner)
    listing = client.get(url("brief_list", sent_brief.engagement))
    assert listing.status_code == 200
    assert "2026-09-10" in listing.content.decode()
    assert "Deliveries" not in listing.content.decode()
    assert "3 sent" not in listing.content.decode()
    response = client.get(url("brief_detail", brief=sent_brief))
    assert response.status_code == 200
    page = response.content.decode()
    assert "¥3,000.00" in page
    for secret in ("manager@demo.test", "wecom", "ROBOT-KEY", "Deliveries", "Attempts"):
        assert secret not in page
    assert client.get(url("brief_settings", sent_brief.engagement)).status_code == 404
    assert client.get(url("brief_preview", sent_brief.engagement)).status_code == 404


def test_another_brands_user_gets_404(client_for, brand_b_owner, sent_brief):
    client = client_for(brand_b_owner)
    assert client.get(url("brief_list", sent_brief.engagement)).status_code == 404
    assert client.get(url("brief_detail", brief=sent_brief)).status_code == 404


def test_the_page_is_in_the_readers_language(client_for, brand_a_owner, sent_brief):
    brand_a_owner.user.language = "zh-hans"
    brand_a_owner.user.save()
    page = client_for(brand_a_owner).get(url("brief_detail", brief=sent_brief)).content.decode()
    assert "访客数" in page


def test_a_corrected_brief_is_marked_and_points_to_the_latest(
    client_for, demo_manager, push, sent_brief
):
    push(sent_brief.engagement.store, "store_day", [{"date": "2026-09-10", "gmv": "100.00"}])
    with agency_scope(sent_brief.agency_id):
        latest = DailyBrief.objects.get(engagement=sent_brief.engagement, revision=2)
    client = client_for(demo_manager)
    listing = client.get(url("brief_list", sent_brief.engagement)).content.decode()
    assert "Corrected" in listing
    old = client.get(url("brief_detail", brief=sent_brief)).content.decode()
    assert url("brief_detail", brief=latest) in old and "A corrected version" in old
    new = client.get(url("brief_detail", brief=latest)).content.decode()
    assert "Corrected" in new and "GMV ¥3,000.00 → ¥100.00" in new


def test_the_preview_builds_without_storing(client_for, demo_operator, brief_data, engagement_a):
    client = client_for(demo_operator)
    response = client.get(url("brief_preview", engagement_a), {"date": "2026-09-10"})
    assert response.status_code == 200
    assert "¥3,000.00" in response.content.decode()
    with agency_scope(engagement_a.agency_id):
        assert not DailyBrief.objects.exists()
    assert client.get(url("brief_preview", engagement_a), {"date": "soon"}).status_code == 400


# --- settings -----------------------------------------------------------------------------------


def settings_of(engagement):
    with agency_scope(engagement.agency_id):
        return BriefSettings.objects.filter(engagement=engagement).first()


def test_the_manager_sets_up_a_dingtalk_robot(client_for, demo_manager, engagement_a):
    client = client_for(demo_manager)
    assert client.get(url("brief_settings", engagement_a)).status_code == 200
    response = client.post(
        url("brief_settings", engagement_a),
        {
            "send_email": "on",
            "webhook_kind": "dingtalk",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=abc",
            "webhook_secret": "SECxyz",
        },
    )
    assert response.status_code == 302
    saved = settings_of(engagement_a)
    assert (saved.send_email, saved.webhook_kind, saved.webhook_secret) == (
        True,
        "dingtalk",
        "SECxyz",
    )
    page = client.get(url("brief_settings", engagement_a)).content.decode()
    assert "SECxyz" not in page and "A signing secret is saved" in page
    # Saving again without typing the secret keeps it; switching e-mail off is kept too.
    client.post(
        url("brief_settings", engagement_a),
        {"webhook_kind": "dingtalk", "webhook_url": saved.webhook_url, "webhook_secret": ""},
    )
    saved = settings_of(engagement_a)
    assert (saved.send_email, saved.webhook_secret) == (False, "SECxyz")
    # A WeChat Work robot does not sign: the secret goes.
    client.post(
        url("brief_settings", engagement_a),
        {
            "webhook_kind": "wecom",
            "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
        },
    )
    assert settings_of(engagement_a).webhook_secret == ""


@pytest.mark.parametrize(
    "address",
    ["ftp://robot.example.test/send", "javascript:alert(1)", "file:///etc/passwd", "robot"],
)
def test_only_http_addresses_are_accepted(client_for, demo_manager, engagement_a, address):
    response = client_for(demo_manager).post(
        url("brief_settings", engagement_a), {"webhook_kind": "wecom", "webhook_url": address}
    )
    assert response.status_code == 400
    assert settings_of(engagement_a) is None


def test_an_address_needs_its_robot_kind(client_for, demo_manager, engagement_a):
    response = client_for(demo_manager).post(
        url("brief_settings", engagement_a), {"webhook_url": "https://robot.example.test/send"}
    )
    assert response.status_code == 400
    assert "Choose which group robot" in response.content.decode()


def test_who_may_change_the_settings(client_for, demo_operator, demo_admin, engagement_a):
    assert client_for(demo_operator).get(url("brief_settings", engagement_a)).status_code == 403
    assert (
        client_for(demo_operator).post(url("brief_settings_test", engagement_a)).status_code == 403
    )
    assert client_for(demo_admin).get(url("brief_settings", engagement_a)).status_code == 200


def test_the_test_message_reaches_the_robot(client_for, demo_manager, engagement_a, robot_server):
    client = client_for(demo_manager)
    client.post(
        url("brief_settings", engagement_a),
        {
            "send_email": "on",
            "webhook_kind": "wecom",
            "webhook_url": robot_server.url + "/send?key=k",
        },
    )
    response = client.post(url("brief_settings_test", engagement_a), follow=True)
    assert "The test message was posted to the group." in response.content.decode()
    (request,) = robot_server.requests
    assert request.body["msgtype"] == "markdown"
    assert "Brand A growth" in request.body["markdown"]["content"]
    robot_server.reply_with((200, {"errcode": 310000, "errmsg": "sign not match"}))
    response = client.post(url("brief_settings_test", engagement_a), follow=True)
    assert "sign not match" in response.content.decode()
    with agency_scope(engagement_a.agency_id):
        assert not BriefDelivery.objects.exists()  # a test is not a delivery


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("http://127.0.0.1:8000/send", "127.0.0.1"),
        ("https://10.1.2.3/robot/send?access_token=x", "10.1.2.3"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]/send", "::1"),
        ("http://localhost/send", "127.0.0.1"),
    ],
)
def test_a_robot_address_in_a_private_network_is_refused(
    client_for, demo_manager, engagement_a, settings, address, private
):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    response = client_for(demo_manager).post(
        url("brief_settings", engagement_a), {"webhook_kind": "wecom", "webhook_url": address}
    )
    assert response.status_code == 400
    assert "points into a private network" in response.content.decode()
    assert settings_of(engagement_a) is None


def test_a_saved_private_address_is_not_posted_to(
    client_for, demo_manager, engagement_a, robot_server, settings
):
    client = client_for(demo_manager)
    client.post(
        url("brief_settings", engagement_a),
        {"webhook_kind": "wecom", "webhook_url": robot_server.url + "/send?key=k"},
    )
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False  # production: the robot on 127.0.0.1 is refused
    response = client.post(url("brief_settings_test", engagement_a), follow=True)
    assert "private address (127.0.0.1)" in response.content.decode()
    assert robot_server.requests == []
