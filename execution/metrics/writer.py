"""Writing facts: all or nothing, replacing what earlier runs of the same source wrote.

`facts_replace` takes the frames of one run (pandas DataFrames in the shape of
`execution.metrics.schema`) and, inside one transaction, for each chunk: deletes the facts that
earlier runs wrote for the same store, grain, dates (and, for an ad report, ad tool), then loads
the chunk. On PostgreSQL a chunk is loaded with COPY straight into the fact table; elsewhere
(SQLite, the embedded demo) with bulk_create. The caller raises inside the transaction to undo
everything, so a failed run leaves no trace.

Parsing and loading overlap: on PostgreSQL a helper thread parses each chunk and serializes it
to COPY's CSV text (pandas and numpy, no database) while this thread loads the previous one.
COPY gets each chunk in one block, so the loading thread holds the GIL only briefly: while the
server works it waits with the GIL released, and the helper thread parses meanwhile.
"""

from __future__ import annotations

import hashlib
import io
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db import connection
from django.utils import translation

from execution.metrics.schema import GRAINS
from execution.models import FACT_MODELS, IngestionRun

_DONE = object()
_STRING = np.dtypes.StringDType()
TEXT_COLUMNS = {name for spec in GRAINS.values() for name in (*spec.key_fields, *spec.text_fields)}


@dataclass
class WriteResult:
    rows_written: int = 0
    dates: set = field(default_factory=set)

    @property
    def date_range(self):
        return (min(self.dates), max(self.dates)) if self.dates else (None, None)


@dataclass
class _Chunk:
    """One frame made ready to load: its (date, ad tool) pairs and, for COPY, its CSV text."""

    frame: pd.DataFrame
    columns: list[str]
    scope: set[tuple]
    payload: bytes = b""


def _prefetched(items: Iterable, depth: int = 2) -> Iterator:
    """Iterate items produced by a helper thread, `depth` items ahead. If the consumer stops
    early (a failed COPY), the helper is told to stop too, so no thread is left waiting."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    # Row-error messages are written while parsing, in the helper thread: in the run's language.
    language = translation.get_language()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            with translation.override(language):
                for item in items:
                    if not put(item):
                        return
        except BaseException as error:  # re-raised in the consuming thread
            put(error)
        put(_DONE)

    thread = threading.Thread(target=produce, name="ingest-parse", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=10)


def _columns_for(grain: str, frame: pd.DataFrame) -> list[str]:
    spec = GRAINS[grain]
    wanted = ["date", *spec.key_fields, *spec.text_fields, *spec.metric_fields]
    return [column for column in wanted if column in frame.columns]


def _days(dates: pd.Series) -> np.ndarray:
    """A date column (datetime64 or date objects) as datetime64[D]."""
    return pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")


def _chunks(grain: str, frames: Iterable[pd.DataFrame], copy_prefix: str | None):
    """The non-empty frames as _Chunks; with `copy_prefix` (the run's constant CSV cells), each
    with its COPY text."""
    for frame in frames:
        if frame.empty:
            continue
        columns = _columns_for(grain, frame)
        days = _days(frame["date"])
        if grain == "store_day_ad":
            pairs = pd.DataFrame({"date": days, "tool": frame["ad_tool"].to_numpy(dtype=object)})
            pairs = pairs.drop_duplicates()
            scope = {
                (day.date(), tool) for day, tool in zip(pairs["date"], pairs["tool"], strict=True)
            }
        else:
            scope = {(day.date(), "") for day in pd.to_datetime(pd.unique(days))}
        chunk = _Chunk(frame, columns, scope)
        if copy_prefix is not None:
            chunk.payload = _csv_payload(frame, columns, days, copy_prefix)
        yield chunk


def facts_replace(
    *,
    run: IngestionRun,
    grain: str,
    frames: Iterable[pd.DataFrame],
    whole_range: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> WriteResult:
    """Load a run's frames into the grain's fact table. Call inside `transaction.atomic()`.

    Earlier runs' facts are replaced for the days (and ad tools) the frames carry; with
    `whole_range` (an export covers a period) also for the days between the first and the last
    that the file has no row for: a corrected ad report with a day without any plan clears that
    day's old figures of its tool."""
    model = FACT_MODELS[grain]
    table = model._meta.db_table
    result = WriteResult()
    replaced: set[tuple] = set()  # (date, ad tool) already cleared of earlier runs' rows
    postgres = connection.vendor == "postgresql"
    prefix = f"{run.agency_id},{run.store_id},{run.pk}," if postgres else None
    chunks = _chunks(grain, frames, prefix)
    # A store without facts of earlier runs (its first file) has nothing to delete. Asked once,
    # before the first load: later, a delete would look through the rows this run has loaded
    # (which, in a table without statistics yet, PostgreSQL may do row by row). The caller holds
    # the store's row lock, so no other run adds facts for the store meanwhile.
    earlier = _has_earlier(model, run)
    for chunk in _prefetched(chunks) if postgres else chunks:
        fresh = chunk.scope - replaced
        if fresh and earlier:
            _delete_earlier(model, run, fresh)
        replaced |= fresh
        result.dates |= {date for date, _tool in chunk.scope}
        if postgres:
            _copy(table, chunk)
        else:
            _bulk_create(model, run, chunk.frame, chunk.columns)
        result.rows_written += len(chunk.frame)
        if on_progress is not None:
            on_progress(result.rows_written)
    if whole_range and earlier and result.dates:
        _delete_earlier_between(model, run, min(result.dates), max(result.dates), replaced)
    return result


def _delete_earlier_between(model, run: IngestionRun, first, last, replaced: set[tuple]) -> None:
    tools = {tool for _date, tool in replaced}
    stale = model.objects.unscoped().filter(
        agency_id=run.agency_id, store_id=run.store_id, date__gte=first, date__lte=last
    )
    if tools - {""}:
        stale = stale.filter(ad_tool__in=tools)
    stale = stale.exclude(run_id=run.pk)
    stale._raw_delete(stale.db)


def _has_earlier(model, run: IngestionRun) -> bool:
    """Whether the run's store has facts of this grain that other runs wrote."""
    stale = model.objects.unscoped().filter(agency_id=run.agency_id, store_id=run.store_id)
    return stale.exclude(run_id=run.pk).exists()


def _delete_earlier(model, run: IngestionRun, scope: set[tuple]) -> None:
    """Delete what earlier runs wrote for these (date, ad tool) pairs of the run's store. An ad
    report clears only its own tool's rows: 直通车 and 万相台 figures of one day add up."""
    by_tool: dict[str, list] = {}
    for date, tool in scope:
        by_tool.setdefault(tool, []).append(date)
    for tool, dates in by_tool.items():
        stale = model.objects.unscoped().filter(
            agency_id=run.agency_id, store_id=run.store_id, date__in=dates
        )
        if tool:
            stale = stale.filter(ad_tool=tool)
        stale = stale.exclude(run_id=run.pk)
        stale._raw_delete(stale.db)


_MARKS = (b",", b'"', b"\n", b"\r")  # a CSV cell holding one of these is quoted


def _int_cells(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Whole numbers as CSV cells, NUL where a narrower number leaves room (the payload drops
    every NUL, wherever it is)."""
    if values.size and values.min() < 0:
        cells = values.astype("S20")
    else:
        width = len(str(int(values.max()))) if values.size else 1
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        digits = (values[:, None] // powers % 10 + ord("0")).astype(np.uint8)
        leading = values[:, None] < powers  # the zeros before the first digit
        leading[:, -1] = False
        digits[leading] = 0
        cells = digits.view(f"S{width}").ravel()
    if missing.any():
        cells = np.where(missing, b"", cells)
    return cells


def _quoted(text: str) -> str:
    if any(mark in text for mark in (",", '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _distinct_cells(values: np.ndarray) -> np.ndarray:
    """Cells of any objects (text, Decimal, int; None or NA for a missing value), each distinct
    value encoded once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    encoded = [_quoted(str(value)).encode() for value in uniques] + [b""]
    return np.array(encoded, dtype="S")[codes]  # code -1 (missing) takes the last, b""


def _csv_cells(column: pd.Series, text: bool) -> np.ndarray:
    """A column's CSV cells as a byte-string array: b"" for a missing value, a cell that holds a
    comma, quote or line break quoted. Text repeats (names, ids), so it is encoded per distinct
    value; numbers are formatted with numpy."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_integer_dtype(column.dtype):
        return _int_cells(column.to_numpy(dtype=np.int64, na_value=0), missing)
    values = column.to_numpy(dtype=object)
    if text:
        return _distinct_cells(values)
    try:  # amounts: plain ASCII strings, parsed and normalized already
        cells = np.asarray(np.where(missing, "", values) if missing.any() else values, dtype="S")
    except (UnicodeEncodeError, TypeError, ValueError):
        return _distinct_cells(values)
    if any(mark in cells.tobytes() for mark in _MARKS):
        return _distinct_cells(values)
    return cells


def _csv_payload(frame: pd.DataFrame, columns: list[str], days: np.ndarray, prefix: str) -> bytes:
    """The frame's rows as COPY CSV text, each line starting with `prefix` (agency, store, run).

    Every column becomes a fixed-width byte matrix (cells padded with NUL); the matrices and the
    separators are laid side by side, and the NUL padding is dropped from the result. NUL cannot
    occur in text that PostgreSQL accepts, so nothing else is lost."""
    rows = len(frame)
    codes, uniques = pd.factorize(days)
    dates = np.datetime_as_string(np.asarray(uniques), unit="D").astype("S")[codes]
    cells = [dates] + [_csv_cells(frame[c], c in TEXT_COLUMNS) for c in columns[1:]]
    comma = np.full((rows, 1), ord(","), dtype=np.uint8)
    parts = [np.broadcast_to(np.frombuffer(prefix.encode(), dtype=np.uint8), (rows, len(prefix)))]
    for cell in cells:
        parts += [cell.view(np.uint8).reshape(rows, cell.itemsize), comma]
    parts[-1] = np.full((rows, 1), ord("\n"), dtype=np.uint8)
    matrix = np.concatenate(parts, axis=1)
    return matrix[matrix != 0].tobytes()


def _copy(table: str, chunk: _Chunk) -> None:
    """COPY the chunk into a staging table of this transaction, then INSERT it into the fact
    table: PostgreSQL refuses COPY FROM into a table under row-level security (agency/rls.py),
    and the INSERT is checked against the tenant policy like any other write."""
    columns = ["agency_id", "store_id", "run_id", *chunk.columns]
    column_list = ", ".join(f'"{c}"' for c in columns)
    # One staging table per column set (files of one grain may carry different columns).
    stage = f"{table}_stage_{hashlib.sha256(column_list.encode()).hexdigest()[:10]}"
    # Empty cells are NULL for numbers but "" for text keys and names (item_id "" = no product).
    text = [c for c in chunk.columns if c in TEXT_COLUMNS]
    options = "FORMAT csv, NULL ''"
    if text:
        options += ", FORCE_NOT_NULL (" + ", ".join(f'"{c}"' for c in text) + ")"
    # Table and column names come from the models, never from input.
    create = f'CREATE TEMPORARY TABLE IF NOT EXISTS "{stage}" ON COMMIT DROP AS SELECT '
    create += f'{column_list} FROM "{table}" WITH NO DATA'
    insert = f'INSERT INTO "{table}" ({column_list}) '
    insert += f'SELECT {column_list} FROM "{stage}"'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(create)
        cursor.cursor.copy_expert(
            f'COPY "{stage}" ({column_list}) FROM STDIN WITH ({options})',
            io.BytesIO(chunk.payload),
            size=max(len(chunk.payload), 1 << 16),
        )
        cursor.execute(insert)
        cursor.execute(f'TRUNCATE "{stage}"')


def _bulk_create(model, run: IngestionRun, frame: pd.DataFrame, columns: list[str]) -> None:
    records = frame[columns].astype(object).where(frame[columns].notna(), None)
    records["date"] = pd.to_datetime(frame["date"]).dt.date
    model.objects.unscoped().bulk_create(
        [
            model(agency_id=run.agency_id, store_id=run.store_id, run_id=run.pk, **values)
            for values in records.to_dict("records")
        ],
        batch_size=2000,
    )
