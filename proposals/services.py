"""Writes of the proposals app: drafting a proposal version, sending it, the brand's decision
(approve with a typed signature, or request changes), revising, and comments.

Every rule lives here and is checked before anything is written; a refusal raises
`ProposalRefused` (a ValidationError whose message says what to do) and changes nothing. A
version is edited only while it is a draft; sending freezes its content and hashes it; approving
records the evidence, opens the lifecycle's proposal gate, copies the KPI targets into the
engagement's live targets and moves the engagement to its first execution step.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agency.audit import audit_record, short_text
from agency.models import AuditAction, AuditTarget, Membership, Role
from agency.notifications import notification_send
from engagements import services as engagement_services
from engagements.lifecycle import STAGE_SERVICE, Service, Stage
from engagements.models import Engagement, EngagementTeamMember
from execution.metrics.registry import METRICS
from proposals import permissions, planner
from proposals.models import (
    Approval,
    ChangeRequest,
    CommissionTier,
    Comparison,
    Party,
    Proposal,
    ProposalComment,
    ProposalMilestone,
    ProposalResource,
    ProposalResponsibility,
    ProposalTarget,
    ProposalVersion,
    ResourceKind,
    TargetPeriod,
    VersionStatus,
    content_hash,
)
from proposals.selectors import version_latest, version_latest_sent_number

# Extra resource channels besides the paid ones of the planner: platform events and content.
EVENT_CHANNELS = {
    "juhuasuan": gettext_lazy("Juhuasuan (聚划算)"),
    "brand_day": gettext_lazy("Brand day (品牌日)"),
    "618": gettext_lazy("618"),
    "double11": gettext_lazy("Double 11 (双11)"),
    "livestream": gettext_lazy("Livestream (直播)"),
    "short_video": gettext_lazy("Short video (短视频)"),
}


class ProposalRefused(ValidationError):
    """A proposal action breaks a rule; the message says which, in the user's words."""


# --- helpers --------------------------------------------------------------------------------


def engagement_months(engagement: Engagement) -> int | None:
    """How many calendar months the engagement spans (month 1 holds its start date); None
    while it has no end date."""
    if engagement.end_date is None:
        return None
    start, end = engagement.start_date, engagement.end_date
    return (end.year - start.year) * 12 + end.month - start.month + 1


def plan_months(engagement: Engagement) -> int:
    """The months a plan covers: the engagement's, or at most the planner's limit."""
    return min(engagement_months(engagement) or 12, planner.MAX_MONTHS)


def _month_in_engagement(engagement: Engagement, month: int | None, field: str) -> None:
    if month is None:
        return
    last = engagement_months(engagement) or planner.MAX_MONTHS
    if not 1 <= month <= last:
        raise ProposalRefused(
            {
                field: _(
                    "Month %(month)s is outside the engagement's dates (months 1 to %(last)s)."
                )
                % {"month": month, "last": last}
            }
        )


def _decimal(raw, field: str, *, required: bool = True) -> Decimal | None:
    if raw in (None, ""):
        if required:
            raise ProposalRefused({field: _("Give a value.")})
        return None
    value = planner.finite_decimal(raw)
    if value is None:
        raise ProposalRefused({field: planner.not_a_number(raw)})
    return value


def _require_editor(actor: Membership, engagement: Engagement) -> None:
    if not permissions.can_edit_proposal(actor, engagement):
        raise PermissionDenied


def _require_draft(version: ProposalVersion) -> None:
    """A sent version is frozen: a change makes a new version."""
    if version.status != VersionStatus.DRAFT:
        raise ProposalRefused(
            _("Version %(number)s has been sent and is frozen; make a new version to change it.")
            % {"number": version.number}
        )


def _lock_draft(*, actor: Membership, version: ProposalVersion) -> ProposalVersion:
    """The version, locked and checked: the actor edits this engagement's proposal, and the
    version is still a draft (read under the lock, so an edit racing a send cannot slip in)."""
    engagement = version.proposal.engagement
    _require_editor(actor, engagement)
    locked = ProposalVersion.objects.select_for_update(of=("self",)).get(pk=version.pk)
    _require_draft(locked)
    locked.proposal = version.proposal
    return locked


def _save(row) -> None:
    row.full_clean(exclude=["agency", "version"])
    row.save()


def _version_url(version: ProposalVersion) -> str:
    return reverse(
        "proposals:version",
        kwargs={"agency_slug": version.proposal.agency.slug, "version_id": version.pk},
    )


def _agency_memberships(engagement: Engagement):
    """Memberships of the engagement's agency, whoever is acting. A brand owner's decision runs
    in their brand-restricted scope, where memberships (agency-level rows) are hidden; telling
    the agency's staff about it is tenancy plumbing, so the escape hatch is used here, bounded
    to the engagement's own agency."""
    return Membership.objects.unscoped().filter(agency_id=engagement.agency_id, is_active=True)


def _brand_members(engagement: Engagement) -> list[Membership]:
    return list(
        _agency_memberships(engagement)
        .filter(
            role__in=[Role.BRAND_OWNER, Role.BRAND_VIEWER],
            brands=engagement.store.brand_id,
        )
        .select_related("user")
    )


def _engagement_staff(engagement: Engagement) -> list[Membership]:
    """The account manager and the engagement's team."""
    team_ids = EngagementTeamMember.objects.unscoped().filter(
        agency_id=engagement.agency_id, engagement_id=engagement.pk
    )
    return list(
        _agency_memberships(engagement)
        .filter(Q(pk=engagement.account_manager_id) | Q(pk__in=team_ids.values("membership_id")))
        .select_related("user")
    )


# --- proposals and versions -----------------------------------------------------------------


@transaction.atomic
def proposal_create(*, actor: Membership, engagement: Engagement, title: str = "") -> Proposal:
    """Start a proposal for an engagement, with a first draft version whose scope is the
    engagement's. A second proposal is refused while one is still open (not yet approved):
    revise that one instead."""
    _require_editor(actor, engagement)
    open_proposals = Proposal.objects.filter(engagement=engagement).exclude(
        versions__status=VersionStatus.APPROVED
    )
    if open_proposals.exists():
        raise ProposalRefused(
            _("This engagement already has a proposal waiting for approval; revise that one.")
        )
    proposal = Proposal.objects.create(
        engagement=engagement,
        title=title.strip()
        or _("Operations proposal for %(engagement)s") % {"engagement": engagement.title},
        created_by=actor.user,
    )
    ProposalVersion.objects.create(
        proposal=proposal,
        number=1,
        scope_services=list(engagement.scope_services),
        brand_approves_visuals=engagement.brand_approves_visuals,
        created_by=actor.user,
    )
    return proposal


@transaction.atomic
def version_update(
    *,
    actor: Membership,
    version: ProposalVersion,
    scope_services: list[str],
    monthly_base_fee,
    kpi_bonus: str = "",
    terms: str = "",
    brand_approves_visuals: bool = True,
) -> ProposalVersion:
    """Edit a draft's scope (full service or some services, and whether the brand approves the
    visual designs), fees and terms."""
    locked = _lock_draft(actor=actor, version=version)
    unknown = set(scope_services) - set(Service.values)
    if unknown or not scope_services:
        raise ProposalRefused({"scope_services": _("Choose at least one known service.")})
    fee = _decimal(monthly_base_fee, "monthly_base_fee")
    if fee < 0:
        raise ProposalRefused({"monthly_base_fee": _("A fee cannot be negative.")})
    locked.scope_services = [value for value in Service.values if value in scope_services]
    locked.monthly_base_fee = fee
    locked.kpi_bonus = kpi_bonus.strip()
    locked.terms = terms.strip()
    locked.brand_approves_visuals = brand_approves_visuals
    locked.full_clean(exclude=["agency", "proposal", "planner"])
    locked.save()
    return locked


@transaction.atomic
def target_add(
    *,
    actor: Membership,
    version: ProposalVersion,
    metric: str,
    comparison: str,
    value,
    period: str,
    by_month: int | None,
) -> ProposalTarget:
    """A KPI target: a metric of the registry, ≥ or ≤ a value, in a month or cumulatively, by
    a month inside the engagement."""
    locked = _lock_draft(actor=actor, version=version)
    if not metric:
        raise ProposalRefused({"metric": _("Choose the metric the target is about.")})
    if metric not in METRICS:
        raise ProposalRefused({"metric": _("Unknown metric “%(metric)s”.") % {"metric": metric}})
    number = _decimal(value, "value")
    if number < 0:
        raise ProposalRefused({"value": _("A target cannot be negative.")})
    if comparison not in Comparison.values:
        raise ProposalRefused({"comparison": _("Choose ≥ or ≤.")})
    if period not in TargetPeriod.values:
        raise ProposalRefused({"period": _("Choose a period.")})
    if not by_month:
        raise ProposalRefused({"by_month": _("Say by which month.")})
    _month_in_engagement(locked.proposal.engagement, by_month, "by_month")
    row = ProposalTarget(
        version=locked,
        metric=metric,
        comparison=comparison,
        value=number,
        period=period,
        by_month=by_month,
    )
    _save(row)
    return row


@transaction.atomic
def milestone_add(
    *, actor: Membership, version: ProposalVersion, month: int | None, title: str, description=""
) -> ProposalMilestone:
    """A milestone of the phase plan, in a month inside the engagement's dates."""
    locked = _lock_draft(actor=actor, version=version)
    if not month:
        raise ProposalRefused({"month": _("Say in which month.")})
    if not title.strip():
        raise ProposalRefused({"title": _("Give the milestone a title.")})
    _month_in_engagement(locked.proposal.engagement, month, "month")
    row = ProposalMilestone(
        version=locked, month=month, title=title.strip(), description=description.strip()
    )
    _save(row)
    return row


@transaction.atomic
def resource_add(
    *,
    actor: Membership,
    version: ProposalVersion,
    kind: str,
    channel: str = "",
    month: int | None = None,
    description: str = "",
    amount=None,
) -> ProposalResource:
    """A resource: a paid budget (a planner channel and a monthly amount), a platform event or
    an influencer."""
    locked = _lock_draft(actor=actor, version=version)
    if kind not in ResourceKind.values:
        raise ProposalRefused({"kind": _("Choose the kind of resource.")})
    number = _decimal(amount, "amount", required=kind == ResourceKind.PAID_BUDGET)
    if number is not None and number < 0:
        raise ProposalRefused({"amount": _("An amount cannot be negative.")})
    if kind == ResourceKind.PAID_BUDGET and channel not in planner.CHANNELS:
        raise ProposalRefused({"channel": _("Choose the paid channel of the budget.")})
    if kind != ResourceKind.PAID_BUDGET and not (channel or description.strip()):
        raise ProposalRefused({"description": _("Say which event or influencer.")})
    _month_in_engagement(locked.proposal.engagement, month, "month")
    row = ProposalResource(
        version=locked,
        kind=kind,
        channel=channel,
        month=month or None,
        description=description.strip(),
        amount=number,
    )
    _save(row)
    return row


@transaction.atomic
def responsibility_add(
    *,
    actor: Membership,
    version: ProposalVersion,
    party: str,
    task: str,
    owner: str,
    due_date: datetime.date | None,
) -> ProposalResponsibility:
    """A line of the division of labour: what the brand provides or the agency does, who owns
    it and by when (inside the engagement's dates)."""
    locked = _lock_draft(actor=actor, version=version)
    if party not in Party.values:
        raise ProposalRefused({"party": _("Choose brand or agency.")})
    if not task.strip() or not owner.strip():
        raise ProposalRefused({"task": _("Say what is to be done and who owns it.")})
    if due_date is None:
        raise ProposalRefused({"due_date": _("Give a due date.")})
    engagement = locked.proposal.engagement
    if due_date < engagement.start_date or (
        engagement.end_date is not None and due_date > engagement.end_date
    ):
        raise ProposalRefused({"due_date": _("The due date is outside the engagement's dates.")})
    row = ProposalResponsibility(
        version=locked, party=party, task=task.strip(), owner=owner.strip(), due_date=due_date
    )
    _save(row)
    return row


@transaction.atomic
def commission_tier_add(
    *, actor: Membership, version: ProposalVersion, gmv_from, gmv_to, rate_percent
) -> CommissionTier:
    """A commission tier on monthly GMV: from an amount, up to an amount (or open), a rate in
    percent from 0 to 100. Tiers do not overlap."""
    locked = _lock_draft(actor=actor, version=version)
    start = _decimal(gmv_from, "gmv_from")
    end = _decimal(gmv_to, "gmv_to", required=False)
    rate = _decimal(rate_percent, "rate_percent")
    if start < 0 or (end is not None and end < 0):
        raise ProposalRefused({"gmv_from": _("GMV bounds cannot be negative.")})
    if end is not None and end <= start:
        raise ProposalRefused({"gmv_to": _("The upper bound must be above the lower one.")})
    if not Decimal(0) <= rate <= Decimal(100):
        raise ProposalRefused({"rate_percent": _("A commission is from 0 to 100 %.")})
    infinity = Decimal("Infinity")
    for tier in locked.commission_tiers.all():
        if start < (tier.gmv_to if tier.gmv_to is not None else infinity) and tier.gmv_from < (
            end if end is not None else infinity
        ):
            raise ProposalRefused({"gmv_from": _("The tier overlaps another tier.")})
    row = CommissionTier(version=locked, gmv_from=start, gmv_to=end, rate_percent=rate)
    _save(row)
    return row


ROW_MODELS = {
    "targets": ProposalTarget,
    "milestones": ProposalMilestone,
    "resources": ProposalResource,
    "responsibilities": ProposalResponsibility,
    "tiers": CommissionTier,
}


@transaction.atomic
def version_row_delete(
    *, actor: Membership, version: ProposalVersion, section: str, row_id: int
) -> None:
    """Remove a row of a draft (to change a row, staff remove it and add the new one)."""
    locked = _lock_draft(actor=actor, version=version)
    model = ROW_MODELS.get(section)
    deleted = model.objects.filter(version=locked, pk=row_id).delete()[0] if model else 0
    if not deleted:
        raise ProposalRefused(_("That row is not part of this draft."))


@transaction.atomic
def version_set_planner(
    *, actor: Membership, version: ProposalVersion, assumptions: dict
) -> ProposalVersion:
    """Store the planner's assumptions on a draft (validated; the error names each field)."""
    locked = _lock_draft(actor=actor, version=version)
    parsed = planner.assumptions_from_dict(assumptions)
    locked.planner = planner.assumptions_as_dict(parsed)
    locked.save(update_fields=["planner"])
    return locked


@transaction.atomic
def version_send(*, actor: Membership, version: ProposalVersion) -> ProposalVersion:
    """Send a draft to the brand: freeze its content, hash it, supersede the earlier version
    still waiting for a decision, and notify the brand's users and the engagement's other staff
    (in-app and e-mail).

    The planner's risks do not block sending: the send page shows them first, and staff decide.
    """
    locked = _lock_draft(actor=actor, version=version)
    engagement = locked.proposal.engagement
    content = locked.content_from_rows()
    if not content["targets"]:
        raise ProposalRefused(_("Add at least one KPI target before sending."))
    # The engagement's dates may have changed since the rows were added.
    for milestone in content["milestones"]:
        _month_in_engagement(engagement, milestone["month"], "milestones")
    for target in content["targets"]:
        _month_in_engagement(engagement, target["by_month"], "targets")
    ProposalVersion.objects.filter(proposal=locked.proposal, status=VersionStatus.SENT).update(
        status=VersionStatus.SUPERSEDED
    )
    locked.snapshot = content
    locked.content_hash = content_hash(content)
    locked.status = VersionStatus.SENT
    locked.sent_by = actor.user
    locked.sent_at = timezone.now()
    locked.save()
    notification_send(
        agency=actor.agency,
        recipients=_brand_members(engagement),
        brand=engagement.store.brand,
        template="proposal_sent",
        context={"version": locked, "engagement": engagement, "actor": actor.user},
        url=_version_url(locked),
    )
    # Both sides hear of every step: the engagement's other staff learn it went out.
    notification_send(
        agency=actor.agency,
        recipients=[m for m in _engagement_staff(engagement) if m.pk != actor.pk],
        brand=engagement.store.brand,
        template="proposal_sent_staff",
        context={"version": locked, "engagement": engagement, "actor": actor.user},
        url=_version_url(locked),
    )
    return locked


@transaction.atomic
def proposal_new_version(*, actor: Membership, proposal: Proposal) -> ProposalVersion:
    """A new draft, copied from the latest version, to change what was sent. Refused while a
    draft exists, and once the proposal is approved (a later change is a new proposal)."""
    _require_editor(actor, proposal.engagement)
    Proposal.objects.select_for_update().get(pk=proposal.pk)
    latest = version_latest(proposal=proposal)
    if latest.status == VersionStatus.DRAFT:
        raise ProposalRefused(
            _("Version %(number)s is still a draft; edit it.") % {"number": latest.number}
        )
    if ProposalVersion.objects.filter(proposal=proposal, status=VersionStatus.APPROVED).exists():
        raise ProposalRefused(
            _("This proposal is approved; start a new proposal for a change of plan.")
        )
    draft = ProposalVersion.objects.create(
        proposal=proposal,
        number=latest.number + 1,
        scope_services=list(latest.scope_services),
        monthly_base_fee=latest.monthly_base_fee,
        kpi_bonus=latest.kpi_bonus,
        brand_approves_visuals=latest.brand_approves_visuals,
        terms=latest.terms,
        planner=latest.planner,
        created_by=actor.user,
    )
    for model in ROW_MODELS.values():
        for row in model.objects.filter(version=latest):
            row.pk = None
            row.version = draft
            row.save()
    return draft


# --- the brand's decision -------------------------------------------------------------------


def _check_decision(*, actor: Membership, version: ProposalVersion, verb: str) -> None:
    """Who may decide, and on which version: a brand owner of that brand, on the latest sent
    version, once. Checked under the version's row lock."""
    engagement = version.proposal.engagement
    if actor.is_staff_member:
        raise ProposalRefused(
            _("Only the brand's owner can %(verb)s; agency staff cannot act on the brand's behalf.")
            % {"verb": verb}
        )
    if not permissions.can_decide_proposal(actor, engagement):
        raise ProposalRefused(
            _("Only an owner of the brand can %(verb)s; viewers can read and comment.")
            % {"verb": verb}
        )
    if version.status == VersionStatus.APPROVED:
        raise ProposalRefused(_("This version is already approved."))
    if version.status == VersionStatus.DRAFT:
        raise ProposalRefused(_("This version has not been sent yet."))
    if version.status == VersionStatus.SUPERSEDED or version.number != version_latest_sent_number(
        proposal=version.proposal
    ):
        raise ProposalRefused(
            _("A newer version of this proposal has been sent; decide on that one.")
        )
    if version.status == VersionStatus.CHANGES_REQUESTED:
        raise ProposalRefused(_("Changes were requested on this version; wait for the next one."))
    if ProposalVersion.objects.filter(
        proposal=version.proposal, status=VersionStatus.APPROVED
    ).exists():
        raise ProposalRefused(_("This proposal is already approved."))


def _names_match(typed: str, full_name: str) -> bool:
    """Loosely: case, spaces and a middle dot do not matter (王 晓 = 王晓)."""

    def normal(text: str) -> str:
        return "".join(text.replace("·", "").split()).casefold()

    return normal(typed) == normal(full_name)


def _audit_decision(
    *,
    actor: Membership,
    version: ProposalVersion,
    action: str,
    detail: dict,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """The brand's decision in the agency's audit log (the approval keeps its own evidence
    too, and passes its IP and browser so both say the same)."""
    proposal = version.proposal
    engagement = proposal.engagement
    audit_record(
        agency=version.agency_id,
        action=action,
        actor=actor,
        target_type=AuditTarget.PROPOSAL_VERSION,
        target_id=version.pk,
        target=f"{proposal.title} v{version.number}",
        detail={
            "engagement_id": engagement.pk,
            "engagement": engagement.title,
            "version": version.number,
            **detail,
        },
        ip=ip,
        user_agent=user_agent,
    )


@transaction.atomic
def version_approve(
    *,
    actor: Membership,
    version: ProposalVersion,
    signed_name: str,
    ip: str | None,
    user_agent: str,
) -> Approval:
    """The brand owner approves the latest sent version, signing with their typed full name.

    Records the evidence (who, when, IP, browser, the typed name, the hash of the frozen content
    approved), then: the engagement's scope becomes the proposal's, its KPI targets become the
    engagement's live targets, the gate "proposal_approved" is open (it reads this approval), and
    the engagement moves to its first execution step in scope, if it is still before execution.
    Both sides are notified. The version row is locked, so approving twice at once cannot
    succeed twice.
    """
    locked = (
        ProposalVersion.objects.select_for_update(of=("self",))
        .select_related("proposal__engagement__store__brand")
        .get(pk=version.pk)
    )
    _check_decision(actor=actor, version=locked, verb=_("approve"))
    signed_name = " ".join(signed_name.split())
    if not signed_name:
        raise ProposalRefused({"signed_name": _("Type your full name to sign.")})
    if actor.user.full_name and not _names_match(signed_name, actor.user.full_name):
        raise ProposalRefused(
            {
                "signed_name": _("Type your full name as your account has it: %(name)s.")
                % {"name": actor.user.full_name}
            }
        )
    digest = content_hash(locked.snapshot)
    if digest != locked.content_hash:
        # The frozen content no longer matches what was sent: approve nothing.
        raise ProposalRefused(_("This version's content has changed since it was sent."))
    now = timezone.now()
    approval = Approval.objects.create(
        version=locked,
        membership=actor,
        user=actor.user,
        signed_name=signed_name[:150],
        ip=ip or None,
        user_agent=(user_agent or "")[:1000],
        content_hash=digest,
        approved_at=now,
    )
    locked.status = VersionStatus.APPROVED
    locked.save(update_fields=["status"])
    _audit_decision(
        actor=actor,
        version=locked,
        action=AuditAction.PROPOSAL_APPROVED,
        detail={"signed_name": approval.signed_name, "content_hash": digest},
        ip=approval.ip,
        user_agent=approval.user_agent,
    )

    engagement = locked.proposal.engagement
    content = locked.snapshot
    engagement_services.engagement_set_scope_services(
        engagement=engagement,
        scope_services=content["scope_services"],
        # Versions sent before the question existed had the brand approve, as the default does.
        brand_approves_visuals=content.get("brand_approves_visuals", True),
    )
    engagement_services.engagement_targets_replace(
        engagement=engagement, targets=content["targets"], source_version_id=locked.pk
    )
    if engagement.stage in (Stage.DIAGNOSIS, Stage.PROPOSAL):
        first_step = next(stage for stage in STAGE_SERVICE if engagement.stage_in_scope(stage))
        engagement_services.engagement_move_stage(
            actor=None,
            engagement=engagement,
            to_stage=first_step,
            reason=_("Proposal v%(number)s approved by %(name)s")
            % {"number": locked.number, "name": signed_name},
            on_behalf_of=actor.user,
        )
    context = {"version": locked, "engagement": engagement, "actor": actor.user}
    notification_send(
        agency=actor.agency,
        recipients=[*_engagement_staff(engagement), *_brand_members(engagement)],
        brand=engagement.store.brand,
        template="proposal_approved",
        context={**context, "approval": approval},
        url=_version_url(locked),
    )
    return approval


@transaction.atomic
def version_request_changes(
    *, actor: Membership, version: ProposalVersion, comment: str
) -> ChangeRequest:
    """The brand owner sends the latest sent version back with what should change. The comment
    joins the proposal's shared thread; the account manager and team are notified."""
    locked = (
        ProposalVersion.objects.select_for_update(of=("self",))
        .select_related("proposal__engagement__store__brand")
        .get(pk=version.pk)
    )
    _check_decision(actor=actor, version=locked, verb=_("request changes"))
    comment = comment.strip()
    if not comment:
        raise ProposalRefused({"comment": _("Say what should change.")})
    change_request = ChangeRequest.objects.create(
        version=locked, membership=actor, user=actor.user, comment=comment
    )
    ProposalComment.objects.create(
        proposal=locked.proposal, version=locked, author=actor.user, body=comment
    )
    locked.status = VersionStatus.CHANGES_REQUESTED
    locked.save(update_fields=["status"])
    _audit_decision(
        actor=actor,
        version=locked,
        action=AuditAction.PROPOSAL_CHANGES_REQUESTED,
        detail={"comment": short_text(comment)},
    )
    engagement = locked.proposal.engagement
    notification_send(
        agency=actor.agency,
        recipients=_engagement_staff(engagement),
        brand=engagement.store.brand,
        template="proposal_changes_requested",
        context={
            "version": locked,
            "engagement": engagement,
            "actor": actor.user,
            "comment": comment,
        },
        url=_version_url(locked),
    )
    return change_request


# --- comments -------------------------------------------------------------------------------


@transaction.atomic
def proposal_comment_add(
    *,
    actor: Membership,
    proposal: Proposal,
    body: str,
    internal: bool = False,
    version: ProposalVersion | None = None,
) -> ProposalComment:
    """A comment in the proposal's thread; an internal note (staff only) never reaches the
    brand."""
    if not permissions.can_comment_on_proposal(actor):
        raise PermissionDenied
    if internal and not permissions.can_write_internal_note(actor):
        raise ProposalRefused({"internal": _("Only agency staff write internal notes.")})
    body = body.strip()
    if not body:
        raise ProposalRefused({"body": _("Write a comment first.")})
    if version is not None and version.proposal_id != proposal.pk:
        raise ProposalRefused({"version": _("Unknown version.")})
    return ProposalComment.objects.create(
        proposal=proposal, version=version, author=actor.user, body=body, internal=internal
    )
