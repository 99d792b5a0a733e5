"""Writing facts: all or nothing, replacing what earlier runs of the same source wrote.

`facts_replace` takes the frames of one run (pandas DataFrames in the shape of
`execution.metrics.schema`) and, inside one transaction, for each chunk: deletes the facts that
earlier runs wrote for the same store, grain, dates (and, for an ad report, ad tool), then loads
the chunk. On PostgreSQL a chunk is loaded with COPY straight into the fact table; elsewhere
(SQLite, the embedded demo) with bulk_create. The caller raises inside the transaction to undo
everything, so a failed run leaves no trace.

Parsing and loading overlap: the frames are produced in a helper thread (pandas, no database)
while this thread loads the previous chunk.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pandas as pd
from django.db import connection

from execution.metrics.schema import GRAINS
from execution.models import FACT_MODELS, IngestionRun

_DONE = object()
TEXT_COLUMNS = {name for spec in GRAINS.values() for name in (*spec.key_fields, *spec.text_fields)}


@dataclass
class WriteResult:
    rows_written: int = 0
    dates: set = field(default_factory=set)

    @property
    def date_range(self):
        return (min(self.dates), max(self.dates)) if self.dates else (None, None)


def _prefetched(frames: Iterable[pd.DataFrame], depth: int = 2) -> Iterator[pd.DataFrame]:
    """Iterate frames produced by a helper thread, `depth` chunks ahead."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)

    def produce():
        try:
            for frame in frames:
                buffer.put(frame)
        except BaseException as error:  # re-raised in the consuming thread
            buffer.put(error)
        buffer.put(_DONE)

    thread = threading.Thread(target=produce, name="ingest-parse", daemon=True)
    thread.start()
    while True:
        item = buffer.get()
        if item is _DONE:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()


def _columns_for(grain: str, frame: pd.DataFrame) -> list[str]:
    spec = GRAINS[grain]
    wanted = ["date", *spec.key_fields, *spec.text_fields, *spec.metric_fields]
    return [column for column in wanted if column in frame.columns]


def facts_replace(*, run: IngestionRun, grain: str, frames: Iterable[pd.DataFrame]) -> WriteResult:
    """Load a run's frames into the grain's fact table. Call inside `transaction.atomic()`."""
    model = FACT_MODELS[grain]
    table = model._meta.db_table
    result = WriteResult()
    replaced: set[tuple] = set()  # (date, ad tool) already cleared of earlier runs' rows
    postgres = connection.vendor == "postgresql"
    for frame in _prefetched(frames) if postgres else frames:
        if frame.empty:
            continue
        columns = _columns_for(grain, frame)
        frame_dates = pd.to_datetime(frame["date"]).dt.date
        tools = frame["ad_tool"] if grain == "store_day_ad" else pd.Series("", index=frame.index)
        scope = set(zip(frame_dates, tools, strict=True))
        fresh = scope - replaced
        if fresh:
            _delete_earlier(model, run, fresh)
        replaced |= fresh
        result.dates |= set(frame_dates.unique())
        if postgres:
            _copy(table, run, frame, columns)
        else:
            _bulk_create(model, run, frame, columns)
        result.rows_written += len(frame)
    return result


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


def _copy(table: str, run: IngestionRun, frame: pd.DataFrame, columns: list[str]) -> None:
    out = frame[columns].copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    out.insert(0, "run_id", run.pk)
    out.insert(0, "store_id", run.store_id)
    out.insert(0, "agency_id", run.agency_id)
    buffer = io.StringIO()
    out.to_csv(buffer, header=False, index=False, na_rep="")
    buffer.seek(0)
    column_list = ", ".join(f'"{column}"' for column in out.columns)
    # Empty cells are NULL for numbers but "" for text keys and names (item_id "" = no product).
    text = [c for c in columns if c in TEXT_COLUMNS]
    options = "FORMAT csv, NULL ''"
    if text:
        options += ", FORCE_NOT_NULL (" + ", ".join(f'"{c}"' for c in text) + ")"
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f'COPY "{table}" ({column_list}) FROM STDIN WITH ({options})', buffer
        )


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
