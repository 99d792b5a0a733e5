"""The hourly brief job on a real Celery worker (two processes, the real Redis broker, the real
PostgreSQL): queued three times at once, it issues one brief and sends each copy once."""

from __future__ import annotations

import datetime
import time
import zoneinfo

import pytest

from agency.tenancy import agency_scope
from reporting.models import BriefDelivery, BriefSettings, DailyBrief, DeliveryStatus
from reporting.tasks.briefs import issue_brief, send_due_briefs_at

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_repeated_and_concurrent_jobs_on_a_real_worker_send_each_copy_once(
    worker_queue, robot_server, brief_data, engagement_a, brand_a_owner
):
    _queue, worker = worker_queue
    with agency_scope(engagement_a.agency_id):
        BriefSettings.objects.create(
            engagement=engagement_a,
            webhook_kind="wecom",
            webhook_url=f"{robot_server.url}/cgi-bin/webhook/send?key=test-key",
        )
    # 10:00 in Shanghai on the 11th: the brief of the 10th is due.
    now = datetime.datetime(2026, 9, 11, 10, 0, tzinfo=SHANGHAI)
    for _run in range(3):
        assert send_due_briefs_at(now) == 1  # each run queues the brief's task to the worker
    for _retry in range(2):  # and a retried task, queued again
        issue_brief.apply_async(args=[engagement_a.agency_id, engagement_a.pk, "2026-09-10"])

    deadline = time.monotonic() + 90
    deliveries = []
    while time.monotonic() < deadline and worker.poll() is None:
        with agency_scope(engagement_a.agency_id):
            deliveries = list(BriefDelivery.objects.values_list("channel", "recipient", "status"))
        if deliveries and all(status == DeliveryStatus.SENT for *_key, status in deliveries):
            time.sleep(2)  # let the other four tasks finish: they must find nothing to send
            break
        time.sleep(0.25)
    else:
        worker.terminate()
        pytest.fail(f"No brief went out within 90 s:\n{worker.communicate(timeout=20)[0][-3000:]}")

    with agency_scope(engagement_a.agency_id):
        briefs = list(DailyBrief.objects.values_list("date", "revision"))
        deliveries = list(BriefDelivery.objects.values_list("channel", "recipient", "status"))
    assert briefs == [(datetime.date(2026, 9, 10), 1)]
    assert len(deliveries) == len(set(deliveries))
    assert ("email", brand_a_owner.user.email, DeliveryStatus.SENT) in deliveries
    assert ("webhook", "wecom:127.0.0.1", DeliveryStatus.SENT) in deliveries
    assert len(robot_server.requests) == 1  # the group saw the brief once
    assert robot_server.requests[0].body["msgtype"] == "markdown"
