"""The lifecycle service: gates, scope, reasons, permissions and the record of every move."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agency.tenancy import agency_scope
from engagements import gates, services
from engagements.lifecycle import Service, Stage
from engagements.models import Engagement, EngagementTransition


@pytest.fixture
def in_demo(demo_agency):
    with agency_scope(demo_agency):
        yield


@pytest.fixture
def open_gate():
    """Let a gate's owner app say the condition holds, as proposals/reporting will."""
    saved = dict(gates._checks)

    def open_(key):
        gates.provide_gate_check(key, lambda engagement: True)

    yield open_
    # Restore the checks the owner apps provided (proposals provides its own at start-up).
    gates._checks.clear()
    gates._checks.update(saved)


def move(actor, engagement, to_stage, reason=""):
    return services.engagement_move_stage(
        actor=actor, engagement=engagement, to_stage=to_stage, reason=reason
    )


def test_a_move_is_recorded_with_who_when_from_to_and_why(in_demo, demo_manager, engagement_a):
    transition = move(demo_manager, engagement_a, Stage.PROPOSAL, "diagnosis published")
    assert Engagement.objects.get(pk=engagement_a.pk).stage == Stage.PROPOSAL
    assert (transition.from_stage, transition.to_stage, transition.actor, transition.reason) == (
        Stage.DIAGNOSIS,
        Stage.PROPOSAL,
        demo_manager.user,
        "diagnosis published",
    )
    assert transition.created_at is not None


def test_no_step_after_the_proposal_without_an_approved_proposal(
    in_demo, demo_manager, engagement_a
):
    for stage in [Stage.SETUP, Stage.TRAFFIC, Stage.MONITORING, Stage.REVIEW]:
        with pytest.raises(ValidationError, match="approved proposal"):
            move(demo_manager, engagement_a, stage)
    assert Engagement.objects.get(pk=engagement_a.pk).stage == Stage.DIAGNOSIS
    assert EngagementTransition.objects.filter(engagement=engagement_a).count() == 1


def test_a_gate_fails_closed_until_its_owner_provides_a_check(in_demo, engagement_a):
    gate = next(g for g in gates.GATES if g.key == "review_published")
    assert gates.gate_is_open(gate, engagement_a) is False
    saved = gates._checks.pop("proposal_approved")
    try:
        gate = next(g for g in gates.GATES if g.key == "proposal_approved")
        assert gates.gate_is_open(gate, engagement_a) is False
    finally:
        gates.provide_gate_check("proposal_approved", saved)


def test_the_proposals_app_provides_the_proposal_gate(in_demo, engagement_a):
    """Provided at start-up (proposals' AppConfig.ready); closed without an approved version."""
    from proposals.selectors import engagement_has_approved_proposal

    assert gates._checks["proposal_approved"] is engagement_has_approved_proposal
    gate = next(g for g in gates.GATES if g.key == "proposal_approved")
    assert gates.gate_is_open(gate, engagement_a) is False


def test_a_system_move_needs_a_reason_and_keeps_every_other_rule(
    in_demo, demo_manager, brand_a_owner, engagement_a, open_gate
):
    """An approval moves the stage on the brand owner's behalf (`actor=None`)."""
    with pytest.raises(ValidationError, match="must say why"):
        services.engagement_move_stage(
            actor=None, engagement=engagement_a, to_stage=Stage.PROPOSAL, reason=" "
        )
    with pytest.raises(ValidationError, match="approved proposal"):
        services.engagement_move_stage(
            actor=None, engagement=engagement_a, to_stage=Stage.SETUP, reason="approved"
        )
    assert Engagement.objects.get(pk=engagement_a.pk).stage == Stage.DIAGNOSIS
    open_gate("proposal_approved")
    transition = services.engagement_move_stage(
        actor=None,
        engagement=engagement_a,
        to_stage=Stage.SETUP,
        reason="Proposal v2 approved by 李明",
        on_behalf_of=brand_a_owner.user,
    )
    assert (transition.actor, transition.reason) == (
        brand_a_owner.user,
        "Proposal v2 approved by 李明",
    )
    assert Engagement.objects.get(pk=engagement_a.pk).stage == Stage.SETUP


def test_an_approved_proposal_opens_execution(in_demo, demo_manager, engagement_a, open_gate):
    open_gate("proposal_approved")
    move(demo_manager, engagement_a, Stage.SETUP)
    move(demo_manager, engagement_a, Stage.MONITORING)  # steps 3 to 6 run side by side
    move(demo_manager, engagement_a, Stage.REVIEW)
    with pytest.raises(ValidationError, match="published full review"):
        move(demo_manager, engagement_a, Stage.LONG_TERM_PLAN)
    open_gate("review_published")
    move(demo_manager, engagement_a, Stage.LONG_TERM_PLAN)
    assert Engagement.objects.get(pk=engagement_a.pk).stage == Stage.LONG_TERM_PLAN


def test_moving_back_needs_a_reason(in_demo, demo_manager, engagement_a):
    move(demo_manager, engagement_a, Stage.PROPOSAL)
    with pytest.raises(ValidationError, match="why"):
        move(demo_manager, engagement_a, Stage.DIAGNOSIS, "  ")
    transition = move(demo_manager, engagement_a, Stage.DIAGNOSIS, "the brand changed its goal")
    assert transition.is_backward


def test_a_step_outside_the_scope_is_refused(
    in_demo, make_engagement, store_a, demo_manager, open_gate
):
    open_gate("proposal_approved")
    traffic_only = make_engagement(store_a, demo_manager, services=[Service.TRAFFIC])
    with pytest.raises(ValidationError, match="not in this engagement's scope"):
        move(demo_manager, traffic_only, Stage.SETUP)
    move(demo_manager, traffic_only, Stage.TRAFFIC)


def test_the_same_stage_and_unknown_stages_are_refused(in_demo, demo_manager, engagement_a):
    with pytest.raises(ValidationError, match="already"):
        move(demo_manager, engagement_a, Stage.DIAGNOSIS)
    with pytest.raises(ValidationError, match="Unknown stage"):
        move(demo_manager, engagement_a, "launch")


def test_a_stale_form_is_refused_instead_of_overwriting(in_demo, demo_manager, engagement_a):
    stale = Engagement.objects.get(pk=engagement_a.pk)
    move(demo_manager, engagement_a, Stage.PROPOSAL)
    with pytest.raises(ValidationError, match="meanwhile"):
        services.engagement_move_stage(
            actor=demo_manager,
            engagement=stale,
            to_stage=Stage.DIAGNOSIS,
            reason="undo",
            expected_stage=Stage.DIAGNOSIS,
        )


def test_who_may_move(in_demo, demo_admin, demo_operator, make_member, demo_agency, engagement_a):
    with pytest.raises(PermissionDenied):
        move(demo_operator, engagement_a, Stage.PROPOSAL)
    other_manager = make_member(demo_agency)
    with pytest.raises(PermissionDenied):
        move(other_manager, engagement_a, Stage.PROPOSAL)
    move(demo_admin, engagement_a, Stage.PROPOSAL)


def test_creating_an_engagement_records_its_opening(in_demo, demo_manager, demo_operator, store_a):
    engagement = services.engagement_create(
        actor=demo_manager,
        store=store_a,
        title=" Launch ",
        goal="first_sale",
        scope_services=[Service.TRAFFIC, Service.SETUP],
        start_date=datetime.date(2026, 3, 1),
        account_manager=demo_manager,
        team=[demo_operator],
    )
    assert engagement.title == "Launch"
    assert engagement.scope_services == ["setup", "traffic"]
    assert engagement.stage == Stage.DIAGNOSIS
    assert list(engagement.team.all()) == [demo_operator]
    opening = EngagementTransition.objects.get(engagement=engagement)
    assert (opening.from_stage, opening.to_stage) == ("", Stage.DIAGNOSIS)


def test_an_engagement_needs_staff_a_service_and_sane_dates(
    in_demo, demo_manager, brand_a_owner, store_a
):
    arguments = dict(
        actor=demo_manager,
        store=store_a,
        title="X",
        goal="growth",
        scope_services=[Service.TRAFFIC],
        start_date=datetime.date(2026, 3, 1),
        account_manager=demo_manager,
    )
    with pytest.raises(ValidationError):
        services.engagement_create(**{**arguments, "account_manager": brand_a_owner})
    with pytest.raises(ValidationError):
        services.engagement_create(**{**arguments, "scope_services": []})
    with pytest.raises(ValidationError):
        services.engagement_create(**{**arguments, "end_date": datetime.date(2026, 2, 1)})
    assert not Engagement.objects.filter(title="X").exists()


def test_the_current_stage_stays_in_scope(in_demo, demo_manager, engagement_a, open_gate):
    open_gate("proposal_approved")
    move(demo_manager, engagement_a, Stage.SETUP)
    with pytest.raises(ValidationError, match="must stay in scope"):
        services.engagement_update(
            actor=demo_manager,
            engagement=engagement_a,
            title="t",
            goal="growth",
            scope_services=[Service.TRAFFIC],
            start_date=engagement_a.start_date,
            account_manager=demo_manager,
        )


def test_onboarding_at_a_later_step_needs_a_reason_and_the_step_in_scope(
    in_demo, demo_manager, store_a
):
    arguments = dict(
        actor=demo_manager,
        store=store_a,
        title="Imported",
        goal="growth",
        scope_services=[Service.TRAFFIC],
        start_date=datetime.date(2026, 3, 1),
        account_manager=demo_manager,
        stage=Stage.TRAFFIC,
    )
    with pytest.raises(ValidationError, match="later step"):
        services.engagement_create(**arguments)
    with pytest.raises(ValidationError, match="not in this engagement's scope"):
        services.engagement_create(**{**arguments, "stage": Stage.SETUP, "reason": "imported"})
    engagement = services.engagement_create(**{**arguments, "reason": "running since May"})
    assert engagement.transitions.get().reason == "running since May"


def test_only_admins_and_account_managers_manage_an_engagement(
    in_demo, demo_manager, demo_operator, store_a
):
    with pytest.raises(ValidationError) as error:
        services.engagement_create(
            actor=demo_manager,
            store=store_a,
            title="X",
            goal="growth",
            scope_services=[Service.TRAFFIC],
            start_date=datetime.date(2026, 3, 1),
            account_manager=demo_operator,
        )
    assert "account_manager" in error.value.error_dict


def test_an_ended_engagement_does_not_move(in_demo, demo_manager, engagement_a):
    Engagement.objects.filter(pk=engagement_a.pk).update(status="ended")
    with pytest.raises(ValidationError, match="ended"):
        move(demo_manager, engagement_a, Stage.PROPOSAL)
