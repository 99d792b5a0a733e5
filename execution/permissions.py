"""Who may do what with execution data."""

from agency.models import Membership, Role
from agency.permissions import MANAGER_ROLES


def can_ingest_metrics(membership: Membership) -> bool:
    """Any agency staff member may bring data in; brand users read it."""
    return membership.is_staff_member


def can_edit_workspace(membership: Membership) -> bool:
    """Any staff member does the execution work (steps 3 to 5); brand users read and decide."""
    return membership.is_staff_member


def can_edit_setup_templates(membership: Membership) -> bool:
    return membership.role == Role.ADMIN


def can_edit_event_calendar(membership: Membership) -> bool:
    return membership.role in MANAGER_ROLES
