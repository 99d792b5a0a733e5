"""Parsing export files (生意参谋 and ad-platform CSV / XLSX / XLS / ZIP) into canonical rows.

    report = parse_report(path_or_file, filename="直通车_2026-09.csv")
    for frame in report.frames():   # pandas DataFrames of at most chunk_rows rows
        ...
    report.errors                   # RowError(row, column, value, message), filled while reading

`parse_report` raises ReportError when the file as a whole cannot be read. The scalar helpers
(`parse_decimal`, `parse_count`, `parse_date`) apply the same rules to one value, for the JSON
push. Modules: `sources` (file types, archive limits, encodings), `tables` (reading CSV, XLSX,
XLS and HTML), `headers` (spellings, kinds), `values` (cells and columns), `report` (the
ParsedReport and its frames), `errors`.
"""

from .errors import ReportError, RowError
from .report import MAX_ERRORS, ParsedReport, parse_report
from .sources import DEFAULT_LIMITS, ArchiveLimits
from .values import parse_count, parse_date, parse_decimal, parse_rate

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_ERRORS",
    "ArchiveLimits",
    "ParsedReport",
    "ReportError",
    "RowError",
    "parse_count",
    "parse_date",
    "parse_decimal",
    "parse_rate",
    "parse_report",
]
