"""The brand owner approves a proposal in real Chromium, and staff then see the evidence."""

import os

import pytest

from agency.models import Role
from conftest import PASSWORD

# See tests/test_browser.py: Playwright's sync API beside Django's ORM in one test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/demo/")


def test_the_brand_owner_approves_with_their_name_and_staff_see_the_evidence(
    page, live_server, make_member, demo_agency, brand_a, demo_manager, engagement_a, make_proposal
):
    owner = make_member(
        demo_agency,
        Role.BRAND_OWNER,
        email="li.ming@brand-a.test",
        full_name="李明",
        brands=[brand_a],
    )
    proposal, version = make_proposal(engagement_a, demo_manager, send=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    sign_in(page, live_server, owner.user.email)
    page.goto(f"{live_server.url}/demo/engagements/{engagement_a.pk}/")
    page.get_by_role("link", name=proposal.title).click()
    page.wait_for_url(f"{live_server.url}/demo/proposals/versions/{version.pk}/")
    assert page.get_by_text("GMV ≥ 500,000.00 in month 3").first.is_visible()
    approve = page.get_by_role("button", name="Approve", exact=True)
    assert approve.bounding_box()["width"] > 300  # a big button across the phone's width
    page.fill("input[name=signed_name]", "李明")
    approve.click()
    page.wait_for_selector("#evidence")
    assert "Approved" in page.locator("#version-status").inner_text()

    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, demo_manager.user.email)
    page.goto(f"{live_server.url}/demo/proposals/versions/{version.pk}/")
    assert "Approved" in page.locator("#version-status").inner_text()
    evidence = page.locator("#evidence").inner_text()
    assert "李明" in evidence and "li.ming@brand-a.test" in evidence
    assert "127.0.0.1" in evidence and "Chrome" in evidence
    version.refresh_from_db()
    assert version.content_hash in evidence
    page.goto(f"{live_server.url}/demo/engagements/{engagement_a.pk}/")
    assert page.locator("[aria-current=step]").inner_text().strip().startswith("3")
