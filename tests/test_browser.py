"""Real headless Chromium (Debian's), driven by Playwright, against the live test server."""

import os
from urllib.parse import parse_qs, urlparse

import pytest

from agency.models import Agency
from conftest import PASSWORD, sign_in_device, totp_code

# Playwright's sync API runs an event loop in this thread; Django's ORM (the session's database
# setup, the live server, the fixtures) refuses to run beside one unless told it is safe. It must
# be set before the session fixtures run, so it holds for the whole test process; the portal has
# no async code whose misuse this check would catch.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email):
    device = sign_in_device(email)  # an agency admin signs in with a code as well
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    if device is not None:
        page.wait_for_url("**/accounts/two-factor/verify/**")
        page.fill("input[name=code]", totp_code(device))
        page.click("button[type=submit].primary")


def test_a_brand_owner_sees_only_the_own_brands_engagements(
    page, live_server, brand_a_owner, engagement_a, engagement_b
):
    sign_in(page, live_server, brand_a_owner.user.email)

    page.wait_for_url(f"{live_server.url}/demo/")
    table = page.locator("#engagement-table")
    assert table.get_by_text(engagement_a.title).is_visible()
    assert table.get_by_text(engagement_b.title).count() == 0
    page.get_by_text(engagement_a.title).click()
    page.wait_for_url(f"{live_server.url}/demo/engagements/{engagement_a.pk}/")
    assert page.locator("[aria-current=step]").inner_text().strip().startswith("1")
    assert page.get_by_text("SECRET-MARGIN-NOTE").count() == 0  # internal notes never shown
    assert page.locator("form.move").count() == 0  # read-only


def test_staff_filter_the_list_without_a_full_page_reload(
    page, live_server, demo_manager, engagement_a, engagement_b
):
    sign_in(page, live_server, demo_manager.user.email)
    page.wait_for_url(f"{live_server.url}/demo/")
    page.evaluate("window.__notReloaded = true")

    page.fill("input[name=q]", "Brand B")
    page.wait_for_function(
        "!document.querySelector('#engagement-table').innerText.includes('Brand A growth')"
    )

    table = page.locator("#engagement-table")
    assert table.get_by_text(engagement_b.title).is_visible()
    assert page.evaluate("window.__notReloaded") is True  # htmx swapped the table only
    assert parse_qs(urlparse(page.url).query)["q"] == ["Brand B"]  # the filtered list's address


def test_switching_to_english_is_remembered_for_the_user(page, live_server, demo_manager):
    Agency.objects.filter(pk=demo_manager.agency_id).update(default_language="zh-hans")
    sign_in(page, live_server, demo_manager.user.email)
    page.wait_for_url(f"{live_server.url}/demo/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", name="代运营项目").is_visible()

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    demo_manager.user.refresh_from_db()
    assert demo_manager.user.language == "en"


def test_staff_move_the_stage_and_the_timeline_updates_in_place(
    page, live_server, demo_manager, engagement_a
):
    sign_in(page, live_server, demo_manager.user.email)
    page.goto(f"{live_server.url}/demo/engagements/{engagement_a.pk}/")
    page.evaluate("window.__notReloaded = true")

    page.select_option("select[name=to_stage]", "proposal")
    page.fill("textarea[name=reason]", "diagnosis report sent to the brand")
    page.click("form.move button[type=submit]")

    page.wait_for_selector("[aria-current=step] >> text=Custom proposal")
    assert page.get_by_text("diagnosis report sent to the brand").is_visible()
    assert page.evaluate("window.__notReloaded") is True

    page.select_option("select[name=to_stage]", "setup")
    page.click("form.move button[type=submit]")
    page.wait_for_selector(".errors >> text=waits for an approved proposal")


def test_the_api_docs_render_every_operation_from_local_files(page, live_server, demo_admin):
    """Swagger UI works with no internet: its scripts come from the portal's static files."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = sum(
        1
        for operations in schema["paths"].values()
        for method in operations
        if method != "parameters"
    )
    foreign = []
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if not request.url.startswith(live_server.url) and not request.url.startswith("data:")
            else None
        ),
    )
    sign_in(page, live_server, demo_admin.user.email)
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() == operations
    assert foreign == []
