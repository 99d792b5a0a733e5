"""Template tags of the conversion area: the engagement page's panel (its figures come from the
conversion selectors, so the engagements app needs to know nothing of step 5). Figures read
through the shared `figures` filters."""

from __future__ import annotations

from django import template

from engagements.lifecycle import Service
from execution.conversion.selectors import conversion_summary
from execution.permissions import can_edit_workspace
from execution.workspace import workspace_is_open

register = template.Library()


@register.inclusion_tag("execution/conversion/_panel_body.html", takes_context=True)
def conversion_panel(context):
    engagement = context["engagement"]
    membership = context.get("membership") or context["request"].membership
    in_scope = Service.CONVERSION in engagement.scope_services
    return {
        "agency": context["agency"],
        "engagement": engagement,
        "is_staff_member": membership.is_staff_member,
        "can_edit": can_edit_workspace(membership),
        "workspace_open": workspace_is_open(engagement),
        "in_scope": in_scope,
        "summary": conversion_summary(engagement=engagement, membership=membership)
        if in_scope
        else None,
    }
