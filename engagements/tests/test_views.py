"""The engagement list, page, forms and stage moves as staff and brand users see them."""

import pytest

from agency.tenancy import agency_scope
from engagements import gates
from engagements.lifecycle import Stage
from engagements.models import Engagement


@pytest.fixture
def listing(engagement_a, engagement_b, make_engagement, store_a, demo_admin):
    later = make_engagement(store_a, demo_admin, title="Brand A clearance", stage=Stage.PROPOSAL)
    return engagement_a, engagement_b, later


def titles(response):
    return [engagement.title for engagement in response.context["page"].object_list]


def test_the_list_shows_brand_store_stage_phase_manager_and_start(client, demo_manager, listing):
    client.force_login(demo_manager.user)
    page = client.get("/demo/").content.decode()
    for text in ["Brand A growth", "Brand A 旗舰店", "Max Manager", "2026-01-01"]:
        assert text in page


def test_the_list_filters_by_stage_brand_manager_and_search(
    client, demo_manager, demo_admin, brand_b, listing
):
    client.force_login(demo_manager.user)
    assert titles(client.get("/demo/?stage=proposal")) == ["Brand A clearance"]
    assert titles(client.get(f"/demo/?brand={brand_b.pk}")) == ["Brand B launch"]
    assert titles(client.get(f"/demo/?manager={demo_admin.pk}")) == ["Brand A clearance"]
    assert sorted(titles(client.get("/demo/?q=旗舰店"))) == sorted(e.title for e in listing)
    assert titles(client.get("/demo/?q=launch")) == ["Brand B launch"]


def test_htmx_gets_only_the_table(client, demo_manager, listing):
    client.force_login(demo_manager.user)
    response = client.get(
        "/demo/?q=launch", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="engagement-table"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="engagement-table"')
    assert "Brand B launch" in body and "<html" not in body


def test_a_filter_value_of_another_agency_is_refused_not_applied(
    client, demo_manager, rival_brand, listing
):
    client.force_login(demo_manager.user)
    response = client.get(f"/demo/?brand={rival_brand.pk}")
    assert "brand" in response.context["filter"].form.errors


def test_a_brand_user_sees_only_own_brand_read_only_without_internal_notes(
    client, brand_a_owner, listing, engagement_a
):
    client.force_login(brand_a_owner.user)
    assert sorted(titles(client.get("/demo/"))) == ["Brand A clearance", "Brand A growth"]
    page = client.get(f"/demo/engagements/{engagement_a.pk}/").content.decode()
    assert "SECRET-MARGIN-NOTE" not in page
    assert "/move/" not in page and "/edit/" not in page
    assert client.get(f"/demo/engagements/{engagement_a.pk}/edit/").status_code == 404
    response = client.post(f"/demo/engagements/{engagement_a.pk}/move/", {"to_stage": "proposal"})
    assert response.status_code == 404


def test_the_page_shows_steps_phases_gates_and_timeline(client, demo_manager, engagement_a):
    client.force_login(demo_manager.user)
    response = client.get(f"/demo/engagements/{engagement_a.pk}/")
    phases = response.context["phases"]
    assert [len(phase.steps) for phase in phases] == [2, 4, 2]
    steps = [step for phase in phases for step in phase.steps]
    assert [step.state for step in steps][:2] == ["current", "upcoming"]
    setup = steps[2]
    assert [str(gate.label) for gate in setup.waiting_for] == ["an approved proposal"]
    assert [str(g.label) for g in steps[7].waiting_for] == [
        "an approved proposal",
        "a published full review",
    ]
    assert "SECRET-MARGIN-NOTE" in response.content.decode()  # staff see internal notes
    assert len(response.context["timeline"]) == 1


def test_a_move_through_htmx_swaps_the_lifecycle_panel(client, demo_manager, engagement_a):
    client.force_login(demo_manager.user)
    url = f"/demo/engagements/{engagement_a.pk}/move/"
    response = client.post(
        url,
        {"to_stage": "proposal", "expected_stage": "diagnosis", "reason": "report sent"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="lifecycle"')
    assert "report sent" in body
    with agency_scope(demo_manager.agency):
        assert Engagement.objects.get(pk=engagement_a.pk).stage == Stage.PROPOSAL


def test_a_refused_move_explains_why(client, demo_manager, engagement_a):
    client.force_login(demo_manager.user)
    response = client.post(
        f"/demo/engagements/{engagement_a.pk}/move/",
        {"to_stage": "setup", "expected_stage": "diagnosis"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "waits for an approved proposal" in response.content.decode()
    response = client.post(
        f"/demo/engagements/{engagement_a.pk}/move/",
        {"to_stage": "setup", "expected_stage": "diagnosis"},
    )
    assert response.status_code == 400


def test_brand_users_see_moves_but_not_their_reasons(
    client, demo_manager, brand_a_owner, engagement_a
):
    client.force_login(demo_manager.user)
    client.post(
        f"/demo/engagements/{engagement_a.pk}/move/",
        {"to_stage": "proposal", "expected_stage": "diagnosis", "reason": "INTERNAL-REASON"},
    )
    client.force_login(brand_a_owner.user)
    page = client.get(f"/demo/engagements/{engagement_a.pk}/").content.decode()
    assert "INTERNAL-REASON" not in page
    assert len(client.get(f"/demo/engagements/{engagement_a.pk}/").context["timeline"]) == 2


def test_staff_create_an_engagement(client, demo_manager, demo_operator, store_a):
    client.force_login(demo_manager.user)
    response = client.post(
        "/demo/engagements/new/",
        {
            "title": "618 push",
            "store": store_a.pk,
            "goal": "growth",
            "scope": "partial",
            "scope_services": ["traffic", "monitoring"],
            "start_date": "2026-05-01",
            "end_date": "2026-06-30",
            "account_manager": demo_manager.pk,
            "team": [demo_operator.pk],
        },
    )
    assert response.status_code == 302
    with agency_scope(demo_manager.agency):
        engagement = Engagement.objects.get(title="618 push")
    assert engagement.scope_services == ["traffic", "monitoring"]
    assert response["Location"] == f"/demo/engagements/{engagement.pk}/"


def test_bad_engagement_input_is_named(client, demo_manager, rival_store, brand_a_owner):
    client.force_login(demo_manager.user)
    response = client.post(
        "/demo/engagements/new/",
        {
            "title": "",
            "store": rival_store.pk,
            "goal": "fame",
            "scope": "partial",
            "start_date": "2026-13-01",
            "account_manager": brand_a_owner.pk,
        },
    )
    assert response.status_code == 200
    assert {"title", "store", "goal", "scope_services", "start_date", "account_manager"} <= set(
        response.context["form"].errors
    )


def test_staff_edit_an_engagement_but_not_its_stage(client, demo_manager, engagement_a):
    client.force_login(demo_manager.user)
    response = client.post(
        f"/demo/engagements/{engagement_a.pk}/edit/",
        {
            "title": "Renamed",
            "goal": "growth",
            "scope": "full",
            "start_date": "2026-01-01",
            "account_manager": demo_manager.pk,
            "status": "paused",
            "stage": "review",
        },
    )
    assert response.status_code == 302
    with agency_scope(demo_manager.agency):
        engagement = Engagement.objects.get(pk=engagement_a.pk)
    assert (engagement.title, engagement.status, engagement.stage) == (
        "Renamed",
        "paused",
        Stage.DIAGNOSIS,
    )


def test_during_execution_the_other_execution_steps_run_alongside(
    client, demo_manager, make_engagement, store_a
):
    engagement = make_engagement(
        store_a,
        demo_manager,
        stage=Stage.TRAFFIC,
        services=[
            "setup",
            "traffic",
            "monitoring",
        ],
    )
    client.force_login(demo_manager.user)
    response = client.get(f"/demo/engagements/{engagement.pk}/")
    states = [step.state for phase in response.context["phases"] for step in phase.steps]
    assert states == [
        "done",
        "done",
        "alongside",
        "current",
        "out_of_scope",
        "alongside",
        "upcoming",
        "upcoming",
    ]


def test_gate_labels_reflect_a_provided_check(client, demo_manager, engagement_a):
    saved = gates._checks["proposal_approved"]
    gates.provide_gate_check("proposal_approved", lambda engagement: True)
    try:
        client.force_login(demo_manager.user)
        response = client.get(f"/demo/engagements/{engagement_a.pk}/")
        steps = [step for phase in response.context["phases"] for step in phase.steps]
        assert steps[2].waiting_for == []
    finally:
        gates.provide_gate_check("proposal_approved", saved)


def test_the_list_costs_the_same_queries_for_5_or_40_engagements(
    client, demo_manager, make_engagement, store_a, store_b
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(demo_manager.user)
    for _ in range(5):
        make_engagement(store_a, demo_manager)
    with CaptureQueriesContext(connection) as few:
        client.get("/demo/")
    for _ in range(35):
        make_engagement(store_b, demo_manager)
    with CaptureQueriesContext(connection) as many:
        client.get("/demo/")
    assert len(many) == len(few)  # no query per row
