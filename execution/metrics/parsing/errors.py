"""What goes wrong: a bad cell or row (RowError, collected), a file that cannot be read at all
(ReportError, raised)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RowError:
    """One bad cell (or row): where the user finds it in the spreadsheet, and why it is bad."""

    row: int  # 1-based, counting title, header and blank lines: the CSV line / the sheet row
    column: str  # the header as written; "" for a problem of the whole row
    value: str  # the cell text as written; for a duplicate row, its date and key cells
    message: str


class ReportError(Exception):
    """The file as a whole cannot be read; `str()` names the file and says what is wrong."""
