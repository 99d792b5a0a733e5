"""How the traffic pages show figures: CNY to the cent with separators, percentages with two
decimals, ROI as a multiple, and "—" for no value. Display only: the figures come from the
metric query. (reporting.formatting reads the same; execution may not import reporting.)"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import numberformat
from django.utils.formats import get_format

from execution.metrics.registry import METRICS, MONEY, RATIO

DASH = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_number(value, places: int = 0) -> str:
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


def format_money(value) -> str:
    return DASH if _decimal(value) is None else "¥" + format_number(value, 2)


def format_percent(value) -> str:
    number = _decimal(value)
    return DASH if number is None else format_number(number * 100, 2) + "%"


def format_metric(name: str, value) -> str:
    metric = METRICS[name]
    if name == "roi":
        return format_number(value, 2)
    if metric.unit == RATIO:
        return format_percent(value)
    if metric.unit == MONEY:
        return format_money(value)
    return format_number(value, 0)
