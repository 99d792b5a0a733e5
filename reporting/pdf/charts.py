"""Charts for the PDFs, drawn on the server as inline SVG (WeasyPrint renders it; no script, no
image file, nothing fetched): a line chart of daily series (the period against the previous
one) and a horizontal bar chart of a breakdown (traffic by source).

The figures arrive already computed (from the metric query, through the report's content); this
module only places them. Values are plotted from 0 up to a round top; a day without a value
breaks the line rather than dropping it to 0. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from html import escape

from django.utils.safestring import SafeString, mark_safe

FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Noto Sans CJK', sans-serif"
MUTED = "#8a8f98"
GRID = "#e3e5e8"


@dataclass(frozen=True)
class Series:
    """One line: its values in day order (None: no value that day) and how it is drawn."""

    label: str
    values: Sequence
    colour: str
    dashed: bool = False


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return number if math.isfinite(number) else None


def nice_top(value: float) -> float:
    """The smallest round number (1, 2, 2.5 or 5 × 10ⁿ) at or above `value`; 1 for nothing."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 9, fill=MUTED):
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-family="{FONT}" '
        f'fill="{fill}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def line_chart(
    *,
    days: Sequence[str],
    series: Sequence[Series],
    value_text: Callable[[float], str],
    width: int = 520,
    height: int = 170,
) -> SafeString:
    """Lines over `days` (the x axis, labelled at the first, middle and last day), y from 0 to a
    round top with three grid lines labelled by `value_text`. Empty string without any value."""
    numbers = [[_number(value) for value in line.values] for line in series]
    known = [number for line in numbers for number in line if number is not None]
    if not known or not days:
        return mark_safe("")
    top = nice_top(max(max(known), 0))
    left, right, top_pad, bottom = 62, 10, 10, 22
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    count = max(max((len(line) for line in numbers), default=0), len(days), 2)
    step = plot_w / (count - 1)

    def x_of(index: int) -> float:
        return left + step * index

    def y_of(number: float) -> float:
        return top_pad + plot_h * (1 - max(number, 0) / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart line-chart">'
    ]
    for fraction in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="0.8"/>'
        )
        parts.append(_text(left - 6, y + 3, value_text(top * fraction), anchor="end"))
    marks = sorted({0, (len(days) - 1) // 2, len(days) - 1})
    for index in marks:
        anchor = "start" if index == 0 else "end" if index == len(days) - 1 else "middle"
        parts.append(_text(x_of(index), height - 6, days[index], anchor=anchor))
    for line, values in zip(series, numbers, strict=True):
        commands, pen_down, dots = [], False, []
        for index, number in enumerate(values):
            if number is None:
                pen_down = False
                continue
            point = f"{x_of(index):.1f} {y_of(number):.1f}"
            commands.append(("L" if pen_down else "M") + point)
            dots.append((x_of(index), y_of(number)))
            pen_down = True
        dash = ' stroke-dasharray="4 3"' if line.dashed else ""
        if commands:
            parts.append(
                f'<path d="{" ".join(commands)}" fill="none" stroke="{escape(line.colour)}" '
                f'stroke-width="1.6"{dash}/>'
            )
        if len(dots) <= 45:  # a dot per day while they stay apart; a lone day shows too
            parts.extend(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="{escape(line.colour)}"/>'
                for x, y in dots
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def bar_chart(
    *,
    rows: Sequence[tuple[str, object, str]],
    colour: str,
    width: int = 520,
    bar_height: int = 16,
    label_width: int = 120,
) -> SafeString:
    """Horizontal bars, one per `(label, value, value text)`, scaled to the largest value."""
    numbers = [(label, _number(value), text) for label, value, text in rows]
    known = [number for _label, number, _text_ in numbers if number is not None]
    if not known:
        return mark_safe("")
    top = max(max(known), 0) or 1.0
    gap, value_width = 6, 90
    plot_w = width - label_width - value_width
    height = len(numbers) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart bar-chart">'
    ]
    for index, (label, number, text) in enumerate(numbers):
        y = gap + index * (bar_height + gap)
        middle = y + bar_height / 2 + 3
        shown = label if len(label) <= 14 else label[:13] + "…"
        parts.append(_text(label_width - 6, middle, shown, anchor="end", fill="#333"))
        length = 0 if number is None else plot_w * max(number, 0) / top
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{escape(colour)}" rx="2"/>'
        )
        parts.append(_text(label_width + length + 4, middle, text, fill="#333"))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped
