"""Reads of the proposals app, shared by pages and the API. The tenant scope already limits every
query to the agency (and a brand user to their brands); these add what a brand user must not see:
the agency's drafts and internal notes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, QuerySet
from django.http import Http404

from agency.models import Membership
from engagements.models import Engagement, EngagementTarget
from proposals import planner
from proposals.models import (
    BRAND_VISIBLE_STATUSES,
    Approval,
    ChangeRequest,
    Proposal,
    ProposalComment,
    ProposalVersion,
    VersionStatus,
)


def proposal_list(*, membership: Membership, engagement: Engagement | None = None):
    """Proposals the member may see: staff all of them, brand users those with a sent version."""
    proposals = Proposal.objects.select_related("engagement__store__brand")
    if engagement is not None:
        proposals = proposals.filter(engagement=engagement)
    if membership.is_brand_member:
        proposals = proposals.filter(versions__status__in=BRAND_VISIBLE_STATUSES).distinct()
    return proposals


def proposal_get_for(*, membership: Membership, proposal_id: int) -> Proposal:
    """The proposal if the member may see it; the same 404 for missing and not-yours."""
    proposal = proposal_list(membership=membership).filter(pk=proposal_id).first()
    if proposal is None:
        raise Http404
    return proposal


def version_list(*, membership: Membership, proposal: Proposal) -> QuerySet[ProposalVersion]:
    versions = ProposalVersion.objects.filter(proposal=proposal).order_by("-number")
    if membership.is_brand_member:
        versions = versions.filter(status__in=BRAND_VISIBLE_STATUSES)
    return versions


def version_get_for(*, membership: Membership, version_id: int) -> ProposalVersion:
    """A version the member may see (a brand user never sees a draft); 404 alike otherwise."""
    versions = ProposalVersion.objects.select_related("proposal__engagement__store__brand")
    if membership.is_brand_member:
        versions = versions.filter(status__in=BRAND_VISIBLE_STATUSES)
    version = versions.filter(pk=version_id).first()
    if version is None:
        raise Http404
    return version


def version_latest(*, proposal: Proposal) -> ProposalVersion | None:
    return ProposalVersion.objects.filter(proposal=proposal).order_by("-number").first()


def version_latest_sent_number(*, proposal: Proposal) -> int | None:
    """The number of the newest version that left the agency (sent, decided or superseded)."""
    return (
        ProposalVersion.objects.filter(proposal=proposal)
        .exclude(status=VersionStatus.DRAFT)
        .aggregate(latest=Max("number"))["latest"]
    )


def version_approval(*, version: ProposalVersion) -> Approval | None:
    return (
        Approval.objects.filter(version=version).select_related("user", "membership__user").first()
    )


def version_change_request(*, version: ProposalVersion) -> ChangeRequest | None:
    return ChangeRequest.objects.filter(version=version).select_related("user").first()


def comment_list(*, membership: Membership, proposal: Proposal) -> QuerySet[ProposalComment]:
    """The thread: shared comments for everyone, internal notes for staff only."""
    comments = ProposalComment.objects.filter(proposal=proposal).select_related("author", "version")
    if not membership.is_staff_member:
        comments = comments.filter(internal=False)
    return comments


def engagement_has_approved_proposal(engagement: Engagement) -> bool:
    """The condition of the lifecycle gate "proposal_approved" (registered in apps.py)."""
    return ProposalVersion.objects.filter(
        proposal__engagement_id=engagement.pk, status=VersionStatus.APPROVED
    ).exists()


def engagement_live_targets(*, engagement: Engagement) -> QuerySet[EngagementTarget]:
    return EngagementTarget.objects.filter(engagement=engagement)


# --- the target planner ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlannerView:
    """What a version's assumptions imply: the month-by-month plan and each target's check."""

    assumptions: planner.PlannerAssumptions
    plan: planner.Plan
    checks: list[planner.TargetCheck]
    stored: bool  # the version holds its own assumptions (else: prefilled, not yet saved)
    has_baseline: bool

    @property
    def risks(self) -> list[planner.TargetCheck]:
        return [check for check in self.checks if check.risk]


def diagnosis_baseline_for(engagement: Engagement):
    """The diagnosis baseline of the engagement's store, or None while the diagnostics app
    provides none (a new store, or before step 1 is built)."""
    try:
        from diagnostics.selectors import diagnosis_baseline
    except ImportError:
        return None
    return diagnosis_baseline(engagement=engagement)


def paid_budgets(content: dict) -> dict[str, Decimal]:
    """Monthly paid budget per channel from the version's resources (rows for every month)."""
    budgets: dict[str, Decimal] = {}
    for resource in content["resources"]:
        if resource["kind"] == "paid_budget" and resource["month"] is None and resource["amount"]:
            channel = resource["channel"]
            budgets[channel] = budgets.get(channel, Decimal(0)) + Decimal(resource["amount"])
    return budgets


def version_planner(*, version: ProposalVersion, content: dict | None = None) -> PlannerView:
    """The planner of a version: its stored assumptions, or assumptions prefilled from the
    diagnosis baseline (defaults without data) and the version's paid budgets."""
    from proposals.services import plan_months

    content = content if content is not None else version.content()
    engagement = version.proposal.engagement
    baseline = diagnosis_baseline_for(engagement)
    if content.get("planner"):
        assumptions = planner.assumptions_from_dict(content["planner"])
    else:
        assumptions = planner.assumptions_from_baseline(
            baseline, months=plan_months(engagement), budgets=paid_budgets(content)
        )
    the_plan = planner.plan(assumptions)
    return PlannerView(
        assumptions=assumptions,
        plan=the_plan,
        checks=planner.target_checks(
            content["targets"], the_plan, planner.baseline_values(baseline)
        ),
        stored=bool(content.get("planner")),
        has_baseline=bool(baseline is not None and getattr(baseline, "has_data", False)),
    )
