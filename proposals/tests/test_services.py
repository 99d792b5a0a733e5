"""The proposal's rules: drafting, sending, the brand owner's decision, and what approval does to
the engagement. Every refusal is a clear error and changes nothing."""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from agency.models import Notification, Role
from agency.tenancy import agency_scope
from engagements import gates
from engagements.lifecycle import Stage
from engagements.models import (
    Engagement,
    EngagementTarget,
    EngagementTeamMember,
    EngagementTransition,
)
from proposals import services
from proposals.models import (
    Approval,
    ChangeRequest,
    ProposalComment,
    ProposalTarget,
    ProposalVersion,
    VersionStatus,
    content_hash,
)


@pytest.fixture
def in_demo(demo_agency):
    with agency_scope(demo_agency):
        yield


@pytest.fixture
def owner_a(make_member, demo_agency, brand_a):
    """Brand A's owner, with a full name to sign with."""
    return make_member(
        demo_agency,
        Role.BRAND_OWNER,
        email="li.ming@brand-a.test",
        full_name="李明",
        brands=[brand_a],
    )


def approve(actor, version, name="李明"):
    return services.version_approve(
        actor=actor, version=version, signed_name=name, ip="203.0.113.7", user_agent="UA/1.0"
    )


def snapshot_state(version):
    """Everything a refusal must leave as it was."""
    version = ProposalVersion.objects.get(pk=version.pk)
    engagement = Engagement.objects.get(pk=version.proposal.engagement_id)
    return (
        version.status,
        version.snapshot,
        ProposalVersion.objects.filter(proposal=version.proposal).count(),
        ProposalTarget.objects.filter(version=version).count(),
        Approval.objects.count(),
        ChangeRequest.objects.count(),
        engagement.stage,
        EngagementTarget.objects.count(),
        Notification.objects.count(),
    )


def test_the_whole_flow_from_draft_to_live_targets(
    in_demo,
    make_proposal,
    engagement_a,
    demo_manager,
    demo_operator,
    owner_a,
    brand_a_viewer,
    django_capture_on_commit_callbacks,
):
    EngagementTeamMember.objects.create(engagement=engagement_a, membership=demo_operator)
    proposal, v1 = make_proposal(engagement_a, demo_manager)
    assert v1.status == VersionStatus.DRAFT and v1.snapshot is None

    with django_capture_on_commit_callbacks(execute=True):
        v1 = services.version_send(actor=demo_manager, version=v1)
    assert v1.status == VersionStatus.SENT
    assert v1.sent_by == demo_manager.user and v1.sent_at is not None
    assert v1.snapshot["targets"][0] == {
        "metric": "gmv",
        "comparison": ">=",
        "value": "500000.00",
        "period": "month",
        "by_month": 3,
    }
    # The brand's owner and viewer hear of it, in-app and by e-mail; so does the rest of the
    # engagement's staff (not the sender).
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_recipient) == [
        "li.ming@brand-a.test",
        "operator@demo.test",
        "viewer@brand-a.test",
    ]
    assert "Proposal to review" in by_recipient["li.ming@brand-a.test"].subject
    assert f"/demo/proposals/versions/{v1.pk}/" in by_recipient["li.ming@brand-a.test"].body
    assert by_recipient["operator@demo.test"].subject.startswith("Sent to Brand A")
    assert Notification.objects.filter(user=owner_a.user, url__contains=str(v1.pk)).exists()
    assert Notification.objects.filter(user=demo_operator.user, url__contains=str(v1.pk)).exists()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.version_request_changes(
            actor=owner_a, version=v1, comment="第三个月的GMV目标太高，请调整到40万。"
        )
    assert ProposalVersion.objects.get(pk=v1.pk).status == VersionStatus.CHANGES_REQUESTED
    assert sorted(message.to[0] for message in mail.outbox) == [
        "manager@demo.test",
        "operator@demo.test",
    ]
    assert "第三个月的GMV目标太高" in mail.outbox[0].body
    shared = ProposalComment.objects.get(proposal=proposal)
    assert shared.internal is False and shared.version_id == v1.pk

    v2 = services.proposal_new_version(actor=demo_manager, proposal=proposal)
    assert (v2.number, v2.status) == (2, VersionStatus.DRAFT)
    assert v2.targets.count() == 2  # copied from v1
    gmv = v2.targets.get(metric="gmv")
    services.version_row_delete(actor=demo_manager, version=v2, section="targets", row_id=gmv.pk)
    services.target_add(
        actor=demo_manager,
        version=v2,
        metric="gmv",
        comparison=">=",
        value="400000",
        period="month",
        by_month=3,
    )
    v2 = services.version_send(actor=demo_manager, version=v2)
    # v1 keeps what the brand said about it.
    assert ProposalVersion.objects.get(pk=v1.pk).status == VersionStatus.CHANGES_REQUESTED

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approval = approve(owner_a, v2, name=" 李 明 ")
    v2.refresh_from_db()
    assert v2.status == VersionStatus.APPROVED
    # The evidence.
    canonical = json.dumps(
        v2.snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()
    assert approval.content_hash == hashlib.sha256(canonical).hexdigest() == v2.content_hash
    assert (approval.user, approval.membership, approval.signed_name) == (
        owner_a.user,
        owner_a,
        "李 明",
    )
    assert (approval.ip, approval.user_agent) == ("203.0.113.7", "UA/1.0")
    assert approval.approved_at is not None
    # The engagement: gate open, live targets, scope, stage moved through the lifecycle.
    engagement = Engagement.objects.get(pk=engagement_a.pk)
    gate = next(g for g in gates.GATES if g.key == "proposal_approved")
    assert gates.gate_is_open(gate, engagement) is True
    live = [
        (t.metric, t.comparison, str(t.value), t.period, t.by_month, t.source_version_id)
        for t in EngagementTarget.objects.filter(engagement=engagement).order_by("metric")
    ]
    assert live == [
        ("gmv", ">=", "400000.0000", "month", 3, v2.pk),
        ("roi", ">=", "3.0000", "month", 3, v2.pk),
    ]
    assert engagement.stage == Stage.SETUP
    move = EngagementTransition.objects.filter(engagement=engagement).first()
    assert (move.from_stage, move.to_stage, move.actor) == (
        Stage.DIAGNOSIS,
        Stage.SETUP,
        owner_a.user,
    )
    assert move.reason == "Proposal v2 approved by 李 明"
    # Both sides hear of it.
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == [
        "li.ming@brand-a.test",
        "manager@demo.test",
        "operator@demo.test",
        "viewer@brand-a.test",
    ]
    assert all("Proposal approved" in message.subject for message in mail.outbox)


def test_approval_takes_the_proposal_s_scope_and_the_first_step_in_it(
    in_demo, make_proposal, make_engagement, store_a, demo_manager, owner_a
):
    engagement = make_engagement(store_a, demo_manager, stage=Stage.PROPOSAL)
    _proposal, version = make_proposal(engagement, demo_manager)
    services.version_update(
        actor=demo_manager,
        version=version,
        scope_services=["traffic", "monitoring"],
        monthly_base_fee="20000",
    )
    version = services.version_send(actor=demo_manager, version=version)
    approve(owner_a, version)
    engagement.refresh_from_db()
    assert engagement.scope_services == ["traffic", "monitoring"]
    assert engagement.stage == Stage.TRAFFIC


def test_approval_says_whether_the_brand_approves_the_visual_designs(
    in_demo, make_proposal, make_engagement, store_a, demo_manager, owner_a
):
    engagement = make_engagement(store_a, demo_manager, stage=Stage.PROPOSAL)
    assert engagement.brand_approves_visuals is True
    _proposal, version = make_proposal(engagement, demo_manager)
    services.version_update(
        actor=demo_manager,
        version=version,
        scope_services=["setup", "traffic"],
        monthly_base_fee="20000",
        brand_approves_visuals=False,
    )
    version = services.version_send(actor=demo_manager, version=version)
    assert version.snapshot["brand_approves_visuals"] is False
    approve(owner_a, version)
    engagement.refresh_from_db()
    assert engagement.brand_approves_visuals is False
    # A renewal proposal starts from what the engagement has now.
    _later, renewal = make_proposal(engagement, demo_manager, title="续约方案")
    assert renewal.brand_approves_visuals is False


def test_a_version_sent_before_the_question_existed_has_the_brand_approve(
    in_demo, make_proposal, make_engagement, store_a, demo_manager, owner_a
):
    engagement = make_engagement(store_a, demo_manager, stage=Stage.PROPOSAL)
    Engagement.objects.filter(pk=engagement.pk).update(brand_approves_visuals=False)
    _proposal, version = make_proposal(engagement, demo_manager, send=True)
    snapshot = {key: value for key, value in version.snapshot.items()}
    del snapshot["brand_approves_visuals"]
    ProposalVersion.objects.filter(pk=version.pk).update(
        snapshot=snapshot, content_hash=content_hash(snapshot)
    )
    version.refresh_from_db()
    approve(owner_a, version)
    engagement.refresh_from_db()
    assert engagement.brand_approves_visuals is True


def test_approval_replaces_the_previous_live_targets(
    in_demo, make_proposal, engagement_a, demo_manager, owner_a
):
    _proposal, v1 = make_proposal(engagement_a, demo_manager, send=True)
    approve(owner_a, v1)
    assert EngagementTarget.objects.filter(engagement=engagement_a).count() == 2
    # A later proposal (a renewal) replaces them; the stage, already in execution, stays.
    _later, draft = make_proposal(engagement_a, demo_manager, title="续约方案")
    ProposalTarget.objects.filter(version=draft, metric="roi").delete()
    draft = services.version_send(actor=demo_manager, version=draft)
    approve(owner_a, draft)
    assert list(
        EngagementTarget.objects.filter(engagement=engagement_a).values_list(
            "metric", "source_version_id"
        )
    ) == [("gmv", draft.pk)]
    assert Engagement.objects.get(pk=engagement_a.pk).stage == Stage.SETUP


# --- refusals: each a clear error, nothing changed ---------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"metric": ""}, "Choose the metric"),
        ({"metric": "happiness"}, "Unknown metric"),
        ({"value": ""}, "Give a value"),
        ({"value": None}, "Give a value"),
        ({"value": "-5"}, "cannot be negative"),
        ({"by_month": 0}, "Say by which month"),
        ({"by_month": 13}, "outside the engagement's dates"),
    ],
)
def test_a_bad_target_is_refused(
    in_demo, make_proposal, make_engagement, store_a, demo_manager, fields, message
):
    engagement = make_engagement(
        store_a,
        demo_manager,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 12, 31),
    )
    _proposal, version = make_proposal(engagement, demo_manager)
    before = snapshot_state(version)
    arguments = {
        "metric": "gmv",
        "comparison": ">=",
        "value": "500000",
        "period": "month",
        "by_month": 3,
        **fields,
    }
    with pytest.raises(ValidationError, match=message):
        services.target_add(actor=demo_manager, version=version, **arguments)
    assert snapshot_state(version) == before


def test_a_milestone_outside_the_engagement_s_dates_is_refused(
    in_demo, make_proposal, make_engagement, store_a, demo_manager
):
    engagement = make_engagement(
        store_a,
        demo_manager,
        start_date=datetime.date(2026, 1, 15),
        end_date=datetime.date(2026, 6, 30),
    )
    _proposal, version = make_proposal(engagement, demo_manager)
    count = version.milestones.count()
    for month in (0, 7):
        with pytest.raises(ValidationError):
            services.milestone_add(actor=demo_manager, version=version, month=month, title="x")
    with pytest.raises(ValidationError, match="outside the engagement's dates"):
        services.milestone_add(actor=demo_manager, version=version, month=7, title="双11")
    services.milestone_add(actor=demo_manager, version=version, month=6, title="618")
    assert version.milestones.count() == count + 1
    with pytest.raises(ValidationError, match="outside the engagement's dates"):
        services.responsibility_add(
            actor=demo_manager,
            version=version,
            party="agency",
            task="复盘",
            owner="Max",
            due_date=datetime.date(2026, 7, 1),
        )


def test_negative_fees_and_commissions_over_100_percent_are_refused(
    in_demo, make_proposal, engagement_a, demo_manager
):
    _proposal, version = make_proposal(engagement_a, demo_manager)
    with pytest.raises(ValidationError, match="cannot be negative"):
        services.version_update(
            actor=demo_manager,
            version=version,
            scope_services=["setup"],
            monthly_base_fee="-1",
        )
    version.refresh_from_db()
    assert str(version.monthly_base_fee) == "30000.00"
    assert version.scope_services != ["setup"]
    tiers = version.commission_tiers.count()
    with pytest.raises(ValidationError, match="from 0 to 100"):
        services.commission_tier_add(
            actor=demo_manager, version=version, gmv_from="500000", gmv_to=None, rate_percent="101"
        )
    with pytest.raises(ValidationError, match="from 0 to 100"):
        services.commission_tier_add(
            actor=demo_manager, version=version, gmv_from="500000", gmv_to=None, rate_percent="-2"
        )
    with pytest.raises(ValidationError, match="overlaps"):
        services.commission_tier_add(
            actor=demo_manager, version=version, gmv_from="100000", gmv_to=None, rate_percent="2"
        )
    with pytest.raises(ValidationError, match="cannot be negative"):
        services.resource_add(
            actor=demo_manager,
            version=version,
            kind="paid_budget",
            channel="zhitongche",
            amount="-100",
        )
    assert version.commission_tiers.count() == tiers


def test_a_sent_version_refuses_every_edit(in_demo, make_proposal, engagement_a, demo_manager):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    before = snapshot_state(version)
    target = version.targets.first()
    edits = [
        lambda: services.target_add(
            actor=demo_manager,
            version=version,
            metric="gmv",
            comparison=">=",
            value="1",
            period="month",
            by_month=1,
        ),
        lambda: services.milestone_add(actor=demo_manager, version=version, month=1, title="x"),
        lambda: services.version_update(
            actor=demo_manager, version=version, scope_services=["setup"], monthly_base_fee="1"
        ),
        lambda: services.version_row_delete(
            actor=demo_manager, version=version, section="targets", row_id=target.pk
        ),
        lambda: services.commission_tier_add(
            actor=demo_manager, version=version, gmv_from="900000", gmv_to=None, rate_percent="1"
        ),
        lambda: services.version_set_planner(actor=demo_manager, version=version, assumptions={}),
        lambda: services.version_send(actor=demo_manager, version=version),
    ]
    for edit in edits:
        with pytest.raises(ValidationError, match="frozen; make a new version"):
            edit()
    assert snapshot_state(version) == before


def test_only_the_latest_sent_version_can_be_approved(
    in_demo, make_proposal, engagement_a, demo_manager, owner_a
):
    proposal, v1 = make_proposal(engagement_a, demo_manager, send=True)
    v2 = services.proposal_new_version(actor=demo_manager, proposal=proposal)
    # A draft cannot be approved.
    before = snapshot_state(v2)
    with pytest.raises(ValidationError, match="not been sent"):
        approve(owner_a, v2)
    assert snapshot_state(v2) == before
    v2 = services.version_send(actor=demo_manager, version=v2)
    v1.refresh_from_db()
    assert v1.status == VersionStatus.SUPERSEDED
    before = snapshot_state(v1)
    with pytest.raises(ValidationError, match="newer version"):
        approve(owner_a, v1)
    with pytest.raises(ValidationError, match="newer version"):
        services.version_request_changes(actor=owner_a, version=v1, comment="no")
    assert snapshot_state(v1) == before


def test_approving_twice_is_refused(in_demo, make_proposal, engagement_a, demo_manager, owner_a):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    approve(owner_a, version)
    before = snapshot_state(version)
    with pytest.raises(ValidationError, match="already approved"):
        approve(owner_a, version)
    with pytest.raises(ValidationError, match="already approved"):
        services.version_request_changes(actor=owner_a, version=version, comment="wait")
    assert snapshot_state(version) == before
    assert Approval.objects.count() == 1


def test_viewers_and_staff_never_approve(
    in_demo, make_proposal, engagement_a, demo_manager, demo_admin, brand_a_viewer, brand_b_owner
):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    before = snapshot_state(version)
    with pytest.raises(ValidationError, match="viewers can read and comment"):
        approve(brand_a_viewer, version, name="viewer")
    for staff in (demo_manager, demo_admin):
        with pytest.raises(ValidationError, match="cannot act on the brand's behalf"):
            approve(staff, version, name="Max Manager")
        with pytest.raises(ValidationError, match="cannot act on the brand's behalf"):
            services.version_request_changes(actor=staff, version=version, comment="x")
    with pytest.raises(ValidationError, match="Only an owner of the brand"):
        approve(brand_b_owner, version, name="b")
    assert snapshot_state(version) == before


def test_the_signature_is_the_typed_full_name(
    in_demo, make_proposal, engagement_a, demo_manager, owner_a
):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    before = snapshot_state(version)
    with pytest.raises(ValidationError, match="Type your full name"):
        approve(owner_a, version, name="   ")
    with pytest.raises(ValidationError, match="as your account has it: 李明"):
        approve(owner_a, version, name="王晓")
    with pytest.raises(ValidationError, match="Say what should change"):
        services.version_request_changes(actor=owner_a, version=version, comment=" ")
    assert snapshot_state(version) == before


def test_a_tampered_snapshot_is_not_approved(
    in_demo, make_proposal, engagement_a, demo_manager, owner_a
):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    snapshot = dict(version.snapshot, terms="改过的条款")
    ProposalVersion.objects.filter(pk=version.pk).update(snapshot=snapshot)
    with pytest.raises(ValidationError, match="changed since it was sent"):
        approve(owner_a, version)
    assert not Approval.objects.exists()


def test_the_frozen_content_outlives_its_rows(
    in_demo, make_proposal, engagement_a, demo_manager, owner_a
):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    frozen = version.content()
    ProposalTarget.objects.filter(version=version).update(value=1)
    version.refresh_from_db()
    assert version.content() == frozen
    assert version.content()["targets"][0]["value"] == "500000.00"


def test_a_second_open_proposal_and_a_second_draft_are_refused(
    in_demo, make_proposal, engagement_a, demo_manager, owner_a
):
    proposal, version = make_proposal(engagement_a, demo_manager)
    with pytest.raises(ValidationError, match="already has a proposal waiting"):
        services.proposal_create(actor=demo_manager, engagement=engagement_a)
    with pytest.raises(ValidationError, match="still a draft"):
        services.proposal_new_version(actor=demo_manager, proposal=proposal)
    services.version_send(actor=demo_manager, version=version)
    approve(owner_a, version)
    with pytest.raises(ValidationError, match="start a new proposal"):
        services.proposal_new_version(actor=demo_manager, proposal=proposal)
    assert ProposalVersion.objects.filter(proposal=proposal).count() == 1


def test_only_the_engagement_s_managers_edit_its_proposal(
    in_demo, make_proposal, engagement_a, demo_manager, demo_operator, brand_a_owner
):
    _proposal, version = make_proposal(engagement_a, demo_manager)
    for outsider in (demo_operator, brand_a_owner):
        with pytest.raises(PermissionDenied):
            services.milestone_add(actor=outsider, version=version, month=1, title="x")
        with pytest.raises(PermissionDenied):
            services.version_send(actor=outsider, version=version)
    assert ProposalVersion.objects.get(pk=version.pk).status == VersionStatus.DRAFT


def test_sending_needs_a_target(in_demo, make_proposal, engagement_a, demo_manager):
    _proposal, version = make_proposal(engagement_a, demo_manager)
    ProposalTarget.objects.filter(version=version).delete()
    with pytest.raises(ValidationError, match="at least one KPI target"):
        services.version_send(actor=demo_manager, version=version)
    assert ProposalVersion.objects.get(pk=version.pk).status == VersionStatus.DRAFT


def test_internal_notes_are_for_staff_only(
    in_demo, make_proposal, engagement_a, demo_manager, brand_a_owner
):
    proposal, _version = make_proposal(engagement_a, demo_manager, send=True)
    services.proposal_comment_add(
        actor=demo_manager, proposal=proposal, body="内部：利润率偏低", internal=True
    )
    services.proposal_comment_add(actor=brand_a_owner, proposal=proposal, body="请补充直播计划")
    with pytest.raises(ValidationError, match="Only agency staff"):
        services.proposal_comment_add(
            actor=brand_a_owner, proposal=proposal, body="x", internal=True
        )
    with pytest.raises(ValidationError, match="Write a comment"):
        services.proposal_comment_add(actor=brand_a_owner, proposal=proposal, body="  ")
    assert ProposalComment.objects.count() == 2
