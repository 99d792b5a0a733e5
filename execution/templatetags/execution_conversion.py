"""Template tags of the conversion area: the engagement page's panel (its figures come from the
conversion selectors, so the engagements app needs to know nothing of step 5), and how the
area's figures read: CNY to the cent, counts and percentages grouped by thousands, "—" for no
value."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import gettext as _

from engagements.lifecycle import Service
from execution.conversion.selectors import conversion_summary
from execution.permissions import can_edit_workspace
from execution.workspace import workspace_is_open

register = template.Library()

DASH = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _number(value, places: int) -> str:
    number = _decimal(value)
    if number is None:
        return DASH
    number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return numberformat.format(
        number,
        get_format("DECIMAL_SEPARATOR"),
        decimal_pos=places,
        grouping=3,
        thousand_sep=get_format("THOUSAND_SEPARATOR") or ",",
        force_grouping=True,
    )


@register.filter
def cv_count(value) -> str:
    return _number(value, 0)


@register.filter
def cv_money(value) -> str:
    text = _number(value, 2)
    return text if text == DASH else "¥" + text


@register.filter
def cv_decimal(value, places: int = 2) -> str:
    return _number(value, int(places))


@register.filter
def cv_percent(value) -> str:
    """A ratio (0.0123) as a percentage with two decimals (1.23%)."""
    number = _decimal(value)
    return DASH if number is None else _number(number * 100, 2) + "%"


@register.filter
def cv_seconds(value) -> str:
    number = _decimal(value)
    return DASH if number is None else _("%(value)s s") % {"value": _number(number, 1)}


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
