"""An export file as a ParsedReport: its kind and columns up front, its rows in chunks.

`parse_report` reads only the first rows (to find the header and recognise the report) and
raises ReportError for a file that cannot be read as a whole. `ParsedReport.frames()` then reads
the file from the top and yields canonical DataFrames, collecting a RowError for every bad cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from execution.metrics.schema import GRAINS, KIND_GRAIN, ReportKind

from . import headers as hdr
from .errors import ReportError, RowError
from .sources import DEFAULT_LIMITS, ArchiveLimits, open_table, source_opener
from .tables import HEAD_ROWS, Table
from .values import (
    Problem,
    amounts_of,
    convert_counts,
    convert_dates,
    convert_decimals,
    is_total,
    parse_rate,
    parse_seconds,
    plain_counts,
    round_half_up,
    strings,
)

MAX_ERRORS = 1000


@dataclass
class _Plan:
    table: Table
    sheet: int
    header_row: int  # 1-based
    ncols: int
    chunk_rows: int
    match: hdr.HeaderMatch
    header_cells: list[str]


@dataclass
class ParsedReport:
    """A recognised export file. Its rows come from `frames()`, which fills `rows_read`,
    `rows_skipped` and `errors` as it goes (and starts them afresh when called again).

    `rows_read` counts data rows (kept or rejected); `rows_skipped` counts the totals rows
    (合计 / 汇总 / 总计), blank rows and note lines (a text in the date cell and nothing in the
    fields read) that are not data. `fields` lists the grain's fields the file carries (key, text
    and metric fields, in GRAINS order; derived counts such as bounced_visitors included, `ad_tool`
    not: it comes from the kind); `headers` maps them, and `date`, to the header as written.
    `unknown_columns` are headers nobody knows; known columns that are not stored (ratios we
    recompute, figures of another grain) are in neither list. `errors` keeps the first
    MAX_ERRORS problems in file order; `errors_total` counts them all."""

    filename: str
    kind: str
    grain: str
    ad_tool: str | None
    fields: list[str]
    headers: dict[str, str]
    unknown_columns: list[str]
    rows_read: int = 0
    rows_skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    _plan = None  # the _Plan to read by; not a field, so that asdict() gives plain data

    def frames(self) -> Iterator[pd.DataFrame]:
        """DataFrames of at most `chunk_rows` good rows, columns exactly: `source_row` (int64),
        `date` (datetime64[ns] at midnight), the grain's key fields (str; "" where the file has
        no such optional key; `ad_tool` set from the kind), its text fields (str, "" if absent),
        then the count fields the file carries (Int64) and its money fields (object: exact
        decimal strings such as "1234.5", or pd.NA). A row with any error is left out."""
        plan = self._plan
        if plan is None:
            raise RuntimeError("this ParsedReport was not made by parse_report()")
        self.rows_read = self.rows_skipped = self.errors_total = 0
        self.errors = []
        converter = _ChunkConverter(self, plan)
        for cells, rows in plan.table.chunks(
            plan.sheet, plan.header_row, plan.ncols, plan.chunk_rows, converter.numeric
        ):
            frame = converter.convert(cells, rows)
            if len(frame):
                yield frame


def _combined(hashes: list[np.ndarray]) -> np.ndarray:
    """Column hashes combined into one hash per row, as pandas combines a DataFrame's."""
    multiplier = np.uint64(1000003)
    out = np.full(len(hashes[0]), 0x345678, dtype=np.uint64)
    for i, part in enumerate(hashes):
        left = len(hashes) - i
        out ^= part
        out *= multiplier
        multiplier += np.uint64(82520 + left + left)
    return out + np.uint64(97531)


def _kind_label(kind: str) -> str:
    return str(ReportKind(kind).label)


def parse_report(
    source: str | Path | IO[bytes],
    *,
    filename: str,
    kind: str | None = None,
    chunk_rows: int = 50_000,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> ParsedReport:
    """Recognise an export file (a path or a seekable binary file object; `filename` is the
    user's name for it, used for the type check and in messages). `kind` (a ReportKind value)
    overrides recognition. Raises ReportError when the file cannot be read as a whole."""
    table = open_table(filename, source_opener(source), limits)
    try:
        return _recognised_report(table, filename, kind, chunk_rows)
    except BaseException:
        table.close()
        raise


def _recognised_report(
    table: Table, filename: str, kind: str | None, chunk_rows: int
) -> ParsedReport:
    heads = table.heads()
    found = [(sheet, hdr.find_header_row(head)) for sheet, head in enumerate(heads)]
    sheet, index = next(((s, i) for s, i in found if i is not None), (None, None))
    if sheet is None or index is None:
        raise ReportError(
            _(
                "%(file)s has no header row that this portal knows: expected columns such "
                "as 统计日期, 访客数, 支付金额 or 计划名称, 展现量, 花费 within its first "
                "%(rows)d rows."
            )
            % {"file": filename, "rows": HEAD_ROWS}
        )
    head = heads[sheet]
    cells = head[index]
    ncols = max(i for i, cell in enumerate(cells) if cell.strip()) + 1
    cells = cells[:ncols]
    match = hdr.match_headers(cells)
    hint = " ".join([filename, *(cell for row in head[:index] for cell in row)]).lower()
    if kind is None:
        kind = _recognise(filename, match, hint)
    elif kind not in ReportKind.values:
        raise ReportError(
            _("%(file)s: %(kind)s is not a report kind.") % {"file": filename, "kind": kind}
        )
    missing = [name for name in hdr.required_fields(kind) if not match.has(name)]
    if missing:
        spellings = " / ".join(s.replace("id", "ID") for s in hdr.FIELD_HEADERS[missing[0]][:2])
        raise ReportError(
            _("%(file)s has no %(headers)s column, which a %(kind)s needs.")
            % {"file": filename, "headers": spellings, "kind": _kind_label(kind)}
        )
    fields = hdr.stored_fields(kind, match)
    spec = GRAINS[KIND_GRAIN[kind]]
    if not any(name in spec.metric_fields for name in fields):
        raise ReportError(
            _("%(file)s has none of the figures a %(kind)s carries.")
            % {"file": filename, "kind": _kind_label(kind)}
        )
    headers = {name: cells[column] for name, column in match.columns.items()}
    if "bounced_visitors" in fields:
        headers["bounced_visitors"] = cells[match.bounce_rate]
    if "cs_first_reply_seconds_sum" in fields:
        headers["cs_first_reply_seconds_sum"] = cells[match.reply_seconds]
    report = ParsedReport(
        filename=filename,
        kind=str(kind),
        grain=str(KIND_GRAIN[kind]),
        ad_tool=hdr.ad_tool_of(kind),
        fields=fields,
        headers={name: headers[name] for name in ["date", *fields] if name in headers},
        unknown_columns=[cells[column] for column in match.unknown],
    )
    report._plan = _Plan(table, sheet, index + 1, ncols, chunk_rows, match, cells)
    return report


def _recognise(filename: str, match: hdr.HeaderMatch, hint: str) -> str:
    kinds = hdr.candidate_kinds(match, hint)
    if len(kinds) == 1:
        return kinds[0]
    if not kinds:
        raise ReportError(
            _(
                "%(file)s is not a report this portal recognises: its columns fit neither a "
                "store overview, traffic sources, product nor ad report. Choose the report kind "
                "explicitly if it is one."
            )
            % {"file": filename}
        )
    raise ReportError(
        _(
            "%(file)s could be a %(kinds)s; its columns do not tell which. Choose the report "
            "kind explicitly."
        )
        % {"file": filename, "kinds": _(" or a ").join(_kind_label(k) for k in kinds)}
    )


class _RawCells:
    """The cell texts of a _Distinct column by row position, for the error messages."""

    def __init__(self, column: _Distinct):
        self.column = column

    def __getitem__(self, position: int) -> str:
        return self.column.raw[self.column.codes[position]]


class _Texts(dict):
    """The stripped texts (`strings`) of a chunk's raw columns, made when first asked for: a
    column read by a fast path never needs them."""

    def __init__(self, raw: dict[int, np.ndarray]):
        super().__init__()
        self.raw = raw

    def __missing__(self, column: int) -> np.ndarray:
        self[column] = strings(self.raw[column])
        return self[column]


class _Distinct:
    """A column of repeating texts (dates, keys, names) factorized: `codes` per row into `raw`
    (the distinct cell texts) and `text` (the same stripped), so that the checks on its texts
    run once per distinct text."""

    def __init__(self, cells: np.ndarray):
        codes, uniques = pd.factorize(cells, use_na_sentinel=False)
        self.codes = codes
        self.raw = np.asarray(uniques, dtype=object)
        self.text = strings(self.raw)

    def rows(self, per_text: np.ndarray) -> np.ndarray:
        """A value per distinct text as a value per row."""
        return per_text[self.codes]


class _ChunkConverter:
    """Turns chunks of cell texts into canonical frames, vectorized per column, and keeps what
    must outlive a chunk: the keys seen so far (as sorted 64-bit hashes with their rows)."""

    def __init__(self, report: ParsedReport, plan: _Plan):
        self.report = report
        self.plan = plan
        self.spec = GRAINS[report.grain]
        match = plan.match
        self.date_column = match.columns["date"]
        self.key_columns = {
            name: match.columns[name]
            for name in self.spec.key_fields + self.spec.text_fields
            if match.has(name)
        }
        self.counts = [n for n in self.spec.count_fields if n in report.fields]
        self.amounts = [n for n in self.spec.money_fields if n in report.fields]
        self.required = set(hdr.required_fields(report.kind)) - {"date"}
        self.dedup_keys = [n for n in self.spec.key_fields if n in self.key_columns]
        self.seen_hash = np.empty(0, dtype=np.uint64)
        self.seen_row = np.empty(0, dtype=np.int64)
        # Count columns a table may hand over as int64 (plain non-negative whole numbers): those
        # read by nothing else (the first cell may hold 合计, keys and dates are text).
        counted = [match.columns[name] for name in self.counts if match.has(name)]
        others = [self.date_column, 0, *self.key_columns.values()]
        others += [match.columns[name] for name in self.amounts]
        others += [c for c in (match.bounce_rate, match.reply_seconds) if c is not None]
        self.numeric = sorted(c for c in set(counted) - set(others) if counted.count(c) == 1)
        self.distinct = {self.date_column, 0, *self.key_columns.values()}

    def convert(self, cells: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
        match = self.plan.match
        mapped = {self.date_column, *self.key_columns.values()}
        mapped |= {match.columns[name] for name in self.counts + self.amounts if match.has(name)}
        mapped |= {c for c in (match.bounce_rate, match.reply_seconds) if c is not None}
        used = mapped | {0}  # the first cell may hold 合计 when the date cell is empty
        # Count columns the table read as int64 (plain non-negative whole numbers) need no text.
        plain = {c: cells[c].to_numpy() for c in self.numeric if cells[c].dtype == np.int64}
        distinct = {c: _Distinct(cells[c].to_numpy(dtype=object)) for c in self.distinct}
        raw = {c: cells[c].to_numpy(dtype=object) for c in used - plain.keys() - distinct.keys()}
        text = _Texts(raw)
        # Other count columns of plain digits (the usual case) are read straight from their bytes.
        for name in self.counts:
            column = match.columns.get(name)
            if match.has(name) and column not in plain:
                count = plain_counts(raw[column])
                if count is not None:
                    plain[column] = count

        problems: list[tuple[int, np.ndarray]] = []  # (column, problem code per row)
        day = distinct[self.date_column]
        dates, date_problems, totals = (
            day.rows(values) for values in convert_dates(day.raw, day.text)
        )
        problems.append((self.date_column, date_problems))
        empty = np.zeros(len(cells), dtype=bool)
        if not plain:  # a plain count column has no empty cell, so no row is empty
            empty = ~empty
            for column in mapped - {self.date_column}:
                if column in distinct:
                    empty &= distinct[column].rows(np.strings.str_len(distinct[column].text) == 0)
                else:
                    empty &= np.strings.str_len(text[column]) == 0
        skipped = totals
        if self.date_column != 0:
            skipped = skipped | distinct[0].rows(is_total(distinct[0].text))
        for name in self.dedup_keys:  # a per-day subtotal: 汇总 in the campaign or source cell
            key = distinct[self.key_columns[name]]
            skipped |= key.rows(is_total(key.text))
        skipped |= empty & (date_problems != 0)  # blank rows and notes under the table
        data = ~skipped
        self.report.rows_read += int(data.sum())
        self.report.rows_skipped += int(skipped.sum())

        keys = {}  # name -> (codes per row, distinct key texts)
        for name, column in self.key_columns.items():
            key = distinct[column]
            value = key.text
            if name == "item_id":
                value = np.strings.lstrip(value, "'")  # Excel's "keep as text" mark
                lost = (np.strings.find(value, "E+") >= 0) | (np.strings.find(value, "e+") >= 0)
                problems.append((column, key.rows(np.where(lost, Problem.SCIENTIFIC_ID, 0))))
            if name in self.required:
                blank = np.strings.str_len(value) == 0
                problems.append((column, key.rows(np.where(blank, Problem.MISSING_VALUE, 0))))
            keys[name] = (key.codes, value.astype(object))
        key_bad = np.zeros(len(cells), dtype=bool)
        for _column, problem in problems:
            key_bad |= problem != 0
        first_rows = self._duplicates(rows, dates, keys, data & ~key_bad)

        values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in self.counts:
            if match.has(name):
                column = match.columns[name]
                if column in plain:
                    count, missing = plain[column], np.zeros(len(cells), dtype=bool)
                    problem = np.zeros(len(cells), dtype=np.int8)
                else:
                    count, missing, problem = convert_counts(raw[column], text[column])
                values[name] = (count, missing)
                problems.append((column, problem))
        for name in self.amounts:
            column = match.columns[name]
            amount, missing, problem = amounts_of(raw[column])
            values[name] = (amount, missing)
            problems.append((column, problem))
        if "bounced_visitors" in self.counts:
            values["bounced_visitors"] = self._derive(
                raw, match.bounce_rate, parse_rate, values["visitors"], problems
            )
        if "cs_first_reply_seconds_sum" in self.counts:
            values["cs_first_reply_seconds_sum"] = self._derive(
                raw, match.reply_seconds, parse_seconds, values["cs_sessions"], problems
            )

        bad = first_rows > 0
        for _column, problem in problems:
            bad |= problem != 0
        for column, key in distinct.items():
            raw.setdefault(column, _RawCells(key))
        self._record(rows, raw, problems, first_rows, data)

        keep = data & ~bad
        frame: dict[str, object] = {
            "source_row": rows[keep].astype(np.int64),
            "date": dates[keep],
        }
        size = int(keep.sum())
        for name in self.spec.key_fields + self.spec.text_fields:
            if name == "ad_tool":
                frame[name] = np.full(size, self.report.ad_tool, dtype=object)
            elif name in keys:
                codes, texts = keys[name]
                frame[name] = texts[codes[keep]]
            else:
                frame[name] = np.full(size, "", dtype=object)
        for name in self.counts:
            count, missing = values[name]
            frame[name] = pd.arrays.IntegerArray(count[keep], missing[keep])
        for name in self.amounts:
            frame[name] = pd.Series(values[name][0][keep], dtype=object)
        return pd.DataFrame(frame)

    def _derive(self, raw, column, parse, base, problems):
        """A count derived from a rate or an average and the count it applies to, rounded half
        up (bounced_visitors = 跳失率 × 访客数; reply seconds = 平均响应时长 × 咨询人数)."""
        factor, problem = convert_decimals(raw[column], parse)
        problems.append((column, problem))
        count, missing = base
        derived = np.zeros(len(count), dtype=np.int64)
        unknown = missing | (problem != 0) | np.equal(factor, None)
        for i in np.flatnonzero(~unknown):
            derived[i] = round_half_up(factor[i] * int(count[i]))
        return derived, unknown

    def _duplicates(self, rows, dates, keys, eligible) -> np.ndarray:
        """For each row, the row number of an earlier row with the same date and key (0 if
        none): within the chunk by hash, across chunks by the sorted hashes seen so far. A key
        text is hashed once per distinct text."""
        first_rows = np.zeros(len(rows), dtype=np.int64)
        positions = np.flatnonzero(eligible)
        if not positions.size:
            return first_rows
        parts = [pd.util.hash_array(dates[positions].view(np.int64))]
        for name in self.dedup_keys:
            codes, texts = keys[name]
            parts.append(pd.util.hash_array(texts)[codes[positions]])
        hashes = _combined(parts)
        rows_here = rows[positions]
        earlier = np.zeros(len(positions), dtype=np.int64)
        repeated = pd.Series(hashes).duplicated(keep="first").to_numpy()
        if repeated.any():
            firsts = pd.Series(rows_here[~repeated], index=hashes[~repeated])
            earlier[repeated] = firsts.reindex(hashes[repeated]).to_numpy()
        order = np.argsort(hashes, kind="stable")  # sorted look-ups, and a merge below
        if self.seen_hash.size:
            at = np.searchsorted(self.seen_hash, hashes[order])
            at = np.minimum(at, self.seen_hash.size - 1)
            hit = self.seen_hash[at] == hashes[order]
            earlier[order[hit]] = self.seen_row[at[hit]]
        new = order[earlier[order] == 0]  # the chunk's new keys, in hash order
        at = np.searchsorted(self.seen_hash, hashes[new])
        self.seen_hash = np.insert(self.seen_hash, at, hashes[new])
        self.seen_row = np.insert(self.seen_row, at, rows_here[new])
        first_rows[positions] = earlier
        return first_rows

    def _record(self, rows, raw, problems, first_rows, data):
        """Adds the chunk's errors to the report in row, then column order (at most MAX_ERRORS
        kept, all counted)."""
        report, cells = self.report, self.plan.header_cells
        positions, columns, codes = [], [], []
        for column, problem in problems:
            found = np.flatnonzero((problem != 0) & data)
            positions.append(found)
            columns.append(np.full(found.size, column))
            codes.append(problem[found].astype(np.int64))
        found = np.flatnonzero((first_rows > 0) & data)
        positions.append(found)
        columns.append(np.full(found.size, len(cells)))  # after the row's cell errors
        codes.append(np.full(found.size, int(Problem.DUPLICATE)))
        positions, columns, codes = (np.concatenate(a) for a in (positions, columns, codes))
        report.errors_total += int(positions.size)
        room = MAX_ERRORS - len(report.errors)
        if room <= 0 or not positions.size:
            return
        order = np.lexsort((columns, positions))[:room]
        key_columns = [self.date_column] + [self.key_columns[n] for n in self.dedup_keys]
        for position, column, code in zip(
            positions[order], columns[order], codes[order], strict=True
        ):
            if code == Problem.DUPLICATE:
                error = RowError(
                    row=int(rows[position]),
                    column="",
                    value=" / ".join(str(raw[c][position]).strip() for c in key_columns),
                    message=_("duplicate of row %(row)d (same %(columns)s)")
                    % {
                        "row": first_rows[position],
                        "columns": ", ".join(cells[c] for c in key_columns),
                    },
                )
            else:
                error = RowError(
                    row=int(rows[position]),
                    column=cells[column],
                    value=str(raw[column][position]),
                    message=Problem(code).message,
                )
            report.errors.append(error)
