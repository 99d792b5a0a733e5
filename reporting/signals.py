"""Receivers of other apps' signals (connected in ReportingConfig.ready)."""

from __future__ import annotations

from django.dispatch import receiver

from agency.tenancy import agency_scope
from execution.signals import facts_changed


@receiver(facts_changed, dispatch_uid="reporting.briefs.correct_sent_briefs")
def correct_sent_briefs(sender, *, run, store_id, date_start, date_end, **kwargs) -> None:
    """A store's facts changed for some days (sent after the ingestion run committed): every
    brief already sent for those days, of that store's engagements, is rebuilt by a task, which
    issues a corrected brief when the figures differ. The agency is the run's own."""
    from reporting.models import DailyBrief
    from reporting.tasks.briefs import correct_brief, queue

    agency_id = run.agency_id
    with agency_scope(agency_id):
        days = list(
            DailyBrief.objects.filter(
                engagement__store_id=store_id,
                date__gte=date_start,
                date__lte=date_end,
                sent_at__isnull=False,
            )
            .order_by("engagement_id", "date")
            .values_list("engagement_id", "date")
            .distinct()
        )
    for engagement_id, day in days:
        queue(correct_brief, agency_id, engagement_id, day.isoformat())
