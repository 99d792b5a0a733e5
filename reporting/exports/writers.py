"""The two files of the data handover: an XLSX workbook (one sheet per table) and a ZIP of CSV
files (one per table, UTF-8 with a BOM so Excel opens the Chinese, and a README.txt).

- Numbers stay numbers: counts as integers, money as decimals shown with 2 places, ratios as
  decimals (a fraction shown as a percentage), dates as dates; a negative amount is a number.
- Every text cell goes through `agency.spreadsheets.spreadsheet_text` (a `'` in front of text
  that a spreadsheet would run as a formula), then loses the control characters XML cannot hold
  (NUL and the like become U+FFFD), the same in both formats.
- Deterministic: the same data gives the same bytes. Every ZIP entry (the XLSX is a ZIP too)
  carries one fixed timestamp, the workbook's created/modified properties are fixed, and each
  table's rows come in a stable order. Nothing in the file says when it was made; the
  `ExportRecord` does.
- Bounded memory: rows stream from the database into openpyxl's write-only sheets (kept in
  temporary files until the workbook is saved) or into temporary CSV files, which are then
  copied into the archive in chunks.
"""

from __future__ import annotations

import csv
import datetime
import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from agency.spreadsheets import spreadsheet_text
from reporting.exports.tables import (
    BOOLEAN,
    CENT,
    DATE,
    DECIMAL,
    INTEGER,
    MONEY,
    RATIO,
    Column,
    Table,
)

# One timestamp for every entry of every archive (the earliest a ZIP can hold is 1980).
FIXED_TIME = (2000, 1, 1, 0, 0, 0)
FIXED_DATETIME = datetime.datetime(*FIXED_TIME)
COPY_CHUNK = 1024 * 1024
NUMBER_FORMATS = {MONEY: "0.00", DECIMAL: "0.00##", RATIO: "0.00%"}


class _FixedTimeZipFile(zipfile.ZipFile):
    """A ZipFile whose entries all carry FIXED_TIME, whatever the clock or a file's mtime, so
    an archive's bytes depend on its content only. openpyxl's writer calls `writestr` and
    `write`; both come through here."""

    def _info(self, name: str, size: int = 0) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16
        info.file_size = size  # lets `open(..., "w")` choose zip64 only when it is needed
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as source:
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
            with self.open(self._info(arcname or str(filename), size), "w") as target:
                shutil.copyfileobj(source, target, COPY_CHUNK)


def cell_text(value) -> str:
    """Text as a cell may hold it: never a formula, no XML-illegal control character."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", spreadsheet_text(value))


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


def _xlsx_converter(column: Column, sheet) -> Callable:
    if column.kind == INTEGER:
        return lambda value: None if value is None else int(value)
    if column.kind == DATE or column.kind == BOOLEAN:
        return lambda value: value  # openpyxl writes dates as dates (yyyy-mm-dd), bools as bools
    if column.kind in NUMBER_FORMATS:
        number_format = NUMBER_FORMATS[column.kind]
        quantize = _money if column.kind == MONEY else (lambda value: value)

        def number(value):
            if value is None:
                return None
            cell = WriteOnlyCell(sheet, value=quantize(Decimal(value)))
            cell.number_format = number_format
            return cell

        return number
    return lambda value: (cell_text(value) or None) if value is not None else None


def _csv_converter(column: Column) -> Callable:
    if column.kind == INTEGER:
        return lambda value: "" if value is None else str(int(value))
    if column.kind == MONEY:
        return lambda value: "" if value is None else f"{_money(value)}"
    if column.kind in (DECIMAL, RATIO):
        return lambda value: "" if value is None else f"{Decimal(value)}"
    if column.kind == DATE:
        return lambda value: "" if value is None else value.isoformat()
    if column.kind == BOOLEAN:
        return lambda value: "" if value is None else ("TRUE" if value else "FALSE")
    return cell_text


def _converted(rows: Iterable[tuple], converters: list[Callable]) -> Iterable[list]:
    for row in rows:
        yield [convert(value) for convert, value in zip(converters, row, strict=True)]


def write_xlsx(tables: list[Table], destination: IO[bytes]) -> dict[str, int]:
    """Write the workbook into `destination`; returns the rows written per table."""
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "engagement portal"
    workbook.properties.created = FIXED_DATETIME
    workbook.properties.modified = FIXED_DATETIME
    counts: dict[str, int] = {}
    for table in tables:
        sheet = workbook.create_sheet(title=table.sheet_title)
        for index, column in enumerate(table.columns, start=1):
            width = max(12, len(column.header) + 4)  # a Chinese character is about two wide
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.append([column.header for column in table.columns])
        converters = [_xlsx_converter(column, sheet) for column in table.columns]
        written = 0
        for row in _converted(table.rows(), converters):
            sheet.append(row)
            written += 1
        counts[table.key] = written
    archive = _FixedTimeZipFile(destination, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(workbook, archive).save()
    return counts


def write_csv_zip(tables: list[Table], destination: IO[bytes], readme: str) -> dict[str, int]:
    """Write README.txt and one CSV per table into a ZIP in `destination`; returns the rows
    written per table."""
    counts: dict[str, int] = {}
    with _FixedTimeZipFile(destination, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        archive.writestr("README.txt", "\ufeff" + readme)
        for table in tables:
            converters = [_csv_converter(column) for column in table.columns]
            with tempfile.NamedTemporaryFile(
                "w+", encoding="utf-8-sig", newline="", suffix=".csv"
            ) as spool:
                writer = csv.writer(spool)
                writer.writerow([column.header for column in table.columns])
                written = 0
                for row in _converted(table.rows(), converters):
                    writer.writerow(row)
                    written += 1
                spool.flush()
                archive.write(spool.name, table.filename)
            counts[table.key] = written
    return counts
