"""Who may do what in reporting: named checks on a membership (see agency/permissions.py)."""

from __future__ import annotations

from agency.models import Membership
from agency.permissions import can_edit_engagement
from engagements.models import Engagement
from execution.alerts import can_acknowledge_alert

__all__ = [
    "can_acknowledge_alert",  # alerts live in execution, which owns the rule
    "can_edit_brief_settings",
    "can_edit_review",
    "can_publish_review",
]


def can_edit_review(membership: Membership) -> bool:
    """Staff write the narrative and the action items of a draft review."""
    return membership.is_staff_member


def can_publish_review(membership: Membership, engagement: Engagement) -> bool:
    """Publishing speaks to the client: the engagement's account manager, or an admin."""
    return can_edit_engagement(membership, engagement)


def can_edit_brief_settings(membership: Membership, engagement: Engagement) -> bool:
    """Where the brief goes (the group-robot webhook) is the account manager's or an admin's."""
    return can_edit_engagement(membership, engagement)
