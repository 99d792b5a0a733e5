"""The diagnosis panel of the engagement page: its facts come from the diagnostics selectors,
so the engagements app needs to know nothing of step 1."""

from django import template

from diagnostics import permissions, selectors

register = template.Library()


@register.inclusion_tag("diagnostics/_panel_body.html", takes_context=True)
def diagnosis_panel(context):
    engagement, membership = context["engagement"], context["membership"]
    staff = membership.is_staff_member
    return {
        "agency": context["agency"],
        "engagement": engagement,
        "is_staff": staff,
        "status": selectors.diagnosis_status(engagement=engagement) if staff else None,
        "published": selectors.report_latest_published(engagement=engagement),
        "can_edit": permissions.can_edit_diagnosis(membership, engagement),
    }
