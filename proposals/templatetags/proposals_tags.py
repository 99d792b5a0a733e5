"""Display helpers for proposal content (the frozen dicts hold keys, not labels) and the
proposals panel on the engagement page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

from engagements.lifecycle import Service
from execution.metrics.registry import METRICS, RATIO
from proposals import planner, selectors
from proposals.models import Party, ResourceKind, TargetPeriod, VersionStatus
from proposals.services import EVENT_CHANNELS

register = template.Library()


@register.filter
def metric_label(name: str) -> str:
    metric = METRICS.get(name)
    return str(metric.label) if metric else name


@register.filter
def service_label(value: str) -> str:
    try:
        return str(Service(value).label)
    except ValueError:
        return value


@register.filter
def channel_label(key: str | None) -> str:
    if not key:
        return ""
    label = planner.CHANNELS.get(key) or EVENT_CHANNELS.get(key)
    return str(label) if label else key


@register.filter
def kind_label(value: str) -> str:
    try:
        return str(ResourceKind(value).label)
    except ValueError:
        return value


@register.filter
def party_label(value: str) -> str:
    try:
        return str(Party(value).label)
    except ValueError:
        return value


@register.filter
def status_label(value: str) -> str:
    try:
        return str(VersionStatus(value).label)
    except ValueError:
        return value


@register.filter
def amount(value) -> str:
    """Money and counts with thousands separators: 500000.00 → 500,000.00."""
    if value in (None, ""):
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value() and "." not in str(value):
        return f"{number:,.0f}"
    return f"{number:,.2f}"


def _value_text(metric: str, value) -> str:
    definition = METRICS.get(metric)
    number = Decimal(str(value))
    if definition is not None and definition.unit == RATIO and metric != "roi" and number <= 1:
        return f"{(number * 100).quantize(Decimal('0.01'))}%"
    if metric == "roi":
        return f"{number.normalize():f}"
    return amount(value)


@register.filter
def target_text(target: dict) -> str:
    """“GMV ≥ 500,000.00 in month 3” / “… cumulative over months 1 to 3”."""
    comparison = "≥" if target["comparison"] == ">=" else "≤"
    value = _value_text(target["metric"], target["value"])
    text = f"{metric_label(target['metric'])} {comparison} {value}"
    if target["period"] == TargetPeriod.CUMULATIVE:
        return _("%(target)s, cumulative over months 1 to %(month)s") % {
            "target": text,
            "month": target["by_month"],
        }
    return _("%(target)s in month %(month)s") % {"target": text, "month": target["by_month"]}


@register.filter
def implied_text(check) -> str:
    if check is None or check.implied is None:
        return "—"
    return _value_text(check.target["metric"], check.implied)


@register.filter
def rate_percent(value) -> str:
    if value in (None, ""):
        return "—"
    return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.01'))}%"


@register.inclusion_tag("proposals/_panel_body.html", takes_context=True)
def proposals_panel(context, engagement):
    """The proposals panel of the engagement page: its proposals and the live KPI targets."""
    membership = context.get("membership")
    proposals = []
    for proposal in selectors.proposal_list(membership=membership, engagement=engagement):
        versions = list(selectors.version_list(membership=membership, proposal=proposal))
        proposals.append({"proposal": proposal, "latest": versions[0] if versions else None})
    from proposals.permissions import can_edit_proposal

    return {
        "agency": context.get("agency"),
        "engagement": engagement,
        "proposals": proposals,
        "targets": [
            {
                "metric": target.metric,
                "comparison": target.comparison,
                "value": target.value,
                "period": target.period,
                "by_month": target.by_month,
            }
            for target in selectors.engagement_live_targets(engagement=engagement)
        ],
        "can_start": membership is not None and can_edit_proposal(membership, engagement),
        "csrf_token": context.get("csrf_token"),
    }
