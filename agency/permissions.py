"""Who may do what: named checks on a membership, and view decorators built on them.

A brand user who asks for a staff page gets 404 (a brand user learns nothing of what staff see);
a staff member without the role gets 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from agency.models import Membership, Role

if TYPE_CHECKING:
    from engagements.models import Engagement

MANAGER_ROLES = frozenset({Role.ADMIN, Role.ACCOUNT_MANAGER})


def can_manage_users(membership: Membership) -> bool:
    return membership.role == Role.ADMIN


def can_edit_agency_settings(membership: Membership) -> bool:
    return membership.role == Role.ADMIN


def can_manage_api_tokens(membership: Membership) -> bool:
    return membership.role == Role.ADMIN


def can_manage_brands(membership: Membership) -> bool:
    return membership.role in MANAGER_ROLES


def can_create_engagement(membership: Membership) -> bool:
    return membership.role in MANAGER_ROLES


def can_edit_engagement(membership: Membership, engagement: Engagement) -> bool:
    """Admins edit any engagement; account managers the ones they manage."""
    if membership.role == Role.ADMIN:
        return True
    return membership.role == Role.ACCOUNT_MANAGER and (
        engagement.account_manager_id == membership.pk
    )


def can_move_stage(membership: Membership, engagement: Engagement) -> bool:
    return can_edit_engagement(membership, engagement)


def can_see_internal_notes(membership: Membership) -> bool:
    return membership.is_staff_member


def can_approve_for_brand(membership: Membership, brand_id: int) -> bool:
    """A brand owner of that brand; used by the proposal approval of step 2."""
    return membership.role == Role.BRAND_OWNER and brand_id in {
        brand.pk for brand in membership.brands.all()
    }


def staff_required(view: Callable) -> Callable:
    """Pages for agency staff only: a brand user gets 404."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_staff_member:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def permission_required(check: Callable[[Membership], bool]) -> Callable:
    """Staff pages behind a named check: brand users get 404, other staff 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @staff_required
        def wrapper(request, *args, **kwargs):
            if not check(request.membership):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
