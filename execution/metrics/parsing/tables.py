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
from collections.abc import Callable, Collection, Iterator
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
# The decimal mark pandas is given when it reads counts, so that "2.0" is not read as 2 (a block
# that holds this character is read as text).
_DECIMAL = "\x1f"

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

    def chunks(
        self,
        sheet: int,
        header_row: int,
        ncols: int,
        chunk_rows: int,
        numeric: Collection[int] = (),
    ):
        """`numeric`: columns the caller would take as int64 when every cell of a chunk is a plain
        non-negative whole number (a table may give them so; only CSV does)."""
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
            if _declares_entities(exc):
                raise _entities_refused(self.filename) from exc
            raise ReportError(
                _("%(file)s cannot be read as an Excel workbook (%(reason)s).")
                % {"file": self.filename, "reason": exc}
            ) from exc
        stack.callback(book.close)
        return book

    def _rows(self, sheet) -> Iterator[list[str]]:
        sheet.reset_dimensions()  # exporters often write a wrong <dimension>; read what is there
        try:
            for row in sheet.iter_rows(min_row=1, values_only=True):
                yield [value if value.__class__ is str else cell_text(value) for value in row]
        except Exception as exc:  # a sheet's XML is parsed only as its rows are read
            if _declares_entities(exc):
                raise _entities_refused(self.filename) from exc
            raise


def _declares_entities(error: BaseException | None) -> bool:
    """Whether defusedxml (which openpyxl parses through) refused a DTD or an entity somewhere
    in the chain of `error`."""
    from defusedxml import DefusedXmlException

    while error is not None:
        if isinstance(error, DefusedXmlException):
            return True
        error = error.__cause__ or error.__context__
    return False


def _entities_refused(filename: str) -> ReportError:
    return ReportError(
        _(
            "%(file)s declares XML entities or a document type (DTD), which Excel never writes "
            "and which can expand without end (a “billion laughs” file); it was refused."
        )
        % {"file": filename}
    )


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


def _exponent(block: bytes) -> bool:
    """Whether the bytes may hold a number in exponent notation (an e or E after a digit or a
    point), which pandas reads as a whole number where a count is asked for ("1e3" is 1000 to
    pandas, not a count to `parse_count`)."""
    data = np.frombuffer(block, dtype=np.uint8)
    before = data[np.flatnonzero((data[1:] | 0x20) == ord("e"))]
    return bool((((before >= ord("0")) & (before <= ord("9"))) | (before == ord("."))).any())


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

    def chunks(
        self,
        sheet: int,
        header_row: int,
        ncols: int,
        chunk_rows: int,
        numeric: Collection[int] = (),
    ):
        with self.opener() as handle:
            handle.seek(self._offsets[header_row - 1])
            done = 0
            if numeric:
                done = yield from self._blocks(handle, header_row, ncols, chunk_rows, numeric)
                if done is None:  # read to the end
                    return
                handle.seek(self._offsets[header_row - 1])
            yield from self._text_chunks(handle, header_row, ncols, chunk_rows, done)

    def _options(self, ncols: int) -> dict:
        encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        return {
            "sep": self.delimiter,
            "header": None,
            "names": list(range(ncols)),
            "usecols": list(range(ncols)),  # cells past the header's last column are dropped
            "na_filter": False,
            "skip_blank_lines": False,
            "encoding": encoding,
            "engine": "c",
        }

    def _blocks(self, handle, header_row: int, ncols: int, chunk_rows: int, numeric):
        """The fast path: blocks of `chunk_rows` lines read with pandas' C parser, the `numeric`
        columns as int64 (no string per cell). Only blocks that hold no quote and no lone CR,
        where every line is one row, so that the chunks are those `_text_chunks` would give. A
        block whose numeric columns are not all plain non-negative whole numbers (or that may
        hold a number in exponent notation) is read as text. Returns None at the end of the file,
        or the number of rows given out at the first block it cannot take, for `_text_chunks`
        to read the rest."""
        data_lines = [
            end - start
            for start, end in zip(
                self._offsets[header_row - 1 : -1], self._offsets[header_row:], strict=True
            )
        ]
        width = sum(data_lines) / len(data_lines) if data_lines else 100
        size = max(int(width * chunk_rows), 1)
        options = self._options(ncols)
        typed = {c: (np.int64 if c in numeric else object) for c in range(ncols)}
        first = header_row + 1
        buffer, ends, end_of_file = b"", np.empty(0, dtype=np.int64), False
        while True:
            while len(ends) < chunk_rows and not end_of_file:  # chunk_rows whole lines
                more = handle.read(size)
                end_of_file = not more
                found = np.flatnonzero(np.frombuffer(more, dtype=np.uint8) == ord("\n"))
                ends = np.concatenate([ends, found + len(buffer) + 1])
                buffer += more
            if not buffer:
                return None
            cut = int(ends[chunk_rows - 1]) if len(ends) >= chunk_rows else len(buffer)
            block, buffer, ends = buffer[:cut], buffer[cut:], ends[chunk_rows:] - cut
            if b'"' in block or (b"\r" in block and block.count(b"\r") != block.count(b"\r\n")):
                return first - header_row - 1
            frame = None
            if _DECIMAL.encode() not in block and not _exponent(block):
                with contextlib.suppress(ValueError, OverflowError, TypeError):
                    frame = pd.read_csv(io.BytesIO(block), dtype=typed, decimal=_DECIMAL, **options)
                    if any(frame[c].dtype != np.int64 or frame[c].min() < 0 for c in numeric):
                        frame = None
            try:
                if frame is None:
                    frame = pd.read_csv(io.BytesIO(block), dtype=object, **options)
            except UnicodeDecodeError as exc:
                raise _undecodable(self.filename, self.encoding) from exc
            except (pd.errors.ParserError, ValueError):
                return first - header_row - 1  # the text reader says what is wrong
            yield frame, np.arange(first, first + len(frame))
            first += len(frame)

    def _text_chunks(self, handle, header_row: int, ncols: int, chunk_rows: int, skip: int):
        """Chunks of cell texts read by pandas' C parser, from the line after the header; the
        first `skip` rows (whole chunks) are read but not given out."""
        first = header_row + 1
        try:
            reader = pd.read_csv(handle, dtype=object, chunksize=chunk_rows, **self._options(ncols))
        except pd.errors.EmptyDataError:  # nothing below the header
            return
        try:
            for frame in reader:
                if first > header_row + skip:  # the first `skip` rows were given out already
                    yield frame.reset_index(drop=True), np.arange(first, first + len(frame))
                first += len(frame)
        except UnicodeDecodeError as exc:
            raise _undecodable(self.filename, self.encoding) from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise ReportError(
                _("%(file)s is not a well-formed CSV file (%(reason)s).")
                % {"file": self.filename, "reason": exc}
            ) from exc
