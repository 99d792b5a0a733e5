"""Geometry of the small server-side SVG charts of the traffic pages: a keyword's rank over time
(rank 1 at the top, days without a rank break the line) and a campaign's budget burn bar. The
templates draw them with plain SVG attributes: no JavaScript, no inline styles."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class RankChart:
    width: int
    height: int
    top: int
    bottom: int  # y of the worst rank shown
    left: int
    right: int
    worst: int  # the rank at the bottom edge
    segments: list[str] = field(default_factory=list)  # SVG path data, one per unbroken run
    dots: list[tuple[float, float, datetime.date, int]] = field(default_factory=list)
    misses: list[tuple[float, datetime.date]] = field(default_factory=list)  # not-found days
    target_y: float | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None

    @property
    def empty(self) -> bool:
        return not self.dots and not self.misses


def rank_chart(
    history: list[tuple[datetime.date, int | None]],
    *,
    start: datetime.date,
    end: datetime.date,
    width: int = 240,
    height: int = 64,
    target: int | None = None,
    margin: tuple[int, int, int, int] = (6, 6, 6, 6),  # top, right, bottom, left
) -> RankChart:
    """Points of `history` between start and end, x by date and y by rank (1 at the top)."""
    top, right, bottom, left = margin
    shown = [(day, rank) for day, rank in history if start <= day <= end]
    ranks = [rank for _day, rank in shown if rank is not None]
    worst = max([*ranks, target or 1, 2])
    chart = RankChart(
        width=width,
        height=height,
        top=top,
        bottom=height - bottom,
        left=left,
        right=width - right,
        worst=worst,
        start=start,
        end=end,
    )
    span = max((end - start).days, 1)
    plot_width, plot_height = width - left - right, height - top - bottom

    def x_of(day: datetime.date) -> float:
        return round(left + (day - start).days / span * plot_width, 1)

    def y_of(rank: int) -> float:
        return round(top + (rank - 1) / (worst - 1) * plot_height, 1)

    run: list[str] = []
    for day, rank in shown:
        if rank is None:
            chart.misses.append((x_of(day), day))
            if run:
                chart.segments.append(" ".join(run))
                run = []
            continue
        x, y = x_of(day), y_of(rank)
        run.append(f"{'M' if not run else 'L'}{x} {y}")
        chart.dots.append((x, y, day, rank))
    if run:
        chart.segments.append(" ".join(run))
    if target is not None and target <= worst:
        chart.target_y = y_of(target)
    return chart


@dataclass
class BurnBar:
    """Spend against budget (the bar) and the linear plan to date (the marker), as fractions
    of the bar's width; the bar is the budget, an overspend fills it."""

    spent: Decimal  # share of the budget spent, capped at 1 for drawing
    planned: Decimal  # share of the budget planned to date
    over: bool

    @property
    def spent_width(self) -> str:
        return f"{float(self.spent) * 100:.1f}"

    @property
    def planned_x(self) -> str:
        return f"{float(self.planned) * 100:.1f}"


def burn_bar(burn: Decimal | None, planned_share: Decimal | None) -> BurnBar | None:
    if burn is None or planned_share is None:
        return None
    return BurnBar(
        spent=min(burn, Decimal(1)),
        planned=min(max(planned_share, Decimal(0)), Decimal(1)),
        over=burn > 1,
    )
