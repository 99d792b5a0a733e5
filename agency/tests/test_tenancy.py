"""The scoping mechanism itself: fail closed without a scope, filter by agency and brand."""

import pytest
from django.db.models import Count

from agency.models import Brand, Membership, Store
from agency.tenancy import (
    TenantMismatch,
    TenantScopeMissing,
    agency_scope,
    current_scope,
    tenant_task,
)
from engagements.models import Engagement


@pytest.fixture
def two_agencies(engagement_a, engagement_b, rival_engagement, brand_a_owner):
    return engagement_a, engagement_b, rival_engagement


@pytest.mark.parametrize(
    "query",
    [
        lambda: list(Brand.objects.all()),
        lambda: Brand.objects.count(),
        lambda: Brand.objects.exists(),
        lambda: Brand.objects.filter(name="Brand A").first(),
        lambda: Brand.objects.get(name="Brand A"),
        lambda: Brand.objects.aggregate(n=Count("pk")),
        lambda: Brand.objects.update(name="hijacked"),
        lambda: Brand.objects.filter(name="Brand A").delete(),
        lambda: list(Store.objects.unscoped().filter(brand__in=Brand.objects.all())),
        lambda: list(Engagement.objects.values_list("title", flat=True)),
    ],
    ids=[
        "list",
        "count",
        "exists",
        "first",
        "get",
        "aggregate",
        "update",
        "delete",
        "subquery",
        "values",
    ],
)
def test_a_query_without_an_agency_in_scope_fails_closed(two_agencies, query):
    assert current_scope() is None
    with pytest.raises(TenantScopeMissing):
        query()


def test_a_scope_shows_only_its_own_agency(two_agencies, demo_agency, rival_agency):
    with agency_scope(demo_agency):
        assert set(Engagement.objects.values_list("title", flat=True)) == {
            "Brand A growth",
            "Brand B launch",
        }
        assert not Brand.objects.filter(name="Rival Brand").exists()
    with agency_scope(rival_agency):
        assert list(Engagement.objects.values_list("title", flat=True)) == ["Rival engagement"]


def test_a_brand_scope_shows_only_those_brands_and_no_agency_level_rows(
    two_agencies, demo_agency, brand_a
):
    with agency_scope(demo_agency, brand_ids=[brand_a.pk]):
        assert list(Engagement.objects.values_list("title", flat=True)) == ["Brand A growth"]
        assert list(Store.objects.values_list("brand__name", flat=True)) == ["Brand A"]
        # Memberships are agency-level: a brand user lists none of them.
        assert Membership.objects.count() == 0
        # Reverse relations go through the same scoped manager.
        assert brand_a.stores.count() == 1


def test_agency_level_rows_shared_with_brands_reach_brand_users_of_that_agency_only(
    demo_agency, rival_agency, brand_a
):
    import datetime

    from execution.models import EventKind, PlatformEvent, SetupTemplate

    day = datetime.date(2026, 11, 11)
    for agency, name in ((demo_agency, "双11"), (rival_agency, "Rival 双11")):
        with agency_scope(agency):
            PlatformEvent.objects.create(
                agency=agency, name=name, kind=EventKind.DOUBLE_11, start_date=day, end_date=day
            )
            SetupTemplate.objects.create(agency=agency, name=f"{name} template", situation="new")
    with agency_scope(demo_agency, brand_ids=[brand_a.pk]):
        # The platform's calendar is meant for every member; a setup template is staff data.
        assert list(PlatformEvent.objects.values_list("name", flat=True)) == ["双11"]
        assert SetupTemplate.objects.count() == 0


def test_unscoped_is_the_explicit_escape_hatch(two_agencies):
    assert Engagement.objects.unscoped().count() == 3


def test_the_scope_ends_with_its_block(demo_agency):
    with agency_scope(demo_agency):
        assert current_scope().agency_id == demo_agency.pk
    assert current_scope() is None


def test_a_row_cannot_be_written_into_another_agency_than_the_scope(demo_agency, rival_agency):
    with agency_scope(demo_agency), pytest.raises(TenantMismatch):
        Brand.objects.create(agency=rival_agency, name="Smuggled")
    with agency_scope(rival_agency):
        assert not Brand.objects.filter(name="Smuggled").exists()


def test_a_child_row_takes_its_parents_agency_and_refuses_another(brand_a, rival_agency):
    with agency_scope(brand_a.agency_id):
        store = Store.objects.create(brand=brand_a, name="Child", shop_id="42")
        assert store.agency_id == brand_a.agency_id
        with pytest.raises(TenantMismatch):
            Store(brand=brand_a, agency=rival_agency, name="Wrong", shop_id="43").save()


def test_no_foreign_key_may_point_into_another_agency(
    engagement_a, rival_manager, demo_manager, rival_store
):
    from engagements.models import EngagementTeamMember

    # Not even without a scope (the Django admin, an ops script).
    engagement_a.account_manager = rival_manager
    with pytest.raises(TenantMismatch):
        engagement_a.save()
    engagement_a.account_manager = demo_manager
    engagement_a.store_id = rival_store.pk
    with pytest.raises(TenantMismatch):
        engagement_a.save()
    with pytest.raises(TenantMismatch):
        EngagementTeamMember(engagement=engagement_a, membership=rival_manager).save()


def test_the_request_scope_does_not_outlive_the_request(client, demo_manager):
    client.force_login(demo_manager.user)
    assert client.get("/demo/").status_code == 200
    assert current_scope() is None


def test_a_tenant_task_runs_inside_its_agency(demo_agency, rival_agency, brand_a, rival_brand):
    @tenant_task()
    def brand_names(agency):
        return sorted(Brand.objects.values_list("name", flat=True))

    assert brand_names.delay(demo_agency.pk).get() == ["Brand A"]
    assert brand_names.delay(rival_agency.pk).get() == ["Rival Brand"]
    assert current_scope() is None
