"""Cross-tenant isolation over every URL of the project (see tests/isolation.py)."""

import pytest
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from agency.models import Brand
from agency.permissions import staff_required
from agency.urls import urlpatterns as project_urlpatterns
from engagements.models import Engagement
from tests.images import png_bytes
from tests.isolation import World, check_isolation, enumerate_routes


@pytest.fixture
def run_a(store_a):
    from agency.tenancy import agency_scope
    from execution.models import IngestionRun

    with agency_scope(store_a.agency_id):
        return IngestionRun.objects.create(
            store=store_a,
            source=IngestionRun.Source.UPLOAD,
            filename="brand-a.csv",
            status=IngestionRun.Status.FAILED,
            errors=[{"row": 3, "column": "访客数", "value": "abc", "message": "not a number"}],
            errors_total=1,
        )


@pytest.fixture
def token_a(demo_agency, brand_a):
    from agency.services import api_token_create
    from agency.tenancy import agency_scope

    with agency_scope(demo_agency):
        token, _secret = api_token_create(
            actor=None,
            agency=demo_agency,
            name="Brand A BI",
            scopes=["metrics:read"],
            brand=brand_a,
        )
    return token


# Step apps map their own URL arguments to Brand A objects: each app's `tests/fixtures.py`
# (loaded by the root conftest's `pytest_plugins`) defines one of these fixtures.
APP_URL_ARGUMENT_FIXTURES = (
    "diagnostics_url_arguments",
    "execution_url_arguments",
    "proposals_url_arguments",
    "reporting_url_arguments",
)


def app_url_arguments(request) -> dict:
    arguments = {}
    for name in APP_URL_ARGUMENT_FIXTURES:
        arguments.update(request.getfixturevalue(name))
    return arguments


@pytest.fixture
def world(
    request,
    demo_admin,
    rival_manager,
    brand_a_owner,
    brand_b_owner,
    engagement_a,
    store_a,
    brand_a,
    run_a,
    token_a,
):
    # Every page must exist for the agency's own admin, the logo included.
    demo_admin.agency.logo.save("logo.png", ContentFile(png_bytes()), save=True)

    def logged_in(membership):
        client = Client()
        client.force_login(membership.user)
        return client

    return World(
        demo_slug=demo_admin.agency.slug,
        rival_slug=rival_manager.agency.slug,
        # Which Brand A object fills each URL argument. A new URL argument must be added here.
        url_arguments={
            "engagement_id": lambda: engagement_a.pk,
            "brand_id": lambda: brand_a.pk,
            "store_id": lambda: store_a.pk,
            "membership_id": lambda: brand_a_owner.pk,
            "run_id": lambda: run_a.pk,
            "token_id": lambda: token_a.pk,
            **app_url_arguments(request),
        },
        plain_arguments={"kind": "brand"},
        owner_client=logged_in(demo_admin),
        rival_client=logged_in(rival_manager),
        brand_b_client=logged_in(brand_b_owner),
        brand_a_markers=[engagement_a.title, store_a.name, brand_a.name, "SECRET-MARGIN-NOTE"],
    )


def test_every_url_is_isolated_between_agencies_and_brands(world):
    assert check_isolation(world) == []


def test_the_check_covers_every_tenant_url():
    routes = {route.name for route in enumerate_routes()}
    # A few that must be there; the point is that nothing is listed by hand in the check itself.
    assert {
        "engagements:list",
        "engagements:detail",
        "engagements:move",
        "brand_detail",
        "member_edit",
        "agency_settings",
    } <= routes


# --- the check itself must catch a view that forgets scoping -----------------------------------


def leaky_tenant_view(request, engagement_id):
    """Deliberately wrong: reads through the escape hatch instead of the scoped getter."""
    engagement = Engagement.objects.unscoped().get(pk=engagement_id)
    return HttpResponse(engagement.title)


@staff_required
def leaky_staff_view(request, brand_id):
    """Deliberately wrong: a staff page that reads a brand through the escape hatch."""
    return HttpResponse(Brand.objects.unscoped().get(pk=brand_id).name)


def leaky_global_view(request, engagement_id):
    """Deliberately wrong: an object URL outside the tenant prefix, with no membership check."""
    if not request.user.is_authenticated:
        return HttpResponse(status=302, headers={"Location": "/accounts/login/"})
    return HttpResponse(Engagement.objects.unscoped().get(pk=engagement_id).title)


urlpatterns = [
    path("<slug:agency_slug>/leak/<int:engagement_id>/", leaky_tenant_view, name="leak_tenant"),
    path("<slug:agency_slug>/leak-staff/<int:brand_id>/", leaky_staff_view, name="leak_staff"),
    path("leak/<int:engagement_id>/", leaky_global_view, name="leak_global"),
    *project_urlpatterns,
]


@override_settings(ROOT_URLCONF=__name__)
def test_the_check_fails_when_a_view_forgets_scoping(world):
    failures = check_isolation(world)
    assert any("leak_tenant" in line and "Brand B user got 200" in line for line in failures)
    assert any("leak_global" in line and "another agency got 200" in line for line in failures)
    assert any(
        "leak_staff" in line and "another agency's admin got 200" in line for line in failures
    )
    # ... and only the leaky views fail.
    assert all("leak_" in line for line in failures)


@override_settings(ROOT_URLCONF=__name__)
def test_the_check_fails_on_an_unmapped_url_argument(world):
    world.url_arguments.pop("engagement_id")
    failures = check_isolation(world)
    assert any("no Brand A object for URL argument(s) engagement_id" in line for line in failures)


def test_only_superusers_reach_the_admin(client, demo_admin, rival_manager):
    client.force_login(demo_admin.user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
