"""The brand owner works in the execution workspace in real Chromium: follows the setup panel
from the engagement page to the checklist, sees only what the agency shares, is refused a change
request without a comment, approves the homepage design, and reads the event calendar with the
brand's campaign over 双11. No console error, and no request leaves the portal."""

import datetime
import os

import pytest
from django.utils import timezone

from agency.tenancy import agency_scope
from conftest import PASSWORD
from engagements.lifecycle import Stage
from execution.models import (
    BrandDecision,
    Campaign,
    Channel,
    EventKind,
    PlatformEvent,
    SetupItem,
    SetupItemStatus,
    SetupSection,
)

# See tests/test_browser.py: Playwright's sync API beside Django's ORM in one test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workspace(make_engagement, store_a, demo_manager):
    engagement = make_engagement(store_a, demo_manager, stage=Stage.SETUP, title="Brand A 开店")
    month = timezone.localdate().replace(day=1)
    with agency_scope(store_a.agency_id):
        homepage = SetupItem.objects.create(
            engagement=engagement,
            section=SetupSection.VISUAL,
            title="首页设计",
            owner=demo_manager,
            status=SetupItemStatus.BRAND_REVIEW,
            needs_brand_approval=True,
        )
        SetupItem.objects.create(
            engagement=engagement,
            section=SetupSection.REGISTRATION,
            title="INTERNAL-ONLY-ITEM",
            brand_visible=False,
        )
        PlatformEvent.objects.create(
            agency_id=store_a.agency_id,
            name="双11 全球狂欢节",
            kind=EventKind.DOUBLE_11,
            start_date=month,
            end_date=month + datetime.timedelta(days=10),
        )
        for name, visible in (("双11 主会场", True), ("INTERNAL-ONLY-CAMPAIGN", False)):
            Campaign.objects.create(
                engagement=engagement,
                name=name,
                channel=Channel.PLATFORM_EVENT,
                start_date=month + datetime.timedelta(days=2),
                end_date=month + datetime.timedelta(days=12),
                brand_visible=visible,
            )
    return engagement, homepage


def test_the_brand_owner_approves_a_design_and_reads_the_calendar(
    page, live_server, brand_a_owner, workspace
):
    engagement, homepage = workspace
    errors, foreign = [], []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if not request.url.startswith(live_server.url) and not request.url.startswith("data:")
            else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", brand_a_owner.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/demo/")

    page.goto(f"{live_server.url}/demo/engagements/{engagement.pk}/")
    panel = page.locator("#setup-panel")
    assert "Waiting for the brand: 1" in panel.inner_text()
    panel.get_by_role("link", name="Open the setup checklist").click()
    page.wait_for_url(f"{live_server.url}/demo/engagements/{engagement.pk}/setup/")
    assert page.get_by_text("INTERNAL-ONLY-ITEM").count() == 0
    page.get_by_role("link", name="首页设计").click()

    # A change request must say what should change: refused, and the item stays waiting.
    page.get_by_label("Request changes").check()
    page.get_by_role("button", name="Send").click()
    assert page.locator("#setup-decision").get_by_text("say what should change").count() >= 1
    homepage.refresh_from_db()
    assert homepage.status == SetupItemStatus.BRAND_REVIEW and homepage.brand_decision == ""

    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    homepage.refresh_from_db()
    assert homepage.status == SetupItemStatus.DONE
    assert homepage.brand_decision == BrandDecision.APPROVED
    assert homepage.brand_decided_by_id == brand_a_owner.user_id
    assert "Approved" in page.locator("main").inner_text()
    assert page.locator("#setup-decision").count() == 0

    # The calendar: the agency's events, and only the campaigns meant for the brand.
    page.get_by_role("link", name="Event calendar").click()
    page.wait_for_url(f"{live_server.url}/demo/calendar/**")
    calendar = page.locator("main").inner_text()
    assert "双11 全球狂欢节" in calendar and "双11 主会场" in calendar
    assert "INTERNAL-ONLY-CAMPAIGN" not in calendar

    # The refused change request answered 400 (a refused form does, as everywhere in the
    # portal), which Chromium logs; nothing else may have gone wrong.
    refused = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    assert errors == [refused]
    assert foreign == []
