"""The long-term plan (长期合作建议, step 8): recommendations drawn from a published full review by
rules, each with its reason and the numbers it fired on, plus the staff's own; edited, published
to the brand; "next proposal" starts a proposal draft prefilled from it.

The rules read the review's stored figures only (`FullReview.content`), so a plan says what the
review the brand read says. Their thresholds are named below; docs/decisions.md gives the why.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agency.models import Membership
from agency.notifications import notification_send
from engagements.lifecycle import Service
from execution.metrics.formatting import format_money, format_percent, format_value
from proposals.models import Proposal
from proposals.permissions import can_edit_proposal
from proposals.services import ProposalRefused, proposal_create, version_update
from reporting import permissions
from reporting.models import FullReview, LongTermPlan, Recommendation, ReviewStatus
from reporting.reviews import (
    ReviewRefused,
    ad_tool_label,
    review_brand_recipients,
    staff_row_or_404,
    visible_row_or_404,
)

# Targets met and an ad ROI of at least this: the money works, there is room to do more.
ROI_HEADROOM = Decimal("3")
# Repeat buyers (老买家) below this share of paying buyers: few buyers come back.
REPEAT_SHARE_LOW = Decimal("0.20")
# The best TOP_SHARE_COUNT products (figures.py) carrying at least this share of product GMV.
PRODUCT_CONCENTRATION = Decimal("0.60")
MIN_PRODUCTS_FOR_STRUCTURE = 4
# Paid sources bringing at least this share of the visitors.
PAID_SHARE_HIGH = Decimal("0.50")


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def _repeat_share(content: dict) -> tuple[Decimal | None, str]:
    """Repeat buyers' share: from the RFM tiers of the last month when the orders were imported
    (distinct buyers), else the 生意参谋 repurchase rate (老买家 / 支付买家)."""
    tiers = content.get("tiers")
    if tiers and tiers["last"]:
        buyers = sum(row["buyers"] for row in tiers["last"])
        repeat = sum(
            row["buyers"] for row in tiers["last"] if row["tier"] in ("repeat", "high_value")
        )
        if buyers:
            return (Decimal(repeat) / buyers).quantize(Decimal("0.0001")), "tiers"
    return _decimal(content["totals"].get("repurchase_rate")), "facts"


def plan_rules(*, review: FullReview) -> list[dict]:
    """`{rule, title, reason, figures, services}` for each rule the review's figures fire
    (`services`: the scope the rule suggests, empty when it does not touch the scope)."""
    content = review.content
    engagement = review.engagement
    recommendations = []
    roi = _decimal(content["roi"].get("roi"))
    judged, met = content["targets_judged"], content["targets_met"]
    if judged and met == judged and roi is not None and roi >= ROI_HEADROOM:
        figures = {"targets_met": met, "targets_judged": judged, "roi": str(roi)}
        if not engagement.is_full_service:
            missing = [s for s in Service.values if s not in engagement.scope_services]
            recommendations.append(
                {
                    "rule": "widen_scope",
                    "title": _("Widen the scope to full service"),
                    "reason": _(
                        "All %(met)s targets were met with an ad ROI of %(roi)s (at least "
                        "%(headroom)s): the budget pays back and there is room to do more. "
                        "Add %(services)s."
                    )
                    % {
                        "met": met,
                        "roi": format_value("roi", roi),
                        "headroom": format_value("roi", ROI_HEADROOM),
                        "services": "、".join(str(Service(s).label) for s in missing),
                    },
                    "figures": figures,
                    "services": list(Service.values),
                }
            )
        else:
            best = content["best"]["channels"][:1]
            channel = ad_tool_label(best[0]["ad_tool"]) if best else _("the best channel")
            recommendations.append(
                {
                    "rule": "scale_up",
                    "title": _("Scale up the paid budget"),
                    "reason": _(
                        "All %(met)s targets were met with an ad ROI of %(roi)s (at least "
                        "%(headroom)s): raise the budget, starting with %(channel)s, and set "
                        "higher targets for the next period."
                    )
                    % {
                        "met": met,
                        "roi": format_value("roi", roi),
                        "headroom": format_value("roi", ROI_HEADROOM),
                        "channel": channel,
                    },
                    "figures": figures,
                    "services": [],
                }
            )
    share, source = _repeat_share(content)
    if share is not None and share < REPEAT_SHARE_LOW:
        recommendations.append(
            {
                "rule": "private_domain",
                "title": _("Start a private-domain (私域) programme"),
                "reason": _(
                    "Repeat buyers were %(share)s of paying buyers (below %(low)s): build a "
                    "membership and WeCom (企业微信) programme to bring buyers back."
                )
                % {"share": format_percent(share), "low": format_percent(REPEAT_SHARE_LOW)},
                "figures": {"repeat_share": str(share), "source": source},
                "services": [],
            }
        )
    top_share = _decimal(content.get("top_products_share"))
    if (
        top_share is not None
        and content["products_total"] >= MIN_PRODUCTS_FOR_STRUCTURE
        and top_share >= PRODUCT_CONCENTRATION
    ):
        names = "、".join(row["item_name"] or row["item_id"] for row in content["products"][:3])
        recommendations.append(
            {
                "rule": "product_structure",
                "title": _("Broaden the product structure"),
                "reason": _(
                    "The best 3 of %(count)s products brought %(share)s of product GMV "
                    "(%(total)s): %(names)s. Build second-line products (引流款, 利润款) so the "
                    "store does not depend on a few."
                )
                % {
                    "count": content["products_total"],
                    "share": format_percent(top_share),
                    "total": format_money(content["products_gmv"]),
                    "names": names,
                },
                "figures": {
                    "top_products_share": str(top_share),
                    "products_total": content["products_total"],
                },
                "services": [],
            }
        )
    paid_share = _decimal(content.get("paid_visitor_share"))
    if paid_share is not None and paid_share >= PAID_SHARE_HIGH:
        recommendations.append(
            {
                "rule": "content_organic",
                "title": _("Invest in content and organic traffic"),
                "reason": _(
                    "Paid sources brought %(share)s of the visitors (at least %(high)s): "
                    "invest in search optimisation, short video and livestreams so traffic "
                    "does not stop when the spend does."
                )
                % {"share": format_percent(paid_share), "high": format_percent(PAID_SHARE_HIGH)},
                "figures": {"paid_visitor_share": str(paid_share)},
                "services": [],
            }
        )
    return recommendations


def _lock_draft(actor: Membership, plan: LongTermPlan) -> LongTermPlan:
    if not permissions.can_edit_review(actor):
        raise PermissionDenied
    locked = LongTermPlan.objects.select_for_update().get(pk=plan.pk)
    if locked.is_published:
        raise ReviewRefused(_("This plan is published and can no longer be changed."))
    return locked


@transaction.atomic
def plan_create(*, actor: Membership, review: FullReview) -> LongTermPlan:
    """The plan of a published full review, with the rules' recommendations; a review that has
    a plan returns it."""
    if not permissions.can_edit_review(actor):
        raise PermissionDenied
    locked = FullReview.objects.select_for_update().get(pk=review.pk)
    existing = LongTermPlan.objects.filter(full_review=locked).first()
    if existing is not None:
        return existing
    if not locked.is_published:
        raise ReviewRefused(_("Publish the full review first: the plan builds on what it says."))
    rules = plan_rules(review=locked)
    services = next((r["services"] for r in rules if r["services"]), [])
    plan = LongTermPlan.objects.create(
        full_review=locked,
        engagement=locked.engagement,
        suggested_services=services or list(locked.engagement.scope_services),
    )
    Recommendation.objects.bulk_create(
        [
            Recommendation(
                agency_id=plan.agency_id,
                plan=plan,
                rule=rule["rule"],
                title=rule["title"][:200],
                reason=rule["reason"],
                figures=rule["figures"],
                position=position,
            )
            for position, rule in enumerate(rules)
        ]
    )
    return plan


@transaction.atomic
def plan_update(
    *, actor: Membership, plan: LongTermPlan, summary: str, suggested_services: list[str]
) -> LongTermPlan:
    locked = _lock_draft(actor, plan)
    unknown = set(suggested_services) - set(Service.values)
    if unknown or not suggested_services:
        raise ReviewRefused({"suggested_services": _("Choose at least one known service.")})
    locked.summary = summary.strip()
    locked.suggested_services = [s for s in Service.values if s in suggested_services]
    locked.save(update_fields=["summary", "suggested_services", "updated_at"])
    return locked


@transaction.atomic
def recommendation_add(
    *, actor: Membership, plan: LongTermPlan, title: str, reason: str
) -> Recommendation:
    """A recommendation of the staff's own; like the rules', it says why."""
    locked = _lock_draft(actor, plan)
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("Say what you recommend.")
    if not (reason or "").strip():
        errors["reason"] = _("Give the reason, with the numbers behind it.")
    if errors:
        raise ReviewRefused(errors)
    return Recommendation.objects.create(
        plan=locked,
        title=title.strip()[:200],
        reason=reason.strip(),
        position=locked.recommendations.count(),
    )


@transaction.atomic
def recommendation_update(
    *, actor: Membership, recommendation: Recommendation, title: str, reason: str
) -> Recommendation:
    _lock_draft(actor, recommendation.plan)
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("Say what you recommend.")
    if not (reason or "").strip():
        errors["reason"] = _("Give the reason, with the numbers behind it.")
    if errors:
        raise ReviewRefused(errors)
    recommendation.title = title.strip()[:200]
    recommendation.reason = reason.strip()
    recommendation.save(update_fields=["title", "reason"])
    return recommendation


@transaction.atomic
def recommendation_delete(*, actor: Membership, recommendation: Recommendation) -> None:
    _lock_draft(actor, recommendation.plan)
    recommendation.delete()


@transaction.atomic
def plan_publish(*, actor: Membership, plan: LongTermPlan) -> LongTermPlan:
    if not permissions.can_publish_review(actor, plan.engagement):
        raise PermissionDenied
    locked = _lock_draft(actor, plan)
    if not locked.recommendations.exists():
        raise ReviewRefused(
            {"recommendations": _("Add at least one recommendation before publishing.")}
        )
    locked.status = ReviewStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.published_by = actor.user
    locked.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    engagement = locked.engagement
    notification_send(
        agency=engagement.agency,
        recipients=review_brand_recipients(engagement=engagement),
        brand=engagement.store.brand,
        template="long_term_plan_published",
        context={"plan": locked, "engagement": engagement, "actor": actor.user},
        url=plan_url(locked),
    )
    return locked


def plan_url(plan: LongTermPlan) -> str:
    from django.urls import reverse

    return reverse(
        "reporting:plan_detail",
        kwargs={"agency_slug": plan.engagement.agency.slug, "plan_id": plan.pk},
    )


def plan_terms(plan: LongTermPlan) -> str:
    """The plan as a proposal's opening terms: the summary, then each recommendation."""
    lines = [plan.summary] if plan.summary else []
    lines += [f"{n}. {r.title}: {r.reason}" for n, r in enumerate(plan.recommendations.all(), 1)]
    return "\n\n".join(lines)


@transaction.atomic
def plan_next_proposal(*, actor: Membership, plan: LongTermPlan) -> Proposal:
    """A new proposal draft for the engagement, prefilled from the plan: the suggested scope,
    and in its terms the plan's summary and every recommendation with its reason. A plan
    that already started one returns it. Refused (with the proposals app's reason) while the
    engagement has another proposal waiting for approval."""
    locked = LongTermPlan.objects.select_for_update().get(pk=plan.pk)
    if not can_edit_proposal(actor, locked.engagement):
        raise PermissionDenied
    if locked.next_proposal_id is not None:
        return locked.next_proposal
    engagement = locked.engagement
    try:
        proposal = proposal_create(
            actor=actor,
            engagement=engagement,
            title=_("Next proposal for %(engagement)s") % {"engagement": engagement.title},
        )
    except ProposalRefused as error:
        raise ReviewRefused(error.messages[0]) from error
    version = proposal.versions.get()
    version_update(
        actor=actor,
        version=version,
        scope_services=locked.suggested_services or list(engagement.scope_services),
        monthly_base_fee=version.monthly_base_fee or 0,
        kpi_bonus=version.kpi_bonus,
        terms=plan_terms(locked),
        brand_approves_visuals=version.brand_approves_visuals,
    )
    locked.next_proposal = proposal
    locked.save(update_fields=["next_proposal", "updated_at"])
    return proposal


# --- selectors ------------------------------------------------------------------------------


def plan_get_for(*, membership: Membership, plan_id: int) -> LongTermPlan:
    rows = LongTermPlan.objects.select_related(
        "engagement__store__brand", "engagement__agency", "full_review", "published_by"
    )
    return visible_row_or_404(rows, membership=membership, pk=plan_id)


def recommendation_get_for(*, membership: Membership, recommendation_id: int) -> Recommendation:
    rows = Recommendation.objects.select_related("plan__engagement__agency")
    return staff_row_or_404(rows, membership=membership, pk=recommendation_id)
