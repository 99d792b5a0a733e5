"""Expiry reminders of qualification documents (once per expiry date, again after a renewal, from
the daily job per agency), the progress counts and panel of the engagement page, and the demo."""

from __future__ import annotations

import datetime

import pytest
from django.template.loader import render_to_string

from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from engagements.models import EngagementStatus
from execution.models.setup import SetupEvidence, SetupItem, SetupItemStatus
from execution.setup import selectors, services
from execution.setup.demo import DEMO_ENGAGEMENT, setup_seed_demo
from execution.setup.tasks import send_all_setup_expiry_reminders
from execution.tests.fixtures_setup import notification_titles

TODAY = datetime.date(2026, 6, 1)


def remind(agency, today=TODAY) -> int:
    with agency_scope(agency):
        return services.setup_expiry_reminders_send(agency=agency, today=today)


@pytest.fixture
def licence(make_setup_item, setup_engagement, demo_operator):
    return make_setup_item(
        setup_engagement,
        title="品牌授权书",
        document_kind="brand_authorisation",
        issue_date=datetime.date(2025, 6, 20),
        expiry_date=TODAY + datetime.timedelta(days=19),
        reminder_days=20,
        owner=demo_operator,
        status=SetupItemStatus.DONE,
    )


def test_a_document_is_reminded_once_per_expiry_date(
    licence, setup_engagement, demo_agency, demo_operator, demo_manager, demo_admin
):
    assert remind(demo_agency, today=TODAY - datetime.timedelta(days=2)) == 0  # 21 days ahead
    assert remind(demo_agency) == 1
    subject = "Document expires on 2026-06-20: 品牌授权书"
    assert notification_titles(demo_agency, demo_operator) == [subject]
    assert notification_titles(demo_agency, demo_manager) == [subject]  # the account manager
    assert notification_titles(demo_agency, demo_admin) == []
    # Repeated runs, the same day or later, notify nobody again.
    assert remind(demo_agency) == 0
    assert remind(demo_agency, today=TODAY + datetime.timedelta(days=25)) == 0
    assert len(notification_titles(demo_agency, demo_operator)) == 1
    # Renewed: a new expiry date is reminded again when its window opens.
    with agency_scope(demo_agency):
        services.setup_item_update(
            actor=demo_manager,
            item=licence,
            fields=services.ItemFields(
                section="qualification",
                title="品牌授权书",
                owner=demo_operator,
                document_kind="brand_authorisation",
                issue_date=datetime.date(2026, 6, 15),
                expiry_date=datetime.date(2027, 6, 20),
                reminder_days=20,
            ),
        )
    assert remind(demo_agency) == 0
    assert remind(demo_agency, today=datetime.date(2027, 6, 1)) == 1
    assert notification_titles(demo_agency, demo_operator)[-1] == (
        "Document expires on 2027-06-20: 品牌授权书"
    )


def test_expired_documents_are_reminded_and_closed_or_ended_ones_are_not(
    make_setup_item, make_engagement, setup_engagement, store_a, demo_agency, demo_manager
):
    make_setup_item(
        setup_engagement,
        title="营业执照",
        document_kind="business_licence",
        expiry_date=TODAY - datetime.timedelta(days=3),
    )
    make_setup_item(
        setup_engagement,
        title="旧质检报告",
        document_kind="quality_report",
        expiry_date=TODAY,
        status=SetupItemStatus.NOT_NEEDED,
    )
    ended = make_engagement(store_a, demo_manager, stage=Stage.SETUP, status=EngagementStatus.ENDED)
    make_setup_item(ended, title="已结束的授权书", document_kind="trademark", expiry_date=TODAY)
    assert remind(demo_agency) == 1
    assert notification_titles(demo_agency, demo_manager) == [
        "Document expired on 2026-05-29: 营业执照"
    ]


def test_the_daily_job_reminds_each_agency_in_its_own_scope(
    licence, make_setup_item, rival_engagement, demo_agency, rival_agency, rival_manager,
    demo_operator,
):  # fmt: skip
    # The job uses each agency's local today: put the documents inside the window from now.
    with agency_scope(demo_agency):
        SetupItem.objects.filter(pk=licence.pk).update(
            expiry_date=selectors.setup_today(demo_agency) + datetime.timedelta(days=5)
        )
    rival_item = make_setup_item(
        rival_engagement,
        title="营业执照",
        document_kind="business_licence",
        expiry_date=selectors.setup_today(rival_agency) + datetime.timedelta(days=5),
    )
    assert send_all_setup_expiry_reminders() >= 2
    assert len(notification_titles(demo_agency, demo_operator)) == 1
    assert len(notification_titles(rival_agency, rival_manager)) == 1
    with agency_scope(rival_agency):
        rival_item.refresh_from_db()
        assert rival_item.reminded_for_expiry == rival_item.expiry_date
    send_all_setup_expiry_reminders()
    assert len(notification_titles(demo_agency, demo_operator)) == 1


def test_progress_counts_what_the_member_may_see(
    make_setup_item, setup_engagement, demo_manager, brand_a_owner
):
    today = selectors.setup_today(setup_engagement.agency)
    late = today - datetime.timedelta(days=1)
    make_setup_item(setup_engagement, status=SetupItemStatus.DONE)
    make_setup_item(setup_engagement, status=SetupItemStatus.NOT_NEEDED)
    make_setup_item(setup_engagement, status=SetupItemStatus.BRAND_REVIEW, due_date=late)
    make_setup_item(setup_engagement, due_date=late, brand_visible=False)
    make_setup_item(
        setup_engagement,
        document_kind="trademark",
        expiry_date=today + datetime.timedelta(days=10),
        reminder_days=30,
        brand_visible=False,
    )
    with agency_scope(setup_engagement.agency_id):
        staff = selectors.setup_progress(engagement=setup_engagement, membership=demo_manager)
    with agency_scope(setup_engagement.agency_id, brand_ids=[setup_engagement.store.brand_id]):
        brand = selectors.setup_progress(engagement=setup_engagement, membership=brand_a_owner)
        brand_overdue = selectors.setup_overdue_counts(
            engagement_ids=[setup_engagement.pk], today=today, membership=brand_a_owner
        )
    assert {key: staff[key] for key in ("total", "done", "overdue", "waiting_for_brand")} == {
        "total": 5,
        "done": 1,
        "overdue": 2,
        "waiting_for_brand": 1,
    }
    assert (staff["expiring_documents"], staff["percent_done"], staff["open"]) == (1, 40, 3)
    assert {key: brand[key] for key in ("total", "overdue", "expiring_documents")} == {
        "total": 3,
        "overdue": 1,
        "expiring_documents": 0,
    }
    assert brand_overdue == {setup_engagement.pk: 1}


def render_panel(engagement, membership) -> str:
    scope = None if membership.is_staff_member else [engagement.store.brand_id]
    with agency_scope(engagement.agency_id, brand_ids=scope):
        return render_to_string(
            "execution/setup/_engagement_panel.html",
            {
                "engagement": engagement,
                "agency": engagement.agency,
                "membership": membership,
                "is_staff_member": membership.is_staff_member,
            },
        )


def test_the_engagement_panel_flags_overdue_items(
    make_setup_item, setup_engagement, engagement_a, demo_manager, brand_a_viewer
):
    assert "The checklist opens when the proposal is approved" in render_panel(
        engagement_a, demo_manager
    )
    assert "Create the setup checklist" in render_panel(setup_engagement, demo_manager)
    today = selectors.setup_today(setup_engagement.agency)
    make_setup_item(setup_engagement, due_date=today - datetime.timedelta(days=2))
    make_setup_item(
        setup_engagement, due_date=today - datetime.timedelta(days=2), brand_visible=False
    )
    make_setup_item(setup_engagement, status=SetupItemStatus.DONE)
    staff = render_panel(setup_engagement, demo_manager)
    assert "Overdue: 2" in staff and "1 of 3 done (33%)" in staff
    brand = render_panel(setup_engagement, brand_a_viewer)
    assert "Overdue: 1" in brand and "1 of 2 done (50%)" in brand


def test_the_demo_checklist(
    make_engagement, store_a, demo_agency, demo_manager, demo_operator, brand_a_owner
):
    engagement = make_engagement(
        store_a, demo_manager, stage=Stage.MONITORING, title=DEMO_ENGAGEMENT
    )
    today = selectors.setup_today(demo_agency)
    with agency_scope(demo_agency):
        setup_seed_demo(agency=demo_agency)
        items = list(SetupItem.objects.filter(engagement=engagement))
        count = len(items)
        setup_seed_demo(agency=demo_agency)  # idempotent
        assert SetupItem.objects.filter(engagement=engagement).count() == count
        progress = selectors.setup_progress(engagement=engagement, membership=demo_manager)
        evidence = list(SetupEvidence.objects.filter(item__engagement=engagement))
    statuses = {item.status for item in items}
    assert {"done", "in_progress", "brand_review", "todo"} <= statuses
    assert 1 <= progress["overdue"] < progress["total"] / 2
    assert progress["waiting_for_brand"] == 1
    assert progress["expiring_documents"] == 1
    expiring = [item for item in items if selectors.document_state(item, today) == "expiring"]
    assert [item.expiry_date for item in expiring] == [today + datetime.timedelta(days=20)]
    assert any(
        item.brand_decision == "approved" and item.brand_decided_by == brand_a_owner.user
        for item in items
    )
    assert any(piece.file for piece in evidence) and any(piece.url for piece in evidence)
    assert any(not item.brand_visible for item in items)
