"""Load the demo: agency `demo` with staff, Brand A and Brand B with a store each, their owners,
engagements at several stages with their data, diagnoses and proposals, and a second agency `rival`
to show isolation. Idempotent: a second
run changes nothing. Refuses to run when DEBUG is off, so it never touches a production database."""

import base64
import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from agency.models import (
    Agency,
    Brand,
    Membership,
    MembershipBrand,
    Role,
    Store,
    StoreSituation,
    User,
)
from agency.tenancy import agency_scope
from diagnostics.demo import diagnosis_seed_demo
from engagements.lifecycle import Service, Stage
from engagements.models import Engagement, Goal
from engagements.services import engagement_create
from execution.conversion.demo import conversion_seed_demo
from execution.metrics.ingestion import ingestion_pull
from execution.models import IngestionRun, StoreDayFact
from execution.setup.demo import setup_seed_demo
from execution.traffic.demo import traffic_seed_demo
from proposals.demo import proposals_seed_demo
from reporting.demo import reporting_seed_demo

HISTORY_DAYS = 420  # more than a year: year-on-year comparisons and two 双11 peaks
DEMO_PASSWORD = "demo12345"  # noqa: S105 - the documented demo password
# The agency admins' authenticator-app secret (admins must sign in with a code): add it to any
# TOTP app by hand (README, "Demo logins"). Base32, as apps take it.
DEMO_TOTP_SECRET = "DEMOADMINTOTPSECRETDEMOADMINTOTP"  # noqa: S105 - documented, demo only

AGENCIES = [
    {"slug": "demo", "name": "Demo Agency 示范代运营", "primary_color": "#c81623"},
    {"slug": "rival", "name": "Rival Agency 对手代运营", "primary_color": "#1f6feb"},
]

# (agency, e-mail, full name, role, brand names)
PEOPLE = [
    ("demo", "admin@demo.test", "Alice Admin 王丽", Role.ADMIN, []),
    ("demo", "manager@demo.test", "Max Manager 陈明", Role.ACCOUNT_MANAGER, []),
    ("demo", "operator@demo.test", "Olivia Operator 李娜", Role.OPERATOR, []),
    ("demo", "analyst@demo.test", "Andy Analyst 张伟", Role.ANALYST, []),
    ("demo", "owner@brand-a.test", "Brand A Owner 赵总", Role.BRAND_OWNER, ["Brand A"]),
    ("demo", "viewer@brand-a.test", "Brand A Viewer 孙小姐", Role.BRAND_VIEWER, ["Brand A"]),
    ("demo", "owner@brand-b.test", "Brand B Owner 周总", Role.BRAND_OWNER, ["Brand B"]),
    ("rival", "manager@rival.test", "Rita Rival 刘强", Role.ADMIN, []),
]

# (agency, brand, store name, shop id, url)
STORES = [
    ("demo", "Brand A", "Brand A 旗舰店", "100000001", "https://brand-a.tmall.com"),
    ("demo", "Brand B", "Brand B 官方旗舰店", "100000002", "https://brand-b.tmall.com"),
    ("rival", "Rival Brand", "Rival Brand 旗舰店", "200000001", "https://rival-brand.tmall.com"),
]

# (agency, store shop id, title, goal, services, stage, start offset in days, manager e-mail)
ENGAGEMENTS = [
    (
        "demo",
        "100000001",
        "Brand A 全链路增长 2026",
        Goal.GROWTH,
        list(Service.values),
        Stage.MONITORING,
        -420,
        "manager@demo.test",
    ),
    (
        "demo",
        "100000001",
        "Brand A 双11 付费推广",
        Goal.GROWTH,
        [Service.TRAFFIC, Service.MONITORING],
        Stage.TRAFFIC,
        -60,
        "manager@demo.test",
    ),
    (
        "demo",
        "100000002",
        "Brand B 新品破零",
        Goal.FIRST_SALE,
        list(Service.values),
        Stage.PROPOSAL,
        -20,
        "manager@demo.test",
    ),
    (
        "demo",
        "100000002",
        "Brand B 库存清仓",
        Goal.CLEARANCE,
        [Service.TRAFFIC, Service.CONVERSION],
        Stage.DIAGNOSIS,
        -5,
        "admin@demo.test",
    ),
    (
        "rival",
        "200000001",
        "Rival Brand 全托管",
        Goal.GROWTH,
        list(Service.values),
        Stage.SETUP,
        -90,
        "manager@rival.test",
    ),
]


class Command(BaseCommand):
    help = "Load the demo agencies, people, brands, stores and engagements (DEBUG only)."

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it must never touch production.")
        agencies = {}
        for spec in AGENCIES:
            agency, _created = Agency.objects.get_or_create(
                slug=spec["slug"],
                defaults={"name": spec["name"], "primary_color": spec["primary_color"]},
            )
            agencies[spec["slug"]] = agency
        for slug, agency in agencies.items():
            with agency_scope(agency):
                self._seed_agency(slug, agency)
                self._seed_metrics()
                if slug == "demo":
                    self._seed_steps(agency)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: agencies demo and rival; every password is {DEMO_PASSWORD}; "
                f"agency admins also enter the code of TOTP secret {DEMO_TOTP_SECRET}."
            )
        )

    def _seed_metrics(self):
        """HISTORY_DAYS of daily figures for every demo store, from the demo simulator (the
        same connector the daily beat job pulls from), unless the store already has them."""
        yesterday = datetime.date.today() - datetime.timedelta(days=1)
        start = yesterday - datetime.timedelta(days=HISTORY_DAYS - 1)
        for store in Store.objects.exclude(connector=""):
            if StoreDayFact.objects.filter(store=store, date=yesterday).exists():
                continue
            runs = ingestion_pull(
                store=store, connector_name=store.connector, start=start, end=yesterday
            )
            failed = [run for run in runs if run.status != IngestionRun.Status.SUCCEEDED]
            if failed:
                raise CommandError(f"Demo data for {store} failed: {failed[0].errors[:3]}")

    def _seed_steps(self, agency):
        """The step apps' demo: a published diagnosis for every engagement past step 1 (after
        the metrics, which its baseline reads), then the proposals (Brand A's waiting for the
        owner, Brand B's approved with live targets), then the workspace of steps 3 to 5 (Brand
        A's setup checklist, campaigns, event calendar, keywords, offers, service days, orders
        and tiers), then the monitoring: targets, a week of briefs, reviews."""
        for engagement in Engagement.objects.exclude(stage=Stage.DIAGNOSIS).select_related(
            "account_manager"
        ):
            diagnosis_seed_demo(engagement=engagement, actor=engagement.account_manager)
        proposals_seed_demo(agency=agency)
        setup_seed_demo(agency=agency)
        traffic_seed_demo(agency=agency)
        conversion_seed_demo(agency=agency)
        reporting_seed_demo(agency=agency)

    def _seed_totp_device(self, user):
        """The documented authenticator app of a demo admin, unless the admin set up their own."""
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(
                user=user,
                name="Demo authenticator",
                confirmed=True,
                key=base64.b32decode(DEMO_TOTP_SECRET).hex(),
            )

    def _seed_agency(self, slug, agency):
        brands = {}
        for agency_slug, brand_name, store_name, shop_id, url in STORES:
            if agency_slug != slug:
                continue
            brand, _ = Brand.objects.get_or_create(agency=agency, name=brand_name)
            brands[brand_name] = brand
            Store.objects.get_or_create(
                agency=agency,
                shop_id=shop_id,
                defaults={
                    "brand": brand,
                    "name": store_name,
                    "url": url,
                    "situation": StoreSituation.EXISTING,
                    "connector": "demo",
                },
            )
        memberships = {}
        for agency_slug, email, full_name, role, brand_names in PEOPLE:
            if agency_slug != slug:
                continue
            user, created = User.objects.get_or_create(
                email=email, defaults={"full_name": full_name}
            )
            if created:  # a demo user who changed the password keeps it
                user.set_password(DEMO_PASSWORD)
                user.save()
            membership, _ = Membership.objects.get_or_create(
                agency=agency, user=user, defaults={"role": role}
            )
            if role == Role.ADMIN:
                self._seed_totp_device(user)
            memberships[email] = membership
            for brand_name in brand_names:
                MembershipBrand.objects.get_or_create(
                    agency=agency, membership=membership, brand=brands[brand_name]
                )
        actor = next(m for m in memberships.values() if m.role == Role.ADMIN)
        today = datetime.date.today()
        for agency_slug, shop_id, title, goal, services, stage, offset, manager in ENGAGEMENTS:
            if agency_slug != slug or Engagement.objects.filter(title=title).exists():
                continue
            staff = [m for m in memberships.values() if m.is_staff_member]
            engagement_create(
                actor=actor,
                store=Store.objects.get(shop_id=shop_id),
                title=title,
                goal=goal,
                scope_services=services,
                start_date=today + datetime.timedelta(days=offset),
                account_manager=memberships[manager],
                team=[m for m in staff if m.role in {Role.OPERATOR, Role.ANALYST}],
                internal_notes="Demo: margin on this account is thin; watch ad spend.",
                stage=stage,
                reason="Demo data: the engagement was already under way when it joined the portal.",
            )
