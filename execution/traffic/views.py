"""Pages of the traffic area (step 4): the engagement's campaigns (with their ad figures, budget
burn and creatives), its month calendar and search keywords; and the agency's platform event
calendar.

Every engagement page first loads the engagement through the member's scope (404 alike for
missing and not yours), then the object through the engagement (404 likewise; brand users also
get 404 for an internal campaign). Brand users read campaigns, the calendar and keywords; every
write page is a 404 for them (`permission_required` → `staff_required`). Event calendar writes
are for admins and account managers (other staff get 403).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agency.permissions import permission_required
from agency.views import form_save, post_only
from engagements.selectors import engagement_get_for
from execution.files import file_download_response
from execution.permissions import can_edit_event_calendar, can_edit_workspace
from execution.traffic import selectors, services
from execution.traffic.calendar import month_grid, month_last_day, month_parse
from execution.traffic.forms import (
    CampaignForm,
    CreativeForm,
    EventForm,
    KeywordForm,
    RankRecordForm,
    RankUploadForm,
    UsualEventsForm,
)
from execution.workspace import workspace_is_open

SAFE_METHODS = ("GET", "HEAD")


def _date_param(value: str | None) -> datetime.date | None:
    """A `?date=YYYY-MM-DD` (pre-fills a form; anything else is ignored)."""
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _engagement(request, engagement_id: int):
    return engagement_get_for(membership=request.membership, engagement_id=engagement_id)


def _campaign(request, engagement_id: int, campaign_id: int):
    """The engagement and one of its campaigns as the member may see them (404 alike)."""
    engagement = _engagement(request, engagement_id)
    campaign = selectors.campaign_get_for(
        engagement=engagement, membership=request.membership, campaign_id=campaign_id
    )
    return engagement, campaign


def _creative(request, engagement_id: int, creative_id: int):
    """The engagement and a creative of one of its campaigns as the member may see them."""
    engagement = _engagement(request, engagement_id)
    creative = selectors.creative_get_for(
        engagement=engagement, membership=request.membership, creative_id=creative_id
    )
    return engagement, creative


def _keyword(request, engagement_id: int, keyword_id: int):
    """The engagement and one of its search keywords (404 alike)."""
    engagement = _engagement(request, engagement_id)
    return engagement, selectors.keyword_get_for(engagement=engagement, keyword_id=keyword_id)


def _url(name: str, request, **kwargs) -> str:
    return reverse(f"traffic:{name}", kwargs={"agency_slug": request.agency.slug, **kwargs})


def _campaign_url(request, engagement_id: int, campaign_id: int) -> str:
    return _url(
        "campaign_detail", request, engagement_id=engagement_id, traffic_campaign_id=campaign_id
    )


def _calendar_url(request, event=None) -> str:
    """The agency's calendar, at the month the event starts in when there is one."""
    url = _url("calendar", request)
    if event is not None:
        url += f"?month={event.start_date:%Y-%m}"
    return url


def _read_only(request):
    """Reading pages answer GET; anything else is refused after the access checks."""
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(list(SAFE_METHODS))
    return None


def _initial(form_class, instance) -> dict:
    """The values an edit form starts from: the object's own."""
    return {field: getattr(instance, field) for field in form_class.base_fields}


def _form_submit(
    request,
    form,
    *,
    save: Callable[[], Any],
    success: Callable[[Any], str],
    next_url: Callable[[Any], str],
    page: Callable[..., HttpResponse],
) -> HttpResponse:
    """The shape every write page with a form shares. On a POST whose form is valid, `save()`
    calls the service; when it succeeds, `success(result)` is flashed and the member goes on to
    `next_url(result)`. When the form or the service refuses (the service's ValidationError is
    put on the form, field by field), `page(form, status=...)` shows the form again: 400 after a
    POST, 200 for the blank form of a GET."""
    if request.method == "POST":
        result = form_save(form, save)
        if result is not None:
            messages.success(request, success(result))
            return redirect(next_url(result))
    return page(form, status=400 if request.method == "POST" else 200)


def _delete_submit(request, delete: Callable[[], None], *, success: str) -> bool:
    """Run a delete service: True when it is done (`success` is flashed); a refusal (its
    ValidationError) is flashed instead and gives False."""
    try:
        delete()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, success)
    return True


def _base_context(request, engagement, tab: str) -> dict:
    membership = request.membership
    return {
        "engagement": engagement,
        "tab": tab,
        "workspace_open": workspace_is_open(engagement),
        "can_edit": can_edit_workspace(membership) and workspace_is_open(engagement),
    }


# --- campaigns -------------------------------------------------------------------------------


def campaign_list(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    if refused := _read_only(request):
        return refused
    today = timezone.localdate()
    rows = selectors.campaign_rows(
        engagement=engagement, membership=request.membership, today=today
    )
    context = _base_context(request, engagement, "campaigns")
    context.update(
        rows=rows,
        today=today,
        summary=selectors.traffic_summary(engagement=engagement, membership=request.membership),
    )
    return render(request, "execution/traffic/campaign_list.html", context)


def _campaign_form_page(request, engagement, form, campaign=None, status=200):
    context = _base_context(request, engagement, "campaigns")
    context.update(
        form=form,
        campaign=campaign,
        cancel_url=(
            _campaign_url(request, engagement.pk, campaign.pk)
            if campaign
            else _url("campaigns", request, engagement_id=engagement.pk)
        ),
    )
    return render(request, "execution/traffic/campaign_form.html", context, status=status)


@permission_required(can_edit_workspace)
def campaign_create(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    form = CampaignForm(request.POST or None, agency=request.agency)
    return _form_submit(
        request,
        form,
        save=lambda: services.campaign_create(
            actor=request.membership, engagement=engagement, **form.cleaned_data
        ),
        success=lambda campaign: _("Campaign “%(name)s” added.") % {"name": campaign.name},
        next_url=lambda campaign: _campaign_url(request, engagement.pk, campaign.pk),
        page=partial(_campaign_form_page, request, engagement),
    )


def campaign_detail(request, engagement_id: int, traffic_campaign_id: int):
    engagement, campaign = _campaign(request, engagement_id, traffic_campaign_id)
    if refused := _read_only(request):
        return refused
    return _campaign_detail_page(request, engagement, campaign)


def _campaign_detail_page(request, engagement, campaign, creative_form=None, status=200):
    today = timezone.localdate()
    result = selectors.campaign_results(
        campaigns=[campaign], store_id=engagement.store_id, today=today
    )[campaign.pk]
    context = _base_context(request, engagement, "campaigns")
    context.update(
        campaign=campaign,
        result=result,
        today=today,
        creatives=selectors.creative_list(campaign=campaign),
        creative_form=creative_form or CreativeForm(),
        show_internal=request.membership.is_staff_member,
    )
    return render(request, "execution/traffic/campaign_detail.html", context, status=status)


@permission_required(can_edit_workspace)
def campaign_edit(request, engagement_id: int, traffic_campaign_id: int):
    engagement, campaign = _campaign(request, engagement_id, traffic_campaign_id)
    form = CampaignForm(
        request.POST or None, initial=_initial(CampaignForm, campaign), agency=request.agency
    )
    return _form_submit(
        request,
        form,
        save=lambda: services.campaign_update(
            actor=request.membership, campaign=campaign, **form.cleaned_data
        ),
        success=lambda saved: _("Campaign saved."),
        next_url=lambda saved: _campaign_url(request, engagement.pk, campaign.pk),
        page=partial(_campaign_form_page, request, engagement, campaign=campaign),
    )


@permission_required(can_edit_workspace)
def campaign_delete(request, engagement_id: int, traffic_campaign_id: int):
    engagement, campaign = _campaign(request, engagement_id, traffic_campaign_id)
    if refused := post_only(request):
        return refused
    deleted = _delete_submit(
        request,
        lambda: services.campaign_delete(actor=request.membership, campaign=campaign),
        success=_("Campaign “%(name)s” deleted.") % {"name": campaign.name},
    )
    if not deleted:
        return redirect(_campaign_url(request, engagement.pk, campaign.pk))
    return redirect(_url("campaigns", request, engagement_id=engagement.pk))


# --- creatives -------------------------------------------------------------------------------


@permission_required(can_edit_workspace)
def creative_upload(request, engagement_id: int, traffic_campaign_id: int):
    engagement, campaign = _campaign(request, engagement_id, traffic_campaign_id)
    if refused := post_only(request):
        return refused
    form = CreativeForm(request.POST, request.FILES)
    return _form_submit(
        request,
        form,
        save=lambda: services.creative_add(
            actor=request.membership,
            campaign=campaign,
            upload=form.cleaned_data["file"],
            title=form.cleaned_data["title"],
        ),
        success=lambda creative: _("Creative “%(file)s” added.") % {"file": creative.filename},
        next_url=lambda creative: _campaign_url(request, engagement.pk, campaign.pk) + "#creatives",
        page=lambda form, status: _campaign_detail_page(
            request, engagement, campaign, creative_form=form, status=status
        ),
    )


def creative_download(request, engagement_id: int, traffic_creative_id: int):
    __, creative = _creative(request, engagement_id, traffic_creative_id)
    if refused := _read_only(request):
        return refused
    return file_download_response(creative)


@permission_required(can_edit_workspace)
def creative_delete(request, engagement_id: int, traffic_creative_id: int):
    engagement, creative = _creative(request, engagement_id, traffic_creative_id)
    if refused := post_only(request):
        return refused
    _delete_submit(
        request,
        lambda: services.creative_delete(actor=request.membership, creative=creative),
        success=_("Creative removed."),
    )
    return redirect(_campaign_url(request, engagement.pk, creative.campaign_id) + "#creatives")


# --- calendars -------------------------------------------------------------------------------


def _month(request):
    """The month asked for, or this month and the error naming the bad value."""
    today = timezone.localdate()
    try:
        return month_parse(request.GET.get("month"), today=today), None, today
    except ValidationError as error:
        return today.replace(day=1), error.messages[0], today


def agency_calendar(request):
    """The agency's event calendar for a month, with the campaigns the member may see."""
    if refused := _read_only(request):
        return refused
    first, month_error, today = _month(request)
    last = month_last_day(first)
    events = list(selectors.platform_event_list(agency=request.agency, start=first, end=last))
    campaigns = list(
        selectors.calendar_campaigns(
            agency=request.agency, membership=request.membership, start=first, end=last
        )
    )
    grid = month_grid(first=first, events=events, campaigns=campaigns, today=today)
    can_edit_events = can_edit_event_calendar(request.membership)
    context = {
        "grid": grid,
        "month_error": month_error,
        "events": events,
        "can_edit_events": can_edit_events,
        "seed_form": UsualEventsForm(today=today) if can_edit_events else None,
        "calendar_url": _url("calendar", request),
        "show_engagement": True,
    }
    return render(
        request, "execution/traffic/calendar.html", context, status=400 if month_error else 200
    )


def engagement_calendar(request, engagement_id: int):
    """One engagement's campaigns over the platform's events, a month at a time."""
    engagement = _engagement(request, engagement_id)
    if refused := _read_only(request):
        return refused
    first, month_error, today = _month(request)
    last = month_last_day(first)
    events = list(selectors.platform_event_list(agency=request.agency, start=first, end=last))
    campaigns = list(
        selectors.calendar_campaigns(
            agency=request.agency,
            membership=request.membership,
            start=first,
            end=last,
            engagement=engagement,
        )
    )
    context = _base_context(request, engagement, "calendar")
    context.update(
        grid=month_grid(first=first, events=events, campaigns=campaigns, today=today),
        month_error=month_error,
        calendar_url=_url("engagement_calendar", request, engagement_id=engagement.pk),
        show_engagement=False,
    )
    return render(
        request,
        "execution/traffic/engagement_calendar.html",
        context,
        status=400 if month_error else 200,
    )


def _event_form_page(request, form, event=None, status=200):
    return render(
        request,
        "execution/traffic/event_form.html",
        {"form": form, "event": event, "cancel_url": _calendar_url(request, event)},
        status=status,
    )


@permission_required(can_edit_event_calendar)
def event_create(request):
    form = EventForm(request.POST or None)
    return _form_submit(
        request,
        form,
        save=lambda: services.platform_event_create(
            actor=request.membership, agency=request.agency, **form.cleaned_data
        ),
        success=lambda event: _("Event “%(name)s” added.") % {"name": event.name},
        next_url=lambda event: _calendar_url(request, event),
        page=partial(_event_form_page, request),
    )


@permission_required(can_edit_event_calendar)
def event_edit(request, traffic_event_id: int):
    event = selectors.platform_event_get_for(agency=request.agency, event_id=traffic_event_id)
    form = EventForm(request.POST or None, initial=_initial(EventForm, event))
    return _form_submit(
        request,
        form,
        save=lambda: services.platform_event_update(
            actor=request.membership, event=event, **form.cleaned_data
        ),
        success=lambda saved: _("Event saved."),
        next_url=lambda saved: _calendar_url(request, saved),
        page=partial(_event_form_page, request, event=event),
    )


@permission_required(can_edit_event_calendar)
def event_delete(request, traffic_event_id: int):
    event = selectors.platform_event_get_for(agency=request.agency, event_id=traffic_event_id)
    if refused := post_only(request):
        return refused
    services.platform_event_delete(actor=request.membership, event=event)
    messages.success(request, _("Event “%(name)s” deleted.") % {"name": event.name})
    return redirect(_calendar_url(request, event))


@permission_required(can_edit_event_calendar)
def events_seed(request):
    """Add the usual events of a year (idempotent: a second click adds nothing)."""
    if refused := post_only(request):
        return refused
    form = UsualEventsForm(request.POST, today=timezone.localdate())
    if not form.is_valid():
        messages.error(
            request,
            _("“%(value)s” is not a year offered for the usual events.")
            % {"value": request.POST.get("year", "")[:20]},
        )
        return redirect(_calendar_url(request))
    year = form.cleaned_data["year"]
    created, notes = services.platform_events_seed_usual(
        actor=request.membership, agency=request.agency, year=year
    )
    if created:
        messages.success(
            request,
            _(
                "Added %(count)s events for %(year)s: %(names)s. Their dates are approximate; "
                "adjust them when the platform announces the events."
            )
            % {"count": len(created), "year": year, "names": ", ".join(e.name for e in created)},
        )
    else:
        messages.info(
            request, _("The usual events of %(year)s are already in the calendar.") % {"year": year}
        )
    for note in notes:
        messages.warning(request, note)
    response = redirect(_calendar_url(request))
    response["Location"] += f"?month={year}-{created[0].start_date.month:02d}" if created else ""
    return response


# --- search keywords -------------------------------------------------------------------------


def keyword_list(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    if refused := _read_only(request):
        return refused
    today = timezone.localdate()
    context = _base_context(request, engagement, "keywords")
    context.update(
        rows=selectors.keyword_rows(engagement=engagement, today=today),
        today=today,
        upload_form=RankUploadForm(),
    )
    return render(request, "execution/traffic/keyword_list.html", context)


def keyword_detail(request, engagement_id: int, traffic_keyword_id: int):
    engagement, keyword = _keyword(request, engagement_id, traffic_keyword_id)
    if refused := _read_only(request):
        return refused
    today = timezone.localdate()
    stats = selectors.keyword_detail(keyword=keyword, today=today)
    context = _base_context(request, engagement, "keywords")
    context.update(stats=stats, keyword=keyword, history=list(reversed(stats.history)))
    return render(request, "execution/traffic/keyword_detail.html", context)


def _keyword_form_page(request, engagement, form, keyword=None, status=200):
    context = _base_context(request, engagement, "keywords")
    context.update(
        form=form,
        keyword=keyword,
        cancel_url=_url("keywords", request, engagement_id=engagement.pk),
    )
    return render(request, "execution/traffic/keyword_form.html", context, status=status)


@permission_required(can_edit_workspace)
def keyword_create(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    form = KeywordForm(request.POST or None)
    return _form_submit(
        request,
        form,
        save=lambda: services.keyword_create(
            actor=request.membership, engagement=engagement, **form.cleaned_data
        ),
        success=lambda keyword: _("Keyword “%(keyword)s” added.") % {"keyword": keyword},
        next_url=lambda keyword: _url("keywords", request, engagement_id=engagement.pk),
        page=partial(_keyword_form_page, request, engagement),
    )


@permission_required(can_edit_workspace)
def keyword_edit(request, engagement_id: int, traffic_keyword_id: int):
    engagement, keyword = _keyword(request, engagement_id, traffic_keyword_id)
    form = KeywordForm(request.POST or None, initial=_initial(KeywordForm, keyword))

    def save():
        # The form's field is `keyword`; the service's is `keyword_text` (`keyword` is the row).
        values = dict(form.cleaned_data)
        return services.keyword_update(
            actor=request.membership, keyword=keyword, keyword_text=values.pop("keyword"), **values
        )

    return _form_submit(
        request,
        form,
        save=save,
        success=lambda saved: _("Keyword saved."),
        next_url=lambda saved: _url("keywords", request, engagement_id=engagement.pk),
        page=partial(_keyword_form_page, request, engagement, keyword=keyword),
    )


@permission_required(can_edit_workspace)
def keyword_delete(request, engagement_id: int, traffic_keyword_id: int):
    engagement, keyword = _keyword(request, engagement_id, traffic_keyword_id)
    if refused := post_only(request):
        return refused
    _delete_submit(
        request,
        lambda: services.keyword_delete(actor=request.membership, keyword=keyword),
        success=_("Keyword “%(keyword)s” deleted.") % {"keyword": keyword},
    )
    return redirect(_url("keywords", request, engagement_id=engagement.pk))


def _ranks_page(request, engagement, form=None, *, upload_form=None, status=200):
    """The rank entry page: one day's form (today's, blank, unless given) and the CSV upload."""
    if form is None:
        keywords = list(selectors.keyword_list(engagement=engagement))
        form = RankRecordForm(initial={"date": timezone.localdate()}, keywords=keywords)
    context = _base_context(request, engagement, "keywords")
    context.update(form=form, upload_form=upload_form or RankUploadForm())
    return render(request, "execution/traffic/rank_record.html", context, status=status)


@permission_required(can_edit_workspace)
def ranks_record(request, engagement_id: int):
    """Record one day's ranks for every keyword at once (blank: not found)."""
    engagement = _engagement(request, engagement_id)
    keywords = list(selectors.keyword_list(engagement=engagement))
    if request.method != "POST":
        day = _date_param(request.GET.get("date")) or timezone.localdate()
        recorded = selectors.keyword_ranks_on(engagement=engagement, date=day)
        initial = {"date": day, **{f"rank_{pk}": rank for pk, rank in recorded.items()}}
        return _ranks_page(request, engagement, RankRecordForm(initial=initial, keywords=keywords))
    form = RankRecordForm(request.POST, keywords=keywords)
    return _form_submit(
        request,
        form,
        save=lambda: services.keyword_ranks_record(
            actor=request.membership,
            engagement=engagement,
            date=form.cleaned_data["date"],
            ranks=form.ranks(),
        ),
        success=lambda written: (
            _("Recorded %(count)s ranks for %(date)s.")
            % {"count": written, "date": form.cleaned_data["date"].isoformat()}
        ),
        next_url=lambda written: _url("keywords", request, engagement_id=engagement.pk),
        page=partial(_ranks_page, request, engagement),
    )


@permission_required(can_edit_workspace)
def ranks_upload(request, engagement_id: int):
    """Import a rank CSV, all or nothing."""
    engagement = _engagement(request, engagement_id)
    if refused := post_only(request):
        return refused
    upload_form = RankUploadForm(request.POST, request.FILES)
    return _form_submit(
        request,
        upload_form,
        save=lambda: services.keyword_ranks_import(
            actor=request.membership,
            engagement=engagement,
            upload=upload_form.cleaned_data["file"],
        ),
        success=lambda written: _("Imported %(count)s ranks.") % {"count": written},
        next_url=lambda written: _url("keywords", request, engagement_id=engagement.pk),
        page=lambda form, status: _ranks_page(request, engagement, upload_form=form, status=status),
    )
