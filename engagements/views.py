"""Pages of the engagements app: the list (htmx-filtered), the engagement page with its stepper
and timeline, creating and editing, and the stage move."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from agency import permissions
from agency import selectors as agency_selectors
from agency.views import apply_validation_error
from engagements import selectors, services
from engagements.filters import EngagementFilter
from engagements.forms import EngagementForm, StageMoveForm
from engagements.lifecycle import Stage, stage_number

PAGE_SIZE = 25


def engagement_list(request):
    """Every engagement the member may see; filters and search swap only the table (htmx)."""
    agency = request.agency
    engagements = selectors.engagement_list(agency=agency)
    engagement_filter = EngagementFilter(
        request.GET or None,
        queryset=engagements,
        brands=agency_selectors.brand_list(agency=agency),
        managers=agency_selectors.staff_members(agency=agency),
    )
    page = Paginator(engagement_filter.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": engagement_filter, "page": page}
    if request.htmx and request.htmx.target == "engagement-table":
        return render(request, "engagements/_engagement_table.html", context)
    return render(request, "engagements/engagement_list.html", context)


@permissions.permission_required(permissions.can_create_engagement)
def engagement_create(request):
    agency = request.agency
    form = EngagementForm(
        request.POST or None,
        stores=agency_selectors.store_list(agency=agency),
        managers=agency_selectors.account_manager_choices(agency=agency),
        staff=agency_selectors.staff_members(agency=agency),
        initial={"account_manager": request.membership.pk},
    )
    if request.method == "POST" and form.is_valid():
        try:
            engagement = services.engagement_create(
                actor=request.membership, **form.service_arguments()
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect(
                "engagements:detail", agency_slug=agency.slug, engagement_id=engagement.pk
            )
    return render(request, "engagements/engagement_form.html", {"form": form})


def _lifecycle_context(request, engagement, move_form=None):
    membership = request.membership
    can_move = membership.is_staff_member and permissions.can_move_stage(membership, engagement)
    if can_move and move_form is None:
        move_form = StageMoveForm(initial={"expected_stage": engagement.stage})
    if move_form is not None:
        move_form.fields["to_stage"].choices = [
            (stage.value, f"{stage_number(stage)}. {stage.label}")
            for stage in Stage
            if stage != engagement.stage and engagement.stage_in_scope(stage)
        ]
    return {
        "engagement": engagement,
        "phases": selectors.engagement_stepper(engagement=engagement),
        "timeline": selectors.engagement_timeline(engagement=engagement),
        "can_move": can_move,
        "move_form": move_form,
        "show_reasons": membership.is_staff_member,
    }


def _detail_extras(request, engagement) -> dict:
    membership = request.membership
    staff = membership.is_staff_member
    return {
        "can_edit": staff and permissions.can_edit_engagement(membership, engagement),
        "can_see_internal_notes": permissions.can_see_internal_notes(membership),
        "team": engagement.team.select_related("user") if staff else [],
    }


def engagement_detail(request, engagement_id: int):
    engagement = selectors.engagement_get_for(
        membership=request.membership, engagement_id=engagement_id
    )
    context = _lifecycle_context(request, engagement)
    context.update(_detail_extras(request, engagement))
    return render(request, "engagements/engagement_detail.html", context)


@permissions.staff_required
def engagement_edit(request, engagement_id: int):
    agency = request.agency
    engagement = selectors.engagement_get_for(
        membership=request.membership, engagement_id=engagement_id
    )
    if not permissions.can_edit_engagement(request.membership, engagement):
        raise PermissionDenied
    form = EngagementForm(
        request.POST or None,
        stores=agency_selectors.store_list(agency=agency),
        managers=agency_selectors.account_manager_choices(agency=agency),
        staff=agency_selectors.staff_members(agency=agency),
        editing=engagement,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_update(
                actor=request.membership, engagement=engagement, **form.service_arguments()
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect(
                "engagements:detail", agency_slug=agency.slug, engagement_id=engagement.pk
            )
    return render(
        request, "engagements/engagement_form.html", {"form": form, "engagement": engagement}
    )


@permissions.staff_required
def engagement_move(request, engagement_id: int):
    """Move the stage; answers with the lifecycle panel (htmx) or a redirect to the page."""
    engagement = selectors.engagement_get_for(
        membership=request.membership, engagement_id=engagement_id
    )
    if request.method != "POST":  # after the lookup: a stranger's object is a 404, not a 405
        return HttpResponseNotAllowed(["POST"])
    if not permissions.can_move_stage(request.membership, engagement):
        raise PermissionDenied
    form = StageMoveForm(request.POST)
    moved = False
    if form.is_valid():
        try:
            services.engagement_move_stage(
                actor=request.membership,
                engagement=engagement,
                to_stage=form.cleaned_data["to_stage"],
                reason=form.cleaned_data["reason"],
                expected_stage=form.cleaned_data["expected_stage"],
            )
            moved = True
        except ValidationError as error:
            form.add_error(None, error.messages)
    if moved and not request.htmx:
        return redirect(
            "engagements:detail", agency_slug=request.agency.slug, engagement_id=engagement.pk
        )
    if moved:
        engagement.refresh_from_db()
        form = None
    context = _lifecycle_context(request, engagement, move_form=form)
    if request.htmx:
        # htmx swaps only 2xx answers, so a refused move comes back as 200 with its errors.
        return render(request, "engagements/_lifecycle.html", context)
    context.update(_detail_extras(request, engagement))
    return render(request, "engagements/engagement_detail.html", context, status=400)
