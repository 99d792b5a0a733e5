"""The full review (全面效果复盘) and its PDF over a year of data, for `make bench` (see
bench/run.py).

One engagement whose store holds a year of daily data ending yesterday, plus the 30 days before
the engagement started (the diagnosis baseline): the store overview, 8 traffic sources, 30 ad
campaigns over the three ad tools and 200 products a day (about 90,000 fact rows, written
straight in SQL, not through the ingestion path), a GMV target per month and two cumulative
ones, 30 campaigns (a few internal), 12 offers and 40 setup items for the timeline, and the
user tiers of every month. Setup is not measured. Then:

- full_review_draft_s: `full_review_draft` of the whole year (the figures from the metric
  query, the proposed findings, the stored review), and full_review_draft_queries;
- review_pdf_s (goal < 5 s): the PDF of that review as a staff member reading Chinese asks for
  it: a GET of `full_review_pdf` through the test client (session, tenant middleware, the
  access-checked getter, `full_review_document`, which reads the monthly GMV chart from the
  data, and `pdf_render` with WeasyPrint). The first request's time (review_pdf_first_s) and
  the median of REQUESTS more (review_pdf_s); beside them the file's pages and size and the
  SQL queries of one request. `BENCH_REVIEW_PDF_OUTPUT=path` keeps the file, to look at.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import statistics
import subprocess
import time

DAYS = 365
BASELINE_DAYS = 30
PRODUCTS = 200
CAMPAIGNS_PER_TOOL = 10
AD_TOOLS = ("zhitongche", "wanxiangtai", "yinlimofang")
SOURCES = ("手淘搜索", "直通车", "猜你喜欢", "手淘首页", "万相台", "淘宝客", "直播", "短视频")
REQUESTS = 3
OUTPUT = os.environ.get("BENCH_REVIEW_PDF_OUTPUT", "")


def seed_engagement():
    """The agency, its staff member (reading Chinese), the engagement and its year of data;
    returns (engagement, membership)."""
    from django.db import connection
    from django.utils import timezone

    from agency.models import Agency, Brand, Membership, Role, Store, User
    from agency.tenancy import agency_scope
    from bench.dashboard import monthly_targets
    from engagements.lifecycle import Service, Stage
    from engagements.models import Engagement
    from execution.metrics.pacing import plan_month_of
    from execution.models import (
        Campaign,
        Channel,
        IngestionRun,
        Offer,
        OfferKind,
        SetupItem,
        SetupItemStatus,
        SetupSection,
        Tier,
        TierSnapshot,
    )

    last = timezone.localdate() - datetime.timedelta(days=1)  # the agency's day (Asia/Shanghai)
    first = last - datetime.timedelta(days=DAYS - 1)
    data_first = first - datetime.timedelta(days=BASELINE_DAYS)
    agency = Agency.objects.create(slug="bench-review-pdf", name="Bench full review")
    with agency_scope(agency):
        user = User.objects.create_user(
            "manager@bench-review.test", "bench-password", full_name="复盘 经理"
        )
        user.language = "zh-hans"
        user.save(update_fields=["language"])
        manager = Membership.objects.create(agency=agency, user=user, role=Role.ACCOUNT_MANAGER)
        brand = Brand.objects.create(agency=agency, name="复盘品牌")
        store = Store.objects.create(brand=brand, name="复盘品牌旗舰店", shop_id="7100001")
        engagement = Engagement.objects.create(
            store=store,
            title="全年复盘基准",
            goal="growth",
            scope_services=list(Service.values),
            start_date=first,
            account_manager=manager,
            stage=Stage.REVIEW,
        )
        months = plan_month_of(first, last)
        monthly_targets(engagement, months, gmv_from=1_200_000, gmv_step=20_000)
        channels = [Channel.ZHITONGCHE, Channel.WANXIANGTAI, Channel.YINLIMOFANG]
        Campaign.objects.bulk_create(
            Campaign(
                agency=agency,
                engagement=engagement,
                name=f"计划 {n + 1}",
                channel=channels[n % 3],
                start_date=first + datetime.timedelta(days=12 * n),
                end_date=first + datetime.timedelta(days=12 * n + 40),
                budget=10_000 + 500 * n,
                status="finished",
                brand_visible=n % 7 != 0,
            )
            for n in range(CAMPAIGNS_PER_TOOL * len(AD_TOOLS))
        )
        Offer.objects.bulk_create(
            Offer(
                agency=agency,
                engagement=engagement,
                name=f"满300减{20 + n}",
                kind=OfferKind.FULL_REDUCTION,
                threshold=300,
                discount=20 + n,
                start_date=first + datetime.timedelta(days=30 * n),
                end_date=first + datetime.timedelta(days=30 * n + 10),
            )
            for n in range(12)
        )
        sections = list(SetupSection.values)
        SetupItem.objects.bulk_create(
            SetupItem(
                agency=agency,
                engagement=engagement,
                section=sections[n % len(sections)],
                title=f"搭建事项 {n + 1}",
                position=n,
                status=SetupItemStatus.DONE,
                completed_at=timezone.make_aware(
                    datetime.datetime.combine(first + datetime.timedelta(days=n), datetime.time(10))
                ),
            )
            for n in range(40)
        )
        month_starts = sorted({first.replace(day=1)} | _month_starts(first, last))
        TierSnapshot.objects.bulk_create(
            TierSnapshot(
                agency=agency,
                engagement=engagement,
                month=month,
                tier=tier,
                buyers=800 + 90 * number + 40 * index,
                orders=1000 + 100 * number + 60 * index,
                gmv=150_000 + 12_000 * number + 9_000 * index,
            )
            for index, month in enumerate(month_starts)
            for number, tier in enumerate(Tier.values)
        )
        run = IngestionRun.objects.create(store=store, source="command", status="succeeded")
    arguments = {
        "agency": agency.pk,
        "store": store.pk,
        "run": run.pk,
        "first": data_first,
        "days": DAYS + BASELINE_DAYS,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO execution_storedayfact (agency_id, store_id, run_id, date, visitors,
                page_views, paying_buyers, paid_orders, paid_units, new_buyers, repeat_buyers,
                add_to_cart_users, favorites, bounced_visitors, cs_first_reply_seconds_sum,
                cs_sessions, gmv, refund_amount)
            SELECT %(agency)s, %(store)s, %(run)s, %(first)s::date + d,
                9000 + d * 8 + (d * 37) %% 3000, 27000, 220 + d / 3 + (d * 13) %% 90, 240, 300,
                120, 60 + (d * 7) %% 60, 900, 400, 3600, 7200, 180,
                (40000 + d * 60 + (d * 997) %% 15000)::numeric(14,2), 1500.00
            FROM generate_series(0, %(days)s - 1) AS d
            """,
            arguments,
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
            {**arguments, "sources": list(SOURCES)},
        )
        cursor.execute(
            """
            INSERT INTO execution_storedayadfact (agency_id, store_id, run_id, date, ad_tool,
                campaign, item_id, item_name, impressions, clicks, ad_orders, ad_spend, ad_gmv)
            SELECT %(agency)s, %(store)s, %(run)s, %(first)s::date + d, tool,
                '计划 ' || ((c - 1) * 3 + t), '', '', 20000 + c * 1000, 400 + (d * c) %% 300,
                10 + c, (300 + c * 40 + t * 25)::numeric(14,2),
                ((300 + c * 40 + t * 25) * (0.8 + ((c * 7 + t * 3) %% 11) * 0.45)
                    + (d * c * 31) %% 400)::numeric(14,2)
            FROM generate_series(0, %(days)s - 1) AS d,
                 unnest(%(tools)s::text[]) WITH ORDINALITY AS a(tool, t),
                 generate_series(1, %(per_tool)s) AS c
            """,
            {**arguments, "tools": list(AD_TOOLS), "per_tool": CAMPAIGNS_PER_TOOL},
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
            {**arguments, "products": PRODUCTS},
        )
        cursor.execute(
            "ANALYZE execution_storedayfact; ANALYZE execution_storedaysourcefact;"
            " ANALYZE execution_storedayadfact; ANALYZE execution_storedayproductfact"
        )
    return engagement, manager


def _month_starts(first: datetime.date, last: datetime.date) -> set[datetime.date]:
    months, month = set(), first.replace(day=1)
    while month <= last:
        months.add(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def pdf_pages(content: bytes) -> int | None:
    """The page count (pdfinfo, from poppler-utils); None where it is missing."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        return None
    try:
        info = subprocess.run(
            [pdfinfo, "-"], input=content, capture_output=True, check=True, timeout=30
        ).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return None
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def run_review_pdf_bench(print_figure) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from agency.tenancy import agency_scope
    from reporting.full_review.services import full_review_draft

    # The development settings log at INFO: WeasyPrint's progress and the sign-in's audit lines
    # would bury the figures.
    for name in ("weasyprint.progress", "axes"):
        logging.getLogger(name).setLevel(logging.WARNING)
    began = time.perf_counter()
    engagement, manager = seed_engagement()
    print(
        f"# populated 1 engagement x {DAYS + BASELINE_DAYS} days ({PRODUCTS} products, "
        f"{CAMPAIGNS_PER_TOOL * len(AD_TOOLS)} ad campaigns, {len(SOURCES)} sources a day) in "
        f"{time.perf_counter() - began:.1f} s",
        flush=True,
    )
    with agency_scope(engagement.agency_id), CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        review = full_review_draft(actor=manager, engagement=engagement)
        draft_seconds = time.perf_counter() - began
    print_figure("full_review_draft_s", round(draft_seconds, 2))
    print_figure("full_review_draft_queries", len(captured))
    print(
        f"# the review covers {review.period_start} – {review.period_end}: "
        f"{review.content['campaigns_total']} campaigns, {review.content['products_total']} "
        f"products, {len(review.content['timeline'])} timeline entries",
        flush=True,
    )

    client = Client()
    client.force_login(manager.user)
    url = reverse(
        "reporting:full_review_pdf",
        kwargs={"agency_slug": engagement.agency.slug, "full_review_id": review.pk},
    )
    timings = []
    for _ in range(1 + REQUESTS):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"The full review's PDF answered {response.status_code}.")
    print_figure("review_pdf_first_s", round(timings[0], 2))
    print_figure("review_pdf_s", round(statistics.median(timings[1:]), 2))
    print_figure("review_pdf_queries", len(captured))
    print_figure("review_pdf_pages", pdf_pages(response.content))
    print_figure("review_pdf_kb", round(len(response.content) / 1024))
    if OUTPUT:
        with open(OUTPUT, "wb") as output:
            output.write(response.content)
