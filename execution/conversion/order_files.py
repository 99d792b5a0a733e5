"""Reading a store's order export (订单报表): CSV in UTF-8, UTF-8 with a BOM or GBK, or XLSX, with
title lines above the header allowed; headers in Chinese or English.

The file is opened and decoded by the metrics parser's tables (`execution.metrics.parsing`), so
the same type checks, encodings and archive limits apply; this module finds the four columns an
order needs, reads them with pandas and numpy a chunk at a time, and reports every bad cell
(row, column, value, reason) without echoing a buyer id. Buyer ids are hashed as they are read:
the frame it returns holds the keyed hash, never the raw id.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import IO

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from execution.metrics.parsing import DEFAULT_LIMITS, ReportError, RowError
from execution.metrics.parsing.headers import normalize_header
from execution.metrics.parsing.sources import open_table, source_opener
from execution.metrics.parsing.tables import HEAD_ROWS
from execution.metrics.parsing.values import Problem, amounts_of, gettext_noop, is_total, strings

ORDER_IMPORT_MAX_ERRORS = 200  # row errors kept (and shown); all are counted
CHUNK_ROWS = 100_000
MAX_ORDER_ID_LENGTH = 64
MAX_AMOUNT_DIGITS = 12  # whole-number digits that fit the amount column (14 digits, 2 decimal)

# Each field's header spellings, compared after `normalize_header` (full-width to ASCII, spaces
# and a trailing unit such as "(元)" dropped, lower case); the first spelling found wins.
ORDER_HEADERS: dict[str, tuple[str, ...]] = {
    "order_id": ("订单编号", "订单号", "主订单编号", "订单id", "orderid", "order_id", "orderno"),
    "buyer_id": (
        "买家会员名",
        "买家昵称",
        "买家id",
        "买家账号",
        "buyerid",
        "buyer_id",
        "buyer",
        "buyernick",
    ),
    "paid_at": (
        "付款时间",
        "支付时间",
        "订单付款时间",
        "paidtime",
        "paid_at",
        "paidat",
        "paymenttime",
    ),
    "amount": (
        "实付金额",
        "买家实际支付金额",
        "支付金额",
        "买家实付金额",
        "amount",
        "paidamount",
        "paymentamount",
    ),
}
# How the columns are named to the user when one is missing.
ORDER_HEADER_NAMES = {
    "order_id": "订单编号 / 订单号 / order id",
    "buyer_id": "买家会员名 / 买家昵称 / 买家ID / buyer id",
    "paid_at": "付款时间 / 支付时间 / paid time",
    "amount": "实付金额 / 买家实际支付金额 / 支付金额 / amount",
}
_SPELLING = {
    spelling: (name, rank)
    for name, spellings in ORDER_HEADERS.items()
    for rank, spelling in enumerate(spellings)
}
_DATETIME = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?"
)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")  # an Excel serial date-time (days since 1899-12-30)
_EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
_YEARS = (1990, 2199)
_EXCEL_TEXT_ID = re.compile(r'^="?(.*?)"?$')  # ="123456", as exporters write ids to keep digits


class OrderProblem(IntEnum):
    """Why an order cell was rejected, beyond the amount problems of the metrics parser."""

    MISSING_ORDER_ID = 101
    SCIENTIFIC_ORDER_ID = 102
    LONG_ORDER_ID = 103
    MISSING_BUYER = 104
    NOT_TIME = 106
    FUTURE_TIME = 107
    MISSING_AMOUNT = 108
    LARGE_AMOUNT = 109

    @property
    def message(self) -> str:
        return _(_ORDER_MESSAGES[self])


_ORDER_MESSAGES = {
    OrderProblem.MISSING_ORDER_ID: gettext_noop("missing order id"),
    OrderProblem.SCIENTIFIC_ORDER_ID: gettext_noop(
        "order id in scientific notation: its last digits were lost (format the column as text "
        "before saving the file)"
    ),
    OrderProblem.LONG_ORDER_ID: gettext_noop("order id longer than 64 characters"),
    OrderProblem.MISSING_BUYER: gettext_noop("missing buyer id"),
    OrderProblem.NOT_TIME: gettext_noop(
        "not a date and time (such as 2026-11-01 10:00:00 or 2026/11/1 10:00)"
    ),
    OrderProblem.FUTURE_TIME: gettext_noop("paid time in the future"),
    OrderProblem.MISSING_AMOUNT: gettext_noop("missing amount"),
    OrderProblem.LARGE_AMOUNT: gettext_noop("amount too large"),
}


def _message(code: int) -> str:
    if code in OrderProblem._value2member_map_:
        return OrderProblem(code).message
    return Problem(code).message


@dataclass
class ParsedOrders:
    """An order export read in full: its good rows as `frame` (columns order_id, buyer_key,
    paid_epoch: UTC seconds, amount: a decimal string) and its problems. `rows_read` counts
    data rows (good or bad); blank rows and totals rows are skipped, and so are the orders
    without a paid time (unpaid or closed orders, which order exports list too), counted in
    `unpaid_skipped`."""

    filename: str
    headers: dict[str, str]
    frame: pd.DataFrame
    rows_read: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    unpaid_skipped: int = 0
    date_start: datetime.date | None = None
    date_end: datetime.date | None = None


def _find_header(heads: list[list[list[str]]], filename: str) -> tuple[int, int, dict[str, int]]:
    """(sheet, 0-based header row, field -> column) of the first sheet whose first rows hold
    the order columns: the row naming most of them. Raises ReportError naming what is missing."""
    best: tuple[int, int, int, dict[str, int]] | None = None  # (found, sheet, row, columns)
    for sheet, rows in enumerate(heads):
        for index, cells in enumerate(rows):
            chosen: dict[str, tuple[int, int]] = {}
            for column, cell in enumerate(cells):
                match = _SPELLING.get(normalize_header(cell))
                if match and (match[0] not in chosen or match[1] < chosen[match[0]][0]):
                    chosen[match[0]] = (match[1], column)
            if chosen and (best is None or len(chosen) > best[0]):
                best = (len(chosen), sheet, index, {k: c for k, (_r, c) in chosen.items()})
    if best is None:
        raise ReportError(
            _(
                "%(file)s has no header row with the order columns (订单编号, 买家会员名, "
                "付款时间, 实付金额, or order id, buyer id, paid time, amount) within its first "
                "%(rows)d rows."
            )
            % {"file": filename, "rows": HEAD_ROWS}
        )
    _found, sheet, index, columns = best
    missing = [name for name in ORDER_HEADERS if name not in columns]
    if missing:
        raise ReportError(
            _("%(file)s has no %(headers)s column, which an order export needs.")
            % {"file": filename, "headers": ORDER_HEADER_NAMES[missing[0]]}
        )
    return sheet, index, columns


def _order_ids(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cleaned order ids, problem codes): `="123"`, a leading apostrophe and spaces removed."""
    text = strings(cells)
    marked = np.flatnonzero(np.strings.startswith(text, "=") | np.strings.startswith(text, "'"))
    for position in marked:
        value = _EXCEL_TEXT_ID.sub(r"\1", str(text[position]))
        text[position] = value.lstrip("'").strip()
    problems = np.zeros(len(text), dtype=np.int16)
    lengths = np.strings.str_len(text)
    problems[lengths > MAX_ORDER_ID_LENGTH] = OrderProblem.LONG_ORDER_ID
    scientific = (np.strings.find(text, "E+") >= 0) | (np.strings.find(text, "e+") >= 0)
    problems[scientific] = OrderProblem.SCIENTIFIC_ORDER_ID
    problems[lengths == 0] = OrderProblem.MISSING_ORDER_ID
    return text.astype(object), problems


def _one_time(text: str) -> int | None:
    """Local seconds since 1970 of one paid-time text, None when it is not one."""
    match = _DATETIME.fullmatch(text)
    try:
        if match is not None:
            moment = datetime.datetime(
                int(match["y"]),
                int(match["m"]),
                int(match["d"]),
                int(match["H"] or 0),
                int(match["M"] or 0),
                int(match["S"] or 0),
            )
        elif _SERIAL.fullmatch(text):
            moment = _EXCEL_EPOCH + datetime.timedelta(days=float(text))
        else:
            return None
    except (ValueError, OverflowError):
        return None
    if not _YEARS[0] <= moment.year <= _YEARS[1]:
        return None
    return int((moment - datetime.datetime(1970, 1, 1)).total_seconds())


def paid_times(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(local seconds since 1970 as int64, problem codes) of a paid-time column. The common
    `2026-11-01 10:00:00` is read by pandas in one pass; other forms once per distinct text."""
    text = strings(cells).astype(object)
    seconds = np.zeros(len(text), dtype=np.int64)
    problems = np.zeros(len(text), dtype=np.int16)
    fast = pd.to_datetime(pd.Series(text), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    read = fast.notna().to_numpy().copy()
    if read.any():
        values = fast[read].to_numpy().astype("datetime64[s]").astype(np.int64)
        years = fast[read].dt.year.to_numpy()
        inside = (years >= _YEARS[0]) & (years <= _YEARS[1])
        positions = np.flatnonzero(read)
        seconds[positions[inside]] = values[inside]
        read[positions[~inside]] = False
    rest = np.flatnonzero(~read)
    if rest.size:
        codes, uniques = pd.factorize(text[rest])
        parsed = np.zeros(len(uniques), dtype=np.int64)
        parsed_problem = np.zeros(len(uniques), dtype=np.int16)
        for i, value in enumerate(uniques):
            moment = _one_time(value)
            if moment is None:
                parsed_problem[i] = OrderProblem.NOT_TIME
            else:
                parsed[i] = moment
        seconds[rest] = parsed[codes]
        problems[rest] = parsed_problem[codes]
    return seconds, problems


def to_utc_seconds(local_seconds: np.ndarray, zone: str) -> np.ndarray:
    """Local wall-clock seconds in `zone` as UTC seconds (an ambiguous hour read as standard
    time, a skipped one moved forward)."""
    if not len(local_seconds):
        return local_seconds
    naive = pd.DatetimeIndex(local_seconds.astype("datetime64[s]"))
    aware = naive.tz_localize(
        zoneinfo.ZoneInfo(zone),
        ambiguous=np.zeros(len(naive), dtype=bool),
        nonexistent="shift_forward",
    )
    return (
        aware.tz_convert("UTC")
        .tz_localize(None)
        .to_numpy()
        .astype("datetime64[s]")
        .astype(np.int64)
    )


def _amounts(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(decimal strings, problem codes) of an amount column: `¥1,234.56` -> "1234.56"."""
    values, missing, problems = amounts_of(cells)
    problems = problems.astype(np.int16)
    problems[missing] = OrderProblem.MISSING_AMOUNT
    good = np.flatnonzero(problems == 0)
    if good.size:
        text = np.asarray(values[good].astype(str), dtype=np.dtypes.StringDType())
        point = np.strings.find(text, ".")
        whole = np.where(point >= 0, point, np.strings.str_len(text))
        problems[good[whole > MAX_AMOUNT_DIGITS]] = OrderProblem.LARGE_AMOUNT
    return values, problems


@dataclass
class _Errors:
    """Row errors in file order: the first ORDER_IMPORT_MAX_ERRORS kept, all counted."""

    kept: list[RowError] = field(default_factory=list)
    total: int = 0

    def add(self, rows: np.ndarray, header: str, cells, problems: np.ndarray, echo: bool):
        bad = np.flatnonzero(problems)
        self.total += int(bad.size)
        for position in bad[:ORDER_IMPORT_MAX_ERRORS]:
            self.kept.append(
                RowError(
                    row=int(rows[position]),
                    column=header,
                    # A buyer id is never echoed, not even in an error: the row and the
                    # column say where to look.
                    value=str(cells[position]) if echo else "",
                    message=_message(int(problems[position])),
                )
            )

    def first(self) -> list[RowError]:
        self.kept.sort(key=lambda error: error.row)  # stable: a row's columns stay in order
        return self.kept[:ORDER_IMPORT_MAX_ERRORS]


def orders_read(
    source: IO[bytes],
    *,
    filename: str,
    time_zone: str,
    buyer_key: Callable[[str], str],
    now: datetime.datetime | None = None,
) -> ParsedOrders:
    """Read an order export in full. Raises ReportError when the file cannot be read as a whole
    (type, encoding, no header, a missing column); bad rows are collected in `errors`."""
    table = open_table(filename, source_opener(source), DEFAULT_LIMITS)
    try:
        heads = table.heads()
        sheet, index, columns = _find_header(heads, filename)
        header_cells = heads[sheet][index]
        ncols = max(i for i, cell in enumerate(header_cells) if str(cell).strip()) + 1
        headers = {name: header_cells[column] for name, column in columns.items()}
        now = now or datetime.datetime.now(datetime.UTC)
        latest = int(now.timestamp()) + 86400  # a day's grace for a clock or a time zone
        parts: list[pd.DataFrame] = []
        id_parts: list[pd.DataFrame] = []  # (row, order id) of every row with a usable id
        errors = _Errors()
        keys: dict[str, str] = {}  # buyer id -> its hash, for this file only
        rows_read = unpaid = 0
        for cells, rows in table.chunks(sheet, index + 1, ncols, CHUNK_ROWS):
            chunk = _chunk(cells, rows, columns, headers, errors, time_zone, latest)
            rows_read += chunk.rows_read
            unpaid += chunk.unpaid
            id_parts.append(chunk.ids)
            if chunk.part is not None:
                part = chunk.part
                part["buyer_key"] = _hashed(part.pop("buyer_id").to_numpy(), buyer_key, keys)
                parts.append(part)
    finally:
        table.close()
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            {
                "order_id": np.empty(0, object),
                "paid_epoch": np.empty(0, np.int64),
                "amount": np.empty(0, object),
                "buyer_key": np.empty(0, object),
            }
        )
    )
    if id_parts:
        _duplicates(pd.concat(id_parts, ignore_index=True), headers["order_id"], errors)
    result = ParsedOrders(
        filename=filename,
        headers=headers,
        frame=frame,
        rows_read=rows_read,
        errors=errors.first(),
        errors_total=errors.total,
        unpaid_skipped=unpaid,
    )
    if len(frame):
        local = pd.to_datetime(frame["paid_epoch"].to_numpy(), unit="s", utc=True)
        local = local.tz_convert(zoneinfo.ZoneInfo(time_zone))
        result.date_start, result.date_end = local.min().date(), local.max().date()
    return result


@dataclass
class _Chunk:
    part: pd.DataFrame | None  # the good rows, buyer ids still raw
    ids: pd.DataFrame  # row and order id of the rows with a usable id (for repeated ids)
    rows_read: int
    unpaid: int


def _chunk(cells, rows, columns, headers, errors, time_zone, latest) -> _Chunk:
    """One chunk of cell texts read; its problems go to `errors`, in row and then column order
    within the chunk."""
    raw = {name: cells[column].to_numpy(dtype=object) for name, column in columns.items()}
    first_cell = strings(cells[0].to_numpy(dtype=object))
    filled = np.zeros(len(cells), dtype=bool)
    for values in raw.values():
        filled |= np.strings.str_len(strings(values)) > 0
    skipped = ~filled | is_total(first_cell) | is_total(strings(raw["order_id"]))
    data = ~skipped
    unpaid = data & (np.strings.str_len(strings(raw["paid_at"])) == 0)
    read = int(data.sum())
    data &= ~unpaid
    if not data.any():
        return _Chunk(None, _no_ids(), read, int(unpaid.sum()))
    rows = rows[data]
    raw = {name: values[data] for name, values in raw.items()}
    order_ids, order_problems = _order_ids(raw["order_id"])
    buyers = strings(raw["buyer_id"]).astype(object)
    buyer_problems = np.where(
        np.fromiter(map(len, buyers), dtype=np.int64, count=len(buyers)) == 0,
        OrderProblem.MISSING_BUYER,
        0,
    ).astype(np.int16)
    local_seconds, time_problems = paid_times(raw["paid_at"])
    utc_seconds = np.zeros(len(local_seconds), dtype=np.int64)
    timed = np.flatnonzero(time_problems == 0)
    utc_seconds[timed] = to_utc_seconds(local_seconds[timed], time_zone)
    time_problems[timed[utc_seconds[timed] > latest]] = OrderProblem.FUTURE_TIME
    amounts, amount_problems = _amounts(raw["amount"])
    checks = [
        ("order_id", raw["order_id"], order_problems, True),
        ("buyer_id", None, buyer_problems, False),
        ("paid_at", raw["paid_at"], time_problems, True),
        ("amount", raw["amount"], amount_problems, True),
    ]
    # In row order, each row's cells in column order: add by column, then sort by row (stable).
    start = len(errors.kept)
    for name, cells_of, problems, echo in sorted(checks, key=lambda c: columns[c[0]]):
        errors.add(rows, headers[name], cells_of, problems, echo)
    chunk_errors = errors.kept[start:]
    chunk_errors.sort(key=lambda error: error.row)
    errors.kept[start:] = chunk_errors[:ORDER_IMPORT_MAX_ERRORS]
    usable = order_problems == 0
    ids = pd.DataFrame({"row": rows[usable].astype(np.int64), "order_id": order_ids[usable]})
    bad = (order_problems != 0) | (buyer_problems != 0) | (time_problems != 0)
    bad |= amount_problems != 0
    keep = ~bad
    if not keep.any():
        return _Chunk(None, ids, read, int(unpaid.sum()))
    part = pd.DataFrame(
        {
            "order_id": order_ids[keep],
            "buyer_id": buyers[keep],
            "paid_epoch": utc_seconds[keep],
            "amount": amounts[keep],
        }
    )
    return _Chunk(part, ids, read, int(unpaid.sum()))


def _no_ids() -> pd.DataFrame:
    return pd.DataFrame({"row": np.empty(0, np.int64), "order_id": np.empty(0, object)})


def _hashed(buyer_ids: np.ndarray, buyer_key: Callable[[str], str], known: dict) -> np.ndarray:
    """The keyed hash of each buyer id, computed once per distinct id of the file (`known`
    keeps them across chunks, in memory only)."""
    codes, uniques = pd.factorize(buyer_ids)
    keys = np.empty(len(uniques), dtype=object)
    for i, value in enumerate(uniques):
        key = known.get(value)
        if key is None:
            key = known[value] = buyer_key(value)
        keys[i] = key
    return keys[codes]


def _duplicates(frame: pd.DataFrame, header: str, errors: _Errors) -> None:
    """An order id twice in the file is an error on the later rows (naming the first): which
    of the two is right cannot be told. `frame`: row and order id of every row with one."""
    if not len(frame):
        return
    repeated = frame["order_id"].duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    firsts = frame.loc[~repeated].set_index("order_id")["row"]
    later = frame.loc[repeated]
    first_rows = firsts.reindex(later["order_id"]).to_numpy()
    errors.total += int(repeated.sum())
    for row, order_id, first_row in zip(
        later["row"].to_numpy()[:ORDER_IMPORT_MAX_ERRORS],
        later["order_id"].to_numpy()[:ORDER_IMPORT_MAX_ERRORS],
        first_rows[:ORDER_IMPORT_MAX_ERRORS],
        strict=False,
    ):
        errors.kept.append(
            RowError(
                row=int(row),
                column=header,
                value=str(order_id),
                message=_("the same order id as row %(row)d") % {"row": int(first_row)},
            )
        )
