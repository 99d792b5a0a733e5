"""The store-setup panel of the engagement page: its counts come from the setup selectors, so the
engagements app needs to know nothing of step 3."""

from django import template

from engagements.lifecycle import Service
from execution.setup import selectors
from execution.workspace import workspace_is_open

register = template.Library()


@register.inclusion_tag("execution/setup/_panel_body.html", takes_context=True)
def setup_panel(context):
    engagement, membership = context["engagement"], context["membership"]
    in_scope = Service.SETUP in engagement.scope_services
    return {
        "agency": context["agency"],
        "engagement": engagement,
        "is_staff_member": membership.is_staff_member,
        "in_scope": in_scope,
        "is_open": workspace_is_open(engagement),
        "progress": selectors.setup_progress(engagement=engagement, membership=membership)
        if in_scope
        else None,
    }
