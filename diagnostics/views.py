"""Pages of the diagnosis: the staff workspace (intake, competitors, personas, baseline with the
monthly entry) and the report (generate, edit the draft, publish, versions).

Every view first loads the engagement through the member's scope (404 alike for missing and not
yours), then the object through the engagement (404 likewise). Brand users reach only the report
page and published versions; every other page is a 404 for them (`staff_required`).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from agency.permissions import staff_required
from agency.views import apply_validation_error
from diagnostics import permissions, selectors, services
from diagnostics.forms import (
    CompetitorForm,
    IntakeForm,
    MonthEntryForm,
    PersonaForm,
    ReportEditForm,
)
from diagnostics.report_builder import format_metric, trend_words
from engagements.selectors import engagement_get_for


def _engagement(request, engagement_id: int):
    return engagement_get_for(membership=request.membership, engagement_id=engagement_id)


def _to_page(request, engagement, anchor: str = ""):
    response = redirect(
        "diagnostics:page", agency_slug=request.agency.slug, engagement_id=engagement.pk
    )
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _to_report(request, engagement, version=None):
    if version is None:
        return redirect(
            "diagnostics:report", agency_slug=request.agency.slug, engagement_id=engagement.pk
        )
    return redirect(
        "diagnostics:report_version",
        agency_slug=request.agency.slug,
        engagement_id=engagement.pk,
        report_id=version.pk,
    )


def _require_edit(request, engagement) -> None:
    if not permissions.can_edit_diagnosis(request.membership, engagement):
        raise PermissionDenied


BASELINE_ROWS = (
    "visitors",
    "paying_buyers",
    "conversion_rate",
    "aov",
    "gmv",
    "uv_value",
    "ad_spend",
    "clicks",
    "cpc",
    "roi",
)


def baseline_table(baseline: selectors.Baseline) -> list[dict]:
    """The baseline as display rows: metric label, then per window the value and its trend."""
    from execution.metrics.registry import METRICS

    rows = []
    for name in BASELINE_ROWS:
        cells = []
        for days in sorted(baseline.windows):
            window = baseline.windows[days]
            change = window.change(name)
            cells.append(
                {
                    "value": format_metric(name, window.values.get(name)),
                    "previous": format_metric(name, window.previous.get(name)),
                    "trend": trend_words(change),
                    "direction": ""
                    if change is None or change == 0
                    else ("up" if change > 0 else "down"),
                }
            )
        rows.append({"label": METRICS[name].label, "cells": cells})
    return rows


def _page_context(request, engagement, *, intake_form=None, month_form=None) -> dict:
    intake = selectors.diagnosis_intake_of(engagement=engagement)
    if intake_form is None:
        initial = (
            {field: getattr(intake, field) for field in IntakeForm.base_fields}
            if intake
            else {"goal": engagement.goal, "goal_notes": engagement.goal_notes}
        )
        intake_form = IntakeForm(initial=initial)
    baseline = selectors.diagnosis_baseline(engagement=engagement)
    return {
        "engagement": engagement,
        "intake": intake,
        "intake_form": intake_form,
        "competitors": selectors.competitor_list(engagement=engagement),
        "personas": selectors.persona_list(engagement=engagement),
        "baseline": baseline,
        "baseline_rows": baseline_table(baseline),
        "month_form": month_form or MonthEntryForm(),
        "can_edit": permissions.can_edit_diagnosis(request.membership, engagement),
        "can_enter_months": permissions.can_enter_store_months(request.membership),
        "status": selectors.diagnosis_status(engagement=engagement),
    }


@staff_required
def diagnosis_page(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    return render(request, "diagnostics/diagnosis_page.html", _page_context(request, engagement))


@staff_required
def intake_edit(request, engagement_id: int):
    """The intake form lives on the diagnosis page; a refused save shows it again there."""
    engagement = _engagement(request, engagement_id)
    if request.method != "POST":
        return _to_page(request, engagement, "intake")
    _require_edit(request, engagement)
    form = IntakeForm(request.POST)
    if form.is_valid():
        try:
            services.diagnosis_intake_save(
                actor=request.membership, engagement=engagement, **form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Intake saved."))
            return _to_page(request, engagement, "intake")
    context = _page_context(request, engagement, intake_form=form)
    return render(request, "diagnostics/diagnosis_page.html", context, status=400)


def _object_form(
    request, engagement, *, form_class, obj, create, update, template_title, initial=None
):
    """Shared create/edit flow of competitors and personas: a small page with the form."""
    _require_edit(request, engagement)
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if obj is None:
                create(actor=request.membership, engagement=engagement, **form.cleaned_data)
            else:
                update(request.membership, obj, form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return _to_page(request, engagement, form_class.__name__.lower())
    return render(
        request,
        "diagnostics/object_form.html",
        {"engagement": engagement, "form": form, "object": obj, "heading": template_title},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def competitor_create(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    return _object_form(
        request,
        engagement,
        form_class=CompetitorForm,
        obj=None,
        create=services.competitor_create,
        update=None,
        template_title=_("New competitor"),
    )


@staff_required
def competitor_edit(request, engagement_id: int, competitor_id: int):
    engagement = _engagement(request, engagement_id)
    competitor = selectors.competitor_get_for(engagement=engagement, competitor_id=competitor_id)
    return _object_form(
        request,
        engagement,
        form_class=CompetitorForm,
        obj=competitor,
        create=None,
        update=lambda actor, obj, data: services.competitor_update(
            actor=actor, competitor=obj, **data
        ),
        template_title=_("Edit competitor"),
        initial={field: getattr(competitor, field) for field in CompetitorForm.base_fields},
    )


@staff_required
def competitor_delete(request, engagement_id: int, competitor_id: int):
    engagement = _engagement(request, engagement_id)
    competitor = selectors.competitor_get_for(engagement=engagement, competitor_id=competitor_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.competitor_delete(actor=request.membership, competitor=competitor)
    messages.success(request, _("Competitor removed."))
    return _to_page(request, engagement, "competitors")


@staff_required
def persona_create(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    return _object_form(
        request,
        engagement,
        form_class=PersonaForm,
        obj=None,
        create=services.persona_create,
        update=None,
        template_title=_("New persona"),
    )


@staff_required
def persona_edit(request, engagement_id: int, persona_id: int):
    engagement = _engagement(request, engagement_id)
    persona = selectors.persona_get_for(engagement=engagement, persona_id=persona_id)
    return _object_form(
        request,
        engagement,
        form_class=PersonaForm,
        obj=persona,
        create=None,
        update=lambda actor, obj, data: services.persona_update(actor=actor, persona=obj, **data),
        template_title=_("Edit persona"),
        initial={field: getattr(persona, field) for field in PersonaForm.base_fields},
    )


@staff_required
def persona_delete(request, engagement_id: int, persona_id: int):
    engagement = _engagement(request, engagement_id)
    persona = selectors.persona_get_for(engagement=engagement, persona_id=persona_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.persona_delete(actor=request.membership, persona=persona)
    messages.success(request, _("Persona removed."))
    return _to_page(request, engagement, "personas")


@staff_required
def month_enter(request, engagement_id: int):
    """Enter a past month's totals for a store without exports; the baseline panel answers."""
    engagement = _engagement(request, engagement_id)
    if request.method != "POST":
        return _to_page(request, engagement, "baseline")
    if not permissions.can_enter_store_months(request.membership):
        raise PermissionDenied
    form = MonthEntryForm(request.POST)
    if form.is_valid():
        try:
            services.diagnosis_month_enter(
                actor=request.membership, engagement=engagement, **form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                _("%(month)s saved.") % {"month": form.cleaned_data["month"].strftime("%Y-%m")},
            )
            return _to_page(request, engagement, "baseline")
    context = _page_context(request, engagement, month_form=form)
    return render(request, "diagnostics/diagnosis_page.html", context, status=400)


# --- report -------------------------------------------------------------------------------------


def _report_context(request, engagement, report) -> dict:
    membership = request.membership
    versions = selectors.report_versions(membership=membership, engagement=engagement)
    return {
        "engagement": engagement,
        "report": report,
        "versions": versions,
        "draft": selectors.report_draft(engagement=engagement)
        if membership.is_staff_member
        else None,
        "can_edit": permissions.can_edit_diagnosis(membership, engagement),
        "can_publish": permissions.can_publish_diagnosis_report(membership, engagement),
    }


def report_page(request, engagement_id: int):
    """The report: for brand users the latest published version; for staff the latest version
    of any status, with the versions list and the actions."""
    engagement = _engagement(request, engagement_id)
    versions = selectors.report_versions(membership=request.membership, engagement=engagement)
    report = versions.first()
    return render(
        request,
        "diagnostics/report.html",
        _report_context(request, engagement, report),
    )


def report_version(request, engagement_id: int, report_id: int):
    engagement = _engagement(request, engagement_id)
    report = selectors.report_get_for(
        membership=request.membership, engagement=engagement, report_id=report_id
    )
    return render(request, "diagnostics/report.html", _report_context(request, engagement, report))


@staff_required
def report_generate(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    draft = services.diagnosis_report_generate(actor=request.membership, engagement=engagement)
    messages.success(
        request,
        _("Draft version %(number)s written from the diagnosis.") % {"number": draft.number},
    )
    return redirect(
        "diagnostics:report_edit",
        agency_slug=request.agency.slug,
        engagement_id=engagement.pk,
        report_id=draft.pk,
    )


@staff_required
def report_new_draft(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        draft = services.diagnosis_report_new_draft(actor=request.membership, engagement=engagement)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _to_report(request, engagement)
    return redirect(
        "diagnostics:report_edit",
        agency_slug=request.agency.slug,
        engagement_id=engagement.pk,
        report_id=draft.pk,
    )


@staff_required
def report_edit(request, engagement_id: int, report_id: int):
    engagement = _engagement(request, engagement_id)
    report = selectors.report_get_for(
        membership=request.membership, engagement=engagement, report_id=report_id
    )
    _require_edit(request, engagement)
    if report.is_published:
        messages.error(
            request,
            _("Version %(number)s is published and cannot be edited; start a new draft instead.")
            % {"number": report.number},
        )
        return _to_report(request, engagement, report)
    form = ReportEditForm(request.POST or None, report=report)
    if request.method == "POST" and form.is_valid():
        try:
            services.diagnosis_report_update(
                actor=request.membership,
                report=report,
                title=form.cleaned_data["title"],
                sections=form.sections(),
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Draft saved."))
            return _to_report(request, engagement, report)
    return render(
        request,
        "diagnostics/report_edit.html",
        {"engagement": engagement, "report": report, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def report_publish(request, engagement_id: int, report_id: int):
    engagement = _engagement(request, engagement_id)
    report = selectors.report_get_for(
        membership=request.membership, engagement=engagement, report_id=report_id
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.diagnosis_report_publish(actor=request.membership, report=report)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Version %(number)s is published to the brand.") % {"number": report.number},
        )
    return _to_report(request, engagement, report)


@staff_required
def report_discard(request, engagement_id: int, report_id: int):
    engagement = _engagement(request, engagement_id)
    report = selectors.report_get_for(
        membership=request.membership, engagement=engagement, report_id=report_id
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.diagnosis_report_discard(actor=request.membership, report=report)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _to_report(request, engagement, report)
    messages.success(request, _("Draft discarded."))
    return _to_report(request, engagement)
