"""Sending the daily brief: due at the agency's local brief hour, exactly once per engagement and
day (repeated, retried and concurrent runs), by e-mail in each recipient's language and to a
group robot (a local HTTP server stands in for WeChat Work and DingTalk), and corrected when the
day's figures change after sending."""

import base64
import datetime
import hashlib
import hmac
import threading

import pytest
from django.core import mail
from django.db import connection

from agency.models import Role
from agency.tenancy import agency_scope
from engagements.models import EngagementStatus, EngagementTeamMember
from reporting.briefs.delivery import dingtalk_signed_url
from reporting.briefs.render import MARKDOWN_LIMIT
from reporting.briefs.services import MAX_DELIVERY_ATTEMPTS, brief_due_date, briefs_due
from reporting.models import BriefDelivery, BriefSettings, DailyBrief, DeliveryStatus
from reporting.tasks.briefs import issue_brief, send_due_briefs, send_due_briefs_at

UTC = datetime.UTC
# 09:30 in Shanghai on 11 September: the brief about the 10th is due.
DUE = datetime.datetime(2026, 9, 11, 1, 30, tzinfo=UTC)
BEFORE_THE_HOUR = datetime.datetime(2026, 9, 11, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai


@pytest.fixture
def readers(engagement_a, demo_operator, brand_a_owner, brand_a_viewer, brand_b_owner, make_member):
    """Who reads Brand A's brief: its manager, an operator on the team, the brand's owner (who
    reads Chinese) and viewer. Brand B's owner, an inactive brand user and a staff member not on
    the team do not."""
    with agency_scope(engagement_a.agency_id):
        EngagementTeamMember.objects.create(engagement=engagement_a, membership=demo_operator)
    brand_a_owner.user.language = "zh-hans"
    brand_a_owner.user.save()
    gone = make_member(
        engagement_a.agency,
        Role.BRAND_VIEWER,
        email="gone@brand-a.test",
        brands=[engagement_a.store.brand],
    )
    gone.is_active = False
    with agency_scope(engagement_a.agency_id):
        gone.save()
    make_member(engagement_a.agency, Role.OPERATOR, email="elsewhere@demo.test")
    return {
        "manager@demo.test",
        "operator@demo.test",
        "owner@brand-a.test",
        "viewer@brand-a.test",
    }


def robot(engagement, kind, url, secret=""):
    with agency_scope(engagement.agency_id):
        BriefSettings.objects.create(
            engagement=engagement, webhook_kind=kind, webhook_url=url, webhook_secret=secret
        )


def briefs_of(engagement):
    with agency_scope(engagement.agency_id):
        return list(DailyBrief.objects.filter(engagement=engagement).order_by("date", "revision"))


def deliveries_of(engagement):
    with agency_scope(engagement.agency_id):
        return list(BriefDelivery.objects.filter(brief__engagement=engagement).order_by("pk"))


# --- when ---------------------------------------------------------------------------------------


def test_the_brief_is_due_at_the_agencys_local_hour(make_agency):
    berlin = make_agency(time_zone="Europe/Berlin", brief_hour=9)
    shanghai = make_agency()  # Asia/Shanghai, 09:00 by default
    # 07:30 UTC on 20 November: 08:30 in Berlin (CET), 15:30 in Shanghai.
    early = datetime.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
    assert brief_due_date(berlin, early) is None
    assert brief_due_date(shanghai, early) == datetime.date(2026, 11, 19)
    at_nine = datetime.datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert brief_due_date(berlin, at_nine) == datetime.date(2026, 11, 19)
    # 23:30 UTC on the 20th is already 07:30 on the 21st in Shanghai: before its hour.
    late = datetime.datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert brief_due_date(shanghai, late) is None
    # ... and 01:00 UTC on the 21st is 09:00 there: the brief about the 20th.
    assert brief_due_date(shanghai, datetime.datetime(2026, 11, 21, 1, tzinfo=UTC)) == (
        datetime.date(2026, 11, 20)
    )


def test_only_active_running_engagements_of_due_agencies_are_due(
    make_agency, make_brand, make_store, make_member, make_engagement
):
    berlin = make_agency(time_zone="Europe/Berlin", brief_hour=9)
    manager = make_member(berlin)
    store = make_store(make_brand(berlin))
    active = make_engagement(store, manager)
    paused = make_engagement(store, manager)
    ended = make_engagement(store, manager, end_date=datetime.date(2026, 3, 31))
    future = make_engagement(store, manager, start_date=datetime.date(2027, 1, 1))
    with agency_scope(berlin):
        paused.status = EngagementStatus.PAUSED
        paused.save()
    assert ended and future
    assert briefs_due(now=datetime.datetime(2026, 11, 20, 7, 30, tzinfo=UTC)) == []
    assert briefs_due(now=datetime.datetime(2026, 11, 20, 8, 5, tzinfo=UTC)) == [
        (berlin.pk, active.pk, datetime.date(2026, 11, 19))
    ]


# --- exactly once -------------------------------------------------------------------------------


def test_nothing_goes_out_before_the_brief_hour(brief_data, engagement_a, readers):
    assert send_due_briefs_at(BEFORE_THE_HOUR) == 0
    assert briefs_of(engagement_a) == []
    assert mail.outbox == []


def test_repeated_runs_send_the_brief_once(brief_data, engagement_a, readers, robot_server):
    robot(engagement_a, "wecom", robot_server.url + "/cgi-bin/webhook/send?key=SECRET-KEY")
    assert send_due_briefs_at(DUE) == 1
    for _ in range(3):  # the hourly job again, and again
        assert send_due_briefs_at(DUE) == 0
        assert send_due_briefs_at(DUE + datetime.timedelta(hours=5)) == 0
    (brief,) = briefs_of(engagement_a)
    assert (brief.date, brief.revision, brief.is_correction) == (
        datetime.date(2026, 9, 10),
        1,
        False,
    )
    assert brief.sent_at is not None
    assert sorted(message.to[0] for message in mail.outbox) == sorted(readers)
    assert len(robot_server.requests) == 1
    deliveries = deliveries_of(engagement_a)
    assert len(deliveries) == len(readers) + 1
    assert {delivery.status for delivery in deliveries} == {DeliveryStatus.SENT}
    assert {delivery.attempts for delivery in deliveries} == {1}
    # The robot's key is in its URL: the delivery names the robot by kind and host only.
    assert "SECRET-KEY" not in " ".join(delivery.recipient for delivery in deliveries)


def test_the_beat_task_runs_with_the_real_clock(brief_data, engagement_a):
    # The same job as beat calls it: today's brief hour is relative to the real clock, and with
    # no data for the real yesterday there is nothing to send; it must simply run.
    assert send_due_briefs.apply().get() in (0, 1)


def test_a_store_that_never_had_data_gets_no_brief(engagement_a, readers):
    assert send_due_briefs_at(DUE) == 1
    assert briefs_of(engagement_a) == []
    assert mail.outbox == []


def test_a_day_without_data_is_still_briefed_and_says_so(brief_data, engagement_a, readers):
    later = DUE + datetime.timedelta(days=2)  # the brief about the 12th: no data since the 10th
    send_due_briefs_at(later)
    (brief,) = briefs_of(engagement_a)
    assert brief.content["data_status"]["has_data"] is False
    manager_mail = next(m for m in mail.outbox if m.to == ["manager@demo.test"])
    assert "the latest data is from 2026-09-10 (2 days behind)" in manager_mail.body


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_the_brief_once(brief_data, engagement_a, readers, robot_server):
    robot(engagement_a, "dingtalk", robot_server.url + "/robot/send?access_token=T")
    barrier = threading.Barrier(3)
    errors = []

    def run():
        try:
            barrier.wait()
            send_due_briefs_at(DUE)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(briefs_of(engagement_a)) == 1
    assert sorted(message.to[0] for message in mail.outbox) == sorted(readers)
    assert len(robot_server.requests) == 1
    assert {d.status for d in deliveries_of(engagement_a)} == {DeliveryStatus.SENT}


# --- who, and in which language ----------------------------------------------------------------


def test_each_reader_gets_the_brief_in_their_language(brief_data, engagement_a, readers):
    send_due_briefs_at(DUE)
    by_address = {message.to[0]: message for message in mail.outbox}
    english, chinese = by_address["manager@demo.test"], by_address["owner@brand-a.test"]
    assert "Brand A" in english.subject and "2026-09-10" in english.subject
    html = english.alternatives[0][0]
    assert english.alternatives[0][1] == "text/html"
    for text in (english.body, html):
        assert "¥3,000.00" in text  # the day's GMV
        assert "Visitors" in text
        assert "/briefs/" in text  # the link to the portal page
    assert "<table" in html
    assert "访客数" in chinese.body and "访客数" in chinese.alternatives[0][0]
    assert "Visitors" not in chinese.body
    deliveries = {d.recipient: d for d in deliveries_of(engagement_a)}
    assert deliveries["owner@brand-a.test"].language == "zh-hans"
    assert deliveries["manager@demo.test"].language == "en"


def test_e_mail_can_be_switched_off(brief_data, engagement_a, readers, robot_server):
    robot(engagement_a, "wecom", robot_server.url + "/send?key=K")
    with agency_scope(engagement_a.agency_id):
        BriefSettings.objects.filter(engagement=engagement_a).update(send_email=False)
    send_due_briefs_at(DUE)
    assert mail.outbox == []
    assert [d.channel for d in deliveries_of(engagement_a)] == ["webhook"]
    assert len(robot_server.requests) == 1


# --- group robots -------------------------------------------------------------------------------


def test_wechat_work_gets_markdown_within_the_limit(brief_data, engagement_a, robot_server):
    robot(engagement_a, "wecom", robot_server.url + "/cgi-bin/webhook/send?key=abc")
    send_due_briefs_at(DUE)
    (request,) = robot_server.requests
    assert request.path == "/cgi-bin/webhook/send" and request.query == {"key": "abc"}
    assert request.headers["content-type"].startswith("application/json")
    assert set(request.body) == {"msgtype", "markdown"}
    assert request.body["msgtype"] == "markdown"
    content = request.body["markdown"]["content"]
    assert set(request.body["markdown"]) == {"content"}
    assert len(content) <= MARKDOWN_LIMIT
    (brief,) = briefs_of(engagement_a)
    assert content.startswith("### Daily brief: Brand A · 2026-09-10")
    assert "¥3,000.00" in content
    assert f"/briefs/{brief.pk}/" in content


def test_dingtalk_gets_a_signed_markdown_message(brief_data, engagement_a, robot_server):
    secret = "SEC0123456789abcdef"
    robot(engagement_a, "dingtalk", robot_server.url + "/robot/send?access_token=tok", secret)
    send_due_briefs_at(DUE)
    (request,) = robot_server.requests
    assert request.query["access_token"] == "tok"
    timestamp = request.query["timestamp"]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == expected
    assert abs(int(timestamp) / 1000 - datetime.datetime.now(UTC).timestamp()) < 60
    assert request.body["msgtype"] == "markdown"
    assert request.body["markdown"]["title"] == "Daily brief: Brand A · 2026-09-10"
    assert len(request.body["markdown"]["text"]) <= MARKDOWN_LIMIT


def test_the_dingtalk_signature_matches_dingtalks_example():
    # DingTalk documents the signature as urlencode(base64(HmacSHA256(secret, ts + "\n" + secret))).
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=x", "SECabc", 1)
    digest = hmac.new(b"SECabc", b"1\nSECabc", hashlib.sha256).digest()
    sign = base64.b64encode(digest).decode()
    from urllib.parse import quote_plus

    assert (
        url
        == f"https://oapi.dingtalk.com/robot/send?access_token=x&timestamp=1&sign={quote_plus(sign)}"
    )


def test_a_refusing_robot_is_a_failed_delivery_retried_then_given_up(
    brief_data, engagement_a, readers, robot_server
):
    robot(engagement_a, "wecom", robot_server.url + "/send?key=K")
    refusal = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    robot_server.reply_with(*[refusal] * MAX_DELIVERY_ATTEMPTS)
    # The task retries with exponential backoff (inline, without the wait, when there is no
    # broker) until it gives up.
    assert (issue_brief.retry_backoff, issue_brief.max_retries) == (60, MAX_DELIVERY_ATTEMPTS - 1)
    send_due_briefs_at(DUE)
    webhook = next(d for d in deliveries_of(engagement_a) if d.channel == "webhook")
    assert webhook.status == DeliveryStatus.FAILED
    assert webhook.attempts == MAX_DELIVERY_ATTEMPTS
    assert "93000" in webhook.error and "invalid webhook url" in webhook.error
    assert len(robot_server.requests) == MAX_DELIVERY_ATTEMPTS
    # The e-mails went out once, whatever the robot's retries.
    assert sorted(message.to[0] for message in mail.outbox) == sorted(readers)
    # A copy given up is not tried by later runs.
    send_due_briefs_at(DUE + datetime.timedelta(hours=1))
    assert len(robot_server.requests) == MAX_DELIVERY_ATTEMPTS


def test_a_server_error_is_retried_until_it_goes_through(
    brief_data, engagement_a, readers, robot_server
):
    robot(engagement_a, "wecom", robot_server.url + "/send?key=K")
    robot_server.reply_with((502, "Bad gateway"), (500, {"errcode": 0}))
    send_due_briefs_at(DUE)
    webhook = next(d for d in deliveries_of(engagement_a) if d.channel == "webhook")
    assert (webhook.status, webhook.attempts, webhook.error) == (DeliveryStatus.SENT, 3, "")
    assert len(robot_server.requests) == 3
    assert len(mail.outbox) == len(readers)


def test_an_unreachable_robot_is_recorded(brief_data, engagement_a, robot_server):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    robot(engagement_a, "wecom", f"http://127.0.0.1:{port}/send?key=K")
    send_due_briefs_at(DUE)
    (webhook,) = [d for d in deliveries_of(engagement_a) if d.channel == "webhook"]
    assert webhook.status == DeliveryStatus.FAILED
    assert "Could not reach the robot" in webhook.error


# --- corrected briefs ---------------------------------------------------------------------------


def test_changed_figures_after_sending_issue_a_corrected_brief(
    push, brief_data, engagement_a, readers, robot_server
):
    robot(engagement_a, "wecom", robot_server.url + "/send?key=K")
    send_due_briefs_at(DUE)
    assert len(mail.outbox) == len(readers)
    corrected_row = {
        "date": "2026-09-10",
        "visitors": 500,
        "paying_buyers": 20,
        "gmv": "3600.00",
        "new_buyers": 12,
        "refund_amount": "150.00",
        "cs_first_reply_seconds_sum": 1500,
        "cs_sessions": 30,
    }
    push(brief_data, "store_day", [corrected_row])
    first, second = briefs_of(engagement_a)
    assert (second.revision, second.is_correction) == (2, True)
    correction = second.content["correction"]
    assert correction["previous_revision"] == 1
    assert {"metric": "gmv", "before": "3000.00", "after": "3600.00"} in correction["changes"]
    assert first.fingerprint != second.fingerprint
    # Delivered again to everyone, marked as corrected, saying what changed.
    corrections = mail.outbox[len(readers) :]
    assert sorted(message.to[0] for message in corrections) == sorted(readers)
    english = next(m for m in corrections if m.to == ["manager@demo.test"])
    assert english.subject.startswith("[Corrected]")
    assert "GMV ¥3,000.00 → ¥3,600.00" in english.body
    assert "GMV ¥3,000.00 → ¥3,600.00" in english.alternatives[0][0]
    markdown = robot_server.requests[-1].body["markdown"]["content"]
    assert len(robot_server.requests) == 2
    assert "[Corrected]" in markdown and "¥3,000.00 → ¥3,600.00" in markdown
    assert len(markdown) <= MARKDOWN_LIMIT

    # The same file again: the same figures, nothing issued.
    push(brief_data, "store_day", [corrected_row])
    assert len(briefs_of(engagement_a)) == 2
    assert len(mail.outbox) == 2 * len(readers)
    assert len(robot_server.requests) == 2
    # The hourly job does not re-send either revision.
    send_due_briefs_at(DUE + datetime.timedelta(hours=2))
    assert len(mail.outbox) == 2 * len(readers)


def test_data_for_a_day_without_a_sent_brief_corrects_nothing(
    push, brief_data, engagement_a, readers
):
    send_due_briefs_at(DUE)
    push(brief_data, "store_day", [{"date": "2026-09-05", "visitors": 70}])
    assert len(briefs_of(engagement_a)) == 1
    assert len(mail.outbox) == len(readers)


def test_data_arriving_after_a_no_data_brief_corrects_it(push, store_a, engagement_a, readers):
    push(store_a, "store_day", [{"date": "2026-09-08", "visitors": 10, "gmv": "10.00"}])
    send_due_briefs_at(DUE)  # the brief about the 10th: no data since the 8th
    (first,) = briefs_of(engagement_a)
    assert first.content["data_status"]["has_data"] is False
    push(store_a, "store_day", [{"date": "2026-09-10", "visitors": 300, "gmv": "900.00"}])
    first, second = briefs_of(engagement_a)
    assert second.content["data_status"]["has_data"] is True
    assert {"metric": "gmv", "before": None, "after": "900.00"} in second.content["correction"][
        "changes"
    ]
    manager = [m for m in mail.outbox if m.to == ["manager@demo.test"]]
    assert len(manager) == 2 and "GMV — → ¥900.00" in manager[1].body
