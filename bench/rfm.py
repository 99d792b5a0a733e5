"""User-tier figures for `make bench` (see bench/run.py).

- rfm_1m_orders_s: the full tier computation of one engagement whose store has 1,000,000 orders
  (about 250,000 buyers over 24 months, a few loyal buyers ordering often, most once or twice):
  reading the orders from PostgreSQL (COPY ... TO STDOUT), RFM scoring of every month with
  pandas / numpy, and replacing the engagement's tier snapshots, exactly as the Celery task does
  (`execution.conversion.tiers.tiers_compute`). Timed inside a fresh process, from the call to
  its return (Django's start-up is not counted).
- rfm_peak_rss_mb: that process's peak resident memory, read from Linux's VmHWM (the
  high-water mark of this process's own memory, which starts afresh at exec; ru_maxrss would
  not do: Linux carries it over from the parent through fork and exec). It includes Django's
  own memory; the level before the computation is printed as a comment.

The orders are generated straight into the database (COPY into a staging table, then one
INSERT), not through the import, which is not what this measures.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ORDERS = int(os.environ.get("BENCH_RFM_ORDERS", "1000000"))
BUYERS = ORDERS // 4
DAYS = 730  # 24 months


def generate_orders(agency_id: int, store_id: int) -> None:
    """ORDERS orders of BUYERS buyers over DAYS days, straight into the orders table."""
    from django.db import connection

    from execution.conversion.orders import buyer_key_function

    rng = np.random.default_rng(42)
    # Every buyer orders once; the other orders go to buyers in proportion to a skewed weight.
    weights = rng.lognormal(0, 1.3, BUYERS)
    extra = np.bincount(
        rng.choice(BUYERS, size=ORDERS - BUYERS, p=weights / weights.sum()), minlength=BUYERS
    )
    per_buyer = 1 + extra
    rows_buyer = np.repeat(np.arange(BUYERS), per_buyer)
    first_day = rng.integers(0, DAYS, BUYERS)
    gaps = rng.exponential(45, ORDERS).astype(np.int64) + 1
    starts = np.r_[True, rows_buyer[1:] != rows_buyer[:-1]]
    total = np.where(starts, 0, gaps).cumsum()
    since_first = total - np.maximum.accumulate(np.where(starts, total, 0))
    day = first_day[rows_buyer] + since_first
    late = day >= DAYS  # past the end: somewhere between the buyer's first order and the end
    span = DAYS - first_day[rows_buyer][late]
    day[late] = first_day[rows_buyer][late] + (rng.random(late.sum()) * span).astype(np.int64)
    start_epoch = int(np.datetime64("2024-12-01T00:00:00", "s").astype(np.int64)) - 8 * 3600
    epoch = start_epoch + day * 86400 + rng.integers(8 * 3600, 24 * 3600, ORDERS)
    cents = np.maximum(np.round(rng.lognormal(np.log(15_000), 0.7, ORDERS)), 100).astype(np.int64)
    key = buyer_key_function(agency_id)
    keys = np.array([key(f"bench-buyer-{n}") for n in range(BUYERS)], dtype=object)

    lines = io.StringIO()
    order_ids = 4_000_000_000_000_000_000 + np.arange(ORDERS, dtype=np.int64)
    for start in range(0, ORDERS, 200_000):
        end = min(start + 200_000, ORDERS)
        block = [
            f"{order_id}\t{buyer}\t{seconds}\t{amount}\n"
            for order_id, buyer, seconds, amount in zip(
                order_ids[start:end].tolist(),
                keys[rows_buyer[start:end]].tolist(),
                epoch[start:end].tolist(),
                cents[start:end].tolist(),
                strict=True,
            )
        ]
        lines.write("".join(block))
    lines.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_orders (order_id text, buyer_key text, epoch bigint, "
            "cents bigint)"
        )
        cursor.cursor.copy_expert("COPY bench_orders FROM STDIN", lines, size=1 << 20)
        cursor.execute(
            "INSERT INTO execution_customerorder "
            "(agency_id, store_id, order_id, buyer_key, paid_at, amount) "
            "SELECT %s, %s, order_id, buyer_key, to_timestamp(epoch), cents / 100.0 "
            "FROM bench_orders",
            [agency_id, store_id],
        )
        cursor.execute("DROP TABLE bench_orders")
        cursor.execute("ANALYZE execution_customerorder")


def populate() -> tuple[int, int]:
    """An agency, a store with ORDERS orders and an engagement doing user operations."""
    import datetime

    from agency.models import Agency, Brand, Membership, Role, Store, User
    from agency.tenancy import agency_scope
    from engagements.lifecycle import Service, Stage
    from engagements.models import Engagement

    agency = Agency.objects.create(slug="bench-rfm", name="Bench RFM")
    with agency_scope(agency):
        user = User.objects.create_user("rfm@bench.test", "bench-password")
        manager = Membership.objects.create(agency=agency, user=user, role=Role.ADMIN)
        brand = Brand.objects.create(agency=agency, name="RFM brand")
        store = Store.objects.create(brand=brand, name="RFM 旗舰店", shop_id="777")
        engagement = Engagement.objects.create(
            store=store,
            title="RFM bench",
            goal="growth",
            scope_services=list(Service.values),
            start_date=datetime.date(2024, 12, 1),
            account_manager=manager,
            stage=Stage.CONVERSION,
        )
        generate_orders(agency.pk, store.pk)
    return agency.pk, engagement.pk


def peak_rss_kb() -> int:
    """This process's peak resident memory in kB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def compute_in_this_process(agency_id: int, engagement_id: int) -> dict:
    """The child's work: the timed tier computation, with this process's memory figures."""
    from agency.tenancy import agency_scope
    from engagements.models import Engagement
    from execution.conversion.tiers import tiers_compute

    with agency_scope(agency_id):
        engagement = Engagement.objects.select_related("store", "agency").get(pk=engagement_id)
        baseline_kb = peak_rss_kb()
        began = time.perf_counter()
        months = tiers_compute(engagement=engagement)
        seconds = time.perf_counter() - began
        peak_kb = peak_rss_kb()
    return {
        "seconds": seconds,
        "months": months,
        "baseline_mb": baseline_kb / 1024,
        "peak_mb": peak_kb / 1024,
    }


def run_rfm_bench(print_figure) -> None:
    from django.db import connection

    from agency.tenancy import agency_scope
    from execution.models import CustomerOrder, TierSnapshot

    began = time.perf_counter()
    agency_id, engagement_id = populate()
    connection.close()  # the child opens its own
    print(
        f"# generated {ORDERS:,} orders of {BUYERS:,} buyers in "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(agency_id), str(engagement_id)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"the tier computation failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    with agency_scope(agency_id):
        last = TierSnapshot.objects.filter(engagement_id=engagement_id).order_by("-month").first()
        buyers = sum(
            TierSnapshot.objects.filter(engagement_id=engagement_id, month=last.month).values_list(
                "buyers", flat=True
            )
        )
        distinct = CustomerOrder.objects.values("buyer_key").distinct().count()
    print(
        f"# {figures['months']} months; {buyers:,} buyers in the last month's tiers "
        f"(of {distinct:,} distinct); process baseline before the computation "
        f"{figures['baseline_mb']:.0f} MB",
        flush=True,
    )
    print_figure("rfm_1m_orders_s", round(figures["seconds"], 2))
    print_figure("rfm_peak_rss_mb", round(figures["peak_mb"]))


if __name__ == "__main__":  # the child: python bench/rfm.py <agency id> <engagement id>
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agency.settings.dev")
    import django

    django.setup()
    print(json.dumps(compute_in_this_process(int(sys.argv[1]), int(sys.argv[2]))), flush=True)
