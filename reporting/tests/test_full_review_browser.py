"""The full review in real Chromium: the account manager drafts it from the engagement page,
answers the questions, adds an action item, previews it as the brand and publishes it; the brand
owner then reads it (without the internal campaign) and the console shows no error."""

import datetime
import os

import pytest

from agency.models import Role
from agency.tenancy import agency_scope
from execution.models import Campaign, CampaignStatus, Channel
from reporting.models import FullReview, ReviewStatus
from reporting.tests.test_browser import push, sign_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def engagement_with_data(engagement_a, store_a, make_member, demo_agency):
    operator = make_member(demo_agency, Role.OPERATOR)
    first = datetime.date(2026, 1, 1)
    push(
        store_a,
        operator,
        "store_day",
        [
            {
                "date": (first + datetime.timedelta(days=n)).isoformat(),
                "visitors": 1000 + 10 * n,
                "paying_buyers": 20 + n % 5,
                "gmv": f"{3000 + 20 * n}.00",
            }
            for n in range(90)
        ],
    )
    with agency_scope(engagement_a.agency_id):
        for name, visible in (("Spring search push", True), ("STAFF-ONLY campaign", False)):
            Campaign.objects.create(
                engagement=engagement_a,
                name=name,
                channel=Channel.LIVESTREAM,
                start_date=datetime.date(2026, 2, 1),
                end_date=datetime.date(2026, 2, 20),
                status=CampaignStatus.FINISHED,
                brand_visible=visible,
            )
    return engagement_a


def watch(page, live_server) -> tuple[list, list]:
    errors, foreign = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda r: foreign.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    return errors, foreign


def test_the_manager_publishes_a_full_review_and_the_brand_reads_it(
    page, browser, live_server, demo_manager, brand_a_owner, engagement_with_data
):
    engagement = engagement_with_data
    errors, foreign = watch(page, live_server)
    sign_in(page, live_server, demo_manager.user.email)
    page.goto(f"{live_server.url}/demo/engagements/{engagement.pk}/")
    page.get_by_role("link", name="Full reviews (全面复盘) and long-term plans").click()
    page.fill("#id_period_start", "2026-01-01")
    page.fill("#id_period_end", "2026-03-31")
    page.get_by_role("button", name="Draft the full review").click()
    page.wait_for_selector("#full-review-answers")
    assert "STAFF-ONLY campaign" in page.locator("#full-review-timeline").inner_text()

    page.fill("#id_target_answer", "GMV target met in February and March.")
    page.fill("#id_cause_answer", "January's traffic was thin: the store was new.")
    page.locator("#full-review-answers button[type=submit]").click()
    page.wait_for_selector("text=Answers saved.")
    page.fill("#id_action-title", "Book two livestreams a week")
    page.select_option("#id_action-owner", str(demo_manager.pk))
    page.fill("#id_action-due_date", "2026-04-15")
    page.get_by_role("button", name="Add the action").click()
    page.wait_for_selector("text=Book two livestreams a week")

    page.get_by_role("link", name="Preview as the brand").click()
    page.wait_for_selector(".preview-banner")
    timeline = page.locator("#full-review-timeline").inner_text()
    assert "Spring search push" in timeline and "STAFF-ONLY campaign" not in timeline
    assert page.locator("#full-review-answers").count() == 0
    page.get_by_role("link", name="Back to the editor").click()

    page.locator("#full-review-publish button[type=submit]").click()
    page.wait_for_selector("#review-status.status-published")
    review = FullReview.objects.unscoped().get()
    assert review.status == ReviewStatus.PUBLISHED
    assert errors == [] and foreign == []

    brand = browser.new_context().new_page()
    brand_errors, brand_foreign = watch(brand, live_server)
    sign_in(brand, live_server, brand_a_owner.user.email)
    brand.goto(f"{live_server.url}/demo/full-reviews/{review.pk}/")
    text = brand.locator("main").inner_text()
    assert "January's traffic was thin" in text and "Book two livestreams a week" in text
    assert "Spring search push" in text and "STAFF-ONLY campaign" not in text
    assert brand.get_by_role("link", name="Download PDF").count() == 1
    assert brand.locator("main form[method=post]").count() == 0  # nothing to change
    assert brand_errors == [] and brand_foreign == []
