"""PostgreSQL row-level security, the second line under the application's scoping (agency/rls.py):
the tests connect as the app role (conftest.py), so these raw statements meet the policies as the
portal does. Without a tenant a tenant table shows no row; with agency A none of B's; a write
into another agency is refused; the tenant never outlives its transaction; `check_rls` finds a
table left without its policy."""

from __future__ import annotations

import dj_database_url
import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from agency.management.commands.check_rls import rls_problems
from agency.models import Brand
from agency.rls import CONDITION, POLICY, tenant_tables
from agency.tenancy import agency_scope
from engagements.models import Engagement


def raw(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def two_agencies(engagement_a, rival_engagement):
    return engagement_a, rival_engagement


def test_the_suite_connects_as_a_role_that_cannot_bypass_row_level_security(db):
    [(superuser, bypass, owned)] = raw(
        "SELECT rolsuper, rolbypassrls, (SELECT count(*) FROM pg_class c "
        "WHERE pg_get_userbyid(c.relowner) = current_user AND c.relkind = 'r') "
        "FROM pg_roles WHERE rolname = current_user"
    )
    assert (superuser, bypass, owned) == (False, False, 0)
    assert settings.DATABASE_OWNER_URL, "make services sets DATABASE_OWNER_URL (agency/rls.py)"


def test_a_raw_select_without_a_tenant_returns_no_row(two_agencies):
    assert Engagement.objects.unscoped().count() == 2  # the rows are there
    for table in ("engagements_engagement", "agency_brand", "agency_membership"):
        assert raw(f'SELECT count(*) FROM "{table}"') == [(0,)], table  # noqa: S608


def test_with_agency_a_set_a_raw_select_returns_none_of_agency_bs_rows(two_agencies):
    engagement_a, rival = two_agencies
    with agency_scope(engagement_a.agency_id):
        rows = raw("SELECT id, agency_id FROM engagements_engagement")
        brands = raw("SELECT DISTINCT agency_id FROM agency_brand")
    assert rows == [(engagement_a.pk, engagement_a.agency_id)]
    assert brands == [(engagement_a.agency_id,)]
    with agency_scope(rival.agency_id):
        assert raw("SELECT id FROM engagements_engagement") == [(rival.pk,)]


def test_a_write_into_another_agency_is_refused_by_the_database(two_agencies):
    engagement_a, rival = two_agencies
    with agency_scope(engagement_a.agency_id):
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            raw(
                "INSERT INTO agency_brand (agency_id, name, created_at) VALUES (%s, %s, now())",
                [rival.agency_id, "Planted brand"],
            )
        # An UPDATE or DELETE of B's rows finds nothing to change.
        assert (
            raw(
                "UPDATE engagements_engagement SET title = 'x' WHERE id = %s RETURNING id",
                [rival.pk],
            )
            == []
        )
        assert (
            raw("DELETE FROM engagements_engagement WHERE id = %s RETURNING id", [rival.pk]) == []
        )
    assert Engagement.objects.unscoped().get(pk=rival.pk).title == rival.title


def test_the_tenant_never_outlives_its_transaction(two_agencies):
    engagement_a, _rival = two_agencies
    with agency_scope(engagement_a.agency_id):
        assert raw("SELECT current_setting('app.agency_id', true)") == [
            (str(engagement_a.agency_id),)
        ]
    # Out of the scope, in the same test transaction: the setting is cleared for the next
    # statement, so a pooled connection carries nothing to the next request.
    assert raw("SELECT coalesce(current_setting('app.agency_id', true), '')") == [("",)]
    assert raw("SELECT count(*) FROM engagements_engagement") == [(0,)]


def test_a_savepoint_rolled_back_does_not_leave_a_stale_tenant(two_agencies):
    engagement_a, rival = two_agencies
    with agency_scope(rival.agency_id):
        raw("SELECT 1")
        try:
            with transaction.atomic(), agency_scope(engagement_a.agency_id):
                assert raw("SELECT id FROM engagements_engagement") == [(engagement_a.pk,)]
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert raw("SELECT id FROM engagements_engagement") == [(rival.pk,)]


def test_the_marked_escape_hatches_still_work(two_agencies):
    engagement_a, rival = two_agencies
    # unscoped(): explicit, cross-tenant, visible in its SQL.
    assert "/* cross-tenant */" in str(Engagement.objects.unscoped().all().query)
    with agency_scope(engagement_a.agency_id):
        assert Engagement.objects.unscoped().count() == 2
        assert Engagement.objects.count() == 1
    # Following a foreign key outside any scope (a row already in hand) works as in Django.
    engagement = Engagement.objects.unscoped().get(pk=rival.pk)
    assert engagement.store.brand.name == rival.store.brand.name
    # Inside agency A, the database keeps even the base manager to A.
    with agency_scope(engagement_a.agency_id):
        assert not Brand._base_manager.filter(pk=rival.store.brand_id).exists()


def test_check_rls_passes_and_names_a_table_left_without_its_policy(db):
    call_command("check_rls")  # exits 0: every tenant table is covered
    assert rls_problems() == []
    assert "execution_storedayfact" in tenant_tables()
    owner = dj_database_url.parse(settings.DATABASE_OWNER_URL)
    admin = psycopg2.connect(
        dbname=connection.settings_dict["NAME"],
        user=owner["USER"],
        password=owner.get("PASSWORD") or None,
        host=owner["HOST"],
        port=owner["PORT"],
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("ALTER TABLE reporting_fullreview NO FORCE ROW LEVEL SECURITY")
            cursor.execute("DROP POLICY tenant_isolation ON reporting_fullreview")
        problems = rls_problems()
        assert problems == [
            "reporting_fullreview: row-level security not forced",
            "reporting_fullreview: no tenant_isolation policy",
        ]
        with pytest.raises(CommandError) as refused:
            call_command("check_rls")
        assert refused.value.returncode == 1
    finally:
        with admin.cursor() as cursor:
            cursor.execute("ALTER TABLE reporting_fullreview FORCE ROW LEVEL SECURITY")
            cursor.execute("DROP POLICY IF EXISTS tenant_isolation ON reporting_fullreview")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON reporting_fullreview USING ({CONDITION}) "
                f"WITH CHECK ({CONDITION})"
            )
        admin.close()
    assert rls_problems() == []


def test_deleting_a_person_outside_any_scope_removes_their_memberships_everywhere(
    demo_manager, rival_manager
):
    from agency.models import Membership

    user = demo_manager.user
    with agency_scope(rival_manager.agency_id):
        Membership.objects.create(agency=rival_manager.agency, user=user, role="operator")
    assert Membership.objects.unscoped().filter(user=user).count() == 2
    user.delete()
    assert not Membership.objects.unscoped().filter(user_id=demo_manager.user_id).exists()
