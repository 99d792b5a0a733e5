"""Celery tasks of store setup: the daily expiry reminders of qualification documents.

`send_all_setup_expiry_reminders` is the daily beat job; it crosses agencies (as a scheduler
does) and queues one `send_setup_expiry_reminders` per agency, which runs inside that agency's
scope with the agency's local date. Both are idempotent: the service reminds each document once
per expiry date however often, late or concurrently they run.
"""

from __future__ import annotations

import datetime

from celery import shared_task

from agency.models import Agency
from agency.tenancy import tenant_task
from execution.setup.selectors import setup_today
from execution.setup.services import setup_expiry_reminders_send


@tenant_task()
def send_setup_expiry_reminders(agency, today: str | None = None) -> int:
    """Remind the owners of the agency's documents that expire soon (or have expired)."""
    day = datetime.date.fromisoformat(today) if today else setup_today(agency)
    return setup_expiry_reminders_send(agency=agency, today=day)


@shared_task(name="execution.setup.tasks.send_all_setup_expiry_reminders")
def send_all_setup_expiry_reminders() -> int:
    """Daily beat job: queue each agency's reminders (each uses its own local date)."""
    agency_ids = list(Agency.objects.order_by("pk").values_list("pk", flat=True))
    for agency_id in agency_ids:
        send_setup_expiry_reminders.delay(agency_id)
    return len(agency_ids)
