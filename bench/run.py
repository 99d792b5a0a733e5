"""Benchmarks, printed as figures (never asserted in the suite). `make bench` runs this on the
PostgreSQL that `make services` starts, in a database of its own (portal_bench).

Every figure is printed as `name: value`, one a line. The engagement list (the page every user
opens first, for an agency among AGENCIES with many engagements), for staff and for a brand user
(whose scope adds a brand filter): median milliseconds and SQL queries per request. Metrics
ingestion and the metric query: see bench/ingest.py; the full review and its PDF over a year of
data: bench/review_pdf.py. `BENCH_DATABASE` names another database (two benches at once).
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCIES = 20
BRANDS_PER_AGENCY = 25
ENGAGEMENTS_PER_BRAND = 8
REQUESTS = 30
# `python bench/run.py [section ...]` runs only the sections named (all by default).
SECTIONS = ("list", "ingest", "briefs", "dashboard", "rfm", "review_pdf")
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "portal_bench")


def bench_database_url() -> str:
    # The owner role where there is one (make services): it may create the bench database, and
    # the generators write their data in bulk past the tenant scope. It bypasses row-level
    # security, so the figures include the tenant wrapper's work but not the policies' checks.
    url = os.environ.get("DATABASE_OWNER_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("make bench needs DATABASE_URL of a PostgreSQL server (make services prints one).")
    return url.rsplit("/", 1)[0] + "/" + BENCH_DATABASE


def recreate_database(url: str) -> None:
    import psycopg2

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        cursor.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    connection.close()


def populate():
    from agency.models import Agency, Brand, Membership, MembershipBrand, Role, Store, User
    from agency.tenancy import agency_scope
    from engagements.lifecycle import STAGE_ORDER, Service
    from engagements.models import Engagement

    start = datetime.date(2025, 1, 1)
    staff_user = brand_user = None
    for number in range(AGENCIES):
        agency = Agency.objects.create(slug=f"bench-{number}", name=f"Bench {number}")
        with agency_scope(agency):
            user = User.objects.create_user(f"staff{number}@bench.test", "bench-password")
            manager = Membership.objects.create(agency=agency, user=user, role=Role.ACCOUNT_MANAGER)
            brands = Brand.objects.bulk_create(
                Brand(agency=agency, name=f"Brand {b}") for b in range(BRANDS_PER_AGENCY)
            )
            stores = Store.objects.bulk_create(
                Store(
                    agency=agency, brand=brand, name=f"{brand.name} 旗舰店", shop_id=f"{number}{i}"
                )
                for i, brand in enumerate(brands)
            )
            Engagement.objects.bulk_create(
                Engagement(
                    agency=agency,
                    store=store,
                    title=f"{store.name} #{e}",
                    goal="growth",
                    scope_services=list(Service.values),
                    start_date=start,
                    account_manager=manager,
                    stage=STAGE_ORDER[(e + i) % len(STAGE_ORDER)],
                )
                for i, store in enumerate(stores)
                for e in range(ENGAGEMENTS_PER_BRAND)
            )
            owner = User.objects.create_user(f"owner{number}@bench.test", "bench-password")
            owner_membership = Membership.objects.create(
                agency=agency, user=owner, role=Role.BRAND_OWNER
            )
            MembershipBrand.objects.create(membership=owner_membership, brand=brands[0])
        if number == 0:
            staff_user, brand_user = user, owner
    return staff_user, brand_user


def measure(client, url: str) -> tuple[float, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], []
    client.get(url)  # warm up
    for _ in range(REQUESTS):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
        queries.append(len(captured))
    return statistics.median(timings), statistics.median(queries)


def main() -> None:
    sections = sys.argv[1:] or list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        sys.exit(f"Unknown bench sections: {', '.join(sorted(unknown))}; known: {SECTIONS}")
    url = bench_database_url()
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_OWNER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agency.settings.dev")
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic for a bench
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if "list" in sections:
        engagement_list_bench()
    if "ingest" in sections:
        from bench.ingest import run_ingestion_bench

        run_ingestion_bench(print_figure)
    if "briefs" in sections:
        from bench.briefs import run_briefs_bench

        run_briefs_bench(print_figure)
    if "dashboard" in sections:
        from bench.dashboard import run_dashboard_bench

        run_dashboard_bench(print_figure)
    if "rfm" in sections:
        from bench.rfm import run_rfm_bench

        run_rfm_bench(print_figure)
    if "review_pdf" in sections:
        from bench.review_pdf import run_review_pdf_bench

        run_review_pdf_bench(print_figure)


def engagement_list_bench() -> None:
    from django.test import Client

    began = time.perf_counter()
    staff_user, brand_user = populate()
    print(
        f"# populated {AGENCIES} agencies x {BRANDS_PER_AGENCY * ENGAGEMENTS_PER_BRAND} "
        f"engagements in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    for name, user, path in [
        ("engagement_list_staff", staff_user, "/bench-0/"),
        ("engagement_list_staff_search", staff_user, "/bench-0/?q=Brand+1"),
        ("engagement_list_staff_stage", staff_user, "/bench-0/?stage=monitoring"),
        ("engagement_list_brand_user", brand_user, "/bench-0/"),
    ]:
        client = Client()
        client.force_login(user)
        median_ms, median_queries = measure(client, path)
        print_figure(f"{name}_ms", round(median_ms, 1))
        print_figure(f"{name}_queries", int(median_queries))


def print_figure(name: str, value) -> None:
    print(f"{name}: {value}", flush=True)


if __name__ == "__main__":
    main()
