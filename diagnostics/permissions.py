"""Who may do what in the diagnosis (named checks; views and services share them).

Staff write the diagnosis; publishing it to the brand is an engagement-level decision, so it needs
the engagement edit right (admins, or the engagement's account manager). Brand users read the
published report only: every other diagnosis page is a 404 for them (`staff_required`).
"""

from __future__ import annotations

from agency import permissions as agency_permissions
from agency.models import Membership
from diagnostics.models import DiagnosisReport
from engagements.models import Engagement
from execution import permissions as execution_permissions


def can_edit_diagnosis(membership: Membership, engagement: Engagement) -> bool:
    """Any staff member of the agency works on the intake, competitors, personas and drafts."""
    return membership.is_staff_member and membership.agency_id == engagement.agency_id


def can_publish_diagnosis_report(membership: Membership, engagement: Engagement) -> bool:
    return membership.is_staff_member and agency_permissions.can_edit_engagement(
        membership, engagement
    )


def can_enter_store_months(membership: Membership) -> bool:
    """Typing in a month's totals is bringing data in: whoever may upload exports."""
    return execution_permissions.can_ingest_metrics(membership)


def can_read_report(membership: Membership, report: DiagnosisReport) -> bool:
    """Staff read every version; brand users only published ones."""
    return membership.is_staff_member or report.is_published
