"""The platform's event calendar as dates: the usual events of a year (approximate dates, which
each agency then edits), the month asked for in `?month=YYYY-MM`, and a month laid out as rows of
bars for the server-rendered calendar grid (no JavaScript calendar).
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from execution.models import EventKind

# The Spring Festival (春节, first day of the lunar year), which moves 年货节 every year. A small
# table instead of a lunar-calendar library: agencies plan a year or two ahead, and a year
# beyond the table simply gets no 年货节 from the "usual events" button (they add it by hand).
SPRING_FESTIVAL = {
    2024: datetime.date(2024, 2, 10),
    2025: datetime.date(2025, 1, 29),
    2026: datetime.date(2026, 2, 17),
    2027: datetime.date(2027, 2, 6),
    2028: datetime.date(2028, 1, 26),
    2029: datetime.date(2029, 2, 13),
    2030: datetime.date(2030, 2, 3),
}
# 年货节 runs for about two and a half weeks and ends when couriers stop for the holiday, about
# a week before the Spring Festival.
NIANHUO_DAYS_BEFORE = (25, 8)


@dataclass(frozen=True)
class UsualEvent:
    name: str
    kind: str
    start_date: datetime.date
    end_date: datetime.date
    notes: str = ""


def usual_events(year: int) -> tuple[list[UsualEvent], list[str]]:
    """The usual Tmall events of a year with approximate dates (the agency adjusts them once the
    platform announces the real ones), and notes on events that could not be dated."""
    d = datetime.date
    events: list[UsualEvent] = []
    notes: list[str] = []
    festival = SPRING_FESTIVAL.get(year)
    if festival is None:
        notes.append(
            _(
                "年货节 %(year)s was not added: its dates follow the Spring Festival, whose date "
                "for %(year)s is not in the portal's table. Add it by hand."
            )
            % {"year": year}
        )
    else:
        first, last = NIANHUO_DAYS_BEFORE
        events.append(
            UsualEvent(
                f"年货节 {year}",
                EventKind.NIANHUO,
                festival - datetime.timedelta(days=first),
                festival - datetime.timedelta(days=last),
                _("Approximate: ends about a week before the Spring Festival (%(date)s).")
                % {"date": festival.isoformat()},
            )
        )
    approximate = _("Approximate dates: adjust them when the platform announces the event.")
    with_presale = _(
        "Approximate, pre-sale included: adjust when the platform announces the event."
    )
    events += [
        UsualEvent(f"38节 {year}", EventKind.WOMENS_DAY, d(year, 3, 1), d(year, 3, 8), approximate),
        UsualEvent(f"618 {year}", EventKind.MID_YEAR, d(year, 5, 20), d(year, 6, 18), with_presale),
        UsualEvent(
            f"99划算节 {year}", EventKind.NINE_NINE, d(year, 9, 1), d(year, 9, 9), approximate
        ),
        UsualEvent(
            f"双11 {year}", EventKind.DOUBLE_11, d(year, 10, 20), d(year, 11, 11), with_presale
        ),
        UsualEvent(
            f"双12 {year}", EventKind.DOUBLE_12, d(year, 12, 12), d(year, 12, 12), approximate
        ),
    ]
    return events, notes


# --- months ----------------------------------------------------------------------------------

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})$")


def month_parse(value: str | None, *, today: datetime.date) -> datetime.date:
    """The first day of the month `YYYY-MM`; this month when no value is given; a
    ValidationError that quotes the value when it is not a month."""
    if value is None or value == "":
        return today.replace(day=1)
    match = MONTH_PATTERN.match(value.strip())
    if match:
        year, month = int(match[1]), int(match[2])
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return datetime.date(year, month, 1)
    raise ValidationError(
        _("“%(value)s” is not a month: use the form YYYY-MM, e.g. %(example)s.")
        % {"value": value[:40], "example": today.strftime("%Y-%m")},
        code="bad_month",
    )


def month_last_day(first: datetime.date) -> datetime.date:
    return first.replace(day=pycalendar.monthrange(first.year, first.month)[1])


def month_shift(first: datetime.date, months: int) -> datetime.date:
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


# --- the month grid --------------------------------------------------------------------------


@dataclass
class GridCell:
    """One cell of a calendar row: an empty day, or a bar over `span` days."""

    span: int
    item: object | None = None
    continues_before: bool = False  # the bar started in an earlier month
    continues_after: bool = False  # ... and ends in a later one
    first_day: datetime.date | None = None


@dataclass
class GridRow:
    item: object
    cells: list[GridCell] = field(default_factory=list)


@dataclass
class GridDay:
    date: datetime.date
    weekend: bool
    today: bool


@dataclass
class MonthGrid:
    first: datetime.date
    last: datetime.date
    days: list[GridDay]
    event_rows: list[GridRow]
    campaign_rows: list[GridRow]

    @property
    def previous(self) -> datetime.date:
        return month_shift(self.first, -1)

    @property
    def next(self) -> datetime.date:
        return month_shift(self.first, 1)


def _row(item, start: datetime.date, end: datetime.date, first: datetime.date, last: datetime.date):
    """A row with one bar from start to end, clipped to the month, padded by empty cells."""
    shown_start, shown_end = max(start, first), min(end, last)
    row = GridRow(item=item)
    before = (shown_start - first).days
    if before:
        row.cells.append(GridCell(span=before))
    row.cells.append(
        GridCell(
            span=(shown_end - shown_start).days + 1,
            item=item,
            continues_before=start < first,
            continues_after=end > last,
            first_day=shown_start,
        )
    )
    after = (last - shown_end).days
    if after:
        row.cells.append(GridCell(span=after))
    return row


def month_grid(*, first: datetime.date, events, campaigns, today: datetime.date) -> MonthGrid:
    """Lay the month out: one column per day, one row per event and per campaign (each a bar
    over its days in the month). Items outside the month are left out."""
    last = month_last_day(first)
    days = [
        GridDay(
            date=day,
            weekend=day.weekday() >= 5,
            today=day == today,
        )
        for day in (first + datetime.timedelta(days=n) for n in range((last - first).days + 1))
    ]

    def rows(items):
        return [
            _row(item, item.start_date, item.end_date, first, last)
            for item in items
            if item.start_date <= last and item.end_date >= first
        ]

    return MonthGrid(
        first=first,
        last=last,
        days=days,
        event_rows=rows(events),
        campaign_rows=rows(campaigns),
    )
