"""Who may do what with execution data."""

from agency.models import Membership


def can_ingest_metrics(membership: Membership) -> bool:
    """Any agency staff member may bring data in; brand users read it."""
    return membership.is_staff_member
