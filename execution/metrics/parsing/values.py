"""Cell values of exports: counts, amounts, rates and dates, one cell at a time or a column at once.

The scalar parsers (`parse_decimal`, `parse_count`, `parse_date`) define what a cell may say; the
column converters apply the same rules to a whole column, with a numpy fast path for the plain
cells and the scalar parser (once per distinct text) for the rest, so a column of a million cells
costs a few numpy passes. Money never passes through float: amounts stay decimal strings.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from enum import IntEnum

import numpy as np
import pandas as pd
from django.utils.translation import gettext

# Cells that mean "no value" (not zero) in 生意参谋 and the ad platforms.
NO_VALUE = frozenset({"", "-", "--", "—", "——", "–", "−"})
TOTAL_LABELS = frozenset({"合计", "汇总", "总计"})

_FULLWIDTH = str.maketrans("０１２３４５６７８９，．－＋％￥：　\xa0", "0123456789,.-+%¥:  ")
_NUMBER = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+|\d*)(?P<frac>\.\d*)?")
_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_COMPACT_DATE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_SERIAL_DATE = re.compile(r"\d{5}(?:\.\d+)?")
_YEARS = (1900, 2199)  # a date outside is a typing slip (and beyond datetime64[ns] at the ends)
_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # the 1900 date system, for serials after Feb 1900
# Serial numbers are taken as dates only between 1970-01-01 and 2099-12-31, so that a stray
# five-digit number in a date column is reported instead of becoming a date in 1920.
_SERIAL_RANGE = (25569, 73050)
_STRING = np.dtypes.StringDType()
_NOT_LABEL = re.compile(r"[\s:：]")
# Common written forms that the column converters read without the scalar parser.
_GROUPED_COUNT = re.compile(r"\d{1,3}(?:,\d{3})+", re.ASCII)
_GROUPED_AMOUNT = re.compile(r"[¥￥]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?元?", re.ASCII)


def gettext_noop(message: str) -> str:
    """Marks a message for makemessages without touching settings at import time (Django's
    gettext_noop does)."""
    return message


class Problem(IntEnum):
    """Why a cell was rejected; the message is what the user reads (RowError.message)."""

    NONE = 0
    NOT_NUMBER = 1
    NOT_WHOLE = 2
    PERCENT = 3
    NEGATIVE_COUNT = 4
    NEGATIVE_AMOUNT = 5
    NOT_RATE = 6
    NOT_DATE = 7
    MISSING_DATE = 8
    MISSING_VALUE = 9
    SCIENTIFIC_ID = 10
    DUPLICATE = 11
    TOO_PRECISE = 12

    @property
    def message(self) -> str:
        return gettext(_MESSAGES[self])


_MESSAGES = {
    Problem.NOT_NUMBER: gettext_noop("not a number"),
    Problem.NOT_WHOLE: gettext_noop("not a whole number"),
    Problem.PERCENT: gettext_noop("a percentage where a number is expected"),
    Problem.NEGATIVE_COUNT: gettext_noop("negative count"),
    Problem.NEGATIVE_AMOUNT: gettext_noop("negative amount"),
    Problem.NOT_RATE: gettext_noop("not a rate (a percentage, or a fraction between 0 and 1)"),
    Problem.NOT_DATE: gettext_noop("not a date"),
    Problem.MISSING_DATE: gettext_noop("missing date"),
    Problem.MISSING_VALUE: gettext_noop("missing value"),
    Problem.SCIENTIFIC_ID: gettext_noop(
        "product ID in scientific notation: its last digits were lost (format the column as text "
        "before saving the file)"
    ),
    Problem.DUPLICATE: gettext_noop("duplicate row"),
    Problem.TOO_PRECISE: gettext_noop("an amount with more than two decimal places"),
}


class CellError(ValueError):
    """A cell that cannot be read; `problem` says why."""

    def __init__(self, problem: Problem, text: object):
        super().__init__(f"{_MESSAGES[problem]}: {text!r}")
        self.problem = problem


# --- one cell ---------------------------------------------------------------------------------


def float_text(value: float) -> str:
    """A float from a spreadsheet cell as the decimal Excel shows (15 significant digits)."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(Decimal(f"{value:.15g}"), "f")


def _number(text: object) -> tuple[Decimal, bool] | None:
    """(value, written as a percentage) of a number cell, None for "no value"."""
    if isinstance(text, bool):
        raise CellError(Problem.NOT_NUMBER, text)
    if isinstance(text, int | Decimal):
        return Decimal(text), False
    if isinstance(text, float):
        text = float_text(text)
    s = str(text).translate(_FULLWIDTH).strip()
    if s in NO_VALUE:
        return None
    sign = ""
    if s[0] in "+-":
        sign, s = s[0], s[1:].lstrip()
    if s.startswith("¥"):
        s = s[1:].lstrip()
        if not sign and s[:1] in ("+", "-"):
            sign, s = s[0], s[1:].lstrip()
    percent = s.endswith("%")
    if percent or s.endswith("元"):
        s = s[:-1].rstrip()
    match = _NUMBER.fullmatch(s)
    if match is None or not any(ch.isdigit() for ch in s):
        raise CellError(Problem.NOT_NUMBER, text)
    try:
        value = Decimal(sign + match["int"].replace(",", "") + (match["frac"] or ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise CellError(Problem.NOT_NUMBER, text) from exc
    return value, percent


def parse_decimal(text: object) -> Decimal | None:
    """The exact value of a number cell: `1,234`, `¥1,234.56`, `1234.56元`, ` 12 `, full-width
    digits; `3.45%` gives 0.0345. None for no value ("", "-", "--", "—"); ValueError otherwise."""
    parsed = _number(text)
    if parsed is None:
        return None
    value, percent = parsed
    return value.scaleb(-2) if percent else value


def parse_count(text: object) -> int | None:
    """A count cell as an int (`1,234` -> 1234; `1234.0` -> 1234); None for no value.

    ValueError for text, a fraction (`12.5`) or a percentage. A negative count parses (the
    report rejects it as a negative count, with its own message)."""
    parsed = _number(text)
    if parsed is None:
        return None
    value, percent = parsed
    if percent:
        raise CellError(Problem.PERCENT, text)
    if value != value.to_integral_value():
        raise CellError(Problem.NOT_WHOLE, text)
    return int(value)


def _decimal_parts(value: Decimal) -> tuple[str, str, str]:
    """(sign, whole digits, fraction digits without trailing zeros), exactly, at any size."""
    sign, digits, exponent = value.as_tuple()
    text = "".join(map(str, digits))
    if not isinstance(exponent, int) or exponent >= 0:
        whole, fraction = text + "0" * int(exponent if isinstance(exponent, int) else 0), ""
    else:
        padded = text.rjust(-exponent + 1, "0")
        whole, fraction = padded[:exponent], padded[exponent:].rstrip("0")
    whole = whole.lstrip("0") or "0"
    zero = whole == "0" and not fraction
    return ("-" if sign and not zero else ""), whole, fraction


def decimal_text(value: Decimal) -> str:
    """The normalized text of an exact amount: "1234.5", "-0.5", "0", never an exponent."""
    sign, whole, fraction = _decimal_parts(value)
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def decimal_places(value: Decimal) -> int:
    return len(_decimal_parts(value)[2])


def _serial_date(serial: float | Decimal) -> datetime.date:
    if not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        raise CellError(Problem.NOT_DATE, serial)
    return _EXCEL_EPOCH + datetime.timedelta(days=int(serial))


def parse_date(value: object) -> datetime.date:
    """A date cell: `2026-11-01`, `2026/11/1`, `2026.11.1`, `2026年11月1日`, `20261101`, an Excel
    serial date (46297, as a number or as text), or a date/datetime object. Raises ValueError."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        if not _YEARS[0] <= value.year <= _YEARS[1]:
            raise CellError(Problem.NOT_DATE, value)
        return value
    if isinstance(value, bool):
        raise CellError(Problem.NOT_DATE, value)
    if isinstance(value, int | float | Decimal):
        return _serial_date(value)
    s = str(value).translate(_FULLWIDTH).strip()
    match = _DATE.fullmatch(s) or _COMPACT_DATE.fullmatch(s)
    if match is not None and _YEARS[0] <= int(match["y"]) <= _YEARS[1]:
        try:
            return datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError as exc:
            raise CellError(Problem.NOT_DATE, value) from exc
    if _SERIAL_DATE.fullmatch(s):
        return _serial_date(Decimal(s))
    raise CellError(Problem.NOT_DATE, value)


def parse_rate(text: object) -> Decimal | None:
    """A rate cell as a fraction: `59.20%` -> 0.592, `0.592` -> 0.592 (a number without a percent
    sign must lie between 0 and 1). None for no value; ValueError otherwise."""
    try:
        parsed = _number(text)
    except CellError as exc:
        raise CellError(Problem.NOT_RATE, text) from exc
    if parsed is None:
        return None
    value, percent = parsed
    fraction = value.scaleb(-2) if percent else value
    if not 0 <= fraction <= 1:
        raise CellError(Problem.NOT_RATE, text)
    return fraction


def parse_seconds(text: object) -> Decimal | None:
    """A duration in seconds (`12.5`, `12.5秒`, `12.5s`); None for no value."""
    s = str(text).strip()
    s = s.removesuffix("秒").removesuffix("s").rstrip() if s not in NO_VALUE else s
    value = parse_decimal(s)
    if value is not None and value < 0:
        raise CellError(Problem.NOT_NUMBER, text)
    return value


# --- a column ---------------------------------------------------------------------------------


def strings(cells: np.ndarray) -> np.ndarray:
    """Cells (an object array of str) as a numpy string array without surrounding whitespace."""
    return np.strings.strip(np.asarray(cells, dtype=_STRING))


def _matching(text: np.ndarray, where: np.ndarray, pattern: re.Pattern) -> np.ndarray:
    """Positions of the cells at `where` whose whole text matches `pattern`."""
    positions = np.flatnonzero(where)
    if not positions.size:
        return positions
    subset = text[positions].astype(object)
    found = np.fromiter(map(bool, map(pattern.fullmatch, subset)), dtype=bool, count=len(subset))
    return positions[found]


def _distinct(cells: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, codes, distinct texts) of the cells at `where`, for a once-per-text parse."""
    positions = np.flatnonzero(where)
    codes, uniques = pd.factorize(cells[positions].astype(object))
    return positions, codes, np.asarray(uniques, dtype=object)


def plain_counts(cells: np.ndarray) -> np.ndarray | None:
    """The int64 values of a count column when every cell is plain: 1 to 18 ASCII digits and
    nothing else (no sign, space, comma or point); None otherwise, for `convert_counts`.

    The cells are checked and read as a matrix of bytes, without a string per cell."""
    try:
        data = np.asarray(cells, dtype="S")
    except (UnicodeEncodeError, TypeError, ValueError):
        return None
    width = data.dtype.itemsize
    if not data.size or width > 18:
        return None
    matrix = data.view(np.uint8).reshape(data.size, width)
    filled = matrix != 0
    if int(filled.sum()) != sum(map(len, cells)):  # a NUL at a cell's end reads as padding
        return None
    digit = (matrix >= ord("0")) & (matrix <= ord("9"))
    # Digits first, then only NUL padding (an empty cell, or one with a NUL, is not plain).
    if not (filled[:, 0].all() and (digit == filled).all()):
        return None
    if width > 1 and not (filled[:, 1:] <= filled[:, :-1]).all():
        return None
    values = np.zeros(data.size, dtype=np.int64)
    for position in range(width):  # one digit place at a time, for every cell at once
        digits = matrix[:, position].astype(np.int64) - ord("0")
        values = np.where(filled[:, position], values * 10 + digits, values)
    return values


def convert_counts(cells: np.ndarray, text: np.ndarray):
    """(int64 values, missing mask, problem codes) of a count column.

    `cells` are the raw cell texts (object array), `text` the same stripped (`strings`)."""
    n = len(cells)
    values = np.zeros(n, dtype=np.int64)
    missing = np.zeros(n, dtype=bool)
    problems = np.zeros(n, dtype=np.int8)
    # Plain digits (any script's decimal digits, as int() reads them) go straight to int64.
    fast = np.strings.isdecimal(text) & (np.strings.str_len(text) <= 18)
    values[fast] = text[fast].astype(np.int64)
    grouped = _matching(text, ~fast, _GROUPED_COUNT)  # "1,234"
    if grouped.size:
        digits = np.strings.replace(text[grouped], ",", "")
        short = np.strings.str_len(digits) <= 18
        values[grouped[short]] = digits[short].astype(np.int64)
        fast[grouped[short]] = True
    positions, codes, uniques = _distinct(cells, ~fast)
    if len(uniques):
        parsed = np.zeros(len(uniques), dtype=np.int64)
        parsed_missing = np.zeros(len(uniques), dtype=bool)
        parsed_problem = np.zeros(len(uniques), dtype=np.int8)
        for i, cell in enumerate(uniques):
            try:
                count = parse_count(cell)
            except CellError as exc:
                parsed_problem[i] = exc.problem
                continue
            if count is None:
                parsed_missing[i] = True
            elif count < 0:
                parsed_problem[i] = Problem.NEGATIVE_COUNT
            elif count >= 2**63:
                parsed_problem[i] = Problem.NOT_NUMBER
            else:
                parsed[i] = count
        values[positions] = parsed[codes]
        missing[positions] = parsed_missing[codes]
        problems[positions] = parsed_problem[codes]
    return values, missing, problems


def convert_amounts(cells: np.ndarray, text: np.ndarray):
    """(object array of normalized decimal strings or pd.NA, missing mask, problem codes)."""
    n = len(cells)
    values = np.full(n, pd.NA, dtype=object)
    missing = np.zeros(n, dtype=bool)
    problems = np.zeros(n, dtype=np.int8)
    # Plain "1234.50": digits with at most one point, in ASCII, normalized with string ufuncs;
    # then "¥1,234.50元" and the like, once their marks are removed.
    fast = np.strings.isdecimal(np.strings.replace(text, ".", "", 1))
    if fast.any() and not "".join(cells[fast]).isascii():
        fast &= np.fromiter((s.isascii() for s in text.astype(object)), dtype=bool, count=n)
    plain = text[fast]
    grouped = _matching(text, ~fast, _GROUPED_AMOUNT)
    if grouped.size:
        marked = text[grouped]
        for mark in (",", "¥", "￥", "元"):
            marked = np.strings.replace(marked, mark, "")
        fast[grouped] = True
        plain = text.copy()
        plain[grouped] = marked
        plain = plain[fast]
    if fast.any():
        pointed = np.strings.find(plain, ".") >= 0
        plain = np.where(pointed, np.strings.rstrip(np.strings.rstrip(plain, "0"), "."), plain)
        plain = np.strings.lstrip(plain, "0")
        plain = np.where(plain == "", "0", plain)
        plain = np.where(np.strings.startswith(plain, "."), np.strings.add("0", plain), plain)
        values[fast] = plain.astype(object)
        point = np.strings.find(plain, ".")
        problems[fast] = np.where(
            (point >= 0) & (np.strings.str_len(plain) - point > 3), Problem.TOO_PRECISE, 0
        )
    positions, codes, uniques = _distinct(cells, ~fast)
    if len(uniques):
        parsed = np.full(len(uniques), pd.NA, dtype=object)
        parsed_missing = np.zeros(len(uniques), dtype=bool)
        parsed_problem = np.zeros(len(uniques), dtype=np.int8)
        for i, cell in enumerate(uniques):
            try:
                number = _number(cell)
            except CellError as exc:
                parsed_problem[i] = exc.problem
                continue
            if number is None:
                parsed_missing[i] = True
            elif number[1]:
                parsed_problem[i] = Problem.PERCENT
            elif number[0] < 0:
                parsed_problem[i] = Problem.NEGATIVE_AMOUNT
            elif decimal_places(number[0]) > 2:
                parsed_problem[i] = Problem.TOO_PRECISE
            else:
                parsed[i] = decimal_text(number[0])
        values[positions] = parsed[codes]
        missing[positions] = parsed_missing[codes]
        problems[positions] = parsed_problem[codes]
    return values, missing, problems


def plain_amounts(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(normalized decimal strings, which cells are plain) of an amount column, reading only the
    plain cells: ASCII digits without a leading zero (but "0" and "0.5"), then at most a point
    and one or two digits (`\\d+(\\.\\d{1,2})?`, nothing else: no space, sign, comma or mark). The
    other cells are left for `convert_amounts`. None when the column is not ASCII text.

    The cells are checked and normalized (trailing zeros of the fraction dropped) as a matrix of
    bytes, without a string operation per cell."""
    try:
        data = np.asarray(cells, dtype="S")
    except (UnicodeEncodeError, TypeError, ValueError):
        return None
    width = data.dtype.itemsize
    if not data.size or width > 32:
        return None
    matrix = data.view(np.uint8).reshape(data.size, width).copy()
    filled = matrix != 0
    length = filled.sum(axis=1)
    if int(length.sum()) != sum(map(len, cells)):  # a NUL inside a cell: not for this path
        return None
    digit = (matrix >= ord("0")) & (matrix <= ord("9"))
    dot = matrix == ord(".")
    rows = np.arange(data.size)
    point = np.where(dot.any(axis=1), dot.argmax(axis=1), length)  # at length: no point
    fraction = length - point - 1
    plain = (
        (length > 0)
        & ((digit | dot) == filled).all(axis=1)
        & (dot.sum(axis=1) <= 1)
        & digit[:, 0]
        & ((point == length) | (fraction == 1) | (fraction == 2))
        & ~((matrix[:, 0] == ord("0")) & (point > 1))  # a leading zero
    )
    if width > 1:
        plain &= (filled[:, 1:] <= filled[:, :-1]).all(axis=1)
    pointed = plain & (point < length)
    for _place in range(2):  # the fraction's trailing zeros, one place at a time
        last = np.maximum(length - 1, 0)
        zero = pointed & (last > point) & (matrix[rows, last] == ord("0"))
        matrix[rows[zero], last[zero]] = 0
        length = length - zero
    bare = pointed & (length - 1 == point)  # "12." left: drop the point
    matrix[rows[bare], point[bare]] = 0
    texts = matrix.view(f"S{width}").ravel()
    values = np.full(data.size, pd.NA, dtype=object)
    values[plain] = texts[plain].astype(str).astype(object)
    return values, plain


def amounts_of(cells: np.ndarray):
    """`convert_amounts` of raw cell texts (an object array of str): the plain cells read by
    `plain_amounts`, the others (stripped) by `convert_amounts`."""
    fast = plain_amounts(cells)
    if fast is None:
        return convert_amounts(cells, strings(cells))
    values, plain = fast
    n = len(cells)
    missing = np.zeros(n, dtype=bool)
    problems = np.zeros(n, dtype=np.int8)
    if not plain.all():
        rest = np.flatnonzero(~plain)
        others = cells[rest]
        values[rest], missing[rest], problems[rest] = convert_amounts(others, strings(others))
    return values, missing, problems


def convert_decimals(cells: np.ndarray, parse) -> tuple[np.ndarray, np.ndarray]:
    """(object array of Decimal or None, problem codes) with `parse` (parse_rate, parse_seconds)
    applied once per distinct text; for the small inputs of derived counts."""
    values = np.full(len(cells), None, dtype=object)
    problems = np.zeros(len(cells), dtype=np.int8)
    positions, codes, uniques = _distinct(cells, np.ones(len(cells), dtype=bool))
    parsed = np.full(len(uniques), None, dtype=object)
    parsed_problem = np.zeros(len(uniques), dtype=np.int8)
    for i, cell in enumerate(uniques):
        try:
            parsed[i] = parse(cell)
        except CellError as exc:
            parsed_problem[i] = exc.problem
    values[positions] = parsed[codes]
    problems[positions] = parsed_problem[codes]
    return values, problems


def convert_dates(cells: np.ndarray, text: np.ndarray):
    """(datetime64[ns] values, NaT where unreadable; problem codes; totals-row mask) of a date
    column. A date column has few distinct texts, so each is parsed once."""
    values = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[ns]")
    codes, uniques = pd.factorize(text.astype(object))
    parsed = np.full(len(uniques), np.datetime64("NaT"), dtype="datetime64[ns]")
    parsed_problem = np.zeros(len(uniques), dtype=np.int8)
    parsed_total = np.zeros(len(uniques), dtype=bool)
    for i, cell in enumerate(uniques):
        if cell == "":
            parsed_problem[i] = Problem.MISSING_DATE
            continue
        try:
            parsed[i] = np.datetime64(parse_date(cell), "ns")
        except CellError:
            parsed_problem[i] = Problem.NOT_DATE
            parsed_total[i] = is_total_label(cell)
    values[:] = parsed[codes]
    return values, parsed_problem[codes], parsed_total[codes]


def round_half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_HALF_UP"))


def is_total_label(text: str) -> bool:
    return _NOT_LABEL.sub("", text) in TOTAL_LABELS


def is_total(text: np.ndarray) -> np.ndarray:
    """Which cells label a totals row: 合计 / 汇总 / 总计, with spaces or a colon."""
    label = np.strings.rstrip(np.strings.replace(text, " ", ""), ":：")
    label = np.strings.replace(label, "\u3000", "")
    return (label == "合计") | (label == "汇总") | (label == "总计")
