"""How figures read everywhere: briefs, reviews, dashboards and the workspace pages alike: CNY to
the cent with separators, percentages with two decimals, ROI as a multiple, seconds, and "—" for
no value. Display only: the figures themselves come from the metric query. The template filters
of `execution/templatetags/figures.py` are these functions."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from execution.metrics.registry import COUNT, METRICS, MONEY, RATIO, SECONDS

DASH = "—"
CENT = Decimal("0.01")


def to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_number(value, places: int = 0) -> str:
    """A number in the active language's decimal separator, grouped by thousands, rounded half
    up. A locale without a thousands separator (Django's zh-hans) still gets "," for long
    figures: Chinese business reports (生意参谋 included) group by thousands with commas."""
    number = to_decimal(value)
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


def format_count(value) -> str:
    return format_number(value, 0)


def format_money(value) -> str:
    return DASH if to_decimal(value) is None else "¥" + format_number(value, 2)


def format_percent(value) -> str:
    """A ratio (0.0123) as a percentage with two decimals (1.23%)."""
    number = to_decimal(value)
    return DASH if number is None else format_number(number * 100, 2) + "%"


def format_seconds(value) -> str:
    if to_decimal(value) is None:
        return DASH
    return _("%(seconds)s s") % {"seconds": format_number(value, 1)}


def format_value(name: str, value) -> str:
    """A metric's value as people read it; an unknown name is shown as given."""
    metric = METRICS.get(name)
    if metric is None:
        return DASH if value is None else str(value)
    if name == "roi":
        return format_number(value, 2)
    if metric.unit == RATIO:
        return format_percent(value)
    if metric.unit == MONEY:
        return format_money(value)
    if metric.unit == SECONDS:
        return format_seconds(value)
    if metric.unit == COUNT:
        return format_count(value)
    return str(value)


def relative_change(value, base) -> Decimal | None:
    """(value − base) / base; None without both or with a zero base."""
    value, base = to_decimal(value), to_decimal(base)
    if value is None or base is None or base == 0:
        return None
    return ((value - base) / base).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def format_change(change: Decimal | None) -> str:
    """A relative change (0.125) as a signed percentage with two decimals (+12.50%)."""
    change = to_decimal(change)
    if change is None:
        return DASH
    return ("+" if change > 0 else "") + format_percent(change)


def format_absolute_change(name: str, change) -> str:
    """An absolute change of a metric: +1,234, -¥56.00, or for a rate percentage points
    (+0.42 pp), since a rate's change in percent of itself reads as something else."""
    number = to_decimal(change)
    if number is None:
        return DASH
    sign = "+" if number > 0 else ("-" if number < 0 else "")
    metric = METRICS.get(name)
    if metric is not None and metric.unit == RATIO and name != "roi":
        points = (abs(number) * 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return _("%(points)s pp") % {"points": f"{sign}{points}"}
    return sign + format_value(name, abs(number))


def change_tone(name: str, change) -> str:
    """ "good", "bad" or "" for a change of a metric, by whether higher is better."""
    change = to_decimal(change)
    metric = METRICS.get(name)
    if change is None or change == 0 or metric is None or metric.higher_is_better is None:
        return ""
    return "good" if (change > 0) == metric.higher_is_better else "bad"


def metric_label(name: str) -> str:
    metric = METRICS.get(name)
    return str(metric.label) if metric is not None else name


def _evidence_labels() -> dict[str, str]:
    return {
        "date": _("Day"),
        "metric": _("Metric"),
        "value": _("Value"),
        "median": _("Median"),
        "mad": _("Median absolute deviation"),
        "low": _("Usual range from"),
        "high": _("Usual range to"),
        "days": _("Days with data"),
        "share": _("Share"),
        "change": _("Change"),
        "direction": _("Direction"),
        "source": _("Traffic source"),
        "campaign": _("Campaign"),
        "ad_tool": _("Ad tool"),
        "item_id": _("Item id"),
        "item_name": _("Product"),
        "comparison": _("Comparison"),
        "target": _("Target"),
        "forecast": _("Forecast"),
        "actual": _("So far"),
        "expected": _("Expected by now"),
        "achievement": _("Achieved"),
        "period_start": _("Period from"),
        "period_end": _("Period to"),
        "days_elapsed": _("Days elapsed"),
        "days_total": _("Days in period"),
        "days_left": _("Days left"),
        "on_pace": _("On pace"),
        "window_start": _("Window from"),
        "date_last_week": _("Same day last week"),
    }


# Evidence keys whose value is in the unit of the evidence's own "metric".
_IN_METRIC_UNIT = {"value", "median", "mad", "low", "high", "target", "forecast", "actual"}
_IN_METRIC_UNIT |= {"expected", "avg_7d"}
_SUFFIXES = (
    ("_avg_7d", gettext_lazy("%(metric)s, 7-day average")),
    ("_7d", gettext_lazy("%(metric)s, trailing 7 days")),
    ("_last_week", gettext_lazy("%(metric)s, same day last week")),
    ("_change", gettext_lazy("%(metric)s, change")),
)


def _metric_of_key(key: str) -> tuple[str | None, object]:
    """The metric an evidence key is about, and how its label reads ("visitors_avg_7d" →
    visitors, "%(metric)s, 7-day average")."""
    if key in METRICS:
        return key, None
    for suffix, label in _SUFFIXES:
        if key.endswith(suffix) and key.removesuffix(suffix) in METRICS:
            return key.removesuffix(suffix), label
    if key.startswith("store_") and key.removeprefix("store_") in METRICS:
        return key.removeprefix("store_"), "store"
    return None, None


def evidence_rows(evidence: dict) -> list[tuple[str, str]]:
    """An alert's or insight's evidence as (label, value) lines in the active language: figures
    formatted by their metric's unit, changes and shares as percentages."""
    labels = _evidence_labels()
    own_metric = evidence.get("metric") if evidence.get("metric") in METRICS else None
    rows = []
    for key, value in evidence.items():
        if isinstance(value, (dict, list)):
            continue
        metric, template = _metric_of_key(key)
        if metric is not None:
            if template == "store":
                label = _("Store: %(metric)s") % {"metric": metric_label(metric)}
            elif template is not None:
                label = str(template) % {"metric": metric_label(metric)}
            else:
                label = metric_label(metric)
            text = (
                format_change(to_decimal(value))
                if key.endswith("_change")
                else format_value(metric, value)
            )
        elif key == "metric" and value in METRICS:
            label, text = labels["metric"], metric_label(value)
        elif key in _IN_METRIC_UNIT and own_metric is not None:
            label, text = labels.get(key, key), format_value(own_metric, value)
        elif key in {"change"} or key.endswith("_change"):
            label, text = labels.get(key, key), format_change(to_decimal(value))
        elif key in {"share", "achievement"} or key.endswith(("_share", "_rate")):
            label, text = labels.get(key, key), format_percent(value)
        elif isinstance(value, bool):
            label, text = labels.get(key, key), _("yes") if value else _("no")
        else:
            label, text = labels.get(key, key), DASH if value is None else str(value)
        rows.append((label, text))
    return rows
