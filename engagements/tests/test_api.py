"""The engagements endpoint as an integration sees it: the list and one engagement, the portal's
filters, internal notes that never leave, and brand-restricted tokens."""

import pytest

from agency.models import ApiScope
from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from engagements.models import Engagement, EngagementStatus

ENGAGEMENTS = "/api/v1/engagements/"


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


@pytest.fixture
def listing(engagement_a, engagement_b, rival_engagement, make_engagement, store_a, demo_admin):
    clearance = make_engagement(
        store_a,
        demo_admin,
        title="Brand A clearance",
        stage=Stage.PROPOSAL,
        status=EngagementStatus.PAUSED,
        internal_notes="SECRET-CLEARANCE-NOTE",
    )
    return engagement_a, engagement_b, clearance


@pytest.fixture
def staff_token(make_token, demo_agency):
    return make_token(demo_agency, scopes=[ApiScope.ENGAGEMENTS_READ])


def test_the_list_holds_the_agency_s_engagements_newest_first(api, staff_token, listing):
    assert titles(api.get(staff_token, ENGAGEMENTS)) == [
        "Brand A clearance",
        "Brand B launch",
        "Brand A growth",
    ]


def test_one_engagement_with_its_stage_step_phase_and_manager(
    api, staff_token, engagement_a, brand_a, store_a
):
    response = api.get(staff_token, f"{ENGAGEMENTS}{engagement_a.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": engagement_a.pk,
        "title": "Brand A growth",
        "brand": brand_a.pk,
        "store": store_a.pk,
        "goal": "growth",
        "scope_services": engagement_a.scope_services,
        "start_date": "2026-01-01",
        "end_date": None,
        "stage": "diagnosis",
        "step": 1,
        "phase": "before",
        "status": "active",
        "account_manager": "Max Manager",
        "targets": [],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["created_at"].startswith(str(engagement_a.created_at.year))


def test_the_live_targets_come_with_the_engagement(api, staff_token, engagement_a):
    from engagements.services import engagement_targets_replace

    with agency_scope(engagement_a.agency_id):
        engagement_targets_replace(
            engagement=engagement_a,
            targets=[
                {
                    "metric": "gmv",
                    "comparison": ">=",
                    "value": "500000.00",
                    "period": "month",
                    "by_month": 3,
                }
            ],
            source_version_id=None,
        )
    body = api.get(staff_token, f"{ENGAGEMENTS}{engagement_a.pk}/").json()
    assert body["targets"] == [
        {
            "metric": "gmv",
            "comparison": ">=",
            "value": "500000.0000",
            "period": "month",
            "by_month": 3,
            "source_version": None,
        }
    ]


def test_a_later_stage_gives_its_step_and_phase(api, staff_token, listing):
    _engagement_a, _engagement_b, clearance = listing
    with agency_scope(clearance.agency_id):
        Engagement.objects.filter(pk=clearance.pk).update(stage=Stage.MONITORING)
    body = api.get(staff_token, f"{ENGAGEMENTS}{clearance.pk}/").json()
    assert (body["stage"], body["step"], body["phase"]) == ("monitoring", 6, "during")


def test_another_agency_s_engagement_is_not_found_like_a_missing_one(
    api, staff_token, rival_engagement
):
    foreign = api.get(staff_token, f"{ENGAGEMENTS}{rival_engagement.pk}/")
    missing = api.get(staff_token, f"{ENGAGEMENTS}{rival_engagement.pk + 1000}/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert "Rival engagement" not in foreign.content.decode()


def test_the_list_filters_by_stage_status_brand_manager_and_search(
    api, staff_token, listing, brand_a, brand_b, demo_admin
):
    assert titles(api.get(staff_token, ENGAGEMENTS, stage="proposal")) == ["Brand A clearance"]
    assert titles(api.get(staff_token, ENGAGEMENTS, stage="review")) == []
    assert titles(api.get(staff_token, ENGAGEMENTS, status="paused")) == ["Brand A clearance"]
    assert titles(api.get(staff_token, ENGAGEMENTS, status="active")) == [
        "Brand B launch",
        "Brand A growth",
    ]
    assert titles(api.get(staff_token, ENGAGEMENTS, brand=brand_b.pk)) == ["Brand B launch"]
    assert titles(api.get(staff_token, ENGAGEMENTS, brand=brand_a.pk)) == [
        "Brand A clearance",
        "Brand A growth",
    ]
    assert titles(api.get(staff_token, ENGAGEMENTS, manager=demo_admin.pk)) == ["Brand A clearance"]
    assert titles(api.get(staff_token, ENGAGEMENTS, q="launch")) == ["Brand B launch"]
    assert titles(api.get(staff_token, ENGAGEMENTS, q="官方")) == ["Brand B launch"]  # store
    assert titles(api.get(staff_token, ENGAGEMENTS, q="brand a")) == [
        "Brand A clearance",
        "Brand A growth",
    ]
    assert titles(api.get(staff_token, ENGAGEMENTS, brand=brand_a.pk, stage="diagnosis")) == [
        "Brand A growth"
    ]


def test_the_search_does_not_look_into_internal_notes(api, staff_token, listing):
    assert titles(api.get(staff_token, ENGAGEMENTS, q="SECRET")) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"stage": "launch"}, "stage"), ({"status": "closed"}, "status"), ({"brand": "x"}, "brand")],
)
def test_a_bad_filter_value_is_a_400_naming_it(api, staff_token, listing, params, field):
    response = api.get(staff_token, ENGAGEMENTS, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["details"]) == [field]


def test_another_agency_s_brand_is_refused_as_a_filter_not_applied(
    api, staff_token, listing, rival_brand
):
    response = api.get(staff_token, ENGAGEMENTS, brand=rival_brand.pk)
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["brand"]
    assert "Rival" not in response.content.decode()


def test_internal_notes_never_leave_through_the_api(api, staff_token, listing):
    engagement_a, _engagement_b, clearance = listing
    responses = [
        api.get(staff_token, ENGAGEMENTS),
        api.get(staff_token, f"{ENGAGEMENTS}{engagement_a.pk}/"),
        api.get(staff_token, f"{ENGAGEMENTS}{clearance.pk}/"),
    ]
    for response in responses:
        assert response.status_code == 200
        body = response.content.decode()
        assert "SECRET-MARGIN-NOTE" not in body and "SECRET-CLEARANCE-NOTE" not in body
        assert "internal_notes" not in body
    assert all("internal_notes" not in row for row in responses[0].json()["results"])


def test_a_brand_restricted_token_sees_only_its_brand_s_engagements(
    api, make_token, demo_agency, brand_a, listing
):
    engagement_a, engagement_b, _clearance = listing
    secret = make_token(demo_agency, scopes=[ApiScope.ENGAGEMENTS_READ], brand=brand_a)
    assert titles(api.get(secret, ENGAGEMENTS)) == ["Brand A clearance", "Brand A growth"]
    assert titles(api.get(secret, ENGAGEMENTS, q="launch")) == []
    assert api.get(secret, f"{ENGAGEMENTS}{engagement_a.pk}/").status_code == 200
    hidden = api.get(secret, f"{ENGAGEMENTS}{engagement_b.pk}/")
    assert hidden.status_code == 404 and "Brand B launch" not in hidden.content.decode()


def test_a_brand_restricted_token_cannot_filter_into_another_brand(
    api, make_token, demo_agency, brand_a, brand_b, listing
):
    secret = make_token(demo_agency, scopes=[ApiScope.ENGAGEMENTS_READ], brand=brand_a)
    response = api.get(secret, ENGAGEMENTS, brand=brand_b.pk)
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["brand"]
    assert "Brand B launch" not in response.content.decode()


def test_a_brand_user_session_sees_its_brand_s_engagements_only(client_for, brand_b_owner, listing):
    response = client_for(brand_b_owner).get(ENGAGEMENTS)
    assert titles(response) == ["Brand B launch"]


def test_engagements_need_the_engagements_read_scope(api, make_token, demo_agency, engagement_a):
    secret = make_token(demo_agency, scopes=[ApiScope.METRICS_READ, ApiScope.REPORTS_READ])
    for url in (ENGAGEMENTS, f"{ENGAGEMENTS}{engagement_a.pk}/"):
        response = api.get(secret, url)
        assert response.status_code == 403
        assert response.json()["error"]["details"] == {"required_scope": "engagements:read"}


def test_the_list_pages_with_a_cursor(api, staff_token, make_engagement, store_a, demo_manager):
    created = [make_engagement(store_a, demo_manager).pk for _ in range(5)]
    first = api.get(staff_token, ENGAGEMENTS, page_size=2)
    seen = [row["id"] for row in first.json()["results"]]
    next_url = first.json()["next"]
    while next_url:
        page = api.get(staff_token, next_url).json()
        seen += [row["id"] for row in page["results"]]
        next_url = page["next"]
    assert seen == sorted(created, reverse=True)


@pytest.mark.parametrize("ordering", ["start_date", "-start_date", "title"])
def test_paging_by_a_shared_value_gives_every_engagement_exactly_once(
    api, staff_token, make_engagement, store_a, demo_manager, ordering
):
    """Nine engagements starting the same day (and sharing a title): pages ordered by either
    must neither repeat nor drop one."""
    created = [make_engagement(store_a, demo_manager, title="Renewal").pk for _ in range(9)]
    response = api.get(staff_token, ENGAGEMENTS, page_size=2, ordering=ordering)
    seen = []
    while True:
        assert response.status_code == 200
        seen += [row["id"] for row in response.json()["results"]]
        if response.json()["next"] is None:
            break
        response = api.get(staff_token, response.json()["next"])
    assert sorted(seen) == sorted(created)
