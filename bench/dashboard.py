"""The engagement dashboard under load, for `make bench` (see bench/run.py).

One engagement with a year of daily data (store days, 8 traffic sources, 18 ad campaigns over the
three ad tools, 200 products, live targets and some alerts) is written straight in SQL (setup, not
measured). gunicorn then serves the portal from the bench database (production-like: DEBUG off,
persistent database connections, no collectstatic needed since only HTML is asked for) with the
bench's settings (bench/settings.py: the portal's URLs plus one trivial view), and 20 concurrent
clients on loopback, each on its own keep-alive connection, ask for

- the engagement dashboard's full page (default range: the 30 days ending on the last data day),
  signed in as the account manager (a session made in the database, sent as its cookie);
- `/<agency>/hello/` (bench/urls.py), the trivial view the goal divides by: the same server,
  settings and middleware as the dashboard (session, user, language, the tenant middleware's
  membership), signed in with the same cookie, and a view that returns five bytes of text;
- `/healthz` (one `SELECT 1`, not signed in, so no session is read; run without REDIS_URL, so it
  pings no broker), for comparison with the earlier figures;
- the notifications list, the most trivial page with the layout (signed_in_trivial_*: what the
  session, the membership, the layout's own two queries and its rendering cost any page).

The load comes from wrk (installed with apt-get when missing and this runs as root; a lean Python
generator otherwise: threads, http.client keep-alive), so that the load generator takes little of
the two cores from the server. Each target is measured ROUNDS times for ROUND_SECONDS, the
targets interleaved round by round after a warm-up of every worker; a target's figure is the
median of its rounds.

Figures: dashboard_p95_ms, hello_p95_ms, dashboard_hello_ratio (goal < 3), healthz_p95_ms and
dashboard_healthz_ratio, the medians (and dashboard_hello_median_ratio) and throughputs beside
them, and dashboard_queries (SQL statements per dashboard page). The dashboard serves its whole
`#dashboard` fragment from the cache once rendered for a data version and kind of reader
(reporting/views/dashboards.py), so beside it: the same load on ranges nobody asked for yet
(dashboard_uncached_*: every request computes, measured by the Python generator since each path
is asked once).
"""

from __future__ import annotations

import datetime
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_DASHBOARD_CLIENTS", "20"))
ROUNDS = int(os.environ.get("BENCH_DASHBOARD_ROUNDS", "7"))
ROUND_SECONDS = int(os.environ.get("BENCH_DASHBOARD_ROUND_SECONDS", "3"))
WARMUP_SECONDS = int(os.environ.get("BENCH_DASHBOARD_WARMUP_SECONDS", "2"))
# "wrk" (the default; the Python generator when wrk cannot be had) or "python".
GENERATOR = os.environ.get("BENCH_DASHBOARD_GENERATOR", "wrk")
UNCACHED_REQUESTS = int(os.environ.get("BENCH_DASHBOARD_UNCACHED_REQUESTS", "300"))
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
DAYS = 365
PRODUCTS = 200
SOURCES = ("手淘搜索", "直通车", "猜你喜欢", "手淘首页", "万相台", "淘宝客", "直播", "短视频")


def monthly_targets(engagement, months: int, *, gmv_from: int, gmv_step: int) -> None:
    """A GMV target per plan month (rising by `gmv_step`) and cumulative ROI and conversion."""
    from engagements.models import EngagementTarget

    EngagementTarget.objects.bulk_create(
        [
            EngagementTarget(
                agency_id=engagement.agency_id,
                engagement=engagement,
                metric="gmv",
                comparison=">=",
                value=gmv_from + gmv_step * month,
                period="month",
                by_month=month,
            )
            for month in range(1, months + 1)
        ]
        + [
            EngagementTarget(
                agency_id=engagement.agency_id,
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


def seed_engagement():
    """One agency, brand, store and engagement with a year of daily facts ending yesterday."""
    from django.db import connection
    from django.utils import timezone

    from agency.models import Agency, Brand, Membership, Role, Store, User
    from agency.tenancy import agency_scope
    from engagements.lifecycle import Service, Stage
    from engagements.models import Engagement
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
        monthly_targets(engagement, months, gmv_from=300000, gmv_step=10000)
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
    session[BACKEND_SESSION_KEY] = "agency.two_factor.UserBackend"
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
        "DJANGO_SETTINGS_MODULE": "bench.settings",
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


@dataclass(frozen=True)
class Target:
    """One page under load: its path, the cookie it is asked with, and a marker its body must
    hold (so that a login page or an error never counts as an answer)."""

    name: str
    path: str
    cookie: str | None
    marker: bytes


def check(port: int, target: Target) -> None:
    """One request of `target`: a 200 with its marker, or the bench stops."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", target.path, headers=_headers(target.cookie))
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200 or target.marker not in body:
        raise RuntimeError(f"{target.path} answered {response.status} {body[:200]!r}")


def _headers(cookie: str | None) -> dict:
    return {"Cookie": cookie} if cookie else {}


def wrk_available() -> bool:
    """Whether wrk is here, installing its Debian package first when missing and root."""
    if shutil.which("wrk"):
        return True
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        done = subprocess.run(command, env=environment, capture_output=True, check=False)
        if done.returncode != 0:
            return False
    return shutil.which("wrk") is not None


# Prints wrk's own figures for one run (latencies in microseconds) on one line.
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH-WRK %d %d %d %d %.1f %.1f\\n",
    summary.requests, summary.duration,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


def wrk_load(port: int, target: Target, seconds: int, script: Path) -> dict:
    """`target` for `seconds` from wrk: CLIENTS connections (keep-alive) on one wrk thread."""
    command = ["wrk", "-t", "1", "-c", str(CLIENTS), "-d", f"{seconds}s", "--timeout", "30s"]
    if target.cookie:
        command += ["-H", f"Cookie: {target.cookie}"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}{target.path}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH-WRK "))
    requests, duration_us, bad_status, socket_errors, p50, p95 = line.split()[1:]
    if int(bad_status) or int(socket_errors) or not int(requests):
        raise RuntimeError(f"wrk on {target.path}: {output}")
    return {
        "p95": float(p95) / 1000,
        "median": float(p50) / 1000,
        "per_s": int(requests) / (int(duration_us) / 1e6),
    }


def python_load(port: int, target: Target, seconds: int) -> dict:
    """`target` for `seconds` from CLIENTS threads, each on its own keep-alive connection."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    headers = _headers(target.cookie)
    start_line = threading.Barrier(CLIENTS + 1)
    stop_at = [0.0]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        own = []
        start_line.wait()
        while time.perf_counter() < stop_at[0]:
            began = time.perf_counter()
            connection.request("GET", target.path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            own.append((time.perf_counter() - began) * 1000)
            if response.status != 200 or target.marker not in body:
                with lock:
                    failures.append(f"{response.status} {body[:200]!r}")
        connection.close()
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start_line.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests to {target.path}: {failures[0]}")
    return _summary(latencies, elapsed)


def _summary(latencies: list[float], elapsed: float) -> dict:
    latencies = sorted(latencies)
    return {
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)],
        "median": statistics.median(latencies),
        "per_s": len(latencies) / elapsed,
    }


def python_load_paths(port: int, paths: list[str], cookie: str, marker: bytes) -> dict:
    """Each of `paths` once, from CLIENTS threads on keep-alive connections (the dashboard on
    ranges nobody asked for yet: a second of work each, so the generator's cost is nothing)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    pending = iter(paths)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        own = []
        while True:
            with lock:
                path = next(pending, None)
            if path is None:
                break
            began = time.perf_counter()
            connection.request("GET", path, headers=_headers(cookie))
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
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[0]}")
    return _summary(latencies, elapsed)


def measure_rounds(port: int, targets: list[Target]) -> tuple[str, dict[str, list[dict]]]:
    """Every target warmed up, then measured ROUNDS times, interleaved round by round: the same
    clients, duration and generator for each. Returns the generator's name and each target's
    rounds."""
    use_wrk = GENERATOR == "wrk" and wrk_available()
    rounds: dict[str, list[dict]] = {target.name: [] for target in targets}
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "report.lua"
        script.write_text(WRK_REPORT)

        def run(target: Target, seconds: int) -> dict:
            check(port, target)
            if use_wrk:
                figures = wrk_load(port, target, seconds, script)
            else:
                figures = python_load(port, target, seconds)
            check(port, target)
            return figures

        for target in targets:  # imports, templates, database connections of every worker
            run(target, WARMUP_SECONDS)
        for _ in range(ROUNDS):
            for target in targets:
                rounds[target.name].append(run(target, ROUND_SECONDS))
    return ("wrk" if use_wrk else "python"), rounds


def median_of(rounds: list[dict], key: str) -> float:
    return statistics.median(figures[key] for figures in rounds)


def run_dashboard_bench(print_figure) -> None:
    began = time.perf_counter()
    agency, engagement, user = seed_engagement()
    print(f"# seeded a year of daily data in {time.perf_counter() - began:.1f} s", flush=True)
    path = f"/{agency.slug}/engagements/{engagement.pk}/dashboard/"
    print_figure("dashboard_queries_uncached", queries_per_page(user, path, cached=False))
    print_figure("dashboard_queries", queries_per_page(user, path))
    cookie = session_cookie(user)
    # Ranges nobody asked for yet: every one is computed (the caches miss).
    last = engagement_last_day(engagement)
    fresh_ranges = [
        f"{path}?start={last - datetime.timedelta(days=29 + n)}&end={last}"
        for n in range(UNCACHED_REQUESTS)
    ]
    targets = [
        Target("dashboard", path, cookie, b"dashboard-chart-data"),
        Target("hello", f"/{agency.slug}/hello/", cookie, b"hello"),
        Target("healthz", "/healthz", None, b'"ok"'),
        Target("signed_in_trivial", f"/{agency.slug}/notifications/", cookie, b"<html"),
    ]
    port = free_port()
    server = start_gunicorn(port)
    try:
        generator, rounds = measure_rounds(port, targets)
        uncached = python_load_paths(port, fresh_ranges, cookie, b"dashboard-chart-data")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    p95 = {name: median_of(figures, "p95") for name, figures in rounds.items()}
    print(f"# load: {generator}, {CLIENTS} clients, {ROUNDS} rounds of {ROUND_SECONDS} s each")
    print_figure("dashboard_clients", CLIENTS)
    for name in ("dashboard", "hello", "healthz"):
        print_figure(f"{name}_median_ms", round(median_of(rounds[name], "median"), 1))
        print_figure(f"{name}_p95_ms", round(p95[name], 1))
        print_figure(f"{name}_requests_per_s", round(median_of(rounds[name], "per_s"), 1))
    print(
        "# dashboard_hello_ratio by round: "
        + " ".join(
            f"{dashboard['p95'] / hello['p95']:.2f}"
            for dashboard, hello in zip(rounds["dashboard"], rounds["hello"], strict=True)
        )
    )
    print_figure("dashboard_hello_ratio", round(p95["dashboard"] / p95["hello"], 2))
    # The same at the median: the hello's tail is mostly waiting (for a thread, for the GIL, in
    # the busier worker), its median closer to its own cost, so this ratio runs higher.
    print_figure(
        "dashboard_hello_median_ratio",
        round(median_of(rounds["dashboard"], "median") / median_of(rounds["hello"], "median"), 2),
    )
    print_figure("dashboard_healthz_ratio", round(p95["dashboard"] / p95["healthz"], 2))
    # What any page with the layout costs here (session, user, membership, the layout's queries
    # and rendering): the notifications list, the most trivial of them.
    print_figure("signed_in_trivial_p95_ms", round(p95["signed_in_trivial"], 1))
    print_figure(
        "signed_in_trivial_requests_per_s",
        round(median_of(rounds["signed_in_trivial"], "per_s"), 1),
    )
    print_figure(
        "dashboard_signed_in_trivial_ratio", round(p95["dashboard"] / p95["signed_in_trivial"], 2)
    )
    # Every request a range not computed yet (the first reader of a new day's data).
    print_figure("dashboard_uncached_median_ms", round(uncached["median"], 1))
    print_figure("dashboard_uncached_p95_ms", round(uncached["p95"], 1))
    print_figure("dashboard_uncached_requests_per_s", round(uncached["per_s"], 1))
