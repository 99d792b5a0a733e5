"""The full review (全面效果复盘, step 7): draft it for the engagement or a chosen period, refresh
its figures, answer the three questions of a 复盘 (did we hit the target; what went wrong and
why; who fixes what by when), keep strengths and weak spots with their evidence, publish it to
the brand. The first published full review opens the lifecycle gate to step 8.

A published review never changes; its action items' status is follow-up and may change later.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agency.models import Membership
from agency.notifications import notification_send
from engagements.models import Engagement
from reporting import permissions
from reporting.full_review.figures import full_review_figures
from reporting.full_review.findings import proposed_findings
from reporting.models import (
    ActionStatus,
    FindingKind,
    FullReview,
    FullReviewAction,
    FullReviewFinding,
    ReviewStatus,
)
from reporting.reviews import (
    ReviewRefused,
    agency_today,
    review_brand_recipients,
    staff_row_or_404,
    visible_row_or_404,
)

MAX_PERIOD_DAYS = 3 * 366


def _require_editor(actor: Membership) -> None:
    if not permissions.can_edit_review(actor):
        raise PermissionDenied


def _require_draft(review: FullReview) -> None:
    if review.is_published:
        raise ReviewRefused(_("This full review is published and can no longer be changed."))


def _lock(actor: Membership, review: FullReview) -> FullReview:
    _require_editor(actor)
    locked = FullReview.objects.select_for_update().get(pk=review.pk)
    _require_draft(locked)
    return locked


def full_review_url(review: FullReview) -> str:
    return reverse(
        "reporting:full_review_detail",
        kwargs={"agency_slug": review.engagement.agency.slug, "full_review_id": review.pk},
    )


def default_period(engagement: Engagement) -> tuple[datetime.date, datetime.date]:
    """The whole engagement: from its start to its end, or to yesterday while it runs."""
    yesterday = agency_today(engagement.agency) - datetime.timedelta(days=1)
    end = min(engagement.end_date, yesterday) if engagement.end_date else yesterday
    return engagement.start_date, max(end, engagement.start_date)


def validate_period(
    *, engagement: Engagement, period_start, period_end, today: datetime.date | None = None
) -> None:
    """A ReviewRefused naming the field that is wrong, or nothing."""
    if period_start is None:
        raise ReviewRefused({"period_start": _("Give the first day of the period.")})
    if period_end is None:
        raise ReviewRefused({"period_end": _("Give the last day of the period.")})
    if period_end < period_start:
        raise ReviewRefused(
            {
                "period_end": _("The period ends before it starts (%(start)s).")
                % {"start": period_start.isoformat()}
            }
        )
    if period_start < engagement.start_date:
        raise ReviewRefused(
            {
                "period_start": _(
                    "The engagement starts on %(date)s; a full review covers its own days "
                    "(the days before are the diagnosis baseline)."
                )
                % {"date": engagement.start_date.isoformat()}
            }
        )
    today = today or agency_today(engagement.agency)
    if period_end >= today:
        raise ReviewRefused(
            {
                "period_end": _("%(date)s has not ended yet: the period must end by yesterday.")
                % {"date": period_end.isoformat()}
            }
        )
    if (period_end - period_start).days + 1 > MAX_PERIOD_DAYS:
        raise ReviewRefused({"period_end": _("A full review covers at most three years.")})


def _add_proposed_findings(review: FullReview, content: dict) -> None:
    FullReviewFinding.objects.bulk_create(
        [
            FullReviewFinding(
                agency_id=review.agency_id,
                review=review,
                kind=finding["kind"],
                rule=finding["rule"],
                statement=finding["statement"][:300],
                evidence=finding["evidence"],
                position=position,
            )
            for position, finding in enumerate(proposed_findings(content))
        ]
    )


def full_review_draft(
    *,
    actor: Membership,
    engagement: Engagement,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
) -> FullReview:
    """The draft full review of the period (default: the whole engagement so far), with its
    figures and the strengths and weak spots they point to. A period that already has a full
    review returns that one unchanged."""
    _require_editor(actor)
    if period_start is None and period_end is None:
        period_start, period_end = default_period(engagement)
    validate_period(engagement=engagement, period_start=period_start, period_end=period_end)
    existing = FullReview.objects.filter(
        engagement=engagement, period_start=period_start, period_end=period_end
    ).first()
    if existing is not None:
        return existing
    content = full_review_figures(
        engagement=engagement, period_start=period_start, period_end=period_end
    )
    try:
        with transaction.atomic():
            review = FullReview.objects.create(
                engagement=engagement,
                period_start=period_start,
                period_end=period_end,
                content=content,
                created_by=actor.user,
            )
            _add_proposed_findings(review, content)
    except IntegrityError:
        return FullReview.objects.get(
            engagement=engagement, period_start=period_start, period_end=period_end
        )
    return review


@transaction.atomic
def full_review_refresh(*, actor: Membership, review: FullReview) -> FullReview:
    """Recompute a draft's figures from the data as it is now; the answers, findings and
    action items stay as the staff wrote them."""
    locked = _lock(actor, review)
    locked.content = full_review_figures(
        engagement=locked.engagement,
        period_start=locked.period_start,
        period_end=locked.period_end,
    )
    locked.save(update_fields=["content", "updated_at"])
    return locked


@transaction.atomic
def full_review_update(
    *, actor: Membership, review: FullReview, narrative: str, target_answer: str, cause_answer: str
) -> FullReview:
    locked = _lock(actor, review)
    locked.narrative = narrative.strip()
    locked.target_answer = target_answer.strip()
    locked.cause_answer = cause_answer.strip()
    locked.save(update_fields=["narrative", "target_answer", "cause_answer", "updated_at"])
    return locked


@transaction.atomic
def finding_add(
    *, actor: Membership, review: FullReview, kind: str, statement: str, evidence: str
) -> FullReviewFinding:
    """A strength or weak spot of the staff's own; it needs its evidence."""
    locked = _lock(actor, review)
    errors = {}
    if kind not in FindingKind.values:
        errors["kind"] = _("Choose strength or weak spot.")
    if not (statement or "").strip():
        errors["statement"] = _("Say what the finding is.")
    if not (evidence or "").strip():
        errors["evidence"] = _("Give the evidence: the figure or fact that shows it.")
    if errors:
        raise ReviewRefused(errors)
    position = locked.findings.filter(kind=kind).count()
    return FullReviewFinding.objects.create(
        review=locked,
        kind=kind,
        statement=statement.strip()[:300],
        evidence=evidence.strip(),
        position=position,
    )


@transaction.atomic
def finding_delete(*, actor: Membership, finding: FullReviewFinding) -> None:
    _lock(actor, finding.review)
    finding.delete()


@transaction.atomic
def action_add(
    *,
    actor: Membership,
    review: FullReview,
    title: str,
    owner: Membership | None,
    due_date: datetime.date | None,
) -> FullReviewAction:
    """Who fixes what by when: all three are needed."""
    locked = _lock(actor, review)
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("Say what is to be done.")
    if owner is None:
        errors["owner"] = _("Say who does it.")
    elif owner.agency_id != locked.agency_id or not owner.is_staff_member or not owner.is_active:
        errors["owner"] = _("The owner must be an active staff member of this agency.")
    if due_date is None:
        errors["due_date"] = _("Say by when.")
    if errors:
        raise ReviewRefused(errors)
    return FullReviewAction.objects.create(
        review=locked, title=title.strip()[:300], owner=owner, due_date=due_date
    )


def action_set_status(
    *, actor: Membership, action: FullReviewAction, status: str
) -> FullReviewAction:
    """Follow-up, allowed after publishing."""
    _require_editor(actor)
    if status not in ActionStatus.values:
        raise ReviewRefused(
            {
                "status": _("Unknown status “%(status)s”: choose open, done or dropped.")
                % {"status": status}
            }
        )
    action.status = status
    action.save(update_fields=["status", "updated_at"])
    return action


def publish_problems(review: FullReview) -> dict[str, str]:
    """What a full review still lacks before the brand may read it: the answers to the three
    questions (the third is the action items)."""
    problems = {}
    if not review.target_answer.strip():
        problems["target_answer"] = _("Answer “did we hit the target?” before publishing.")
    if not review.cause_answer.strip():
        problems["cause_answer"] = _("Answer “what went wrong, and why?” before publishing.")
    if not review.actions.exists():
        problems["actions"] = _(
            "Add at least one action item (who fixes what by when) before publishing."
        )
    return problems


@transaction.atomic
def full_review_publish(*, actor: Membership, review: FullReview) -> FullReview:
    """Publish to the brand: read-only from now on; the brand's users are told once. The first
    published full review opens the gate to step 8 (the long-term plan)."""
    if not permissions.can_publish_review(actor, review.engagement):
        raise PermissionDenied
    locked = _lock(actor, review)
    problems = publish_problems(locked)
    if problems:
        raise ReviewRefused(problems)
    locked.status = ReviewStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.published_by = actor.user
    locked.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    engagement = locked.engagement
    notification_send(
        agency=engagement.agency,
        recipients=review_brand_recipients(engagement=engagement),
        brand=engagement.store.brand,
        template="full_review_published",
        context={"review": locked, "engagement": engagement, "actor": actor.user},
        url=full_review_url(locked),
    )
    return locked


# --- selectors ------------------------------------------------------------------------------


def engagement_has_published_full_review(engagement: Engagement) -> bool:
    """The condition of the lifecycle gate "review_published" (registered in apps.py)."""
    return FullReview.objects.filter(
        engagement_id=engagement.pk, status=ReviewStatus.PUBLISHED
    ).exists()


def full_review_list(*, membership: Membership, engagement: Engagement) -> QuerySet[FullReview]:
    reviews = FullReview.objects.filter(engagement=engagement).select_related("published_by")
    if not membership.is_staff_member:
        reviews = reviews.filter(status=ReviewStatus.PUBLISHED)
    return reviews.order_by("-period_end", "-pk")


def full_review_get_for(*, membership: Membership, full_review_id: int) -> FullReview:
    rows = FullReview.objects.select_related(
        "engagement__store__brand", "engagement__agency", "published_by"
    )
    return visible_row_or_404(rows, membership=membership, pk=full_review_id)


def finding_get_for(*, membership: Membership, finding_id: int) -> FullReviewFinding:
    rows = FullReviewFinding.objects.select_related("review__engagement__agency")
    return staff_row_or_404(rows, membership=membership, pk=finding_id)


def action_get_for(*, membership: Membership, action_id: int) -> FullReviewAction:
    rows = FullReviewAction.objects.select_related("review__engagement__agency", "owner__user")
    return staff_row_or_404(rows, membership=membership, pk=action_id)
