"""The engagement dashboard under load, for `make bench` (see bench/run.py).

One engagement with a year of daily data (store days, 8 traffic sources, 18 ad campaigns over the
three ad tools, 200 products, live targets and some alerts) is written straight in SQL (setup, not
measured). gunicorn then serves the portal from the bench database (production-like: DEBUG off,
persistent database connections, no collectstatic needed since only HTML is asked for), and 20
concurrent clients on loopback, each on its own keep-alive connection, ask for

- the engagement dashboard's full page (default range: the 30 days ending on the last data day),
  signed in as the account manager (a session made in the database, sent as its cookie);
- `/healthz`, the portal's most trivial view (one `SELECT 1`, a JSON answer; run without
  REDIS_URL, so it pings no broker), not signed in, so no session is read.

Figures: dashboard_p95_ms, hello_p95_ms, dashboard_hello_ratio (goal < 3), the medians and
throughputs beside them, and dashboard_queries (SQL statements per dashboard page). The dashboard
serves its figures from the cache once computed for a data version (reporting/views/dashboards.py),
so beside it: the same load on ranges nobody asked for yet (dashboard_uncached_*: every request
computes), and on the most trivial signed-in page, the notifications list (signed_in_trivial_*:
what the session, the membership and the layout cost any page).
"""

from __future__ import annotations

import datetime
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_DASHBOARD_CLIENTS", "20"))
DASHBOARD_REQUESTS = int(os.environ.get("BENCH_DASHBOARD_REQUESTS", "1200"))
HELLO_REQUESTS = int(os.environ.get("BENCH_HELLO_REQUESTS", "6000"))
UNCACHED_REQUESTS = int(os.environ.get("BENCH_DASHBOARD_UNCACHED_REQUESTS", "300"))
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
DAYS = 365
PRODUCTS = 200
SOURCES = ("手淘搜索", "直通车", "猜你喜欢", "手淘首页", "万相台", "淘宝客", "直播", "短视频")


def seed_engagement():
    """One agency, brand, store and engagement with a year of daily facts ending yesterday."""
    from django.db import connection
    from django.utils import timezone

    from agency.models import Agency, Brand, Membership, Role, Store, User
    from agency.tenancy import agency_scope
    from engagements.lifecycle import Service, Stage
    from engagements.models import Engagement, EngagementTarget
    from execution.metrics.pacing import plan_month_of
    from execution.models import Alert, AlertSeverity, IngestionRun

    last = timezone.localdate() - datetime.timedelta(days=1)  # the agency's day (Asia/Shanghai)
    first = last - datetime.timedelta(days=DAYS - 1)
    agency = Agency.objects.create(slug="bench-dashboard", name="Bench dashboard")
    with agency_scope(agency):
        user = User.objects.create_user("manager@bench-dashboard.test", "bench-password")
        manager = Membership.objects.create(agency=agency, user=user, role=Role.ACCOUNT_MANAGER)
        brand = Brand.objects.create(agency=agency, name="Dashboard brand")
        store = Store.objects.create(brand=brand, name="Dashboard 旗舰店", shop_id="7000001")
        engagement = Engagement.objects.create(
            store=store,
            title="Dashboard bench",
            goal="growth",
            scope_services=list(Service.values),
            start_date=first,
            account_manager=manager,
            stage=Stage.MONITORING,
        )
        months = plan_month_of(first, last)
        EngagementTarget.objects.bulk_create(
            [
                EngagementTarget(
                    agency=agency,
                    engagement=engagement,
                    metric="gmv",
                    comparison=">=",
                    value=300000 + 10000 * month,
                    period="month",
                    by_month=month,
                )
                for month in range(1, months + 1)
            ]
            + [
                EngagementTarget(
                    agency=agency,
                    engagement=engagement,
                    metric=metric,
                    comparison=">=",
                    value=value,
                    period="cumulative",
                    by_month=months,
                )
                for metric, value in (("roi", 3), ("conversion_rate", "0.025"))
            ]
        )
        run = IngestionRun.objects.create(store=store, source="command", status="succeeded")
        evidence = {"cs_avg_first_reply": "41.20", "cs_sessions": "180", "sla_seconds": "30"}
        Alert.objects.bulk_create(
            Alert(
                agency=agency,
                engagement=engagement,
                rule="cs_reply_slow",
                cause=f"shift {n % 3}",
                date=last - datetime.timedelta(days=n),
                severity=AlertSeverity.CRITICAL if n % 5 == 0 else AlertSeverity.WARNING,
                evidence={"date": (last - datetime.timedelta(days=n)).isoformat(), **evidence},
                acknowledged_at=None if n < 6 else datetime.datetime.now(datetime.UTC),
                acknowledged_by=None if n < 6 else user,
                note="" if n < 6 else "Night shift staffed",
            )
            for n in range(20)
        )
    arguments = {"agency": agency.pk, "store": store.pk, "run": run.pk, "first": first}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO execution_storedayfact (agency_id, store_id, run_id, date, visitors,
                page_views, paying_buyers, paid_orders, paid_units, new_buyers, repeat_buyers,
                add_to_cart_users, favorites, bounced_visitors, cs_first_reply_seconds_sum,
                cs_sessions, gmv, refund_amount)
            SELECT %(agency)s, %(store)s, %(run)s, %(first)s::date + d, 9000 + (d * 37) %% 3000,
                27000, 220 + (d * 13) %% 90, 240, 300, 120, 100 + d %% 40, 900, 400, 3600,
                7200, 180, (40000 + (d * 997) %% 15000)::numeric(14,2), 1500.00
            FROM generate_series(0, %(days)s - 1) AS d
            """,
            {**arguments, "days": DAYS},
        )
        cursor.execute(
            """
            INSERT INTO execution_storedaysourcefact (agency_id, store_id, run_id, date, source,
                visitors, paying_buyers, new_buyers, add_to_cart_users, gmv)
            SELECT %(agency)s, %(store)s, %(run)s, %(first)s::date + d, source,
                1500 - 150 * n + (d * 7) %% 200, 30 - 3 * n, 10, 100,
                (5000 - 500 * n)::numeric(14,2)
            FROM generate_series(0, %(days)s - 1) AS d,
                 unnest(%(sources)s::text[]) WITH ORDINALITY AS s(source, n)
            """,
            {**arguments, "days": DAYS, "sources": list(SOURCES)},
        )
        cursor.execute(
            """
            INSERT INTO execution_storedayadfact (agency_id, store_id, run_id, date, ad_tool,
                campaign, item_id, item_name, impressions, clicks, ad_orders, ad_spend, ad_gmv)
            SELECT %(agency)s, %(store)s, %(run)s, %(first)s::date + d, tool, '计划 ' || c, '', '',
                20000 + c * 1000, 400 + (d * c) %% 300, 10 + c, (300 + c * 40)::numeric(14,2),
                (900 + (d * c * 31) %% 2000)::numeric(14,2)
            FROM generate_series(0, %(days)s - 1) AS d,
                 unnest(ARRAY['zhitongche', 'wanxiangtai', 'yinlimofang']) AS tool,
                 generate_series(1, 6) AS c
            """,
            {**arguments, "days": DAYS},
        )
        cursor.execute(
            """
            INSERT INTO execution_storedayproductfact (agency_id, store_id, run_id, date, item_id,
                item_name, visitors, page_views, paying_buyers, paid_orders, paid_units,
                add_to_cart_users, favorites, gmv, refund_amount)
            SELECT %(agency)s, %(store)s, %(run)s, %(first)s::date + d, (600000 + i)::text,
                '商品 ' || i, 20 + (i * 7 + d) %% 300, 60, (i + d) %% 12, 12, 14, 30, 10,
                (((i + d) %% 12) * (59 + i))::numeric(14,2), 0
            FROM generate_series(0, %(days)s - 1) AS d, generate_series(1, %(products)s) AS i
            """,
            {**arguments, "days": DAYS, "products": PRODUCTS},
        )
        cursor.execute(
            "ANALYZE execution_storedayfact; ANALYZE execution_storedaysourcefact;"
            " ANALYZE execution_storedayadfact; ANALYZE execution_storedayproductfact"
        )
    return agency, engagement, user


def session_cookie(user) -> str:
    """A signed-in session for `user`, made in the database as a login would."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def queries_per_page(user, path: str, cached: bool = True) -> int:
    """SQL statements of one dashboard page, served from the figures' cache or computed."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()  # "testserver", which bench/run.py allows
    client.force_login(user)
    client.get(path)
    if not cached:
        cache.clear()  # this process's own cache (no REDIS_URL in the bench's server either)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(captured)


def engagement_last_day(engagement) -> datetime.date:
    from agency.tenancy import agency_scope
    from reporting.dashboards import store_last_data_dates

    with agency_scope(engagement.agency_id):
        return store_last_data_dates(store_ids=[engagement.store_id])[engagement.store_id]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agency.settings.dev",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": "",  # the health check pings no broker: the most trivial view there is
        "PYTHONWARNINGS": "ignore",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "agency.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(THREADS),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not answer within 60 s")


def load(port: int, path, cookie: str | None, requests: int, marker: bytes) -> dict:
    """`requests` GETs of `path` (or, given a list, of each of its paths once, in turn) from
    CLIENTS threads, each on its own keep-alive connection; latency of every request in ms."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    per_client = max(1, requests // CLIENTS)
    headers = {"Cookie": cookie} if cookie else {}
    start_line = threading.Barrier(CLIENTS)

    paths = iter(path) if isinstance(path, list) else None

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        own = []
        start_line.wait()
        for _ in range(per_client):
            with lock:
                asked = next(paths) if paths is not None else path
            began = time.perf_counter()
            connection.request("GET", asked, headers=headers)
            response = connection.getresponse()
            body = response.read()
            own.append((time.perf_counter() - began) * 1000)
            if response.status != 200 or marker not in body:
                with lock:
                    failures.append(f"{response.status} {body[:200]!r}")
        connection.close()
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests to {path}, e.g. {failures[0]}")
    latencies.sort()
    return {
        "p95": latencies[int(len(latencies) * 0.95) - 1],
        "median": statistics.median(latencies),
        "per_s": len(latencies) / elapsed,
    }


def run_dashboard_bench(print_figure) -> None:
    began = time.perf_counter()
    agency, engagement, user = seed_engagement()
    print(f"# seeded a year of daily data in {time.perf_counter() - began:.1f} s", flush=True)
    path = f"/{agency.slug}/engagements/{engagement.pk}/dashboard/"
    print_figure("dashboard_queries_uncached", queries_per_page(user, path, cached=False))
    print_figure("dashboard_queries", queries_per_page(user, path))
    cookie = session_cookie(user)
    # Ranges nobody asked for yet: every one is computed (the figures' cache misses).
    last = engagement_last_day(engagement)
    fresh_ranges = [
        f"{path}?start={last - datetime.timedelta(days=29 + n)}&end={last}"
        for n in range(UNCACHED_REQUESTS)
    ]
    signed_in_trivial = f"/{agency.slug}/notifications/"
    port = free_port()
    server = start_gunicorn(port)
    try:
        # Warm up every worker (imports, template loading, database connections).
        load(port, path, cookie, CLIENTS * 3, b"dashboard-chart-data")
        load(port, "/healthz", None, CLIENTS * 10, b'"ok"')
        load(port, signed_in_trivial, cookie, CLIENTS * 3, b"<html")
        dashboard = load(port, path, cookie, DASHBOARD_REQUESTS, b"dashboard-chart-data")
        hello = load(port, "/healthz", None, HELLO_REQUESTS, b'"ok"')
        signed_in = load(port, signed_in_trivial, cookie, HELLO_REQUESTS // 2, b"<html")
        uncached = load(port, fresh_ranges, cookie, UNCACHED_REQUESTS, b"dashboard-chart-data")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    print_figure("dashboard_clients", CLIENTS)
    print_figure("dashboard_median_ms", round(dashboard["median"], 1))
    print_figure("dashboard_p95_ms", round(dashboard["p95"], 1))
    print_figure("dashboard_requests_per_s", round(dashboard["per_s"], 1))
    print_figure("hello_median_ms", round(hello["median"], 1))
    print_figure("hello_p95_ms", round(hello["p95"], 1))
    print_figure("hello_requests_per_s", round(hello["per_s"], 1))
    print_figure("dashboard_hello_ratio", round(dashboard["p95"] / hello["p95"], 2))
    # What any signed-in page costs here (session, user, membership, layout): the notifications
    # list, the most trivial of them.
    print_figure("signed_in_trivial_p95_ms", round(signed_in["p95"], 1))
    print_figure("signed_in_trivial_requests_per_s", round(signed_in["per_s"], 1))
    print_figure("dashboard_signed_in_trivial_ratio", round(dashboard["p95"] / signed_in["p95"], 2))
    # Every request a range not computed yet (the first reader of a new day's data).
    print_figure("dashboard_uncached_median_ms", round(uncached["median"], 1))
    print_figure("dashboard_uncached_p95_ms", round(uncached["p95"], 1))
    print_figure("dashboard_uncached_requests_per_s", round(uncached["per_s"], 1))
