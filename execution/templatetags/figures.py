"""How figures read in templates: `{% load figures %}` then `|money`, `|percent`, `|count`,
`|seconds`, `|decimal:2`, `|metric:"roi"`. One set of filters for every page, each one of the
functions of `execution.metrics.formatting`."""

from __future__ import annotations

from django import template

from execution.metrics import formatting

register = template.Library()


@register.filter
def money(value) -> str:
    return formatting.format_money(value)


@register.filter
def percent(value) -> str:
    """A ratio (0.0123) as a percentage with two decimals (1.23%)."""
    return formatting.format_percent(value)


@register.filter
def count(value) -> str:
    return formatting.format_count(value)


@register.filter
def seconds(value) -> str:
    return formatting.format_seconds(value)


@register.filter
def decimal(value, places: int = 2) -> str:
    return formatting.format_number(value, int(places))


@register.filter
def metric(value, name: str) -> str:
    """A value in its metric's unit (`{{ value|metric:"roi" }}`)."""
    return formatting.format_value(name, value)
