"""Celery tasks of the weekly and monthly reviews: the hourly beat job queues one task per agency,
which drafts the reviews due on the agency's local date (Mondays: the week before; from the 4th:
the month before). Both are safe to run any number of times: a period with a review is skipped,
and the review's unique key settles a race."""

from __future__ import annotations

import datetime
import zoneinfo

from celery import shared_task
from django.utils import timezone

from agency.models import Agency
from agency.tenancy import tenant_task
from reporting.reviews import periods_due, reviews_draft_due


@tenant_task()
def draft_agency_reviews(agency: Agency, today: str) -> int:
    """Draft the reviews due on `today` (ISO date, the agency's local date) for the agency's
    active engagements; returns how many drafts this run created."""
    return len(reviews_draft_due(today=datetime.date.fromisoformat(today)))


@shared_task(name="reporting.tasks.draft_due_reviews")
def draft_due_reviews(now: str | None = None) -> int:
    """Beat job (hourly): for every agency where a review falls due today, in its own time zone,
    queue the drafting task. Crosses agencies on purpose, as a scheduler does; each queued task
    runs inside its own agency's scope. `now` (ISO datetime) replays a given moment."""
    moment = datetime.datetime.fromisoformat(now) if now else timezone.now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    queued = 0
    for agency_id, time_zone in Agency.objects.values_list("pk", "time_zone").order_by("pk"):
        today = moment.astimezone(zoneinfo.ZoneInfo(time_zone)).date()
        if periods_due(today):
            draft_agency_reviews.delay(agency_id, today.isoformat())
            queued += 1
    return queued
