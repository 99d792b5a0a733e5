"""Pages of the dashboards: the engagement dashboard (staff and the brand), acknowledging an
alert (staff), and the agency overview (staff).

The engagement is loaded through the member's scope first (404 alike for missing and not yours).
htmx requests get only the part they target: the range form swaps the whole dashboard
(`#dashboard`), a campaign header the campaign table, a ranking link the product lists. As
elsewhere in the portal, htmx swaps only 2xx answers, so a refused form comes back to htmx as 200
with its errors and as 400 to a plain request.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django_htmx.http import push_url

from agency import selectors as agency_selectors
from agency.permissions import permission_required, staff_required
from agency.views import apply_validation_error
from engagements.selectors import engagement_get_for, engagement_list
from execution.alerts import alert_acknowledge as acknowledge
from execution.models import Alert
from reporting import dashboards
from reporting.forms.dashboards import (
    PRESET_LABELS,
    AlertAcknowledgeForm,
    DashboardRangeForm,
    OverviewFilterForm,
)
from reporting.permissions import can_acknowledge_alert

CAMPAIGN_COLUMNS = (
    ("campaign", gettext_lazy("Campaign"), False),
    ("ad_tool", gettext_lazy("Ad tool"), False),
    ("impressions", gettext_lazy("Impressions"), True),
    ("clicks", gettext_lazy("Clicks"), True),
    ("ctr", gettext_lazy("CTR"), True),
    ("ad_spend", gettext_lazy("Spend"), True),
    ("cpc", gettext_lazy("CPC"), True),
    ("ad_gmv", gettext_lazy("Ad GMV"), True),
    ("roi", gettext_lazy("ROI"), True),
)
OVERVIEW_COLUMNS = (
    ("title", gettext_lazy("Engagement")),
    ("brand", gettext_lazy("Brand")),
    ("health", gettext_lazy("Health")),
    ("alerts", gettext_lazy("Open alerts")),
    ("last_data", gettext_lazy("Last data")),
)


def _only_get(request):
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET"])
    return None


def _query(params: dict) -> str:
    present = {key: value for key, value in params.items() if value}
    return "?" + urlencode(present) if present else ""


def _sort_links(columns, current: str, params: dict, descending_first: set[str]) -> list[dict]:
    """Header links: a click orders by the column; a second click reverses the order. Columns in
    `descending_first` start with the largest value (figures), the others A to Z."""
    links = []
    for key, label, *rest in columns:
        first = f"-{key}" if key in descending_first else key
        reverse_sort = key if first.startswith("-") else f"-{key}"
        next_sort = reverse_sort if current == first else first
        direction = ""
        if current.lstrip("-") == key:
            direction = "descending" if current.startswith("-") else "ascending"
        links.append(
            {
                "key": key,
                "label": label,
                "numeric": bool(rest and rest[0]),
                "query": _query({**params, "sort": next_sort}),
                "direction": direction,
            }
        )
    return links


# --- the engagement dashboard -----------------------------------------------------------------

PARTIALS = {
    "dashboard": "reporting/dashboards/_dashboard.html",
    "campaigns": "reporting/dashboards/_campaigns.html",
    "products": "reporting/dashboards/_products.html",
}
# What each partial needs computed (the whole page needs everything).
PARTIAL_PARTS = {"campaigns": {"campaigns"}, "products": {"products"}}


def _dashboard_url(request, engagement_id: int) -> str:
    return reverse(
        "reporting:dashboard",
        kwargs={"agency_slug": request.agency.slug, "engagement_id": engagement_id},
    )


def _range_params(data: dict) -> tuple[dict, str, bool, str, bool]:
    """The canonical query's parameters of a valid range form (defaults left out), with the
    campaign sort and the product rank checked against their whitelists: (params, sort, whether
    the requested sort was accepted, rank, whether the requested rank was accepted)."""
    date_range = data["range"]
    sort, sort_ok = dashboards.parse_sort(
        data.get("sort") or "", dashboards.CAMPAIGN_SORT_KEYS, dashboards.DEFAULT_CAMPAIGN_SORT
    )
    requested_rank = data.get("rank") or ""
    rank_ok = not requested_rank or requested_rank in dashboards.PRODUCT_RANK_KEYS
    rank = requested_rank if requested_rank and rank_ok else dashboards.DEFAULT_PRODUCT_RANK
    params = {
        "start": date_range.start.isoformat(),
        "end": date_range.end.isoformat(),
        "sort": "" if sort == dashboards.DEFAULT_CAMPAIGN_SORT else sort,
        "rank": "" if rank == dashboards.DEFAULT_PRODUCT_RANK else rank,
    }
    return params, sort, sort_ok, rank, rank_ok


def _dashboard_context(request, engagement, form, *, anchor, last_data, parts=None) -> dict:
    """The dashboard's figures for a valid range form; `parts` limits the work to what an htmx
    partial shows (None: the whole dashboard)."""
    context = {
        "engagement": engagement,
        "presets": list(PRESET_LABELS.items()),
        "last_data": last_data,
        "stale": dashboards.is_stale(last_data, timezone.localdate()),
        "stale_after_days": dashboards.STALE_AFTER_DAYS,
        "anchor": anchor,
        "is_staff": request.membership.is_staff_member,
        "can_acknowledge": can_acknowledge_alert(request.membership),
        "dashboard_url": _dashboard_url(request, engagement.pk),
    }
    if not form.is_valid():
        return context

    def wanted(part: str) -> bool:
        return parts is None or part in parts

    date_range = form.cleaned_data["range"]
    store_id = engagement.store_id
    requested_sort = form.cleaned_data.get("sort") or ""
    requested_rank = form.cleaned_data.get("rank") or ""
    params, sort, sort_ok, rank, rank_ok = _range_params(form.cleaned_data)
    context.update(
        {
            "range": date_range,
            "previous": date_range.previous(),
            "params": params,
            "canonical_query": _query(params),
            "campaign_sort": sort,
            "rank": rank,
        }
    )
    if wanted("kpis"):
        paces = dashboards.live_paces(engagement=engagement, as_of=anchor)
        context["kpis"] = [dashboards.kpi_card(pace) for pace in paces]
        context["summary"] = dashboards.range_summary(store_id=store_id, date_range=date_range)
    if wanted("charts"):
        trends = dashboards.trend_series(store_id=store_id, date_range=date_range)
        sources = dashboards.source_mix(store_id=store_id, date_range=date_range)
        context["trends"] = trends
        context["sources"] = sources
        context["chart_data"] = {
            "trends": trends,
            "sources": {
                "label": _("Visitors by source"),
                "rows": [
                    {"name": row["source"], "value": row["visitors_value"]}
                    for row in sources
                    if row["visitors_value"]
                ],
            },
        }
    if wanted("campaigns"):
        context["campaigns"] = dashboards.campaign_table(
            store_id=store_id, date_range=date_range, sort=sort
        )
        context["campaign_sort_rejected"] = "" if sort_ok else requested_sort
        numeric = {key for key, _label, is_numeric in CAMPAIGN_COLUMNS if is_numeric}
        context["campaign_columns"] = _sort_links(CAMPAIGN_COLUMNS, sort, params, numeric)
    if wanted("products"):
        top, bottom = dashboards.product_rankings(
            store_id=store_id, date_range=date_range, rank=rank
        )
        context["top_products"], context["bottom_products"] = top, bottom
        context["rank_rejected"] = "" if rank_ok else requested_rank
        context["rank_links"] = [
            {
                "key": key,
                "label": dashboards.METRICS[key].label,
                "query": _query({**params, "rank": key}),
                "current": key == rank,
            }
            for key in dashboards.PRODUCT_RANK_KEYS
        ]
    return context


FIGURE_PARTS = {"kpis", "charts", "campaigns", "products"}
# Cached HTML is kept under everything it depends on (DataVersion, the range and order, the
# language, today, the kind of reader); the TTL only bounds what a deploy with changed templates
# may still show.
FIGURES_CACHE_SECONDS = 15 * 60
FIGURES_CACHE_FORMAT = 2  # bump when a cached template or its inputs change shape


def _cache_key(prefix: str, *parts) -> str:
    joined = "|".join(str(part) for part in (FIGURES_CACHE_FORMAT, *parts))
    return f"reporting:{prefix}:" + hashlib.sha256(joined.encode()).hexdigest()


def _figures_html(request, engagement, form, *, anchor, version) -> str:
    """The dashboard's figures (KPI cards to products) as HTML: no internal field, no form, no
    CSRF token, so they are rendered once per data version and served from the cache until the
    data, the targets or the engagement change. They show staff and the brand the same today;
    the kind of reader is in the key all the same, so that a staff-only figure added to the
    template later can never reach the brand from the cache. The agency's slug is in the links."""
    data = form.cleaned_data
    key = _cache_key(
        "dashboard",
        engagement.agency_id,
        request.agency.slug,
        engagement.pk,
        request.membership.is_staff_member,
        version.figures_key(),
        timezone.localdate().isoformat(),
        get_language(),
        data["range"].start,
        data["range"].end,
        data.get("sort") or "",
        data.get("rank") or "",
    )
    html = cache.get(key)
    if html is None:
        context = _dashboard_context(
            request,
            engagement,
            form,
            anchor=anchor,
            last_data=version.last_data,
            parts=FIGURE_PARTS,
        )
        context["agency"] = request.agency
        html = render_to_string("reporting/dashboards/_figures.html", context)
        cache.set(key, html, FIGURES_CACHE_SECONDS)
    return mark_safe(html)  # rendered by our own template, autoescaped there


# A stand-in for the CSRF token in the cached alert list (its acknowledge forms), replaced by the
# reader's own token on every response; derived from the secret key so that no alert text (a
# campaign name, say) can contain it.
CSRF_PLACEHOLDER = "csrf-" + salted_hmac("reporting.dashboard.csrf", "placeholder").hexdigest()


def _with_csrf_token(request, html: str) -> str:
    return mark_safe(html.replace(CSRF_PLACEHOLDER, get_token(request)))


def _alerts_html(
    request, engagement, *, date_range, version=None, failed=None, errors=(), note=""
) -> str:
    """The alert list of the range for this reader (staff see the notes and the acknowledge
    forms; the brand neither), with the reader's CSRF token. See `_alerts_html_with_placeholder`
    for what is cached."""
    html = _alerts_html_with_placeholder(
        request,
        engagement,
        date_range=date_range,
        version=version,
        failed=failed,
        errors=errors,
        note=note,
    )
    return _with_csrf_token(request, html)


def _alerts_html_with_placeholder(
    request, engagement, *, date_range, version=None, failed=None, errors=(), note=""
) -> str:
    """The alert list with CSRF_PLACEHOLDER for the token. Cached per alert version, language,
    time zone (acknowledgement times) and kind of reader unless it carries a refused note
    (`failed`: the alert whose form shows `errors` and `note`)."""
    is_staff = request.membership.is_staff_member
    can_ack = can_acknowledge_alert(request.membership)
    key = None
    if version is not None and failed is None:
        key = _cache_key(
            "dashboard-alerts",
            engagement.agency_id,
            request.agency.slug,
            engagement.pk,
            version.alerts_key(),
            get_language(),
            timezone.get_current_timezone_name(),
            is_staff,
            can_ack,
            date_range.start,
            date_range.end,
        )
        html = cache.get(key)
        if html is not None:
            return html
    context = {
        "agency": request.agency,
        "alerts": dashboards.engagement_alerts(engagement=engagement, date_range=date_range),
        "params": {"start": date_range.start.isoformat(), "end": date_range.end.isoformat()},
        "is_staff": is_staff,
        "can_acknowledge": can_ack,
        "ack_failed": failed,
        "ack_errors": errors,
        "note": note,
        "csrf_placeholder": CSRF_PLACEHOLDER,
    }
    html = render_to_string("reporting/dashboards/_alerts.html", context)
    if key is not None:
        cache.set(key, html, FIGURES_CACHE_SECONDS)
    return html


def _dashboard_html(request, engagement, form, *, anchor, version) -> str:
    """The whole `#dashboard` of a valid range (the range form, the data status, the figures and
    the alerts) as HTML, with the reader's CSRF token. Cached under the figures' and the alerts'
    keys together and the kind of reader (staff or brand, may acknowledge or not: a brand reader
    never gets a staff rendering), so that a page asks only for the engagement and its data
    version before serving it. Only the CSRF token differs between readers of one kind, and it is
    put in on the way out."""
    data = form.cleaned_data
    is_staff = request.membership.is_staff_member
    can_ack = can_acknowledge_alert(request.membership)
    today = timezone.localdate()
    key = _cache_key(
        "dashboard-page",
        engagement.agency_id,
        request.agency.slug,
        engagement.pk,
        version.figures_key(),
        version.alerts_key(),
        today.isoformat(),
        timezone.get_current_timezone_name(),
        get_language(),
        is_staff,
        can_ack,
        data["range"].start,
        data["range"].end,
        data.get("sort") or "",
        data.get("rank") or "",
    )
    html = cache.get(key)
    if html is None:
        context = _dashboard_context(
            request, engagement, form, anchor=anchor, last_data=version.last_data, parts=set()
        )
        context["figures"] = _figures_html(
            request, engagement, form, anchor=anchor, version=version
        )
        context["alerts_html"] = mark_safe(
            _alerts_html_with_placeholder(
                request, engagement, date_range=data["range"], version=version
            )
        )
        # The form shows what the range resolved to (a preset, a date filled in).
        initial = {name: data.get(name) for name in ("start", "end", "sort", "rank")}
        context["form"] = DashboardRangeForm(initial=initial, anchor=anchor)
        html = render_to_string(PARTIALS["dashboard"], context)
        cache.set(key, html, FIGURES_CACHE_SECONDS)
    return _with_csrf_token(request, html)


def _canonical_url(request, engagement, form) -> str:
    """The dashboard's address for a valid range form: what htmx pushes to the history."""
    params, *_checked = _range_params(form.cleaned_data)
    return _dashboard_url(request, engagement.pk) + _query(params)


def engagement_dashboard(request, engagement_id: int):
    """KPI cards, trends against the previous period, sources, campaigns, products and alerts of
    one engagement over a chosen range (default: the 30 days ending on the last day with data)."""
    engagement = engagement_get_for(membership=request.membership, engagement_id=engagement_id)
    if refused := _only_get(request):
        return refused
    version = dashboards.dashboard_data_version(engagement=engagement)
    anchor = dashboards.data_anchor(version.last_data, timezone.localdate())
    form = DashboardRangeForm(request.GET, anchor=anchor)
    target = request.htmx.target if request.htmx else None
    partial = target if target in PARTIALS else None
    if form.is_valid() and partial in {None, "dashboard"}:
        # The whole dashboard, from the cache once rendered for this data version.
        html = _dashboard_html(request, engagement, form, anchor=anchor, version=version)
        if partial:
            response = HttpResponse(html)
            push_url(response, _canonical_url(request, engagement, form))
            return response
        context = {"engagement": engagement, "dashboard_html": html}
        return render(request, "reporting/dashboards/dashboard.html", context)
    context = _dashboard_context(
        request,
        engagement,
        form,
        anchor=anchor,
        last_data=version.last_data,
        parts=PARTIAL_PARTS.get(partial, set()),
    )
    if form.is_valid():  # a campaign header or a ranking link: its table only
        response = render(request, PARTIALS[partial], context)
        push_url(response, context["dashboard_url"] + context["canonical_query"])
        return response
    context["form"] = form
    if partial:
        return render(request, PARTIALS[partial], context)
    context["dashboard_html"] = render_to_string(PARTIALS["dashboard"], context)
    return render(request, "reporting/dashboards/dashboard.html", context, status=400)


@permission_required(can_acknowledge_alert)
def alert_acknowledge(request, alert_id: int):
    """Acknowledge an open alert with a note (required). Acknowledging closes the same rule's
    earlier open alerts about the same thing too (`execution.alerts.alert_acknowledge`), so htmx
    gets the whole alert list of the dashboard's range back (the form carries the range); a plain
    post returns to the dashboard's alerts."""
    alert = get_object_or_404(Alert.objects.select_related("engagement"), pk=alert_id)
    if request.method != "POST":  # after the lookup: a stranger's object is a 404, not a 405
        return HttpResponseNotAllowed(["POST"])
    engagement = alert.engagement
    form = AlertAcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            acknowledge(actor=request.membership, alert=alert, note=form.cleaned_data["note"])
        except ValidationError as error:
            apply_validation_error(form, error)
    errors = [error for errors in form.errors.values() for error in errors]
    last_data = dashboards.store_last_data_dates(store_ids=[engagement.store_id]).get(
        engagement.store_id
    )
    anchor = dashboards.data_anchor(last_data, timezone.localdate())
    range_form = DashboardRangeForm(
        {key: request.POST.get(key, "") for key in ("start", "end")}, anchor=anchor
    )
    date_range = (
        range_form.cleaned_data["range"]
        if range_form.is_valid()
        else dashboards.default_range(anchor)
    )
    if request.htmx:
        html = _alerts_html(
            request,
            engagement,
            date_range=date_range,
            failed=alert.pk if errors else None,
            errors=errors,
            note=request.POST.get("note", ""),
        )
        return HttpResponse(html)
    params = {"start": date_range.start.isoformat(), "end": date_range.end.isoformat()}
    if errors:
        messages.error(request, " ".join(errors))
    else:
        messages.success(request, _("Alert acknowledged."))
    return redirect(_dashboard_url(request, engagement.pk) + _query(params) + "#alerts")


# --- the agency overview ----------------------------------------------------------------------


@staff_required
def agency_overview(request):
    """Every active engagement with its health, sortable and filterable (htmx swaps the table)."""
    if refused := _only_get(request):
        return refused
    agency = request.agency
    form = OverviewFilterForm(
        request.GET, managers=agency_selectors.account_manager_choices(agency=agency)
    )
    rows = []
    sort, sort_ok = dashboards.DEFAULT_OVERVIEW_SORT, True
    params: dict = {}
    if form.is_valid():
        sort, sort_ok = dashboards.parse_sort(
            form.cleaned_data.get("sort"),
            dashboards.OVERVIEW_SORT_KEYS,
            dashboards.DEFAULT_OVERVIEW_SORT,
        )
        engagements = engagement_list(agency=agency)
        manager = form.cleaned_data.get("manager")
        if manager is not None:
            engagements = engagements.filter(account_manager=manager)
        if form.cleaned_data.get("stage"):
            engagements = engagements.filter(stage=form.cleaned_data["stage"])
        rows = dashboards.agency_overview(
            engagements=engagements,
            today=timezone.localdate(),
            health=form.cleaned_data.get("health") or "",
            sort=sort,
        )
        params = {
            "manager": manager.pk if manager else "",
            "health": form.cleaned_data.get("health"),
            "stage": form.cleaned_data.get("stage"),
        }
    context = {
        "form": form,
        "rows": rows,
        "sort": sort,
        "sort_rejected": "" if sort_ok else form.cleaned_data.get("sort"),
        "columns": _sort_links(
            [(key, label) for key, label in OVERVIEW_COLUMNS], sort, params, {"alerts"}
        ),
        "stale_after_days": dashboards.STALE_AFTER_DAYS,
    }
    status = 200 if form.is_valid() else 400
    if request.htmx and request.htmx.target == "overview-table":
        return render(request, "reporting/dashboards/_overview_table.html", context)
    return render(request, "reporting/dashboards/overview.html", context, status=status)
