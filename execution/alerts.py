"""Stored alerts: the alert rules of `execution.metrics.rules` that fired for an engagement on a
day, raised once, shown until staff acknowledge them with a note.

An alert is keyed by engagement, rule, day and cause (unique in the database), so evaluating a
day again (a re-run, a corrected file, two workers at once) raises nothing new for a finding
already stored: the first evidence stays, and so does an acknowledgement. An alert whose
condition no longer holds after corrected data is kept: it was raised and may have been acted on.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from agency.models import Membership
from agency.tenancy import agency_scope
from engagements.models import Engagement, EngagementStatus
from execution.metrics.rules import RULES, SEVERITY_RANK, Finding, findings_for_day
from execution.models import Alert

# New data raises alerts only for its last 35 days (the run's last date and the 34 before it):
# alerts are for acting now, and a two-year backfill must not raise hundreds of historic alerts.
# 35 days cover the ad platforms' 15-day late attribution and a month of corrections.
ALERT_LOOKBACK_DAYS = 35


def can_acknowledge_alert(membership: Membership) -> bool:
    """Any active staff member who watches the numbers may acknowledge an alert (reporting's
    pages use this same check)."""
    return membership.is_staff_member and membership.is_active


def alerts_evaluate(
    *,
    engagement: Engagement,
    date: datetime.date,
    findings: list[Finding] | None = None,
) -> list[Alert]:
    """Store the day's alert findings (rules with `is_alert`) and return that day's alerts, most
    severe first. Safe to repeat and to run concurrently: a finding already stored for the same
    engagement, rule, day and cause is left as it is. `findings` may pass what
    `findings_for_day` already returned for this engagement and day (the daily brief does)."""
    if findings is None:
        findings = findings_for_day(engagement=engagement, date=date)
    alerts = [
        Alert(
            agency_id=engagement.agency_id,
            engagement=engagement,
            rule=finding.rule,
            date=date,
            cause=finding.cause[:255],
            severity=finding.severity,
            evidence=finding.evidence,
        )
        for finding in findings
        if RULES[finding.rule].is_alert
    ]
    if alerts:
        Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    return list(_by_severity(Alert.objects.filter(engagement=engagement, date=date)))


def alert_acknowledge(*, actor: Membership, alert: Alert, note: str) -> Alert:
    """Staff acknowledge an alert with a note saying what they did or why it needs nothing.
    Acknowledging again keeps the first time, person and note. The open alerts of the same rule
    and cause on earlier days (the same condition, raised again each day it held) are
    acknowledged with it, so one decision closes one problem."""
    if actor.agency_id != alert.agency_id or not can_acknowledge_alert(actor):
        raise PermissionDenied(_("Only agency staff can acknowledge alerts."))
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": _("Say what was done about the alert, or why it needs nothing.")}
        )
    # One conditional UPDATE: of two people acknowledging at once, the first one wins.
    Alert.objects.filter(
        engagement_id=alert.engagement_id,
        rule=alert.rule,
        cause=alert.cause,
        date__lte=alert.date,
        acknowledged_at__isnull=True,
    ).update(acknowledged_at=timezone.now(), acknowledged_by=actor.user, note=note)
    alert.refresh_from_db(fields=["acknowledged_at", "acknowledged_by", "note"])
    return alert


def alerts_open(*, engagement: Engagement) -> QuerySet[Alert]:
    """The engagement's alerts not yet acknowledged: most severe first, then newest."""
    return _by_severity(Alert.objects.filter(engagement=engagement, acknowledged_at__isnull=True))


def _by_severity(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    rank = Case(
        *(When(severity=severity, then=Value(order)) for severity, order in SEVERITY_RANK.items()),
        default=Value(len(SEVERITY_RANK)),
        output_field=IntegerField(),
    )
    return alerts.annotate(severity_rank=rank).order_by(
        "severity_rank", "-date", "rule", "cause", "pk"
    )


def alerts_evaluate_days(
    *, engagement: Engagement, start: datetime.date, end: datetime.date
) -> int:
    """Evaluate the alerts of every day from `start` to `end` that falls within the engagement
    (from its start date to its end date, if any); returns how many days were evaluated."""
    first = max(start, engagement.start_date)
    last = min(end, engagement.end_date) if engagement.end_date else end
    day, evaluated = first, 0
    while day <= last:
        alerts_evaluate(engagement=engagement, date=day)
        day += datetime.timedelta(days=1)
        evaluated += 1
    return evaluated


def alert_days_for_run(
    date_start: datetime.date, date_end: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The days of an ingestion run whose alerts are evaluated: its last ALERT_LOOKBACK_DAYS."""
    lookback_start = date_end - datetime.timedelta(days=ALERT_LOOKBACK_DAYS - 1)
    return max(date_start, lookback_start), date_end


def facts_changed_receiver(sender, *, run, store_id, date_start, date_end, **kwargs) -> None:
    """On `execution.signals.facts_changed`: queue the alert evaluation of the touched days (the
    last ALERT_LOOKBACK_DAYS of them) for every active engagement of the store."""
    from execution.tasks import evaluate_alerts

    if date_start is None or date_end is None:
        return
    start, end = alert_days_for_run(date_start, date_end)
    with agency_scope(run.agency_id):
        engagement_ids = list(
            Engagement.objects.filter(
                store_id=store_id, status=EngagementStatus.ACTIVE
            ).values_list("pk", flat=True)
        )
    for engagement_id in engagement_ids:
        transaction.on_commit(
            lambda engagement_id=engagement_id: evaluate_alerts.delay(
                run.agency_id, engagement_id, start.isoformat(), end.isoformat()
            )
        )
