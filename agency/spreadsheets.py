"""Text for spreadsheet cells (CSV and XLSX) that no spreadsheet program runs as a formula.

Excel, LibreOffice and Google Sheets treat a cell that starts with `=`, `+`, `-` or `@` as a
formula (and tab, CR or NUL in front can smuggle one in), so a campaign named
`=HYPERLINK("http://x")` would become a live link in the brand's copy (CSV injection). Every
text cell the portal writes goes through `spreadsheet_text`, which puts a `'` in front of such
text: spreadsheets show the text as typed. Numbers are not text: write them as numbers (a
negative amount stays a number), never through this function.

The base layer (agency) owns it so every app may import it: the ingestion run's error CSV
(execution) and the engagement data handover (reporting.exports) share it.
"""

from __future__ import annotations

# The characters that make a spreadsheet read a text cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def spreadsheet_text(value: object) -> str:
    """`value` as cell text that cannot run as a formula; None is an empty cell."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
