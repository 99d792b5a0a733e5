"""Metrics ingestion figures for `make bench` (see bench/run.py).

- ingest_rows_per_s, copy_rows_per_s, ingest_copy_ratio: 1,000,000 generated product-day rows as a
  生意参谋 product-report CSV, through the real pipeline (`manage.py ingest_metrics`, in its own
  process; timed from the run's start to its end: parsing, checks, replacement and loading),
  against a bare COPY of the same file into a table with its columns and unique key.
  ingest_command_rows_per_s: the same, for the whole command (start-up, checksum, storage).
- ingest_peak_rss_mb: that process's peak resident memory.
- reingest_row_delta: fact rows added by ingesting the same file again (must be 0).
- metrics_query_ms: month grain, every metric, 50 stores x 3 years of daily data (median of 7).
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_INGEST_ROWS", "1000000"))
ITEMS = 2000
HEADER = [
    "统计日期",
    "商品ID",
    "商品名称",
    "商品访客数",
    "商品浏览量",
    "支付买家数",
    "支付件数",
    "支付金额",
    "加购人数",
    "商品收藏买家数",
]


def generate_products_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    days = rows // ITEMS
    dates = pd.date_range("2023-01-01", periods=days, freq="D").strftime("%Y-%m-%d")
    frame = pd.DataFrame(
        {
            "统计日期": np.repeat(dates, ITEMS),
            "商品ID": np.tile([f"{600000000000 + i}" for i in range(ITEMS)], days),
            "商品名称": np.tile([f"商品 {i} 号" for i in range(ITEMS)], days),
        }
    )
    visitors = rng.integers(0, 5000, rows)
    frame["商品访客数"] = visitors
    frame["商品浏览量"] = visitors * 3
    buyers = rng.integers(0, 100, rows)
    frame["支付买家数"] = buyers
    frame["支付件数"] = buyers + rng.integers(0, 20, rows)
    cents = rng.integers(0, 10_000_000, rows)
    frame["支付金额"] = [f"{c // 100}.{c % 100:02d}" for c in cents]
    frame["加购人数"] = rng.integers(0, 300, rows)
    frame["商品收藏买家数"] = rng.integers(0, 200, rows)
    frame.to_csv(path, index=False, encoding="utf-8")


def bare_copy_rows_per_s(path: Path) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
        cursor.execute(
            "CREATE TABLE bench_bare_copy (date date, item_id varchar(40), item_name varchar(255),"
            " visitors bigint, page_views bigint, paying_buyers bigint, paid_units bigint,"
            " gmv numeric(14,2), add_to_cart_users bigint, favorites bigint,"
            " UNIQUE (date, item_id))"
        )
        with path.open(encoding="utf-8") as handle:
            began = time.perf_counter()
            cursor.cursor.copy_expert(
                "COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER)", handle
            )
            elapsed = time.perf_counter() - began
        cursor.execute("DROP TABLE bench_bare_copy")
    return ROWS / elapsed


def ingest_in_own_process(path: Path, store_id: int) -> tuple[dict, float, float]:
    """Run `manage.py ingest_metrics` as a child: its JSON, peak RSS in MB, wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "ingest_metrics", str(path), "--store", str(store_id)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    wall = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode != 0:
        sys.exit(f"ingest_metrics failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    # ru_maxrss is the largest child so far (kB on Linux): this child is the only large one.
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return summary, max(peak, before) / 1024, wall


def seed_query_facts(agency, stores: int = 50, days: int = 3 * 365) -> list[int]:
    """Daily store and ad facts for `stores` stores, straight in SQL (setup, not measured)."""
    from django.db import connection

    from agency.models import Brand, Store
    from agency.tenancy import agency_scope
    from execution.models import IngestionRun

    with agency_scope(agency):
        brand = Brand.objects.create(agency=agency, name="Query bench")
        store_ids = []
        for number in range(stores):
            store = Store.objects.create(brand=brand, name=f"Q{number}", shop_id=f"9{number:05d}")
            store_ids.append(store.pk)
        run = IngestionRun.objects.create(
            store_id=store_ids[0], source="command", status="succeeded"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO execution_storedayfact (agency_id, store_id, run_id, date, visitors,
                page_views, paying_buyers, paid_orders, paid_units, new_buyers, repeat_buyers,
                add_to_cart_users, favorites, bounced_visitors, cs_first_reply_seconds_sum,
                cs_sessions, gmv, refund_amount)
            SELECT %s, s, %s, DATE '2023-01-01' + d, 3000 + (s * 7 + d) %% 900,
                9000, 90 + d %% 17, 95, 120, 60, 30 + d %% 7, 400, 200, 1800, 9000, 300,
                (12000 + (s * 13 + d) %% 5000)::numeric(14,2), 600.50
            FROM unnest(%s::bigint[]) AS s, generate_series(0, %s) AS d
            """,
            [agency.pk, run.pk, store_ids, days - 1],
        )
        cursor.execute(
            """
            INSERT INTO execution_storedayadfact (agency_id, store_id, run_id, date, ad_tool,
                campaign, item_id, item_name, impressions, clicks, ad_orders, ad_spend, ad_gmv)
            SELECT %s, s, %s, DATE '2023-01-01' + d, tool, 'plan ' || c, '', '', 20000, 600,
                20, 900.00, 2700.00
            FROM unnest(%s::bigint[]) AS s, generate_series(0, %s) AS d,
                 unnest(ARRAY['zhitongche', 'wanxiangtai', 'yinlimofang']) AS tool,
                 generate_series(1, 2) AS c
            """,
            [agency.pk, run.pk, store_ids, days - 1],
        )
        cursor.execute("ANALYZE execution_storedayfact; ANALYZE execution_storedayadfact")
    return store_ids


def metrics_query_ms(agency, store_ids: list[int]) -> float:
    from agency.tenancy import agency_scope
    from execution.metrics.query import metrics_query

    timings = []
    with agency_scope(agency):
        for _ in range(7):
            began = time.perf_counter()
            rows = metrics_query(
                store_ids=store_ids,
                start=datetime.date(2023, 1, 1),
                end=datetime.date(2025, 12, 31),
                grain="month",
            )
            timings.append((time.perf_counter() - began) * 1000)
    assert len(rows) == 36, len(rows)
    return statistics.median(timings)


def run_ingestion_bench(print_figure) -> None:
    from agency.models import Agency, Brand, Store
    from agency.tenancy import agency_scope
    from execution.models import StoreDayProductFact

    agency = Agency.objects.create(slug="bench-ingest", name="Bench ingest")
    with agency_scope(agency):
        brand = Brand.objects.create(agency=agency, name="Bench brand")
        store = Store.objects.create(brand=brand, name="Bench store", shop_id="1")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "products_1m.csv"
        generate_products_csv(path, ROWS)
        copy_rate = bare_copy_rows_per_s(path)
        summary, peak_mb, wall = ingest_in_own_process(path, store.pk)
        from execution.models import IngestionRun

        run = IngestionRun.objects.unscoped().get(pk=summary["run"])
        seconds = (run.finished_at - run.started_at).total_seconds()
        ingest_rate = summary["rows_written"] / seconds
        with agency_scope(agency):
            before = StoreDayProductFact.objects.count()
        ingest_in_own_process(path, store.pk)
        with agency_scope(agency):
            after = StoreDayProductFact.objects.count()
    print_figure("ingest_rows", summary["rows_written"])
    print_figure("ingest_rows_per_s", round(ingest_rate))
    print_figure("copy_rows_per_s", round(copy_rate))
    print_figure("ingest_copy_ratio", round(ingest_rate / copy_rate, 3))
    # The whole command: process start, checksum and the copy into storage included.
    print_figure("ingest_command_rows_per_s", round(summary["rows_written"] / wall))
    print_figure("ingest_peak_rss_mb", round(peak_mb))
    print_figure("reingest_row_delta", after - before)
    store_ids = seed_query_facts(agency)
    print_figure("metrics_query_ms", round(metrics_query_ms(agency, store_ids), 1))
