"""Display helpers of the traffic pages (figures, rank changes, calendar bar colours) and the
traffic panel of the engagement page, whose facts come from the traffic selectors so the
engagements app needs to know nothing of step 4."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from execution.metrics.formatting import DASH, format_value
from execution.metrics.registry import METRICS
from execution.models import CampaignStatus
from execution.traffic import selectors

register = template.Library()

# Bar colours of the calendar and burn bars, drawn as SVG attributes (no inline styles).
STATUS_COLOURS = {
    CampaignStatus.PLANNED: "#8a94a6",
    CampaignStatus.RUNNING: "#1a7f37",
    CampaignStatus.PAUSED: "#b7791f",
    CampaignStatus.FINISHED: "#5b5ea6",
    CampaignStatus.CANCELLED: "#c9cdd4",
}
EVENT_COLOUR = "#d4380d"


@register.filter
def traffic_figures(result) -> list[tuple[str, str]]:
    """A campaign result's figures as (label, shown value), in the registry's words."""
    if not result or result.figures is None:
        return []
    return [
        (str(METRICS[name].label), format_value(name, value))
        for name, value in result.figures.items()
    ]


@register.filter
def traffic_figure(result, name: str) -> str:
    """One figure of a campaign result, shown as people read it ("—" for none)."""
    if not result or result.figures is None:
        return DASH
    return format_value(name, result.figures.get(name))


@register.filter
def rank_change(places) -> str:
    """Places gained (+) or lost (−) as an arrow: ▲3, ▼2, or "±0"."""
    if places is None:
        return DASH
    if places > 0:
        return f"▲{places}"
    if places < 0:
        return f"▼{-places}"
    return "±0"


@register.filter
def rank_text(rank) -> str:
    return _("not found") if rank is None else str(rank)


@register.filter
def status_colour(status: str) -> str:
    return STATUS_COLOURS.get(status, "#8a94a6")


@register.simple_tag
def event_colour() -> str:
    return EVENT_COLOUR


@register.inclusion_tag("execution/traffic/_panel_body.html", takes_context=True)
def traffic_panel(context):
    request = context["request"]
    engagement = context["engagement"]
    membership = request.membership
    return {
        "agency": context["agency"],
        "engagement": engagement,
        "is_staff": membership.is_staff_member,
        "in_scope": "traffic" in (engagement.scope_services or []),
        "summary": selectors.traffic_summary(engagement=engagement, membership=membership),
    }
