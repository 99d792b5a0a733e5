"""Test fixtures shared by every app: factories that return create-functions (Saleor style) and a
small world of named users in two agencies (Zulip style):

    demo agency:  demo_admin, demo_manager, demo_operator; Brand A (brand_a_owner, brand_a_viewer)
                  and Brand B (brand_b_owner), each with a store and an engagement
    rival agency: rival_manager, with its own brand, store and engagement

Every fixture writes inside `agency_scope`, exactly as services do in a request.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.conf import settings
from django.utils import translation

from agency.models import Agency, Brand, Membership, MembershipBrand, Role, Store, User
from agency.tenancy import agency_scope
from engagements.lifecycle import Service, Stage
from engagements.models import Engagement, EngagementTransition, Goal

# Fixtures of step apps that other apps' tests (the isolation check) use too.
pytest_plugins = [
    "diagnostics.tests.fixtures",
    "execution.tests.fixtures",
    "execution.tests.fixtures_setup",
    "execution.tests.fixtures_traffic",
    "execution.tests.fixtures_conversion",
    "proposals.tests.fixtures",
    "reporting.tests.fixtures",
]

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)

# --- the database roles: created and migrated as the owner, tested as the app role ------------
#
# With DATABASE_OWNER_URL set (make services sets it), the test database is created and migrated
# by the owner role, as in production, and every test then connects as DATABASE_URL's role: no
# superuser, no BYPASSRLS, owning no table, so PostgreSQL's row-level security is really in force
# for every test (agency/rls.py). TRUNCATE is granted on the test database only, for the flush
# between transactional tests.


def _use_role(url: str) -> None:
    import dj_database_url
    from django.db import connections

    role = dj_database_url.parse(url)
    for connection in connections.all():
        connection.close()
    for settings_dict in (settings.DATABASES["default"], connections["default"].settings_dict):
        settings_dict.update(USER=role["USER"], PASSWORD=role.get("PASSWORD", ""))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    if settings.DATABASE_OWNER_URL:
        _use_role(settings.DATABASE_OWNER_URL)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    import os

    if not settings.DATABASE_OWNER_URL:
        yield
        return
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{settings.DATABASE_APP_ROLE}"'
        )
    _use_role(os.environ["DATABASE_URL"])
    yield
    _use_role(settings.DATABASE_OWNER_URL)  # the owner drops the test database


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright cannot download its own browser on these machines."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(autouse=True)
def default_language():
    """A request or task leaves its language active in the thread, as Django does; each test
    starts again from the settings' language."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def make_agency(db):
    def make(slug: str | None = None, **fields) -> Agency:
        number = next(_sequence)
        fields.setdefault("default_language", "en")  # tests read English; see settings.test
        return Agency.objects.create(
            slug=slug or f"agency-{number}", name=fields.pop("name", f"Agency {number}"), **fields
        )

    return make


@pytest.fixture
def make_member(db):
    def make(
        agency: Agency,
        role: str = Role.ACCOUNT_MANAGER,
        *,
        email: str | None = None,
        brands: list[Brand] = (),
        full_name: str = "",
        password: str = PASSWORD,
        user: User | None = None,
    ) -> Membership:
        if user is None:
            email = email or f"person{next(_sequence)}@example.test"
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
        with agency_scope(agency):
            membership = Membership.objects.create(agency=agency, user=user, role=role)
            for brand in brands:
                MembershipBrand.objects.create(membership=membership, brand=brand)
        return membership

    return make


@pytest.fixture
def make_brand(db):
    def make(agency: Agency, name: str | None = None) -> Brand:
        with agency_scope(agency):
            return Brand.objects.create(agency=agency, name=name or f"Brand {next(_sequence)}")

    return make


@pytest.fixture
def make_store(db):
    def make(brand: Brand, **fields) -> Store:
        number = next(_sequence)
        fields.setdefault("name", f"{brand.name} 旗舰店 {number}")
        fields.setdefault("shop_id", str(100000000 + number))
        with agency_scope(brand.agency_id):
            return Store.objects.create(brand=brand, **fields)

    return make


@pytest.fixture
def make_token(db):
    """Create an API token and return its secret (all scopes unless told otherwise)."""
    from agency.models import ApiScope
    from agency.services import api_token_create

    def make(
        agency: Agency,
        *,
        scopes: list[str] | None = None,
        brand: Brand | None = None,
        expires_days: int | None = None,
        name: str = "integration",
    ) -> str:
        with agency_scope(agency):
            _token, secret = api_token_create(
                actor=None,
                agency=agency,
                name=name,
                scopes=list(ApiScope.values) if scopes is None else scopes,
                brand=brand,
                expires_days=expires_days,
            )
        return secret

    return make


@pytest.fixture
def api(client):
    """Call the API with a bearer token: `api.get(secret, url, **params)`, `api.post(...)`."""

    class Api:
        def get(self, secret: str | None, url: str, headers: dict | None = None, **params):
            return client.get(url, params, headers=_bearer(secret, headers))

        def post(self, secret: str | None, url: str, data=None, headers=None, **kwargs):
            kwargs.setdefault("content_type", "application/json")
            return client.post(url, data, headers=_bearer(secret, headers), **kwargs)

    def _bearer(secret, headers):
        return {**({"Authorization": f"Bearer {secret}"} if secret else {}), **(headers or {})}

    return Api()


@pytest.fixture
def make_engagement(db):
    def make(
        store: Store,
        manager: Membership,
        *,
        stage: str = Stage.DIAGNOSIS,
        services: list[str] | None = None,
        **fields,
    ) -> Engagement:
        fields.setdefault("title", f"Engagement {next(_sequence)}")
        fields.setdefault("goal", Goal.GROWTH)
        fields.setdefault("start_date", datetime.date(2026, 1, 1))
        with agency_scope(store.agency_id):
            engagement = Engagement.objects.create(
                store=store,
                account_manager=manager,
                stage=stage,
                scope_services=list(Service.values) if services is None else services,
                **fields,
            )
            EngagementTransition.objects.create(
                engagement=engagement, from_stage="", to_stage=stage, actor=manager.user
            )
        return engagement

    return make


@pytest.fixture
def demo_agency(make_agency):
    return make_agency(slug="demo", name="Demo Agency")


@pytest.fixture
def rival_agency(make_agency):
    return make_agency(slug="rival", name="Rival Agency")


@pytest.fixture
def brand_a(make_brand, demo_agency):
    return make_brand(demo_agency, "Brand A")


@pytest.fixture
def brand_b(make_brand, demo_agency):
    return make_brand(demo_agency, "Brand B")


@pytest.fixture
def rival_brand(make_brand, rival_agency):
    return make_brand(rival_agency, "Rival Brand")


@pytest.fixture
def store_a(make_store, brand_a):
    return make_store(brand_a, name="Brand A 旗舰店")


@pytest.fixture
def store_b(make_store, brand_b):
    return make_store(brand_b, name="Brand B 官方旗舰店")


@pytest.fixture
def rival_store(make_store, rival_brand):
    return make_store(rival_brand, name="Rival 旗舰店")


@pytest.fixture
def demo_admin(make_member, demo_agency):
    return make_member(demo_agency, Role.ADMIN, email="admin@demo.test", full_name="Alice Admin")


@pytest.fixture
def demo_manager(make_member, demo_agency):
    return make_member(
        demo_agency, Role.ACCOUNT_MANAGER, email="manager@demo.test", full_name="Max Manager"
    )


@pytest.fixture
def demo_operator(make_member, demo_agency):
    return make_member(demo_agency, Role.OPERATOR, email="operator@demo.test")


@pytest.fixture
def rival_manager(make_member, rival_agency):
    return make_member(rival_agency, Role.ADMIN, email="manager@rival.test")


@pytest.fixture
def brand_a_owner(make_member, demo_agency, brand_a):
    return make_member(demo_agency, Role.BRAND_OWNER, email="owner@brand-a.test", brands=[brand_a])


@pytest.fixture
def brand_a_viewer(make_member, demo_agency, brand_a):
    return make_member(
        demo_agency, Role.BRAND_VIEWER, email="viewer@brand-a.test", brands=[brand_a]
    )


@pytest.fixture
def brand_b_owner(make_member, demo_agency, brand_b):
    return make_member(demo_agency, Role.BRAND_OWNER, email="owner@brand-b.test", brands=[brand_b])


@pytest.fixture
def engagement_a(make_engagement, store_a, demo_manager):
    return make_engagement(
        store_a, demo_manager, title="Brand A growth", internal_notes="SECRET-MARGIN-NOTE"
    )


@pytest.fixture
def engagement_b(make_engagement, store_b, demo_manager):
    return make_engagement(store_b, demo_manager, title="Brand B launch")


@pytest.fixture
def rival_engagement(make_engagement, rival_store, rival_manager):
    return make_engagement(rival_store, rival_manager, title="Rival engagement")


@pytest.fixture
def client_for(client):
    """Log a membership's user in on the test client and return the client."""

    def login(membership: Membership):
        client.force_login(membership.user)
        return client

    return login


@pytest.fixture
def push(django_capture_on_commit_callbacks, make_member):
    """Push rows for a store and grain and run the queued task (eagerly), as an integration
    would; returns the finished run. The default sender is an operator of the store's agency."""
    from execution.metrics.ingestion import ingestion_push

    operators = {}

    def push_rows(store, grain, rows, actor=None):
        if actor is None:
            if store.agency_id not in operators:
                operators[store.agency_id] = make_member(store.agency, Role.OPERATOR)
            actor = operators[store.agency_id]
        with agency_scope(store.agency_id), django_capture_on_commit_callbacks(execute=True):
            run = ingestion_push(actor=actor, store=store, grain=grain, rows=rows)
        run.refresh_from_db()
        return run

    return push_rows


@pytest.fixture
def worker_queue():
    """Start `celery worker` (two processes) on a queue of its own and send every task queued
    meanwhile there; stop it (SIGTERM, warm shutdown) afterwards. Yields (queue, process)."""
    import os
    import subprocess
    import sys
    import uuid

    from django.db import connection

    from agency.celery import app as celery_app

    assert settings.REDIS_URL, "The worker test needs REDIS_URL (make services prints it)."
    queue = f"test-{uuid.uuid4().hex[:8]}"
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agency.settings.test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
    }
    worker = subprocess.Popen(
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
            f"{queue}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue  # what services queue goes to this worker
    try:
        yield queue, worker
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = default_queue
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


# --- two-factor sign-in (agency/two_factor.py) ------------------------------------------------


def totp_device_for(user):
    """The user's confirmed authenticator app, created (with a fresh secret) when there is none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agency.two_factor import totp_device_confirmed_for

    return totp_device_confirmed_for(user) or TOTPDevice.objects.create(
        user=user, name="test phone", confirmed=True
    )


def totp_code(device) -> str:
    """The code the device's app shows now (django_otp.oath's TOTP), as a person types it. A code
    is accepted once: if this step's was spent already, the next step's (accepted one step
    ahead), and when that one is spent too, the code after waiting for the next step."""
    import time

    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if device.last_t >= totp.t() + device.tolerance:
        time.sleep(device.step - (totp.time - device.t0) % device.step + 0.1)
        totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time += device.step * (device.last_t + 1 - totp.t())
    return f"{totp.token():0{device.digits}d}"


def sign_in_device(email: str):
    """For browser tests that sign in through the pages: the device whose code the portal will
    ask for after the password (an agency admin gets one), or None when it asks for none. Call it
    before submitting the password."""
    from agency.two_factor import totp_device_confirmed_for, user_is_agency_admin

    user = User.objects.get(email=email)
    if totp_device_confirmed_for(user) is None and not user_is_agency_admin(user):
        return None
    return totp_device_for(user)


@pytest.fixture(autouse=True)
def forced_login_passes_two_factor(monkeypatch):
    """`client.force_login(user)` stands for a finished sign-in: the password and, for a user who
    has an authenticator app or must have one (agency admins), its code: the session is marked
    verified as `django_otp.login` does. The code step itself is tested through the real pages
    (agency/tests/test_two_factor.py), which never force a login."""
    from django.test.client import ClientMixin
    from django_otp import DEVICE_ID_SESSION_KEY

    from agency.two_factor import totp_device_confirmed_for, user_is_agency_admin

    force_login = ClientMixin.force_login

    def force_verified_login(self, user, backend=None):
        force_login(self, user, backend)
        device = totp_device_confirmed_for(user)
        if device is None and user_is_agency_admin(user):
            device = totp_device_for(user)
        if device is not None:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(ClientMixin, "force_login", force_verified_login)
