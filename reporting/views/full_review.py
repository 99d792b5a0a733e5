"""Pages of the full review (step 7) and the long-term plan (step 8): the engagement's list of
full reviews (staff draft one for the whole engagement or a chosen period), the review (the staff
editor while a draft: the three questions, findings with evidence, action items; read-only once
published), the preview of exactly what the brand will see, refresh and publish; the plan drawn
from a published review, its recommendations, publish and "next proposal".

Brand users see published reviews and plans only; a draft's address is a 404 for them. Writes
are plain POST-and-redirect; a refused write shows the page again (400) with its errors.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from agency import permissions as agency_permissions
from agency.views import form_save, post_only
from engagements import selectors as engagement_selectors
from proposals.permissions import can_edit_proposal
from reporting import permissions
from reporting.forms.full_review import (
    AnswersForm,
    FindingForm,
    FullReviewActionForm,
    FullReviewDraftForm,
    PlanForm,
    RecommendationForm,
)
from reporting.forms.reviews import ActionStatusForm
from reporting.full_review import plan as plans
from reporting.full_review import services
from reporting.full_review.page import full_review_page, plan_page
from reporting.models import ActionStatus, FullReview, LongTermPlan


def _read_only():
    """A brand user's POST on a page they may only read."""
    return HttpResponseNotAllowed(["GET"])


def _errors(form) -> list[str]:
    return [str(message) for field_errors in form.errors.values() for message in field_errors]


def _review_redirect(request, review: FullReview):
    return redirect(
        "reporting:full_review_detail", agency_slug=request.agency.slug, full_review_id=review.pk
    )


def _plan_redirect(request, plan: LongTermPlan):
    return redirect("reporting:plan_detail", agency_slug=request.agency.slug, plan_id=plan.pk)


def _render_review(request, review: FullReview, *, status=200, brand_view=None, **forms):
    membership = request.membership
    staff = membership.is_staff_member
    brand_view = (not staff) if brand_view is None else brand_view
    engagement = review.engagement
    context = {
        "review": review,
        "engagement": engagement,
        "page": full_review_page(review=review, brand_view=brand_view),
        "brand_view": brand_view,
        "preview": staff and brand_view,
        "plan": LongTermPlan.objects.filter(full_review=review).first(),
    }
    if staff and not brand_view:
        editable = not review.is_published and permissions.can_edit_review(membership)
        context.update(
            {
                "can_edit": editable,
                "can_track": permissions.can_edit_review(membership),
                "can_publish": not review.is_published
                and permissions.can_publish_review(membership, engagement),
                "publish_problems": services.publish_problems(review)
                if not review.is_published
                else {},
                "status_choices": ActionStatus.choices,
                "answers_form": forms.get("answers_form")
                or AnswersForm(
                    initial={
                        "target_answer": review.target_answer,
                        "cause_answer": review.cause_answer,
                        "narrative": review.narrative,
                    }
                ),
                "finding_form": forms.get("finding_form") or FindingForm(prefix="finding"),
                "action_form": forms.get("action_form")
                or FullReviewActionForm(agency=request.agency, prefix="action"),
                "recipients": services.review_brand_recipients(engagement=engagement)
                if not review.is_published
                else [],
                "errors": forms.get("errors") or [],
            }
        )
    return render(request, "reporting/full_review/full_review.html", context, status=status)


# --- the full review ------------------------------------------------------------------------


def full_review_list(request, engagement_id: int):
    """The engagement's full reviews (published ones for the brand); staff POST drafts one."""
    membership = request.membership
    engagement = engagement_selectors.engagement_get_for(
        membership=membership, engagement_id=engagement_id
    )
    can_draft = permissions.can_edit_review(membership)
    form = None
    status = 200
    if can_draft:
        start, end = services.default_period(engagement)
        form = FullReviewDraftForm(
            request.POST if request.method == "POST" else None,
            initial={"period_start": start, "period_end": end},
        )
    if request.method == "POST":
        if not can_draft:
            return _read_only()
        review = form_save(
            form,
            lambda: services.full_review_draft(
                actor=membership, engagement=engagement, **form.cleaned_data
            ),
        )
        if review is not None:
            return _review_redirect(request, review)
        status = 400
    return render(
        request,
        "reporting/full_review/full_review_list.html",
        {
            "engagement": engagement,
            "reviews": services.full_review_list(membership=membership, engagement=engagement),
            "draft_form": form,
        },
        status=status,
    )


def full_review_detail(request, full_review_id: int):
    """The full review. Staff POST saves a draft's answers and summary."""
    membership = request.membership
    review = services.full_review_get_for(membership=membership, full_review_id=full_review_id)
    if request.method != "POST":
        return _render_review(request, review)
    if not membership.is_staff_member:
        return _read_only()
    form = AnswersForm(request.POST)
    saved = form_save(
        form,
        lambda: services.full_review_update(actor=membership, review=review, **form.cleaned_data),
    )
    if saved is None:
        return _render_review(request, review, status=400, answers_form=form, errors=_errors(form))
    messages.success(request, _("Answers saved."))
    return _review_redirect(request, saved)


@agency_permissions.staff_required
def full_review_preview(request, full_review_id: int):
    """Exactly what the brand sees: its page, its timeline (internal entries left out)."""
    review = services.full_review_get_for(
        membership=request.membership, full_review_id=full_review_id
    )
    return _render_review(request, review, brand_view=True)


def _review_action(request, full_review_id: int, act, done_message: str):
    review = services.full_review_get_for(
        membership=request.membership, full_review_id=full_review_id
    )
    if refused := post_only(request):
        return refused
    try:
        review = act(review)
    except ValidationError as error:
        return _render_review(request, review, status=400, errors=error.messages)
    messages.success(request, done_message)
    return _review_redirect(request, review)


@agency_permissions.staff_required
def full_review_refresh(request, full_review_id: int):
    return _review_action(
        request,
        full_review_id,
        lambda review: services.full_review_refresh(actor=request.membership, review=review),
        _("Figures refreshed from the data as it is now."),
    )


@agency_permissions.staff_required
def full_review_publish(request, full_review_id: int):
    return _review_action(
        request,
        full_review_id,
        lambda review: services.full_review_publish(actor=request.membership, review=review),
        _("Published: the brand can read this full review now, and step 8 is open."),
    )


def _add_to_review(request, full_review_id: int, form: forms.Form, form_name: str, add):
    """A finding or an action item added to a draft: the page again (400) with the form's
    errors when refused."""
    review = services.full_review_get_for(
        membership=request.membership, full_review_id=full_review_id
    )
    if refused := post_only(request):
        return refused
    added = form_save(
        form, lambda: add(actor=request.membership, review=review, **form.cleaned_data)
    )
    if added is None:
        return _render_review(
            request, review, status=400, errors=_errors(form), **{form_name: form}
        )
    return _review_redirect(request, review)


@agency_permissions.staff_required
def finding_add(request, full_review_id: int):
    form = FindingForm(request.POST or None, prefix="finding")
    return _add_to_review(request, full_review_id, form, "finding_form", services.finding_add)


@agency_permissions.staff_required
def finding_delete(request, finding_id: int):
    finding = services.finding_get_for(membership=request.membership, finding_id=finding_id)
    if refused := post_only(request):
        return refused
    review = finding.review
    try:
        services.finding_delete(actor=request.membership, finding=finding)
    except ValidationError as error:
        return _render_review(request, review, status=400, errors=error.messages)
    return _review_redirect(request, review)


@agency_permissions.staff_required
def action_add(request, full_review_id: int):
    form = FullReviewActionForm(request.POST or None, agency=request.agency, prefix="action")
    return _add_to_review(request, full_review_id, form, "action_form", services.action_add)


@agency_permissions.staff_required
def action_update(request, full_action_id: int):
    """An action item's status (open, done, dropped): follow-up, also after publishing."""
    action = services.action_get_for(membership=request.membership, action_id=full_action_id)
    if refused := post_only(request):
        return refused
    form = ActionStatusForm(request.POST)
    saved = form_save(
        form,
        lambda: services.action_set_status(
            actor=request.membership, action=action, status=form.cleaned_data["status"]
        ),
    )
    if saved is None:
        return _render_review(request, action.review, status=400, errors=_errors(form))
    messages.success(request, _("Status saved."))
    return _review_redirect(request, action.review)


# --- the long-term plan ---------------------------------------------------------------------


def _render_plan(request, plan: LongTermPlan, *, status=200, brand_view=None, **forms):
    membership = request.membership
    staff = membership.is_staff_member
    brand_view = (not staff) if brand_view is None else brand_view
    context = {
        "plan": plan,
        "review": plan.full_review,
        "engagement": plan.engagement,
        "page": plan_page(plan=plan),
        "brand_view": brand_view,
        "preview": staff and brand_view,
    }
    if staff and not brand_view:
        context.update(
            {
                "can_edit": not plan.is_published and permissions.can_edit_review(membership),
                "can_publish": not plan.is_published
                and permissions.can_publish_review(membership, plan.engagement),
                "can_start_proposal": can_edit_proposal(membership, plan.engagement),
                "plan_form": forms.get("plan_form")
                or PlanForm(
                    initial={
                        "summary": plan.summary,
                        "suggested_services": plan.suggested_services,
                    }
                ),
                "recommendation_form": forms.get("recommendation_form")
                or RecommendationForm(prefix="recommendation"),
                "errors": forms.get("errors") or [],
            }
        )
    return render(request, "reporting/full_review/plan.html", context, status=status)


@agency_permissions.staff_required
def plan_create(request, full_review_id: int):
    review = services.full_review_get_for(
        membership=request.membership, full_review_id=full_review_id
    )
    if refused := post_only(request):
        return refused
    try:
        plan = plans.plan_create(actor=request.membership, review=review)
    except ValidationError as error:
        return _render_review(request, review, status=400, errors=error.messages)
    return _plan_redirect(request, plan)


def plan_detail(request, plan_id: int):
    """The plan. Staff POST saves a draft's summary and suggested scope."""
    membership = request.membership
    plan = plans.plan_get_for(membership=membership, plan_id=plan_id)
    if request.method != "POST":
        return _render_plan(request, plan)
    if not membership.is_staff_member:
        return _read_only()
    form = PlanForm(request.POST)
    saved = form_save(
        form, lambda: plans.plan_update(actor=membership, plan=plan, **form.cleaned_data)
    )
    if saved is None:
        return _render_plan(request, plan, status=400, plan_form=form, errors=_errors(form))
    messages.success(request, _("Plan saved."))
    return _plan_redirect(request, saved)


@agency_permissions.staff_required
def plan_preview(request, plan_id: int):
    plan = plans.plan_get_for(membership=request.membership, plan_id=plan_id)
    return _render_plan(request, plan, brand_view=True)


@agency_permissions.staff_required
def plan_publish(request, plan_id: int):
    plan = plans.plan_get_for(membership=request.membership, plan_id=plan_id)
    if refused := post_only(request):
        return refused
    try:
        plan = plans.plan_publish(actor=request.membership, plan=plan)
    except ValidationError as error:
        return _render_plan(request, plan, status=400, errors=error.messages)
    messages.success(request, _("Published: the brand can read this plan now."))
    return _plan_redirect(request, plan)


@agency_permissions.staff_required
def recommendation_add(request, plan_id: int):
    plan = plans.plan_get_for(membership=request.membership, plan_id=plan_id)
    if refused := post_only(request):
        return refused
    form = RecommendationForm(request.POST, prefix="recommendation")
    added = form_save(
        form,
        lambda: plans.recommendation_add(actor=request.membership, plan=plan, **form.cleaned_data),
    )
    if added is None:
        return _render_plan(
            request, plan, status=400, recommendation_form=form, errors=_errors(form)
        )
    return _plan_redirect(request, plan)


@agency_permissions.staff_required
def recommendation_update(request, recommendation_id: int):
    recommendation = plans.recommendation_get_for(
        membership=request.membership, recommendation_id=recommendation_id
    )
    if refused := post_only(request):
        return refused
    form = RecommendationForm(request.POST, prefix=f"r{recommendation.pk}")
    saved = form_save(
        form,
        lambda: plans.recommendation_update(
            actor=request.membership, recommendation=recommendation, **form.cleaned_data
        ),
    )
    if saved is None:
        return _render_plan(request, recommendation.plan, status=400, errors=_errors(form))
    return _plan_redirect(request, recommendation.plan)


@agency_permissions.staff_required
def recommendation_delete(request, recommendation_id: int):
    recommendation = plans.recommendation_get_for(
        membership=request.membership, recommendation_id=recommendation_id
    )
    if refused := post_only(request):
        return refused
    plan = recommendation.plan
    try:
        plans.recommendation_delete(actor=request.membership, recommendation=recommendation)
    except ValidationError as error:
        return _render_plan(request, plan, status=400, errors=error.messages)
    return _plan_redirect(request, plan)


@agency_permissions.staff_required
def plan_next_proposal(request, plan_id: int):
    """Start (or open) the proposal draft prefilled from the plan."""
    plan = plans.plan_get_for(membership=request.membership, plan_id=plan_id)
    if refused := post_only(request):
        return refused
    try:
        proposal = plans.plan_next_proposal(actor=request.membership, plan=plan)
    except ValidationError as error:
        return _render_plan(request, plan, status=400, errors=error.messages)
    return redirect("proposals:detail", agency_slug=request.agency.slug, proposal_id=proposal.pk)
