"""The audit log (issue 9): every kind of event is recorded with who, when, IP and what by the real
page or service that causes it; an agency sees only its own events; admins filter and export
them (the CSV runs no formula); the log is append-only in the model and, under it, in
PostgreSQL; everyone but an agency admin gets 404."""

from __future__ import annotations

import csv
import datetime
import io
import json
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.utils import timezone

from agency.audit import audit_record
from agency.models import (
    ApiToken,
    AuditAction,
    AuditEvent,
    AuditLogIsAppendOnly,
    AuditTarget,
    Membership,
    Role,
    User,
)
from agency.tenancy import agency_scope
from conftest import PASSWORD
from proposals.models import Approval

LOGIN = "/accounts/login/"
AUDIT = "/demo/settings/audit/"
EXPORT = "/demo/settings/audit/export/"
BROWSER = "Mozilla/5.0 (audit test)"


def events(agency, action=None) -> list[AuditEvent]:
    """The agency's events, oldest first."""
    with agency_scope(agency):
        rows = AuditEvent.objects.select_related("actor").order_by("created_at", "pk")
        if action is not None:
            rows = rows.filter(action=action)
        return list(rows)


def browser(ip: str, user=None) -> Client:
    """A client that comes from `ip` with a known browser, signed in as `user` if given."""
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=BROWSER)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def window():
    """Asserts that an event was written between the start of the test and now."""
    start = timezone.now()

    def check(event: AuditEvent) -> None:
        assert start <= event.created_at <= timezone.now()

    return check


def read_csv(response) -> list[list[str]]:
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, like the other CSV exports
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


# --- sign-in ------------------------------------------------------------------------------------


def test_a_login_and_a_logout_are_recorded_in_every_agency_of_the_person(
    demo_manager, rival_agency, make_member, make_agency, window
):
    user = demo_manager.user
    make_member(rival_agency, Role.OPERATOR, user=user)
    former = make_agency(slug="former")
    left = make_member(former, Role.OPERATOR, user=user)
    with agency_scope(former):
        Membership.objects.filter(pk=left.pk).update(is_active=False)

    client = browser("203.0.113.5")
    response = client.post(LOGIN, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    for agency in (demo_manager.agency, rival_agency):
        [login] = events(agency, AuditAction.LOGIN)
        assert login.actor == user and login.actor_label == "manager@demo.test"
        assert login.ip == "203.0.113.5" and login.user_agent == BROWSER
        window(login)
    assert events(former) == []  # a membership no longer active is not that agency's business

    client.post("/accounts/logout/")
    [logout] = events(demo_manager.agency, AuditAction.LOGOUT)
    assert logout.actor == user and logout.ip == "203.0.113.5"
    assert len(events(rival_agency, AuditAction.LOGOUT)) == 1


def test_the_client_ip_is_read_behind_the_configured_proxy(demo_manager, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    client.post(LOGIN, {"username": demo_manager.user.email, "password": PASSWORD})
    [login] = events(demo_manager.agency, AuditAction.LOGIN)
    assert login.ip == "198.51.100.7"  # the proxy's entry, not the client's forged one


def test_failed_logins_and_one_lockout_are_recorded(demo_manager, settings, window):
    limit = settings.AXES_FAILURE_LIMIT
    email = demo_manager.user.email
    client = browser("203.0.113.9")
    for _ in range(limit):
        response = client.post(LOGIN, {"username": email.upper(), "password": "wrong"})
    assert response.status_code == 429
    failed = events(demo_manager.agency, AuditAction.LOGIN_FAILED)
    assert len(failed) == limit
    assert all(event.actor == demo_manager.user and event.ip == "203.0.113.9" for event in failed)
    assert [event.detail["locked_out"] for event in failed] == [False] * (limit - 1) + [True]
    assert failed[0].detail["email"] == email  # as the portal matches it, whatever the case
    [lockout] = events(demo_manager.agency, AuditAction.LOCKOUT)
    assert lockout.actor == demo_manager.user and lockout.ip == "203.0.113.9"
    assert lockout.user_agent == BROWSER
    assert lockout.detail["failure_limit"] == limit
    window(lockout)

    # Trying on while locked: more failed sign-ins, still the one lockout.
    assert client.post(LOGIN, {"username": email, "password": PASSWORD}).status_code == 429
    assert len(events(demo_manager.agency, AuditAction.LOGIN_FAILED)) == limit + 1
    assert len(events(demo_manager.agency, AuditAction.LOCKOUT)) == 1


def test_a_failed_login_for_an_unknown_address_records_nothing(demo_agency, rival_agency):
    client = browser("203.0.113.10")
    client.post(LOGIN, {"username": "nobody@nowhere.test", "password": "wrong"})
    assert events(demo_agency) == [] and events(rival_agency) == []


# --- the services' events -----------------------------------------------------------------------


def test_a_stage_move_records_who_from_where_and_both_stages(demo_manager, engagement_a, window):
    client = browser("198.51.100.20", demo_manager.user)
    response = client.post(
        f"/demo/engagements/{engagement_a.pk}/move/",
        {"to_stage": "proposal", "expected_stage": "diagnosis", "reason": "诊断完成"},
    )
    assert response.status_code == 302
    [move] = events(engagement_a.agency, AuditAction.STAGE_MOVED)
    assert move.actor == demo_manager.user
    # The service has no request: the IP and browser come from the request it serves.
    assert move.ip == "198.51.100.20" and move.user_agent == BROWSER
    assert (move.target_type, move.target_id, move.target) == (
        AuditTarget.ENGAGEMENT,
        engagement_a.pk,
        "Brand A growth",
    )
    assert move.detail == {
        "stage": {"old": "diagnosis", "new": "proposal"},
        "reason": "诊断完成",
        "system_move": False,
    }
    window(move)


def test_a_proposal_approval_records_the_owner_and_the_evidence(
    brand_a_owner, demo_manager, engagement_a, make_proposal, window
):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    client = browser("203.0.113.77", brand_a_owner.user)
    response = client.post(
        f"/demo/proposals/versions/{version.pk}/approve/", {"signed_name": "Owner A"}
    )
    assert response.status_code == 302
    with agency_scope(engagement_a.agency_id):
        approval = Approval.objects.get(version=version)
    [approved] = events(engagement_a.agency, AuditAction.PROPOSAL_APPROVED)
    assert approved.actor == brand_a_owner.user and approved.actor_label == "owner@brand-a.test"
    assert approved.ip == "203.0.113.77" == approval.ip
    assert approved.user_agent == BROWSER
    assert approved.target_type == AuditTarget.PROPOSAL_VERSION
    assert approved.target_id == version.pk and approved.target.endswith(" v1")
    assert approved.detail["signed_name"] == "Owner A"
    assert approved.detail["content_hash"] == approval.content_hash
    assert approved.detail["engagement"] == "Brand A growth"
    window(approved)
    # The approval moves the engagement on: a system move, done on the owner's behalf.
    [move] = events(engagement_a.agency, AuditAction.STAGE_MOVED)
    assert move.actor == brand_a_owner.user and move.detail["system_move"] is True
    assert move.detail["stage"]["old"] == "diagnosis"


def test_a_change_request_records_the_owner_and_the_comment(
    brand_b_owner, demo_manager, engagement_b, make_proposal, window
):
    _proposal, version = make_proposal(engagement_b, demo_manager, send=True)
    client = browser("203.0.113.78", brand_b_owner.user)
    response = client.post(
        f"/demo/proposals/versions/{version.pk}/request-changes/", {"comment": "ROI 调低"}
    )
    assert response.status_code == 302
    [changes] = events(engagement_b.agency, AuditAction.PROPOSAL_CHANGES_REQUESTED)
    assert changes.actor == brand_b_owner.user and changes.ip == "203.0.113.78"
    assert changes.target_id == version.pk
    assert changes.detail["comment"] == "ROI 调低" and changes.detail["version"] == 1
    window(changes)


def test_token_creation_and_revocation_are_recorded_without_the_secret(demo_admin, brand_a, window):
    client = browser("192.0.2.44", demo_admin.user)
    response = client.post(
        "/demo/settings/api-tokens/",
        {
            "name": "Brand A BI",
            "scopes": ["metrics:read", "reports:read"],
            "brand": brand_a.pk,
            "expires_days": "30",
        },
    )
    secret = response.context["secret"]
    token = response.context["created"]
    assert secret
    client.post(f"/demo/settings/api-tokens/{token.pk}/revoke/")
    client.post(f"/demo/settings/api-tokens/{token.pk}/revoke/")  # twice: recorded once

    [created] = events(demo_admin.agency, AuditAction.TOKEN_CREATED)
    assert created.actor == demo_admin.user and created.ip == "192.0.2.44"
    assert (created.target_type, created.target_id, created.target) == (
        AuditTarget.API_TOKEN,
        token.pk,
        "Brand A BI",
    )
    assert created.detail["scopes"] == ["metrics:read", "reports:read"]
    assert created.detail["brand"] == "Brand A" and created.detail["prefix"] == token.prefix
    assert created.detail["expires_at"].startswith(str(token.expires_at.year))
    window(created)
    [revoked] = events(demo_admin.agency, AuditAction.TOKEN_REVOKED)
    assert revoked.actor == demo_admin.user and revoked.target_id == token.pk
    with agency_scope(demo_admin.agency):
        assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    for event in (created, revoked):
        stored = json.dumps([event.detail, event.target, event.actor_label, event.user_agent])
        assert secret not in stored and secret[len(token.prefix) :] not in stored


def test_member_changes_are_recorded_with_old_and_new(
    demo_admin, demo_operator, brand_a_viewer, brand_a, brand_b, django_capture_on_commit_callbacks
):
    client = browser("192.0.2.50", demo_admin.user)
    people = "/demo/people"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"{people}/new/staff/",
            {"email": "new.analyst@demo.test", "full_name": "Nina", "role": "analyst"},
        )
    client.post(f"{people}/{demo_operator.pk}/", {"role": "analyst"})
    client.post(
        f"{people}/{brand_a_viewer.pk}/",
        {"role": "brand_viewer", "brands": [brand_a.pk, brand_b.pk]},
    )
    client.post(f"{people}/{demo_operator.pk}/active/", {"active": "0"})
    client.post(f"{people}/{demo_operator.pk}/active/", {"active": "1"})
    client.post(f"{people}/{demo_operator.pk}/invite/")

    agency = demo_admin.agency
    recorded = [
        event
        for event in events(agency)
        if event.action not in {AuditAction.LOGIN, AuditAction.LOGOUT}
    ]
    assert [event.action for event in recorded] == [
        AuditAction.MEMBER_ADDED,
        AuditAction.MEMBER_ROLE_CHANGED,
        AuditAction.MEMBER_BRANDS_CHANGED,
        AuditAction.MEMBER_DEACTIVATED,
        AuditAction.MEMBER_REACTIVATED,
        AuditAction.INVITATION_RESENT,
    ]
    assert all(event.actor == demo_admin.user and event.ip == "192.0.2.50" for event in recorded)
    added, role, brands, deactivated, _reactivated, resent = recorded
    assert added.target == "new.analyst@demo.test"
    assert added.detail == {"email": "new.analyst@demo.test", "role": "analyst", "brands": []}
    assert role.target_id == demo_operator.pk and role.target == "operator@demo.test"
    assert role.detail == {"role": {"old": "operator", "new": "analyst"}}
    assert brands.detail == {"brands": {"old": ["Brand A"], "new": ["Brand A", "Brand B"]}}
    assert deactivated.detail == {"role": "analyst"}
    assert resent.detail == {"email": "operator@demo.test"}


def test_an_export_download_is_recorded(demo_manager, engagement_a, window):
    client = browser("192.0.2.60", demo_manager.user)
    response = client.post(
        f"/demo/engagements/{engagement_a.pk}/handover/",
        {"audience": "internal", "file_format": "xlsx"},
    )
    assert response.status_code == 200
    sha256 = response["X-Export-Sha256"]
    [export] = events(engagement_a.agency, AuditAction.EXPORT_DOWNLOADED)
    assert export.actor == demo_manager.user and export.ip == "192.0.2.60"
    assert (export.target_type, export.target_id) == (AuditTarget.ENGAGEMENT, engagement_a.pk)
    assert export.detail["audience"] == "internal" and export.detail["file_format"] == "xlsx"
    assert export.detail["sha256"] == sha256
    window(export)


# --- the page and its export --------------------------------------------------------------------


@pytest.fixture
def history(demo_admin, demo_operator, engagement_a):
    """Events of the demo agency on three local days (Asia/Shanghai), one with hostile text."""
    agency = demo_admin.agency

    def at(moment: str, **fields) -> AuditEvent:
        when = datetime.datetime.fromisoformat(moment)
        with mock.patch("django.utils.timezone.now", return_value=when), agency_scope(agency):
            return audit_record(agency=agency, **fields)

    return [
        at(
            "2026-03-01T01:00:00+00:00",
            action=AuditAction.TOKEN_CREATED,
            actor=demo_admin,
            target_type=AuditTarget.API_TOKEN,
            target="=cmd|' /C calc'!A0",
            detail={"name": "+SUM(1)", "scopes": ["metrics:read"]},
            ip="192.0.2.1",
            user_agent="@evil",
        ),
        # 20:00 UTC on 1 March is 04:00 on 2 March in Shanghai.
        at(
            "2026-03-01T20:00:00+00:00",
            action=AuditAction.STAGE_MOVED,
            actor=demo_operator,
            target_type=AuditTarget.ENGAGEMENT,
            target_id=engagement_a.pk,
            target="Brand A growth",
            detail={"stage": {"old": "diagnosis", "new": "proposal"}},
            ip="192.0.2.2",
        ),
        at(
            "2026-03-03T02:00:00+00:00",
            action=AuditAction.TOKEN_REVOKED,
            actor=demo_operator,
            target="Old token",
            ip="192.0.2.3",
        ),
    ]


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [event.pk for event in response.context["page"]]


def test_the_log_lists_newest_first_and_filters(client_for, demo_admin, demo_operator, history):
    token_created, moved, revoked = history
    client = client_for(demo_admin)
    everything = listed(client.get(AUDIT))
    assert everything[-3:] == [revoked.pk, moved.pk, token_created.pk]
    assert everything.index(revoked.pk) > 0  # today's sign-in of the admin comes first

    assert listed(client.get(AUDIT, {"action": "token_revoked"})) == [revoked.pk]
    assert listed(client.get(AUDIT, {"member": demo_operator.pk})) == [revoked.pk, moved.pk]
    # Dates are the agency's local dates.
    assert listed(client.get(AUDIT, {"date_from": "2026-03-02", "date_to": "2026-03-02"})) == [
        moved.pk
    ]
    assert listed(client.get(AUDIT, {"action": "token_created", "date_to": "2026-03-01"})) == [
        token_created.pk
    ]
    page = client.get(AUDIT, {"action": "stage_moved"}).content.decode()
    assert "Brand A growth" in page and "192.0.2.2" in page and "diagnosis → proposal" in page
    refused = client.get(AUDIT, {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert "The first day comes after the last." in refused.content.decode()
    bad_export = client.get(EXPORT, {"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert bad_export.status_code == 302 and bad_export["Location"].startswith(AUDIT)


def test_the_log_pages_fifty_at_a_time(client_for, demo_admin):
    agency = demo_admin.agency
    with agency_scope(agency):
        for number in range(60):
            audit_record(agency=agency, action=AuditAction.LOGOUT, target=f"n{number}")
    client = client_for(demo_admin)
    first = client.get(AUDIT, {"action": "logout"})
    assert len(listed(first)) == 50 and "page=2" in first.content.decode()
    assert "action=logout" in first.content.decode()  # the pager keeps the filter
    assert len(listed(client.get(AUDIT, {"action": "logout", "page": 2}))) == 10


def test_the_csv_export_holds_the_filtered_rows_and_runs_no_formula(
    client_for, demo_admin, demo_operator, history
):
    _token_created, moved, _revoked = history
    client = client_for(demo_admin)
    response = client.get(EXPORT, {"date_to": "2026-03-02"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:4] == ["Time", "Event type", "Event code", "Done by"]
    assert [row[2] for row in rows] == ["stage_moved", "token_created"]  # newest first
    moved_row, created_row = rows
    assert moved_row[0] == "2026-03-02T04:00:00+08:00"  # the agency's local time
    assert moved_row[3] == demo_operator.user.display_name
    assert moved_row[6] == str(moved.target_id)
    assert json.loads(moved_row[8]) == {"stage": {"new": "proposal", "old": "diagnosis"}}
    assert moved_row[9] == "192.0.2.2"
    assert created_row[7] == "'=cmd|' /C calc'!A0"  # shown as typed, never run
    assert created_row[10] == "'@evil"
    for row in [header, *rows]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    # The export is itself recorded, with its filters and size.
    [exported] = events(demo_admin.agency, AuditAction.AUDIT_LOG_EXPORTED)
    assert exported.actor == demo_admin.user
    assert exported.detail == {"filters": {"date_to": "2026-03-02"}, "rows": 2}

    by_member = read_csv(client.get(EXPORT, {"member": demo_operator.pk}))[1:]
    assert [row[2] for row in by_member] == ["token_revoked", "stage_moved"]


def test_another_agencys_events_never_show(
    client_for, client, demo_admin, rival_manager, make_token, history
):
    rival = rival_manager.agency
    make_token(rival, name="RIVAL-TOKEN")
    client.force_login(rival_manager.user)  # a sign-in recorded in the rival agency only
    assert {event.action for event in events(rival)} == {
        AuditAction.TOKEN_CREATED,
        AuditAction.LOGIN,
    }

    client_for(demo_admin)
    page = client.get(AUDIT).content.decode()
    export = client.get(EXPORT).content.decode("utf-8-sig")
    for text in (page, export):
        assert "RIVAL-TOKEN" not in text and "manager@rival.test" not in text
    # And the rival's admin sees only the rival's log, under the rival's address.
    client.force_login(rival_manager.user)
    rival_page = client.get("/rival/settings/audit/")
    assert {event.agency_id for event in rival_page.context["page"]} == {rival.pk}
    assert "=cmd" not in rival_page.content.decode()
    assert client.get(AUDIT).status_code == 404


# --- who may read it ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["demo_manager", "demo_operator", "brand_a_owner"])
@pytest.mark.parametrize("address", [AUDIT, EXPORT])
def test_only_agency_admins_read_the_log(request, client_for, who, address, history):
    client = client_for(request.getfixturevalue(who))
    assert client.get(address).status_code == 404


def test_admins_find_the_log_in_the_settings(client_for, demo_admin):
    client = client_for(demo_admin)
    assert AUDIT in client.get("/demo/settings/").content.decode()
    assert client.post(AUDIT).status_code == 405
    assert Client().get(AUDIT).status_code == 302  # anonymous: to the login page


# --- append-only --------------------------------------------------------------------------------


@pytest.fixture
def recorded(demo_admin):
    with agency_scope(demo_admin.agency):
        return audit_record(
            agency=demo_admin.agency,
            action=AuditAction.TOKEN_CREATED,
            actor=demo_admin,
            target="kept",
        )


def test_the_model_refuses_every_change_and_deletion(demo_admin, recorded):
    with agency_scope(demo_admin.agency):
        event = AuditEvent.objects.get(pk=recorded.pk)
        event.target = "changed"
        with pytest.raises(AuditLogIsAppendOnly):
            event.save()
        with pytest.raises(AuditLogIsAppendOnly):
            recorded.save()  # the instance just written, too
        with pytest.raises(AuditLogIsAppendOnly):
            event.delete()
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.filter(pk=event.pk).update(target="changed")
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.filter(pk=event.pk).delete()
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent.objects.unscoped().update(ip="192.0.2.99")
        with pytest.raises(AuditLogIsAppendOnly):
            AuditEvent._base_manager.all().delete()
        assert AuditEvent.objects.get(pk=event.pk).target == "kept"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE agency_auditevent SET target = 'changed' WHERE id = %s",
        "DELETE FROM agency_auditevent WHERE id = %s",
        "UPDATE agency_auditevent SET actor_label = '' , actor_id = NULL WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_updates_and_deletes(demo_admin, recorded, statement):
    # Inside the agency's scope, so row-level security lets the statement see the row: it is
    # the trigger that refuses, whoever connects.
    with agency_scope(demo_admin.agency):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [recorded.pk])
        assert AuditEvent.objects.get(pk=recorded.pk).target == "kept"


def test_deleting_an_account_keeps_its_events_and_who_it_was(demo_admin, demo_operator, recorded):
    agency = demo_admin.agency
    with agency_scope(agency):
        audit_record(agency=agency, action=AuditAction.LOGOUT, actor=demo_operator)
        # Inside the scope: Django deletes the cascaded memberships by primary key, without the
        # cross-tenant mark, so row-level security shows it only the scope's agency.
        User.objects.filter(pk=demo_operator.user_id).delete()
    [event] = events(agency, AuditAction.LOGOUT)
    assert event.actor is None and event.actor_label == "operator@demo.test"
    assert event.actor_name == "operator@demo.test"


def test_an_agency_with_a_log_cannot_be_deleted(demo_admin, recorded):
    with pytest.raises(ProtectedError):
        demo_admin.agency.delete()
    assert len(events(demo_admin.agency)) >= 1
