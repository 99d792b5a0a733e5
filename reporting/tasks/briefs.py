"""Celery tasks of the daily brief: thin wrappers around `reporting.briefs.services`.

`send_due_briefs` is the hourly beat job; it crosses agencies (as a scheduler does) and queues
one `issue_brief` per engagement whose brief is due, which runs inside that engagement's agency.
Every task is idempotent: running it again, late, twice at once or after a retry issues and
sends nothing twice (see the services' docstring for why).
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from agency.tenancy import tenant_task
from engagements.models import Engagement
from reporting.briefs.services import (
    MAX_DELIVERY_ATTEMPTS,
    BriefDeliveryIncomplete,
    brief_correct_and_deliver,
    brief_issue_and_deliver,
    briefs_due,
)

logger = logging.getLogger(__name__)

# A failed copy is tried again after about 1, 2, 4, 8 and 16 minutes (Celery's backoff, with
# jitter), then given up; its error stays on the delivery row.
DELIVERY_RETRY = {
    "autoretry_for": (BriefDeliveryIncomplete, OSError, OperationalError),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "max_retries": MAX_DELIVERY_ATTEMPTS - 1,
}


def queue(task, *args) -> None:
    """Queue a task. Without a broker (the embedded demo, the tests) it runs here and now, and
    so do its retries (without the backoff's wait, until the task gives up); a failure is logged
    rather than raised: one engagement's failing robot must not stop the others' briefs."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
        return
    retries = 0
    while True:
        try:
            task.apply(args=args, retries=retries, throw=True)
        except Retry:
            retries += 1  # the task asked to be tried again; past max_retries it raises instead
        except Exception:
            logger.exception("Task %s%r failed", task.name, args)
            return
        else:
            return


@tenant_task(**DELIVERY_RETRY)
def issue_brief(agency, engagement_id: int, date: str) -> int | None:
    """Issue the engagement's brief for `date` (once) and send its copies not sent yet."""
    engagement = (
        Engagement.objects.filter(pk=engagement_id).select_related("store__brand", "agency").first()
    )
    if engagement is None:
        return None
    brief = brief_issue_and_deliver(engagement=engagement, date=datetime.date.fromisoformat(date))
    return brief.pk if brief else None


@tenant_task(**DELIVERY_RETRY)
def correct_brief(agency, engagement_id: int, date: str) -> int | None:
    """Rebuild the engagement's sent brief for `date`; issue and send a corrected revision when
    its figures changed."""
    engagement = (
        Engagement.objects.filter(pk=engagement_id).select_related("store__brand", "agency").first()
    )
    if engagement is None:
        return None
    brief = brief_correct_and_deliver(engagement=engagement, date=datetime.date.fromisoformat(date))
    return brief.pk if brief else None


def send_due_briefs_at(now: datetime.datetime) -> int:
    """Queue the briefs due at `now` (the job's body, with the clock passed in for tests)."""
    due = briefs_due(now=now)
    for agency_id, engagement_id, day in due:
        queue(issue_brief, agency_id, engagement_id, day.isoformat())
    return len(due)


@shared_task(name="reporting.tasks.send_due_briefs")
def send_due_briefs() -> int:
    """Hourly beat job: the daily brief of each active engagement whose agency's local brief
    hour has come (default 09:00 Asia/Shanghai), covering the local day before."""
    return send_due_briefs_at(timezone.now())
