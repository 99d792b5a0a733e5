"""The brand's approval of setup items (the visual system): staff send an item for review, which
notifies the brand's owners; only a brand owner of that brand approves (→ done) or requests
changes with a comment (→ in progress); the item's owner and the account manager hear of it; an
item that needs approval is never done without it."""

from __future__ import annotations

import html

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from agency.tenancy import agency_scope
from execution.models.setup import BrandDecision, SetupItemStatus
from execution.setup import services
from execution.tests.fixtures_setup import notification_titles


def url(name: str, item) -> str:
    return reverse(
        f"setup:{name}",
        kwargs={
            "agency_slug": item.engagement.agency.slug,
            "engagement_id": item.engagement_id,
            "setup_item_id": item.pk,
        },
    )


def login(membership) -> Client:
    """A client of its own per person (the `client_for` fixture shares one)."""
    client = Client()
    client.force_login(membership.user)
    return client


def refreshed(item):
    with agency_scope(item.agency_id):
        item.refresh_from_db()
    return item


@pytest.fixture
def homepage(make_setup_item, setup_engagement, demo_operator):
    return make_setup_item(
        setup_engagement,
        section="visual",
        title="首页改版",
        needs_brand_approval=True,
        owner=demo_operator,
        status=SetupItemStatus.IN_PROGRESS,
    )


def test_the_brand_owner_approves_after_changes(
    django_capture_on_commit_callbacks,
    homepage,
    demo_agency,
    demo_manager,
    demo_operator,
    brand_a_owner,
    brand_a_viewer,
    brand_b_owner,
):
    staff = login(demo_operator)
    # Not done before the brand approved it.
    response = staff.post(url("item_status", homepage), {"status": "done"})
    assert response.status_code == 400
    assert response.context["status_form"].errors["status"] == [
        "“首页改版” needs the brand's approval before it is done: move it to “Waiting for the "
        "brand” and let the brand owner approve it."
    ]
    assert refreshed(homepage).status == SetupItemStatus.IN_PROGRESS
    # Sent for review: the brand's owners hear of it, nobody else.
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url("item_status", homepage), {"status": "brand_review"})
    assert response.status_code == 302
    assert notification_titles(demo_agency, brand_a_owner) == [
        "Please review: 首页改版 (Brand A 开店)"
    ]
    assert [message.to for message in mail.outbox] == [["owner@brand-a.test"]]
    assert (
        notification_titles(demo_agency, brand_a_viewer)
        == notification_titles(demo_agency, brand_b_owner)
        == []
    )
    # The viewer reads it but may not decide.
    viewer = login(brand_a_viewer)
    page = viewer.get(url("item_detail", homepage))
    assert page.status_code == 200 and not page.context["can_decide"]
    assert viewer.post(url("item_decision", homepage), {"decision": "approved"}).status_code == 403
    # Staff cannot decide for the brand either.
    assert staff.post(url("item_decision", homepage), {"decision": "approved"}).status_code == 403
    owner = login(brand_a_owner)
    page = owner.get(url("item_detail", homepage))
    assert page.context["can_decide"] and "decision_form" in page.context
    # Requesting changes needs a comment.
    response = owner.post(url("item_decision", homepage), {"decision": "changes_requested"})
    assert response.status_code == 400
    assert response.context["decision_form"].errors["comment"] == [
        "Say what should change: a comment is required."
    ]
    assert refreshed(homepage).status == SetupItemStatus.BRAND_REVIEW
    response = owner.post(
        url("item_decision", homepage),
        {"decision": "changes_requested", "comment": "主图换成礼盒款"},
    )
    assert response.status_code == 302
    homepage = refreshed(homepage)
    assert (homepage.status, homepage.brand_decision, homepage.brand_comment) == (
        SetupItemStatus.IN_PROGRESS,
        BrandDecision.CHANGES_REQUESTED,
        "主图换成礼盒款",
    )
    assert homepage.brand_decided_by == brand_a_owner.user
    changes = "Changes requested by the brand: 首页改版"
    assert notification_titles(demo_agency, demo_operator) == [changes]
    assert notification_titles(demo_agency, demo_manager) == [changes]
    # A decision only while waiting for the brand.
    response = owner.post(url("item_decision", homepage), {"decision": "approved"})
    assert response.status_code == 400
    assert "“首页改版” is not waiting for the brand's decision (it is “In progress”)." in (
        html.unescape(response.content.decode())
    )
    # Second round: approved, done.
    staff.post(url("item_status", homepage), {"status": "brand_review"})
    response = owner.post(url("item_decision", homepage), {"decision": "approved"})
    assert response.status_code == 302
    homepage = refreshed(homepage)
    assert homepage.status == SetupItemStatus.DONE
    assert homepage.brand_decision == BrandDecision.APPROVED
    assert homepage.completed_at is not None
    assert notification_titles(demo_agency, demo_operator)[-1] == "Approved by the brand: 首页改版"


def test_reopening_an_approved_item_needs_a_new_approval(homepage, demo_operator, brand_a_owner):
    with agency_scope(homepage.agency_id):
        item = services.setup_item_set_status(
            actor=demo_operator, item=homepage, status="brand_review"
        )
        item = services.setup_item_brand_decide(actor=brand_a_owner, item=item, decision="approved")
        item = services.setup_item_set_status(actor=demo_operator, item=item, status="in_progress")
        assert (item.brand_decision, item.completed_at) == (BrandDecision.PENDING, None)
        with pytest.raises(ValidationError):
            services.setup_item_set_status(actor=demo_operator, item=item, status="done")


def test_only_items_that_need_approval_wait_for_the_brand(
    make_setup_item, setup_engagement, demo_operator
):
    item = make_setup_item(setup_engagement, section="base_settings", title="类目映射")
    with agency_scope(item.agency_id):
        with pytest.raises(ValidationError) as refused:
            services.setup_item_set_status(actor=demo_operator, item=item, status="brand_review")
        assert refused.value.message_dict["status"] == [
            "“类目映射” does not need the brand's approval; it cannot wait for the brand."
        ]
        done = services.setup_item_set_status(actor=demo_operator, item=item, status="done")
        assert done.status == SetupItemStatus.DONE and done.completed_at is not None


def test_a_brand_b_owner_cannot_decide_on_brand_a(homepage, demo_operator, brand_b_owner):
    with agency_scope(homepage.agency_id):
        item = services.setup_item_set_status(
            actor=demo_operator, item=homepage, status="brand_review"
        )
        with pytest.raises(PermissionDenied):
            services.setup_item_brand_decide(actor=brand_b_owner, item=item, decision="approved")
    assert refreshed(homepage).status == SetupItemStatus.BRAND_REVIEW
