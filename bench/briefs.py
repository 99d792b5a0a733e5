"""Daily brief figures for `make bench` (see bench/run.py).

- briefs_1000_s: build and store (not e-mail) the daily briefs of 1,000 engagements for one day,
  each engagement with its own store holding 2 years of daily data: the store overview, 4
  traffic sources, 3 ad campaigns on 2 ad tools, and 5 products a day (about 9.5 million fact
  rows, loaded straight in SQL, not through the ingestion path), and live KPI targets. The
  briefs are issued as the hourly job issues them (`brief_issue`: the metric queries, target
  pacing, the alert rules raising the day's alerts, the stored brief and its pending
  deliveries), split over BRIEF_WORKERS processes (the machine has 2 cores), timed from the
  first brief to the last.
- briefs_workers: how many processes shared the work.
- queries_per_brief_30d, queries_per_brief_2y: SQL queries of issuing one brief on an engagement
  with 30 days of history and on one with 2 years (the same: constant in the history).
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import time

ENGAGEMENTS = int(os.environ.get("BENCH_BRIEF_ENGAGEMENTS", "1000"))
AGENCIES = 10  # the engagements are spread over a few agencies, as on a shared portal
HISTORY_DAYS = 730
BRIEF_DAY = datetime.date(2026, 9, 10)
BRIEF_WORKERS = int(os.environ.get("BENCH_BRIEF_WORKERS", "2"))
SOURCES = ("手淘搜索", "直通车", "猜你喜欢", "万相台")
PRODUCTS = 5


def _seed_facts(agency_id: int, run_id: int, store_ids: list[int], days: int) -> None:
    """`days` days of facts, ending on BRIEF_DAY, for each store: one INSERT ... SELECT per
    fact table, varied by store and day so that no two days are alike."""
    from django.db import connection

    first = BRIEF_DAY - datetime.timedelta(days=days - 1)
    common = [agency_id, run_id, first, store_ids, days - 1]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO execution_storedayfact (agency_id, run_id, date, store_id, visitors,
                page_views, paying_buyers, paid_orders, paid_units, new_buyers, repeat_buyers,
                add_to_cart_users, favorites, bounced_visitors, cs_first_reply_seconds_sum,
                cs_sessions, gmv, refund_amount)
            SELECT %s, %s, %s::date + d, s, v, v * 3, b, b + 2, b + 9, b / 2, b - b / 2,
                v / 8, v / 12, v * 2 / 5, c * (18 + (s + d) %% 20), c, b * p, b * p / 25
            FROM unnest(%s::bigint[]) AS s, generate_series(0, %s) AS d,
                LATERAL (SELECT 2000 + (s * 37 + d * 11) %% 900 AS v,
                                40 + (s * 13 + d * 7) %% 30 AS b,
                                (120 + s %% 50)::numeric(14, 2) AS p,
                                60 + (s + d * 3) %% 40 AS c) AS f
            """,
            common,
        )
        cursor.execute(
            """
            INSERT INTO execution_storedaysourcefact (agency_id, run_id, date, store_id, source,
                visitors, paying_buyers, new_buyers, add_to_cart_users, gmv)
            SELECT %s, %s, %s::date + d, s, src, v, b, b / 2, v / 8, b * 130.00
            FROM unnest(%s::bigint[]) AS s, generate_series(0, %s) AS d,
                unnest(%s::text[]) WITH ORDINALITY AS t(src, n),
                LATERAL (SELECT (2000 + (s * 37 + d * 11) %% 900) / (n + 1) AS v,
                                (40 + (s * 13 + d * 7) %% 30) / (n + 1) AS b) AS f
            """,
            [*common, list(SOURCES)],
        )
        cursor.execute(
            """
            INSERT INTO execution_storedayadfact (agency_id, run_id, date, store_id, ad_tool,
                campaign, item_id, item_name, impressions, clicks, ad_orders, ad_spend, ad_gmv)
            SELECT %s, %s, %s::date + d, s, tool, plan, '', '', 20000 + (s * 7 + d) %% 5000,
                k, k / 40, k * 1.20, k * 1.20 * (2 + ((s + d) %% 15) / 10.0)
            FROM unnest(%s::bigint[]) AS s, generate_series(0, %s) AS d,
                (VALUES ('zhitongche', '搜索计划 A'), ('zhitongche', '搜索计划 B'),
                        ('wanxiangtai', '拉新计划')) AS c(tool, plan),
                LATERAL (SELECT 400 + (s * 11 + d * 5) %% 200 AS k) AS f
            """,
            common,
        )
        cursor.execute(
            """
            INSERT INTO execution_storedayproductfact (agency_id, run_id, date, store_id,
                item_id, item_name, visitors, page_views, paying_buyers, paid_orders,
                paid_units, add_to_cart_users, favorites, gmv, refund_amount)
            SELECT %s, %s, %s::date + d, s, (6000000 + s * 10 + i)::text, '商品 ' || i, v,
                v * 3, b, b, b + 1, v / 9, v / 15, b * 99.00, b * 2.00
            FROM unnest(%s::bigint[]) AS s, generate_series(0, %s) AS d,
                generate_series(1, %s) AS i,
                LATERAL (SELECT 300 + (s * 3 + d * 7 + i * 13) %% 400 AS v,
                                5 + (s + d + i) %% 12 AS b) AS f
            """,
            [*common, PRODUCTS],
        )


def populate(count: int = ENGAGEMENTS) -> list[tuple[int, int]]:
    """`count` engagements over AGENCIES agencies, each with a store, 2 years of facts and
    targets; returns (agency id, engagement id) pairs."""
    from django.db import connection

    from agency.models import Agency, Brand, Membership, Role, Store, User
    from agency.tenancy import agency_scope
    from engagements.lifecycle import Service, Stage
    from engagements.models import Engagement, EngagementTarget
    from execution.models import IngestionRun

    start = BRIEF_DAY - datetime.timedelta(days=HISTORY_DAYS - 1)
    pairs = []
    per_agency = -(-count // AGENCIES)
    for number in range(AGENCIES):
        size = min(per_agency, count - len(pairs))
        if size <= 0:
            break
        agency = Agency.objects.create(slug=f"bench-briefs-{number}", name=f"Briefs {number}")
        with agency_scope(agency):
            user = User.objects.create_user(f"briefs{number}@bench.test", "bench-password")
            manager = Membership.objects.create(agency=agency, user=user, role=Role.ADMIN)
            brands = Brand.objects.bulk_create(
                Brand(agency=agency, name=f"Brand {number}-{b}") for b in range(size)
            )
            stores = Store.objects.bulk_create(
                Store(agency=agency, brand=brand, name=f"{brand.name} 旗舰店") for brand in brands
            )
            engagements = Engagement.objects.bulk_create(
                Engagement(
                    agency=agency,
                    store=store,
                    title=f"{store.name} 全托管",
                    goal="growth",
                    scope_services=list(Service.values),
                    start_date=start,
                    account_manager=manager,
                    stage=Stage.MONITORING,
                )
                for store in stores
            )
            EngagementTarget.objects.bulk_create(
                EngagementTarget(
                    agency=agency,
                    engagement=engagement,
                    metric=metric,
                    comparison=">=",
                    value=value,
                    period=period,
                    by_month=month,
                )
                for engagement in engagements
                for metric, value, period, month in [
                    ("gmv", 150000, "month", 3),
                    ("gmv", 200000, "month", 12),
                    ("gmv", 260000, "month", 24),
                    ("conversion_rate", "0.02", "month", 24),
                    ("roi", 3, "cumulative", 24),
                ]
            )
            run = IngestionRun.objects.create(store=stores[0], source="command", status="succeeded")
        _seed_facts(agency.pk, run.pk, [store.pk for store in stores], HISTORY_DAYS)
        pairs += [(agency.pk, engagement.pk) for engagement in engagements]
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE execution_storedayfact; ANALYZE execution_storedaysourcefact; "
            "ANALYZE execution_storedayadfact; ANALYZE execution_storedayproductfact"
        )
    return pairs


def issue_briefs(pairs: list[tuple[int, int]]) -> int:
    """Issue (build and store, not send) the brief of BRIEF_DAY for each engagement."""
    from agency.tenancy import agency_scope
    from engagements.models import Engagement
    from reporting.briefs.services import brief_issue

    issued = 0
    for agency_id, engagement_id in pairs:
        with agency_scope(agency_id):
            engagement = Engagement.objects.select_related("store__brand", "agency").get(
                pk=engagement_id
            )
            if brief_issue(engagement=engagement, date=BRIEF_DAY) is not None:
                issued += 1
    return issued


def _worker(pairs, results) -> None:
    from django.db import connections

    try:
        results.put(issue_briefs(pairs))
    finally:
        connections.close_all()


def issue_in_parallel(pairs: list[tuple[int, int]], workers: int) -> int:
    """Split the engagements over `workers` forked processes (each with its own database
    connection) and wait for all of them."""
    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_worker, args=(pairs[number::workers], results))
        for number in range(workers)
    ]
    for process in processes:
        process.start()
    issued = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"A brief worker failed (exit code {process.exitcode}).")
    return issued


def queries_per_brief(days: int) -> int:
    """Queries of issuing one brief on a fresh engagement with `days` days of history."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agency_id, engagement_id = populate_one(days)
    with CaptureQueriesContext(connection) as captured:
        issued = issue_briefs([(agency_id, engagement_id)])
    assert issued == 1
    return len(captured)


def populate_one(days: int) -> tuple[int, int]:
    from agency.models import Agency, Brand, Membership, Role, Store, User
    from agency.tenancy import agency_scope
    from engagements.lifecycle import Service, Stage
    from engagements.models import Engagement, EngagementTarget
    from execution.models import IngestionRun

    agency = Agency.objects.create(slug=f"bench-briefs-{days}d", name=f"Briefs {days} days")
    with agency_scope(agency):
        user = User.objects.create_user(f"briefs-{days}d@bench.test", "bench-password")
        manager = Membership.objects.create(agency=agency, user=user, role=Role.ADMIN)
        brand = Brand.objects.create(agency=agency, name=f"Brand {days}d")
        store = Store.objects.create(brand=brand, name=f"Store {days}d")
        engagement = Engagement.objects.create(
            store=store,
            title=f"{days} days",
            goal="growth",
            scope_services=list(Service.values),
            start_date=BRIEF_DAY - datetime.timedelta(days=HISTORY_DAYS - 1),
            account_manager=manager,
            stage=Stage.MONITORING,
        )
        for metric, value, period, month in [
            ("gmv", 260000, "month", 24),
            ("roi", 3, "cumulative", 24),
        ]:
            EngagementTarget.objects.create(
                engagement=engagement,
                metric=metric,
                comparison=">=",
                value=value,
                period=period,
                by_month=month,
            )
        run = IngestionRun.objects.create(store=store, source="command", status="succeeded")
    _seed_facts(agency.pk, run.pk, [store.pk], days)
    return agency.pk, engagement.pk


def run_briefs_bench(print_figure) -> None:
    began = time.perf_counter()
    pairs = populate()
    print(
        f"# populated {len(pairs)} engagements x {HISTORY_DAYS} days of facts in "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    print_figure("queries_per_brief_30d", queries_per_brief(30))
    print_figure("queries_per_brief_2y", queries_per_brief(HISTORY_DAYS))
    began = time.perf_counter()
    issued = issue_in_parallel(pairs, BRIEF_WORKERS)
    elapsed = time.perf_counter() - began
    if issued != len(pairs):
        raise SystemExit(f"Only {issued} of {len(pairs)} briefs were issued.")
    print_figure(
        f"briefs_{len(pairs)}_s" if len(pairs) != 1000 else "briefs_1000_s", round(elapsed, 1)
    )
    print_figure("briefs_workers", BRIEF_WORKERS)
