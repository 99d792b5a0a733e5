"""What the three workspace areas (setup, traffic, conversion) share: when an engagement's
workspace is open for work, and what a brand user may see of it.

The workspace opens with execution: once the approved proposal has let the engagement move to
step 3 (the lifecycle's gate). Before that its pages read, empty, and every write is refused
with the reason. An area whose service is not in the engagement's scope (a traffic-only
engagement has no setup checklist) refuses writes the same way.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from agency.models import Membership
from engagements.lifecycle import Service, Stage, stage_number
from engagements.models import Engagement

EXECUTION_STARTS = stage_number(Stage.SETUP)
# The ceiling of a PositiveIntegerField: a count typed above it is refused by the form (with
# Django's own "less than or equal to" message) instead of failing in the database.
COUNT_MAX = 2_147_483_647


def workspace_is_open(engagement: Engagement) -> bool:
    return engagement.stage_number >= EXECUTION_STARTS


def workspace_check_writable(*, engagement: Engagement, service: Service) -> None:
    """Refuse a workspace write, with the reason, before execution or outside the scope."""
    if not workspace_is_open(engagement):
        raise ValidationError(
            _(
                "The workspace opens when the proposal is approved and the engagement moves to "
                "store setup or a later step."
            ),
            code="workspace_closed",
        )
    if service not in engagement.scope_services:
        raise ValidationError(
            _("“%(service)s” is not in this engagement's scope.") % {"service": service.label},
            code="out_of_scope",
        )


def visible_to(queryset: QuerySet, membership: Membership) -> QuerySet:
    """Rows a member may see: staff all of them, brand users the brand-visible ones (the tenant
    scope has already limited brand users to their brands)."""
    if membership.is_staff_member:
        return queryset
    return queryset.filter(brand_visible=True)
