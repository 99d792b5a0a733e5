"""Pages of the weekly and monthly reviews: the engagement's list (with "draft a review now" for
staff), the review (the staff editor while a draft: narrative and action items as htmx partials;
read-only once published), the preview of exactly what the brand will see, refresh and publish.
Brand users see published reviews only; a draft's address is a 404 for them."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from agency import permissions as agency_permissions
from agency.views import apply_validation_error, post_only
from engagements import selectors as engagement_selectors
from reporting import permissions
from reporting import reviews as services
from reporting.forms.reviews import (
    ActionItemForm,
    ActionStatusForm,
    NarrativeForm,
    ReviewDraftForm,
)
from reporting.models import ActionStatus, Review, ReviewKind


def _read_only(request):
    """A brand user's POST on a page they may only read."""
    return HttpResponseNotAllowed(["GET"])


def _review_redirect(request, review: Review):
    return redirect("reporting:review_detail", agency_slug=request.agency.slug, review_id=review.pk)


def _errors(form) -> list[str]:
    return [str(message) for field_errors in form.errors.values() for message in field_errors]


def _actions_context(request, review: Review, form=None) -> dict:
    membership = request.membership
    return {
        "review": review,
        "action_items": services.review_action_items(review=review),
        "action_form": form or ActionItemForm(agency=request.agency, prefix="action"),
        "can_edit": not review.is_published and permissions.can_edit_review(membership),
        "can_track": permissions.can_edit_review(membership),
        "status_choices": ActionStatus.choices,
    }


def _review_context(request, review: Review, **extra) -> dict:
    membership = request.membership
    engagement = review.engagement
    staff = membership.is_staff_member
    context = {
        "review": review,
        "engagement": engagement,
        "page": services.review_page(review=review),
        "brand_view": not staff,
    }
    if staff:
        can_edit = not review.is_published and permissions.can_edit_review(membership)
        context.update(
            {
                "can_edit": can_edit,
                "can_publish": not review.is_published
                and permissions.can_publish_review(membership, engagement),
                "can_track": permissions.can_edit_review(membership),
                "status_choices": ActionStatus.choices,
                "narrative_form": NarrativeForm(initial={"narrative": review.narrative}),
                "recipients": services.review_brand_recipients(engagement=engagement)
                if not review.is_published
                else [],
                **_actions_context(request, review),
            }
        )
    else:
        context["action_items"] = services.review_action_items(review=review)
    context.update(extra)
    return context


def _render_review(request, review: Review, status: int = 200, **extra):
    context = _review_context(request, review, **extra)
    template = (
        "reporting/reviews/review_detail.html"
        if request.membership.is_staff_member
        else "reporting/reviews/review_brand.html"
    )
    return render(request, template, context, status=status)


# --- pages ----------------------------------------------------------------------------------


def review_list(request, engagement_id: int):
    """The engagement's reviews (published ones for the brand); staff POST drafts one now."""
    membership = request.membership
    engagement = engagement_selectors.engagement_get_for(
        membership=membership, engagement_id=engagement_id
    )
    can_draft = permissions.can_edit_review(membership)
    form = None
    if can_draft:
        # Offered by default: the last finished week.
        today = services.agency_today(request.agency)
        last_week = today - datetime.timedelta(days=today.weekday() + 7)
        initial = {"kind": ReviewKind.WEEK, "period_start": last_week}
        form = ReviewDraftForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if not can_draft:
            return _read_only(request)
        if form.is_valid():
            try:
                review = services.review_draft(
                    engagement=engagement,
                    kind=form.cleaned_data["kind"],
                    period_start=form.cleaned_data["period_start"],
                    actor=membership,
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                return _review_redirect(request, review)
        status = 400
    return render(
        request,
        "reporting/reviews/review_list.html",
        {
            "engagement": engagement,
            "reviews": services.review_list(membership=membership, engagement=engagement),
            "draft_form": form,  # its errors show beside its fields
        },
        status=status,
    )


def review_detail(request, review_id: int):
    """The review. Staff POST saves a draft's narrative (htmx swaps the narrative card)."""
    membership = request.membership
    review = services.review_get_for(membership=membership, review_id=review_id)
    if request.method != "POST":
        return _render_review(request, review)
    if not membership.is_staff_member:
        return _read_only(request)
    form = NarrativeForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            review = services.review_set_narrative(
                actor=membership, review=review, narrative=form.cleaned_data["narrative"]
            )
            saved = True
        except ValidationError as error:
            apply_validation_error(form, error)
    if request.htmx and not review.is_published:
        # htmx swaps only 2xx answers: refused text comes back as 200 with its errors.
        return render(
            request,
            "reporting/reviews/_narrative.html",
            {"review": review, "narrative_form": form, "saved": saved, "can_edit": True},
        )
    if saved:
        messages.success(request, _("Summary saved."))
        return _review_redirect(request, review)
    return _render_review(request, review, status=400, narrative_form=form, errors=_errors(form))


@agency_permissions.staff_required
def review_preview(request, review_id: int):
    """Exactly what the brand sees (the brand's template, the same figures), while a draft."""
    review = services.review_get_for(membership=request.membership, review_id=review_id)
    context = {
        "review": review,
        "engagement": review.engagement,
        "page": services.review_page(review=review),
        "action_items": services.review_action_items(review=review),
        "brand_view": True,
        "preview": True,
    }
    return render(request, "reporting/reviews/review_brand.html", context)


@agency_permissions.staff_required
def review_publish(request, review_id: int):
    review = services.review_get_for(membership=request.membership, review_id=review_id)
    if refused := post_only(request):
        return refused
    try:
        review = services.review_publish(actor=request.membership, review=review)
    except ValidationError as error:
        return _render_review(request, review, status=400, errors=error.messages)
    messages.success(request, _("Published: the brand can read this review now."))
    return _review_redirect(request, review)


@agency_permissions.staff_required
def review_refresh(request, review_id: int):
    review = services.review_get_for(membership=request.membership, review_id=review_id)
    if refused := post_only(request):
        return refused
    try:
        review = services.review_refresh(actor=request.membership, review=review)
    except ValidationError as error:
        return _render_review(request, review, status=400, errors=error.messages)
    messages.success(request, _("Figures refreshed from the data as it is now."))
    return _review_redirect(request, review)


@agency_permissions.staff_required
def review_action_add(request, review_id: int):
    """Add an action item to a draft; htmx swaps the action list, a plain post reloads."""
    review = services.review_get_for(membership=request.membership, review_id=review_id)
    if refused := post_only(request):
        return refused
    form = ActionItemForm(request.POST, agency=request.agency, prefix="action")
    added = False
    if form.is_valid():
        try:
            services.review_action_add(actor=request.membership, review=review, **form.cleaned_data)
            added = True
        except ValidationError as error:
            apply_validation_error(form, error)
    if request.htmx and not review.is_published:
        context = _actions_context(request, review, None if added else form)
        return render(request, "reporting/reviews/_actions.html", context)
    if added:
        return _review_redirect(request, review)
    return _render_review(
        request, review, status=400, action_form=form, errors=_errors(form) or None
    )


@agency_permissions.staff_required
def action_update(request, action_id: int):
    """Change an action item's status (open, done, dropped); htmx swaps the item's row."""
    item = services.action_get_for(membership=request.membership, action_id=action_id)
    if refused := post_only(request):
        return refused
    form = ActionStatusForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            item = services.review_action_set_status(
                actor=request.membership, item=item, status=form.cleaned_data["status"]
            )
        except ValidationError as error:
            errors = error.messages
    else:
        errors = _errors(form)
    if request.htmx:
        return render(
            request,
            "reporting/reviews/_action_row.html",
            {
                "item": item,
                "can_track": permissions.can_edit_review(request.membership),
                "status_choices": ActionStatus.choices,
                "row_errors": errors,
                "back_url": request.htmx.current_url_abs_path or "",
            },
        )
    if errors:
        return _render_review(request, item.review, status=400, errors=errors)
    messages.success(request, _("Status saved."))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return _review_redirect(request, item.review)
