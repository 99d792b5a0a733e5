"""Who may do what with a proposal: named checks on a membership."""

from __future__ import annotations

from agency.models import Membership
from agency.permissions import can_approve_for_brand, can_edit_engagement
from engagements.models import Engagement


def can_edit_proposal(membership: Membership, engagement: Engagement) -> bool:
    """Whoever may edit the engagement writes, sends and revises its proposal."""
    return membership.is_staff_member and can_edit_engagement(membership, engagement)


def can_decide_proposal(membership: Membership, engagement: Engagement) -> bool:
    """Approving and requesting changes are the brand's decision: a brand owner of that brand.
    Viewers read and comment; agency staff never decide on the brand's behalf."""
    return can_approve_for_brand(membership, engagement.store.brand_id)


def can_comment_on_proposal(membership: Membership) -> bool:
    """Both sides comment (the getters have already checked the member sees the proposal)."""
    return membership.is_staff_member or membership.is_brand_member


def can_write_internal_note(membership: Membership) -> bool:
    return membership.is_staff_member
