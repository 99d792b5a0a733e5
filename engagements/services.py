"""Writes of the engagements app: creating and editing engagements, and moving their stage.

`engagement_move_stage` is the only way an engagement's stage changes; it enforces the gates of
`engagements.gates` and the engagement's scope, and records every move.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agency import permissions
from agency.audit import audit_record, short_text
from agency.models import AuditAction, AuditTarget, Membership, Store, User
from engagements.gates import closed_gates_for
from engagements.lifecycle import STAGE_SERVICE, Service, Stage, stage_number
from engagements.models import (
    Engagement,
    EngagementStatus,
    EngagementTarget,
    EngagementTeamMember,
    EngagementTransition,
)


class StageMoveRefused(ValidationError):
    """The move breaks a rule of the lifecycle; the message says which, in the user's words."""


def _validate_people(*, agency_id: int, account_manager: Membership, team: list[Membership]):
    if (
        account_manager.agency_id != agency_id
        or not account_manager.is_active
        or account_manager.role not in permissions.MANAGER_ROLES
    ):
        raise ValidationError(
            {"account_manager": _("Choose an active admin or account manager of the agency.")}
        )
    for member in team:
        if member.agency_id != agency_id or not member.is_staff_member or not member.is_active:
            raise ValidationError({"team": _("Choose active agency staff.")})


def _validate_scope(scope_services: list[str]) -> list[str]:
    unknown = set(scope_services) - set(Service.values)
    if unknown:
        raise ValidationError({"scope_services": _("Unknown service.")})
    if not scope_services:
        raise ValidationError({"scope_services": _("Choose at least one service.")})
    return [value for value in Service.values if value in scope_services]


def _set_team(engagement: Engagement, team: Iterable[Membership]) -> None:
    wanted = {member.pk: member for member in team if member.pk != engagement.account_manager_id}
    EngagementTeamMember.objects.filter(engagement=engagement).exclude(
        membership_id__in=wanted
    ).delete()
    existing = set(
        EngagementTeamMember.objects.filter(engagement=engagement).values_list(
            "membership_id", flat=True
        )
    )
    for member_id, member in wanted.items():
        if member_id not in existing:
            EngagementTeamMember.objects.create(engagement=engagement, membership=member)


@transaction.atomic
def engagement_create(
    *,
    actor: Membership,
    store: Store,
    title: str,
    goal: str,
    scope_services: list[str],
    start_date: datetime.date,
    account_manager: Membership,
    end_date: datetime.date | None = None,
    goal_notes: str = "",
    team: Iterable[Membership] = (),
    internal_notes: str = "",
    stage: str = Stage.DIAGNOSIS,
    reason: str = "",
) -> Engagement:
    """Open an engagement on a store, at diagnosis.

    `stage` lets onboarding code (`seed_demo`, later an import of engagements already under way
    when an agency joins the portal) open an engagement at a later step without the gates, which
    it could not pass for work done before the portal; the step must be in scope, and the reason
    is required and kept in the timeline. The engagement form always starts at diagnosis.
    """
    if not permissions.can_create_engagement(actor):
        raise PermissionDenied
    if stage != Stage.DIAGNOSIS and not reason.strip():
        raise ValidationError({"stage": _("Say why the engagement starts at a later step.")})
    team = list(team)
    _validate_people(agency_id=actor.agency_id, account_manager=account_manager, team=team)
    if store.agency_id != actor.agency_id:
        raise ValidationError({"store": _("Unknown store.")})
    engagement = Engagement(
        agency_id=actor.agency_id,
        store=store,
        title=title.strip(),
        goal=goal,
        goal_notes=goal_notes,
        scope_services=_validate_scope(scope_services),
        start_date=start_date,
        end_date=end_date,
        account_manager=account_manager,
        internal_notes=internal_notes,
        stage=stage,
        created_by=actor.user,
    )
    engagement.full_clean(exclude=["agency", "team"])
    if not engagement.stage_in_scope(stage):
        raise ValidationError(
            {
                "stage": _("“%(stage)s” is not in this engagement's scope.")
                % {"stage": Stage(stage).label}
            }
        )
    engagement.save()
    _set_team(engagement, team)
    EngagementTransition.objects.create(
        engagement=engagement, from_stage="", to_stage=stage, actor=actor.user, reason=reason
    )
    return engagement


@transaction.atomic
def engagement_update(
    *,
    actor: Membership,
    engagement: Engagement,
    title: str,
    goal: str,
    scope_services: list[str],
    start_date: datetime.date,
    account_manager: Membership,
    end_date: datetime.date | None = None,
    goal_notes: str = "",
    team: Iterable[Membership] = (),
    internal_notes: str = "",
    status: str = EngagementStatus.ACTIVE,
) -> Engagement:
    """Edit what an engagement is; its stage moves only through `engagement_move_stage`."""
    if not permissions.can_edit_engagement(actor, engagement):
        raise PermissionDenied
    team = list(team)
    _validate_people(agency_id=actor.agency_id, account_manager=account_manager, team=team)
    scope_services = _validate_scope(scope_services)
    current_service = STAGE_SERVICE.get(Stage(engagement.stage))
    if current_service is not None and current_service not in scope_services:
        raise ValidationError(
            {
                "scope_services": _("The current stage (%(stage)s) must stay in scope.")
                % {"stage": Stage(engagement.stage).label}
            }
        )
    engagement.scope_services = scope_services
    engagement.title = title.strip()
    engagement.goal = goal
    engagement.goal_notes = goal_notes
    engagement.start_date = start_date
    engagement.end_date = end_date
    engagement.account_manager = account_manager
    engagement.internal_notes = internal_notes
    engagement.status = status
    engagement.full_clean(exclude=["agency", "team"])
    engagement.save()
    _set_team(engagement, team)
    return engagement


@transaction.atomic
def engagement_move_stage(
    *,
    actor: Membership | None,
    engagement: Engagement,
    to_stage: str,
    reason: str = "",
    expected_stage: str | None = None,
    on_behalf_of: User | None = None,
) -> EngagementTransition:
    """Move an engagement forward or back, enforcing the lifecycle, and record the move.

    Rules: the actor may edit the engagement; the target is a known stage other than the current
    one and inside the engagement's scope; every gate of the target stage is open (an approved
    proposal from step 3 on; a published full review for step 8); a move back says why. The row
    is locked so two people moving at once cannot both succeed; `expected_stage` (the stage the
    user saw) turns a stale form into a clear refusal instead of a surprise.

    `actor=None` is a system move that another service makes as the consequence of its own,
    already authorised, event (a brand owner's approval moves the engagement to store setup):
    no staff permission is asked, but it must say why, and every other rule holds. The timeline
    records `on_behalf_of` as the one who moved it.
    """
    if actor is None:
        if not reason.strip():
            raise StageMoveRefused(_("A system move must say why."))
    elif not permissions.can_move_stage(actor, engagement):
        raise PermissionDenied
    locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
    if locked.status == EngagementStatus.ENDED:
        raise StageMoveRefused(_("The engagement has ended; reopen it before moving its stage."))
    if expected_stage and locked.stage != expected_stage:
        raise StageMoveRefused(
            _("Someone moved this engagement to “%(stage)s” meanwhile; check and try again.")
            % {"stage": Stage(locked.stage).label}
        )
    if to_stage not in Stage.values:
        raise StageMoveRefused(_("Unknown stage “%(stage)s”.") % {"stage": to_stage})
    if to_stage == locked.stage:
        raise StageMoveRefused(_("The engagement is already at this stage."))
    if not locked.stage_in_scope(to_stage):
        raise StageMoveRefused(
            _("“%(stage)s” is not in this engagement's scope.") % {"stage": Stage(to_stage).label}
        )
    reason = reason.strip()
    moving_back = stage_number(to_stage) < stage_number(locked.stage)
    if moving_back and not reason:
        raise StageMoveRefused(_("Say why the engagement moves back."))
    closed = closed_gates_for(locked, to_stage)
    if closed:
        raise StageMoveRefused(
            _("“%(stage)s” waits for %(conditions)s.")
            % {
                "stage": Stage(to_stage).label,
                "conditions": _(", ").join(str(gate.label) for gate in closed),
            }
        )
    transition = EngagementTransition.objects.create(
        engagement=locked,
        from_stage=locked.stage,
        to_stage=to_stage,
        actor=actor.user if actor is not None else on_behalf_of,
        reason=reason,
    )
    audit_record(
        agency=locked.agency_id,
        action=AuditAction.STAGE_MOVED,
        actor=actor if actor is not None else on_behalf_of,
        target_type=AuditTarget.ENGAGEMENT,
        target_id=locked.pk,
        target=locked.title,
        detail={
            "stage": {"old": locked.stage, "new": to_stage},
            "reason": short_text(reason),
            # A consequence of another recorded event (the approval), not a staff move.
            "system_move": actor is None,
        },
    )
    locked.stage = to_stage
    locked.save(update_fields=["stage", "updated_at"])
    engagement.stage = to_stage
    return transition


@transaction.atomic
def engagement_targets_replace(
    *, engagement: Engagement, targets: list[dict], source_version_id: int | None
) -> list[EngagementTarget]:
    """Make `targets` (dicts of metric, comparison, value, period, by_month) the engagement's live
    KPI targets, replacing the previous ones. Called by the app whose event sets them (an
    approved proposal); it has checked who may do so."""
    EngagementTarget.objects.filter(engagement=engagement).delete()
    return [
        EngagementTarget.objects.create(
            engagement=engagement,
            metric=target["metric"],
            comparison=target["comparison"],
            value=target["value"],
            period=target["period"],
            by_month=target["by_month"],
            source_version_id=source_version_id,
        )
        for target in targets
    ]


def engagement_set_scope_services(
    *, engagement: Engagement, scope_services: list[str], brand_approves_visuals: bool = True
) -> None:
    """Set the services sold, and whether the brand approves the store's visual designs, as an
    approved proposal states them. The current stage stays in scope (a proposal is approved
    before execution, so this holds in practice)."""
    scope_services = _validate_scope(scope_services)
    engagement.scope_services = scope_services
    engagement.brand_approves_visuals = brand_approves_visuals
    engagement.save(update_fields=["scope_services", "brand_approves_visuals", "updated_at"])
