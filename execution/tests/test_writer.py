"""The bulk writer's own guarantees, on the real PostgreSQL: what COPY stores is exactly what the
frames held (text with commas, quotes and line breaks; empty keys; missing counts; money to the
cent), and the fast count path agrees with the general one."""

import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import transaction

from agency.tenancy import agency_scope
from execution.metrics.parsing.values import parse_count, plain_counts
from execution.metrics.writer import facts_replace
from execution.models import IngestionRun, StoreDayAdFact, StoreDayProductFact


@pytest.fixture
def run_for(store_a):
    def make(grain, ad_tool=""):
        with agency_scope(store_a.agency_id):
            return IngestionRun.objects.create(
                store=store_a, source="command", grain=grain, ad_tool=ad_tool
            )

    return make


def test_copy_stores_exactly_what_the_frame_held(run_for, store_a):
    run = run_for("store_day_product")
    names = ["plain", "with, comma", 'with "quotes"', "two\nlines", "", "尾部空格 ", "=1+1"]
    frame = pd.DataFrame(
        {
            "source_row": range(2, 2 + len(names)),
            "date": pd.to_datetime(["2026-09-01"] * len(names)),
            "item_id": [f"{600000000000 + i}" for i in range(len(names))],
            "item_name": names,
            "visitors": pd.array([0, 1, None, 123456789012345, 5, 6, 7], dtype="Int64"),
            "gmv": ["0", "1234.5", pd.NA, "99999999999.99", "0.01", "7", "-0"],
        }
    )
    with agency_scope(store_a.agency_id), transaction.atomic():
        result = facts_replace(run=run, grain="store_day_product", frames=[frame])
        stored = list(
            StoreDayProductFact.objects.order_by("item_id").values_list(
                "item_name", "visitors", "gmv", "run_id", "date"
            )
        )
    assert result.rows_written == len(names)
    assert [row[0] for row in stored] == names
    assert [row[1] for row in stored] == [0, 1, None, 123456789012345, 5, 6, 7]
    assert [row[2] for row in stored] == [
        Decimal("0.00"),
        Decimal("1234.50"),
        None,
        Decimal("99999999999.99"),
        Decimal("0.01"),
        Decimal("7.00"),
        Decimal("0.00"),
    ]
    assert {row[3] for row in stored} == {run.pk}
    assert {row[4] for row in stored} == {datetime.date(2026, 9, 1)}


def test_an_empty_item_id_is_stored_as_empty_not_null(run_for, store_a):
    run = run_for("store_day_ad", "zhitongche")
    frame = pd.DataFrame(
        {
            "source_row": [2],
            "date": pd.to_datetime(["2026-09-01"]),
            "ad_tool": ["zhitongche"],
            "campaign": ["核心词"],
            "item_id": [""],
            "item_name": [""],
            "clicks": pd.array([3], dtype="Int64"),
            "ad_spend": ["1.50"],
        }
    )
    with agency_scope(store_a.agency_id), transaction.atomic():
        facts_replace(run=run, grain="store_day_ad", frames=[frame])
        fact = StoreDayAdFact.objects.get()
    assert (fact.item_id, fact.item_name, fact.clicks, fact.ad_spend) == (
        "",
        "",
        3,
        Decimal("1.50"),
    )


@pytest.mark.parametrize(
    "cells",
    [["0", "7", "000123", "999999999999999999"], ["12", "3"]],
)
def test_the_fast_count_path_reads_plain_digits_exactly(cells):
    assert plain_counts(np.array(cells, dtype=object)).tolist() == [parse_count(c) for c in cells]


@pytest.mark.parametrize(
    "cells",
    [
        ["1", ""],
        ["1", " 2"],
        ["1,234"],
        ["1.0"],
        ["-1"],
        ["١٢"],
        ["1234567890123456789"],
        ["12\x00"],
    ],
)
def test_the_fast_count_path_declines_anything_not_plain(cells):
    assert plain_counts(np.array(cells, dtype=object)) is None


def _product_frame(day: str, items: list[str], visitors: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_row": range(2, 2 + len(items)),
            "date": pd.to_datetime([day] * len(items)),
            "item_id": items,
            "item_name": ["裙"] * len(items),
            "visitors": pd.array([visitors] * len(items), dtype="Int64"),
            "gmv": ["1.5"] * len(items),
        }
    )


def test_a_first_load_deletes_nothing_and_a_later_one_replaces(run_for, store_a, monkeypatch):
    from execution.metrics import writer

    deleted = []
    delete = writer._delete_earlier
    monkeypatch.setattr(
        writer, "_delete_earlier", lambda *args: deleted.append(args[2]) or delete(*args)
    )
    first, second = run_for("store_day_product"), run_for("store_day_product")
    frames = [_product_frame("2026-09-01", ["1", "2"], 5), _product_frame("2026-09-02", ["1"], 5)]
    with agency_scope(store_a.agency_id), transaction.atomic():
        facts_replace(run=first, grain="store_day_product", frames=frames)
    assert deleted == []  # the store had no facts: nothing to look for
    again = [_product_frame("2026-09-01", ["1"], 9), _product_frame("2026-09-03", ["3"], 9)]
    with agency_scope(store_a.agency_id), transaction.atomic():
        facts_replace(run=second, grain="store_day_product", frames=again)
        stored = sorted(
            StoreDayProductFact.objects.values_list("date", "item_id", "visitors", "run_id")
        )
    assert len(deleted) == 2
    day = datetime.date
    assert stored == [
        (day(2026, 9, 1), "1", 9, second.pk),
        (day(2026, 9, 2), "1", 5, first.pk),
        (day(2026, 9, 3), "3", 9, second.pk),
    ]


def test_a_failed_load_leaves_no_parsing_thread_behind(run_for, store_a):
    import threading

    run = run_for("store_day_product")

    def endless_frames():
        row = 0
        while True:
            row += 1
            yield pd.DataFrame(
                {
                    "source_row": [row],
                    "date": pd.to_datetime(["2026-09-01"]),
                    "item_id": ["1"],
                    "item_name": [""],
                    "visitors": pd.array([1], dtype="Int64"),
                }
            )  # the same key again and again: the second COPY fails

    with (
        agency_scope(store_a.agency_id),
        pytest.raises(Exception),  # noqa: B017 - the driver's unique-key error
        transaction.atomic(),
    ):
        facts_replace(run=run, grain="store_day_product", frames=endless_frames())
    assert not any(t.name == "ingest-parse" and t.is_alive() for t in threading.enumerate())
