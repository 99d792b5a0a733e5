"""Pages of the daily brief: an engagement's briefs, one brief (in the reader's language), a
preview built on the fly for staff, and the brief settings (e-mail, group robot).

Every view first loads the engagement or the brief through the member's scope (404 alike for
missing and not yours). Brand users read their brands' briefs; deliveries, the preview and the
settings are staff pages (404 for brand users), and only those who may edit the settings
(`can_edit_brief_settings`) see or change the robot's address.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from agency.permissions import staff_required
from agency.views import apply_validation_error
from engagements.selectors import engagement_get_for
from reporting.briefs import selectors
from reporting.briefs.builder import brief_build
from reporting.briefs.delivery import DeliveryError, brief_settings_of
from reporting.briefs.render import brief_display
from reporting.briefs.services import brief_settings_save, brief_settings_test
from reporting.forms.briefs import BriefPreviewForm, BriefSettingsForm
from reporting.permissions import can_edit_brief_settings


def _engagement(request, engagement_id: int):
    return engagement_get_for(membership=request.membership, engagement_id=engagement_id)


def _require_settings_edit(request, engagement) -> None:
    if not can_edit_brief_settings(request.membership, engagement):
        raise PermissionDenied


def brief_list(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    is_staff = request.membership.is_staff_member
    briefs = selectors.brief_list(engagement=engagement, with_deliveries=is_staff)
    return render(
        request,
        "reporting/briefs/brief_list.html",
        {
            "engagement": engagement,
            "briefs": briefs,
            "show_deliveries": is_staff,
            "can_edit_settings": can_edit_brief_settings(request.membership, engagement),
            "preview_form": BriefPreviewForm(
                initial={"date": timezone.localdate() - datetime.timedelta(days=1)}
            )
            if is_staff
            else None,
        },
    )


def brief_detail(request, brief_id: int):
    brief = selectors.brief_get_for(membership=request.membership, brief_id=brief_id)
    is_staff = request.membership.is_staff_member
    revisions = list(selectors.brief_revisions(brief=brief))
    latest = revisions[0] if revisions else brief
    return render(
        request,
        "reporting/briefs/brief_detail.html",
        {
            "engagement": brief.engagement,
            "stored_brief": brief,
            "brief": brief_display(brief.content, revision=brief.revision),
            "revisions": revisions,
            "latest": latest if latest.pk != brief.pk else None,
            "deliveries": list(selectors.brief_deliveries(brief=brief)) if is_staff else None,
        },
    )


@staff_required
def brief_preview(request, engagement_id: int):
    """The brief of a chosen day as it would be sent now, built on the fly: nothing is stored
    (not even the day's alerts) or sent."""
    engagement = _engagement(request, engagement_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    form = BriefPreviewForm(
        request.GET or {"date": timezone.localdate() - datetime.timedelta(days=1)}
    )
    if not form.is_valid():
        return render(
            request,
            "reporting/briefs/brief_preview.html",
            {"engagement": engagement, "form": form, "brief": None},
            status=400,
        )
    content = brief_build(engagement=engagement, date=form.cleaned_data["date"], raise_alerts=False)
    return render(
        request,
        "reporting/briefs/brief_preview.html",
        {"engagement": engagement, "form": form, "brief": brief_display(content)},
    )


@staff_required
def brief_settings(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    _require_settings_edit(request, engagement)
    saved = brief_settings_of(engagement)
    if request.method == "POST":
        form = BriefSettingsForm(request.POST)
        if form.is_valid():
            try:
                brief_settings_save(
                    engagement=engagement,
                    send_email=form.cleaned_data["send_email"],
                    webhook_kind=form.cleaned_data["webhook_kind"],
                    webhook_url=form.cleaned_data["webhook_url"],
                    webhook_secret=form.secret_to_save(),
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, _("Brief settings saved."))
                return redirect(
                    "reporting:brief_settings",
                    agency_slug=request.agency.slug,
                    engagement_id=engagement.pk,
                )
        status = 400
    else:
        form = BriefSettingsForm(
            initial={
                "send_email": saved.send_email,
                "webhook_kind": saved.webhook_kind,
                "webhook_url": saved.webhook_url,
            }
        )
        status = 200
    return render(
        request,
        "reporting/briefs/brief_settings.html",
        {"engagement": engagement, "form": form, "saved": saved},
        status=status,
    )


@staff_required
def brief_settings_test_view(request, engagement_id: int):
    """Post a test message to the saved group robot and say how it went."""
    engagement = _engagement(request, engagement_id)
    _require_settings_edit(request, engagement)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        brief_settings_test(engagement=engagement)
    except DeliveryError as error:
        messages.error(
            request, _("The test message did not go through: %(error)s") % {"error": error}
        )
    else:
        messages.success(request, _("The test message was posted to the group."))
    return redirect(
        "reporting:brief_settings", agency_slug=request.agency.slug, engagement_id=engagement.pk
    )
