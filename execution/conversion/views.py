"""Pages of step 5, conversion and user operations: offers, customer service, user tiers (order
imports, tiers over time, a strategy per tier). Staff read and write; brand users read what is
meant for them (brand-visible offers and strategies; the service figures and the tiers). Views
are thin: lookups through the selectors' getters, writes through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from agency.permissions import permission_required
from agency.views import form_save
from engagements import selectors as engagement_selectors
from execution.models import Tier
from execution.permissions import can_edit_workspace
from execution.workspace import workspace_is_open

from . import selectors, services
from .forms import OfferForm, OrderImportForm, ServiceDayForm, ServiceRangeForm, TierStrategyForm
from .orders import order_import_upload


def _engagement(request, engagement_id: int):
    return engagement_selectors.engagement_get_for(
        membership=request.membership, engagement_id=engagement_id
    )


def _offer(request, engagement_id: int, offer_id: int):
    """The engagement and its offer, both through their getters (404 alike)."""
    engagement = _engagement(request, engagement_id)
    offer = selectors.offer_get_for(
        membership=request.membership, engagement=engagement, offer_id=offer_id
    )
    return engagement, offer


def _base_context(request, engagement, section: str) -> dict:
    return {
        "engagement": engagement,
        "section": section,
        "can_edit": can_edit_workspace(request.membership),
        "workspace_open": workspace_is_open(engagement),
    }


def _redirect(request, name: str, engagement_id: int, **arguments):
    return redirect(
        f"conversion:{name}",
        agency_slug=request.agency.slug,
        engagement_id=engagement_id,
        **arguments,
    )


def _form_save(form: forms.Form, save: Callable[..., Any], /, **arguments: Any) -> Any:
    """The form → service step of a page: when the bound form is valid, `save(**arguments,
    **cleaned_data)` and return what it returns. None when the form is unbound or invalid, or
    when the service refuses: its ValidationError then shows on the form's fields, and the page
    shows the form again."""
    return form_save(form, lambda: save(**arguments, **form.cleaned_data))


def _call_with_messages(request, save: Callable[..., Any], /, *, success: str, **arguments) -> bool:
    """Run a service of a POST-only action; `success`, or each message of its ValidationError,
    goes to the next page's messages. True when the service succeeded."""
    try:
        save(**arguments)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True


# --- offers -----------------------------------------------------------------------------------


def offer_list(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    context = _base_context(request, engagement, "offers")
    context["rows"] = selectors.offer_rows(engagement=engagement, membership=request.membership)
    return render(request, "execution/conversion/offer_list.html", context)


@permission_required(can_edit_workspace)
def offer_create(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    return _offer_form_page(request, engagement, None, services.offer_create, engagement=engagement)


def _offer_form_page(request, engagement, offer, save: Callable[..., Any], /, **arguments):
    """The offer form, new (`offer` None) or filled in from `offer`; a valid POST goes through
    `save` (the create or update service) to the offer's page, else the form shows again."""
    form = OfferForm(request.POST or None, initial=OfferForm.initial_of(offer) if offer else None)
    saved = _form_save(form, save, actor=request.membership, **arguments)
    if saved is not None:
        messages.success(request, _("Offer “%(name)s” saved.") % {"name": saved.name})
        return _offer_redirect(request, saved)
    context = _base_context(request, engagement, "offers")
    context.update(form=form, offer=offer)
    return render(request, "execution/conversion/offer_form.html", context)


def _offer_redirect(request, offer):
    return _redirect(request, "offer_detail", offer.engagement_id, conversion_offer_id=offer.pk)


def offer_detail(request, engagement_id: int, conversion_offer_id: int):
    engagement, offer = _offer(request, engagement_id, conversion_offer_id)
    context = _base_context(request, engagement, "offers")
    context.update(
        offer=offer,
        figures=selectors.offer_figures(
            offer, today=services.agency_today(request.agency), with_store=True
        ),
    )
    return render(request, "execution/conversion/offer_detail.html", context)


@permission_required(can_edit_workspace)
def offer_edit(request, engagement_id: int, conversion_offer_id: int):
    engagement, offer = _offer(request, engagement_id, conversion_offer_id)
    return _offer_form_page(request, engagement, offer, services.offer_update, offer=offer)


@permission_required(can_edit_workspace)
def offer_delete(request, engagement_id: int, conversion_offer_id: int):
    engagement, offer = _offer(request, engagement_id, conversion_offer_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    deleted = _call_with_messages(
        request,
        services.offer_delete,
        actor=request.membership,
        offer=offer,
        success=_("Offer “%(name)s” deleted.") % {"name": offer.name},
    )
    if not deleted:
        return _offer_redirect(request, offer)
    return _redirect(request, "offer_list", engagement.pk)


# --- customer service -------------------------------------------------------------------------


def service(request, engagement_id: int):
    """The store's customer-service days over `?start=&end=` (default: the last 30 days) against
    the first-reply target; staff enter a day with the form (POST)."""
    engagement = _engagement(request, engagement_id)
    can_edit = can_edit_workspace(request.membership)
    if request.method == "POST" and not can_edit:
        return HttpResponseNotAllowed(["GET"])
    start, end = selectors.service_default_range(engagement)
    range_form = ServiceRangeForm(request.GET or None)
    range_errors: list[str] = []
    if request.GET:
        if range_form.is_valid():
            start = range_form.cleaned_data["start"] or start
            end = range_form.cleaned_data["end"] or end
        else:
            for name, errors in range_form.errors.items():
                value = request.GET.get(name, "")
                range_errors += [
                    _("%(field)s “%(value)s”: %(error)s")
                    % {"field": range_form.fields[name].label, "value": value, "error": error}
                    for error in errors
                ]
        if not range_errors and end < start:
            range_errors.append(
                _("The end date %(end)s is before the start date %(start)s.")
                % {"end": end.isoformat(), "start": start.isoformat()}
            )
        elif not range_errors and (end - start).days + 1 > selectors.SERVICE_MAX_DAYS:
            range_errors.append(
                _("%(days)d days is more than the %(limit)d days one page shows.")
                % {"days": (end - start).days + 1, "limit": selectors.SERVICE_MAX_DAYS}
            )
        if range_errors:
            start, end = selectors.service_default_range(engagement)
    form = ServiceDayForm(
        request.POST or None, initial={"date": services.agency_today(request.agency)}
    )
    day = _form_save(
        form, services.service_day_enter, actor=request.membership, engagement=engagement
    )
    if day is not None:
        messages.success(
            request,
            _("Customer-service figures of %(date)s saved.") % {"date": day.date.isoformat()},
        )
        return redirect(request.get_full_path())
    summary = selectors.service_summary(engagement=engagement, start=start, end=end)
    context = _base_context(request, engagement, "service")
    context.update(
        summary=summary,
        chart=selectors.service_chart(summary),
        form=form,
        range_form=ServiceRangeForm(initial={"start": start, "end": end}),
        range_errors=range_errors,
        start=start,
        end=end,
    )
    return render(request, "execution/conversion/service.html", context)


# --- tiers ------------------------------------------------------------------------------------


def _tiers_context(request, engagement, import_form=None) -> dict:
    membership = request.membership
    history = selectors.tier_history(engagement=engagement)
    strategies = selectors.tier_strategies(engagement=engagement, membership=membership)
    context = _base_context(request, engagement, "tiers")
    can_edit = context["can_edit"]
    strategy_rows = []
    for value, label in Tier.choices:
        strategy = strategies.get(value)
        form = None
        if can_edit:
            initial = (
                {
                    "offer": strategy.offer,
                    "channel": strategy.channel,
                    "cadence": strategy.cadence,
                    "notes": strategy.notes,
                    "brand_visible": strategy.brand_visible,
                }
                if strategy
                else None
            )
            form = TierStrategyForm(initial=initial, prefix=f"strategy-{value}")
        strategy_rows.append({"tier": value, "label": label, "strategy": strategy, "form": form})
    context.update(
        latest=history[-1] if history else None,
        history=list(reversed(history)),
        chart=selectors.tier_chart(history),
        strategy_rows=strategy_rows,
        tier_choices=Tier.choices,
    )
    if can_edit:
        context["import_form"] = import_form or OrderImportForm()
        context["imports"] = selectors.order_import_list(engagement=engagement)[:10]
    return context


def tiers(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    return render(request, "execution/conversion/tiers.html", _tiers_context(request, engagement))


@permission_required(can_edit_workspace)
def order_import(request, engagement_id: int):
    """Upload an order export (POST); the import's page tells how it went."""
    engagement = _engagement(request, engagement_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = OrderImportForm(request.POST, request.FILES)
    record = _form_save(
        form,
        lambda file: order_import_upload(
            actor=request.membership, engagement=engagement, upload=file
        ),
    )
    if record is not None:
        return _redirect(
            request, "order_import_detail", engagement.pk, conversion_import_id=record.pk
        )
    context = _tiers_context(request, engagement, import_form=form)
    return render(request, "execution/conversion/tiers.html", context)


@permission_required(can_edit_workspace)
def order_import_detail(request, engagement_id: int, conversion_import_id: int):
    engagement = _engagement(request, engagement_id)
    record = selectors.order_import_get_for(engagement=engagement, import_id=conversion_import_id)
    context = _base_context(request, engagement, "tiers")
    context["order_import"] = record
    return render(request, "execution/conversion/order_import.html", context)


@permission_required(can_edit_workspace)
def tier_strategy(request, engagement_id: int, conversion_tier: str):
    """Save the strategy of one tier (POST) and go back to the tiers page."""
    engagement = _engagement(request, engagement_id)
    if conversion_tier not in Tier.values:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TierStrategyForm(request.POST, prefix=f"strategy-{conversion_tier}")
    if form.is_valid():
        _call_with_messages(
            request,
            services.tier_strategy_save,
            actor=request.membership,
            engagement=engagement,
            tier=conversion_tier,
            **form.cleaned_data,
            success=_("Strategy for %(tier)s saved.") % {"tier": Tier(conversion_tier).label},
        )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return _redirect(request, "tiers", engagement.pk)


@permission_required(can_edit_workspace)
def tiers_recompute(request, engagement_id: int):
    engagement = _engagement(request, engagement_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _call_with_messages(
        request,
        services.tiers_recompute,
        actor=request.membership,
        engagement=engagement,
        success=_("The tiers are being recomputed from the store's orders."),
    )
    return _redirect(request, "tiers", engagement.pk)
