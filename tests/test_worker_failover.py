"""A killed worker loses nothing and duplicates nothing; a file that kills its worker every time
ends as a failed run with a message the user can read.

Real `celery worker` processes (prefork) on a queue of their own, the real Redis broker and the
test database, as tests/test_celery_worker.py, but started and killed here, since the test needs
to kill one and start another. The two ways a message comes back after a death:

- the whole worker dies (SIGKILL to the worker and its pool, as when a machine is lost): nothing
  is left to hand the message back; Redis keeps it as "unacked" and the next worker puts it back
  on the queue once it is older than the broker's visibility timeout (an hour in production; a
  few seconds for these workers, through settings.test).
- only the pool process running the task dies (the OOM killer's usual victim): the worker's main
  process sees it and puts the message back at once (`task_reject_on_worker_lost`). The second
  test keeps the production visibility timeout, so this is the only way its message can return.

The figures are printed (run with -s), not asserted: rows, seconds to the kill, seconds to the
recovery, attempts.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count, DecimalField, IntegerField, Sum

from agency.celery import app as celery_app
from agency.tenancy import agency_scope
from execution.metrics.ingestion import MAX_ATTEMPTS, ingestion_upload
from execution.models import IngestionRun, StoreDayFact, StoreDayProductFact

pytestmark = pytest.mark.django_db(transaction=True)
real_worker = pytest.mark.celery_worker

ROWS = 100_000
ITEMS = 2_000  # products a day: 50 days
VISIBILITY_TIMEOUT = 5  # seconds, for the first test's workers only
COUNTS = {  # column of the export: fact field
    "商品访客数": "visitors",
    "商品浏览量": "page_views",
    "支付买家数": "paying_buyers",
    "支付件数": "paid_units",
    "加购人数": "add_to_cart_users",
    "商品收藏买家数": "favorites",
}
OVERVIEW = "统计日期,访客数,支付金额,支付买家数\n2026-09-01,1200,3456.78,40\n".encode()
NUMERIC_FIELDS = [
    field.name
    for field in StoreDayProductFact._meta.concrete_fields
    if isinstance(field, IntegerField | DecimalField) and not field.primary_key
]


# --- the export and its expected facts ----------------------------------------------------------


def products_export(rows: int) -> tuple[bytes, dict]:
    """A 生意参谋 product report of `rows` rows (ITEMS products a day), and the facts it must
    give, computed from the generated numbers: per day, the rows, the distinct products and the
    sum of every numeric fact column (None for the columns the report lacks)."""
    rng = np.random.default_rng(9)
    days = rows // ITEMS
    dates = pd.date_range("2026-01-01", periods=days, freq="D")
    frame = pd.DataFrame(
        {
            "统计日期": np.repeat(dates.strftime("%Y-%m-%d"), ITEMS),
            "商品ID": np.tile([str(610000000000 + i) for i in range(ITEMS)], days),
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
    data = frame.to_csv(index=False).encode()

    frame["cents"] = cents
    expected = {}
    for date, day in frame.groupby("统计日期"):
        sums = dict.fromkeys(NUMERIC_FIELDS)
        sums.update({field: int(day[column].sum()) for column, field in COUNTS.items()})
        sums["gmv"] = Decimal(int(day["cents"].sum())) / 100
        expected[pd.Timestamp(date).date()] = {
            "rows": len(day),
            "products": day["商品ID"].nunique(),
            **sums,
        }
    return data, expected


def facts_by_day(store) -> dict:
    """The store's product facts as the database holds them, in the shape of products_export's
    expected facts."""
    with agency_scope(store.agency_id):
        days = (
            StoreDayProductFact.objects.filter(store=store)
            .values("date")
            .annotate(
                rows=Count("pk"),
                products=Count("item_id", distinct=True),
                **{field: Sum(field) for field in NUMERIC_FIELDS},
            )
            .order_by("date")
        )
        return {day.pop("date"): day for day in days}


def facts_loading() -> str | None:
    """What a worker's ingestion is doing in the database when it is loading product facts (the
    statement it runs, or ran last, in its open transaction), else None: the writer INSERTs each
    chunk from a staging table and then empties it (execution.metrics.writer._copy). A session
    sees the statements of every session of its own role."""
    table = StoreDayProductFact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state || ': ' || left(query, 60) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND xact_start IS NOT NULL AND (query LIKE %s OR query LIKE %s)",
            [f'INSERT INTO "{table}" %', f'TRUNCATE "{table}_stage_%'],
        )
        row = cursor.fetchone()
    return row and row[0]


def fact_keys(store) -> list[tuple]:
    """Every product fact's (date, product), as many times as the database holds it."""
    with agency_scope(store.agency_id):
        return list(StoreDayProductFact.objects.filter(store=store).values_list("date", "item_id"))


def fact_runs(store) -> set[int]:
    with agency_scope(store.agency_id):
        return set(StoreDayProductFact.objects.filter(store=store).values_list("run_id", flat=True))


# --- workers ------------------------------------------------------------------------------------


def worker_env(**extra: str) -> dict:
    """The environment `worker_queue` (conftest.py) gives its worker: the test database, as the
    role the tests connect as (the app role, under row-level security), and the real Redis."""
    database = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agency.settings.test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        **extra,
    }


def start_worker(queue: str, log: Path, *, env: dict) -> subprocess.Popen:
    """`celery worker` (prefork, two pool processes) on `queue`, in a process group of its own
    so that the whole worker can be killed at once; its log goes to `log` (a pipe nobody reads
    would fill up and stop the worker)."""
    with log.open("a") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "agency",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--pool=prefork",
                "-Q",
                queue,
                "-n",
                f"{queue}-{uuid.uuid4().hex[:4]}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-I",
                "tests.worker_poison",
            ],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_worker(worker: subprocess.Popen) -> None:
    """Warm shutdown; whatever is left of its process group is killed."""
    if worker.poll() is None:
        worker.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@contextlib.contextmanager
def tasks_sent_to(queue: str):
    """What the portal queues meanwhile goes to `queue` through Redis (not run in-process)."""
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = default_queue


@pytest.fixture
def worker_log(tmp_path):
    """The workers' log (a wait that times out shows its end)."""
    log = tmp_path / "worker.log"
    log.touch()
    return log


@pytest.fixture
def workers():
    """Start workers with `workers.start(...)`; each is stopped afterwards, and the Redis keys of
    their queues and of their "unacked" bookkeeping are removed. The bookkeeping is the queue's
    own (settings.test), so that neither a short visibility timeout here nor a message a failed
    test left unacknowledged ever reaches another worker sharing the Redis."""
    import redis

    class Workers:
        def __init__(self):
            self.started: list[subprocess.Popen] = []
            self.redis_keys: list[str] = []

        def start(
            self, queue: str, log: Path, *, visibility_timeout: int = 3600
        ) -> subprocess.Popen:
            """A worker on `queue`; the visibility timeout is production's unless told."""
            unacked = f"{queue}-unacked"
            env = worker_env(
                TEST_CELERY_VISIBILITY_TIMEOUT=str(visibility_timeout),
                TEST_CELERY_UNACKED_KEY=unacked,
            )
            worker = start_worker(queue, log, env=env)
            self.started.append(worker)
            self.redis_keys += [
                queue,  # what a warm shutdown put back, if the test failed midway
                f"_kombu.binding.{queue}",
                f"_kombu.binding_permanent.{queue}",
                unacked,
                f"{unacked}_index",
                f"{unacked}_mutex",
            ]
            return worker

    started = Workers()
    yield started
    for worker in started.started:
        stop_worker(worker)
    if started.redis_keys:
        redis.Redis.from_url(settings.REDIS_URL).delete(*started.redis_keys)


def received_times(log: str) -> list[float]:
    """When the workers received ingest_run messages, in seconds, from their log lines
    ("[2026-11-28 11:01:34,008: INFO/MainProcess] Task execution.tasks.ingest_run[…] received")."""
    pattern = r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): .*ingest_run\[.*\] received$"
    return [
        datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
        for stamp in re.findall(pattern, log, flags=re.MULTILINE)
    ]


def upload(actor, store, data: bytes, filename: str) -> IngestionRun:
    with agency_scope(actor.agency_id):
        return ingestion_upload(
            actor=actor,
            store=store,
            file=SimpleUploadedFile(filename, data, content_type="text/csv"),
            filename=filename,
        )


def run_row(run: IngestionRun) -> IngestionRun:
    with agency_scope(run.agency_id):
        return IngestionRun.objects.get(pk=run.pk)


def wait_for(condition, *, seconds: float, what: str, workers=(), log: Path | None = None):
    """Poll `condition()` until it returns something true; fail with the log if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if any(worker.poll() is not None for worker in workers):
            break
        time.sleep(0.01)
    pytest.fail(f"Waited {seconds} s for {what}. Worker log:\n{log and log.read_text()[-4000:]}")


# --- the tests ----------------------------------------------------------------------------------


@real_worker
def test_a_worker_killed_mid_ingestion_loses_and_duplicates_no_row(
    demo_manager, store_a, store_b, workers, worker_log
):
    data, expected = products_export(ROWS)

    # The clean run, in this process (the test settings run tasks eagerly), into another store.
    started = time.monotonic()
    clean = run_row(upload(demo_manager, store_b, data, "products.csv"))
    clean_seconds = time.monotonic() - started
    assert (clean.status, clean.rows_written, clean.attempts) == ("succeeded", ROWS, 1)
    clean_facts = facts_by_day(store_b)
    assert clean_facts == expected

    queue = f"test-failover-{uuid.uuid4().hex[:8]}"
    with tasks_sent_to(queue):
        first = workers.start(queue, worker_log, visibility_timeout=VISIBILITY_TIMEOUT)
        queued = time.monotonic()
        run = upload(demo_manager, store_a, data, "products.csv")

        # Kill the whole worker (main process and pool at once) while the run's transaction is
        # loading facts, none committed yet.
        def loading():
            if run_row(run).is_finished:
                pytest.fail("The run finished before the worker could be killed.")
            return facts_loading()

        doing = wait_for(
            loading, seconds=60, what="the run to load rows", workers=[first], log=worker_log
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed = time.monotonic()

        # Nothing of the killed attempt was committed, and the run still says "running".
        at_kill = run_row(run)
        assert (at_kill.status, at_kill.attempts) == ("running", 1)
        assert facts_by_day(store_a) == {}

        second = workers.start(queue, worker_log, visibility_timeout=VISIBILITY_TIMEOUT)
        run = wait_for(
            lambda: (current := run_row(run)).is_finished and current,
            seconds=60,
            what="the second worker to finish the run",
            workers=[second],
            log=worker_log,
        )
        recovered = time.monotonic()

    assert (run.status, run.message) == ("succeeded", "")
    assert (run.rows_read, run.rows_written, run.attempts) == (ROWS, ROWS, 2)
    recovered_facts = facts_by_day(store_a)
    # Per (date, product): rows of the clean run missing after the recovery, rows held twice.
    clean_keys, recovered_keys = fact_keys(store_b), fact_keys(store_a)
    lost = len(set(clean_keys) - set(recovered_keys))
    duplicated = len(recovered_keys) - len(set(recovered_keys))
    assert recovered_facts == clean_facts  # every day's rows, products and sums
    assert (lost, duplicated) == (0, 0)
    assert fact_runs(store_a) == {run.pk}
    # The message came back through Redis's visibility timeout (no process was left to requeue
    # it): the second worker received it that long after the first one did.
    first_received, second_received = received_times(worker_log.read_text())[:2]
    assert second_received - first_received >= VISIBILITY_TIMEOUT - 0.1
    print(
        f"\nworker failover: rows {ROWS}; clean run {clean_seconds:.1f} s; killed while "
        f"loading facts ({doing!r}); seconds to the kill {killed - queued:.1f}; seconds to "
        f"recovery {recovered - killed:.1f}; redelivered {second_received - first_received:.1f} "
        f"s after the first delivery (visibility timeout {VISIBILITY_TIMEOUT} s); attempts "
        f"{run.attempts}; rows lost {lost}; rows duplicated {duplicated}"
    )


@real_worker
def test_a_file_that_kills_its_worker_every_time_fails_after_five_attempts(
    demo_manager, store_a, workers, worker_log
):
    queue = f"test-poison-{uuid.uuid4().hex[:8]}"
    with tasks_sent_to(queue):
        # The production visibility timeout: only the worker's own requeue can bring it back.
        worker = workers.start(queue, worker_log)
        queued = time.monotonic()
        poison = upload(demo_manager, store_a, OVERVIEW, "overview-POISON.csv")
        poison = wait_for(
            lambda: (current := run_row(poison)).is_finished and current,
            seconds=60,
            what="the poisoned run to fail",
            workers=[worker],
            log=worker_log,
        )
        failed = time.monotonic()

        # The same worker goes on serving: an ordinary file is ingested next.
        healthy = upload(demo_manager, store_a, OVERVIEW, "overview.csv")
        healthy = wait_for(
            lambda: (current := run_row(healthy)).is_finished and current,
            seconds=30,
            what="the next run",
            workers=[worker],
            log=worker_log,
        )
        assert worker.poll() is None

    assert poison.status == IngestionRun.Status.FAILED
    assert poison.attempts == MAX_ATTEMPTS == 5
    assert poison.message == (
        "Processing was stopped 5 times before it could finish; nothing was written. The file "
        "may be too large or damaged: split it into shorter periods and upload each part, or "
        f"contact support quoting run #{poison.pk}."
    )
    assert (poison.rows_written, poison.finished_at is not None) == (0, True)
    assert (healthy.status, healthy.rows_written) == (IngestionRun.Status.SUCCEEDED, 1)
    with agency_scope(store_a.agency_id):  # the poisoned run wrote nothing
        assert list(
            StoreDayFact.objects.filter(store=store_a).values_list("run_id", flat=True)
        ) == [healthy.pk]
    log = worker_log.read_text()
    deaths = log.count("exited with 'signal 9 (SIGKILL)'")
    assert deaths == MAX_ATTEMPTS
    first_task = re.search(r"ingest_run\[([0-9a-f-]+)\] received", log).group(1)
    deliveries = log.count(f"ingest_run[{first_task}] received")
    print(
        f"\npoisoned file: deliveries {deliveries}; pool processes killed {deaths}, each time "
        f"requeued by the surviving worker; attempts {poison.attempts}; failed after "
        f"{failed - queued:.1f} s with: {poison.message}"
    )


@real_worker
def test_a_run_stopped_by_the_hard_time_limit_every_time_fails_after_five_attempts(
    demo_manager, store_a, workers, worker_log, monkeypatch
):
    """The hard time limit kills the pool process as surely as the OOM killer; ingest_run's
    message then goes back to the queue (acks_on_timeout=False) and counts an attempt, so the
    run ends failed instead of "running" forever. The limits here are 0.5 s and 1 s instead of
    15 and 20 min, set on this one message; the stuck file ignores the soft one."""
    from execution.metrics import ingestion
    from execution.tasks import ingest_run

    monkeypatch.setattr(ingestion, "_queue", lambda run: None)  # queued below, with the limit
    queue = f"test-stuck-{uuid.uuid4().hex[:8]}"
    worker = workers.start(queue, worker_log)
    stuck = upload(demo_manager, store_a, OVERVIEW, "overview-STUCK.csv")
    queued = time.monotonic()
    with tasks_sent_to(queue):
        ingest_run.apply_async(
            args=[store_a.agency_id, stuck.pk], soft_time_limit=0.5, time_limit=1
        )
    stuck = wait_for(
        lambda: (current := run_row(stuck)).is_finished and current,
        seconds=60,
        what="the stuck run to fail",
        workers=[worker],
        log=worker_log,
    )
    failed = time.monotonic()
    assert (stuck.status, stuck.attempts, stuck.rows_written) == ("failed", MAX_ATTEMPTS, 0)
    assert stuck.message.startswith("Processing was stopped 5 times before it could finish")
    limits = worker_log.read_text().count("Hard time limit (1s) exceeded")
    assert limits == MAX_ATTEMPTS
    print(
        f"\nstuck file: hard time limit hit {limits} times, each time requeued; attempts "
        f"{stuck.attempts}; failed after {failed - queued:.1f} s"
    )


# --- the rules, without a worker (tasks run in this process) -----------------------------------


def test_a_run_whose_attempts_are_used_up_fails_unprocessed(demo_manager, store_a, monkeypatch):
    from execution.metrics import ingestion
    from execution.tasks import ingest_run

    monkeypatch.setattr(ingestion, "_queue", lambda run: None)  # queued, not sent
    run = upload(demo_manager, store_a, OVERVIEW, "overview.csv")
    with agency_scope(store_a.agency_id):  # five workers died with it, one after another
        IngestionRun.objects.filter(pk=run.pk).update(status="running", attempts=MAX_ATTEMPTS)
    ingest_run.delay(store_a.agency_id, run.pk)  # the sixth delivery
    run = run_row(run)
    assert (run.status, run.attempts, run.rows_written) == ("failed", MAX_ATTEMPTS, 0)
    assert run.message.startswith("Processing was stopped 5 times before it could finish")
    with agency_scope(store_a.agency_id):
        assert not StoreDayFact.objects.filter(store=store_a).exists()
    ingest_run.delay(store_a.agency_id, run.pk)  # a finished run: nothing changes, nothing counts
    assert run_row(run).attempts == MAX_ATTEMPTS


def test_a_run_stopped_by_the_soft_time_limit_fails_with_a_message(
    demo_manager, store_a, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    from execution.metrics import ingestion

    def too_slow(**kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(ingestion, "facts_replace", too_slow)
    run = run_row(upload(demo_manager, store_a, OVERVIEW, "overview.csv"))
    assert (run.status, run.attempts, run.finished_at is not None) == ("failed", 1, True)
    assert run.message == (
        "Processing took longer than 15 minutes and was stopped; nothing was written. Split the "
        "file into shorter periods and upload each part."
    )
