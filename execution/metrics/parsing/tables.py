"""Export files as tables of cell texts: CSV, XLSX, binary XLS and HTML "XLS".

Every table hands out its first rows (to find the header) and then, from a fresh read, chunks of
the cells below the header with each row's number as the user sees it. Which table a file gets,
after checking that it is what its name says, is decided in `sources`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime
import io
import itertools
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import IO

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from .errors import ReportError
from .headers import count_known
from .values import float_text

HEAD_ROWS = 50  # the header row is looked for among a sheet's first rows
BLOCK = 1024 * 1024
_LINE_END = re.compile(rb"\r\n|\n|\r")

Opener = Callable[[], contextlib.AbstractContextManager[IO[bytes]]]


class Table:
    """A file's sheets of cell texts. `heads()` gives each sheet's first rows; `chunks()` reads
    one sheet again from the top and yields (DataFrame of cell texts with columns 0..ncols-1,
    int64 array of row numbers) for the rows after `header_row` (1-based)."""

    def __init__(self, filename: str, opener: Opener):
        self.filename = filename
        self.opener = opener

    def heads(self) -> list[list[list[str]]]:
        heads = []
        with self._sheets() as sheets:
            for rows in sheets:
                heads.append(list(itertools.islice(rows, HEAD_ROWS)))
        return heads

    def chunks(self, sheet: int, header_row: int, ncols: int, chunk_rows: int):
        with self._sheets() as sheets:
            rows = next(r for i, r in enumerate(sheets) if i == sheet)
            batch: list[list[str]] = []
            first = header_row + 1
            number = 0
            for number, row in enumerate(rows, start=1):
                if number < first:
                    continue
                batch.append(row)
                if len(batch) == chunk_rows:
                    yield _frame(batch, ncols), np.arange(number - len(batch) + 1, number + 1)
                    batch = []
            if batch:
                yield _frame(batch, ncols), np.arange(number - len(batch) + 1, number + 1)

    def _sheets(self) -> contextlib.AbstractContextManager[Iterator[Iterator[list[str]]]]:
        raise NotImplementedError

    def close(self) -> None:
        """Lets go of anything kept open between `heads()` and `chunks()`."""


def _frame(batch: list[list[str]], ncols: int) -> pd.DataFrame:
    cells = np.full((len(batch), ncols), "", dtype=object)
    for i, row in enumerate(batch):
        width = min(len(row), ncols)
        cells[i, :width] = row[:width]
    return pd.DataFrame(cells)


def cell_text(value: object) -> str:
    """A spreadsheet cell's value as the text it shows: numbers as Excel's 15 digits, dates as
    ISO dates, times and durations as seconds."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return float_text(value.hour * 3600.0 + value.minute * 60 + value.second)
    if isinstance(value, datetime.timedelta):
        return float_text(value.total_seconds())
    return str(value)


class XlsxTable(Table):
    """An XLSX read with openpyxl in read-only mode (row by row; its XML through defusedxml).
    The workbook opened for `heads()` is kept for the first `chunks()`: opening one whose sheets
    lack a <dimension> element means scanning every sheet."""

    def __init__(self, filename: str, opener: Opener):
        super().__init__(filename, opener)
        self._kept: tuple[contextlib.ExitStack, object] | None = None

    def heads(self):
        stack = contextlib.ExitStack()
        try:
            book = self._load(stack)
            heads = [list(itertools.islice(self._rows(s), HEAD_ROWS)) for s in book.worksheets]
        except BaseException:
            stack.close()
            raise
        self._kept = (stack, book)
        return heads

    def close(self) -> None:
        kept, self._kept = self._kept, None
        if kept:
            kept[0].close()

    @contextlib.contextmanager
    def _sheets(self):
        kept, self._kept = self._kept, None
        with kept[0] if kept else contextlib.ExitStack() as stack:
            book = kept[1] if kept else self._load(stack)
            yield (self._rows(sheet) for sheet in book.worksheets)

    def _load(self, stack: contextlib.ExitStack):
        import openpyxl

        handle = stack.enter_context(self.opener())
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:
            raise ReportError(
                _("%(file)s cannot be read as an Excel workbook (%(reason)s).")
                % {"file": self.filename, "reason": exc}
            ) from exc
        stack.callback(book.close)
        return book

    @staticmethod
    def _rows(sheet) -> Iterator[list[str]]:
        sheet.reset_dimensions()  # exporters often write a wrong <dimension>; read what is there
        for row in sheet.iter_rows(min_row=1, values_only=True):
            yield [value if value.__class__ is str else cell_text(value) for value in row]


class XlsTable(Table):
    @contextlib.contextmanager
    def _sheets(self):
        import xlrd

        with self.opener() as handle:
            contents = handle.read()
        try:
            book = xlrd.open_workbook(file_contents=contents, on_demand=True, logfile=io.StringIO())
        except Exception as exc:
            raise ReportError(
                _("%(file)s cannot be read as an Excel 97-2003 workbook (%(reason)s).")
                % {"file": self.filename, "reason": exc}
            ) from exc
        try:
            yield (self._rows(book, i) for i in range(book.nsheets))
        finally:
            book.release_resources()

    @staticmethod
    def _rows(book, index: int) -> Iterator[list[str]]:
        import xlrd

        sheet = book.sheet_by_index(index)
        for r in range(sheet.nrows):
            row = []
            for kind, value in zip(sheet.row_types(r), sheet.row_values(r), strict=True):
                if kind == xlrd.XL_CELL_DATE:
                    with contextlib.suppress(Exception):  # an impossible date stays a number
                        value = xlrd.xldate.xldate_as_datetime(value, book.datemode)
                elif kind == xlrd.XL_CELL_BOOLEAN:
                    value = bool(value)
                elif kind == xlrd.XL_CELL_ERROR:
                    value = xlrd.error_text_from_code.get(value, "#ERROR")
                row.append(cell_text(value))
            yield row


class _TableRows(HTMLParser):
    """The <tr> rows of a page's tables, each a list of the texts of its <td>/<th> cells."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._end_row()
            self._row = []
        elif tag in ("td", "th"):
            self._end_cell()
            if self._row is None:
                self._row = []
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def _end_cell(self):
        if self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
        self._cell = None

    def _end_row(self):
        self._end_cell()
        if self._row is not None:
            self.rows.append(self._row)
        self._row = None


class HtmlTable(Table):
    """A ".xls" that is really a web page with a <table> (as some exporters write)."""

    def __init__(self, filename: str, opener: Opener, encoding: str):
        super().__init__(filename, opener)
        self.encoding = encoding

    @contextlib.contextmanager
    def _sheets(self):
        with self.opener() as handle:
            yield iter([self._rows(handle)])

    def _rows(self, handle) -> Iterator[list[str]]:
        decoder = codecs.getincrementaldecoder(self.encoding)("strict")
        parser = _TableRows()
        while True:
            block = handle.read(BLOCK)
            try:
                parser.feed(decoder.decode(block, final=not block))
            except UnicodeDecodeError as exc:
                raise _undecodable(self.filename, self.encoding) from exc
            if not block:
                parser.close()
                parser._end_row()
            yield from parser.rows
            parser.rows = []
            if not block:
                return


def _undecodable(filename: str, encoding: str) -> ReportError:
    return ReportError(
        _("%(file)s is not readable text in %(encoding)s (nor in the other encoding tried).")
        % {"file": filename, "encoding": _ENCODING_NAMES.get(encoding, encoding)}
    )


_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "gb18030": "GBK/GB18030"}


class CsvTable(Table):
    """A CSV, read by pandas' C parser in chunks from the byte after the header line. Row numbers
    are physical line numbers (a quoted cell spanning lines would shift the ones after it)."""

    def __init__(self, filename: str, opener: Opener, encoding: str, head: bytes, complete: bool):
        super().__init__(filename, opener)
        self.encoding = encoding
        lines = []  # (start offset, end offset, decoded line)
        start = 0
        for match in _LINE_END.finditer(head):
            lines.append((start, match.end(), head[start : match.start()]))
            start = match.end()
            if len(lines) >= HEAD_ROWS:
                break
        if len(lines) < HEAD_ROWS and start < len(head) and complete:
            lines.append((start, len(head), head[start:]))
        self._offsets = [end for _start, end, _raw in lines]
        texts = []
        for _start, _end, raw in lines:
            try:
                texts.append(raw.decode(encoding))
            except UnicodeDecodeError as exc:
                raise _undecodable(filename, encoding) from exc
        if texts:
            texts[0] = texts[0].removeprefix("\ufeff")
        self._texts = texts
        self.delimiter = ","

    def heads(self):
        best: tuple[int, str] = (-1, ",")
        for delimiter in (",", "\t", ";"):
            rows = [next(csv.reader([text], delimiter=delimiter), []) for text in self._texts]
            known = max((count_known(row) for row in rows), default=0)
            if known > best[0]:
                best = (known, delimiter)
                self._rows = rows
        self.delimiter = best[1]
        return [self._rows]

    def chunks(self, sheet: int, header_row: int, ncols: int, chunk_rows: int):
        encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        with self.opener() as handle:
            handle.seek(self._offsets[header_row - 1])
            try:
                reader = pd.read_csv(
                    handle,
                    sep=self.delimiter,
                    header=None,
                    names=list(range(ncols)),
                    usecols=list(range(ncols)),  # cells past the header's last column are dropped
                    dtype=object,
                    na_filter=False,
                    skip_blank_lines=False,
                    encoding=encoding,
                    chunksize=chunk_rows,
                    engine="c",
                )
            except pd.errors.EmptyDataError:  # nothing below the header
                return
            first = header_row + 1
            try:
                for frame in reader:
                    yield frame.reset_index(drop=True), np.arange(first, first + len(frame))
                    first += len(frame)
            except UnicodeDecodeError as exc:
                raise _undecodable(self.filename, self.encoding) from exc
            except (pd.errors.ParserError, ValueError) as exc:
                raise ReportError(
                    _("%(file)s is not a well-formed CSV file (%(reason)s).")
                    % {"file": self.filename, "reason": exc}
                ) from exc
