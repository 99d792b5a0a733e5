"""Forms of the conversion area: they read the input; the services hold the rules."""

from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from execution.models import Offer, OfferKind, Tier, TierStrategy
from execution.workspace import COUNT_MAX

from .services import OFFER_PLAN_FIELDS, OFFER_RESULT_FIELDS

# A date field's value as the browser's date input needs it (ISO), whatever the language.
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _money(name: str, required: bool = False, **extra) -> forms.DecimalField:
    return forms.DecimalField(
        label=_label(Offer, name), required=required, max_digits=14, decimal_places=2, **extra
    )


def _count(model, name: str, required: bool = False) -> forms.IntegerField:
    return forms.IntegerField(label=_label(model, name), required=required, max_value=COUNT_MAX)


class OfferForm(forms.Form):
    name = forms.CharField(label=_label(Offer, "name"), max_length=200)
    kind = forms.ChoiceField(label=_label(Offer, "kind"), choices=OfferKind.choices)
    threshold = _money(
        "threshold", help_text=_("满 … 减: the spend the discount needs; 0 for none.")
    )
    discount = _money(
        "discount",
        required=True,
        help_text=_(
            "CNY off; for a percentage discount, the percent off (15: the buyer pays 85 per cent)."
        ),
    )
    target_tier = forms.ChoiceField(
        label=_label(Offer, "target_tier"),
        required=False,
        choices=[("", _("Every customer")), *Tier.choices],
    )
    start_date = forms.DateField(label=_label(Offer, "start_date"), widget=_DATE)
    end_date = forms.DateField(label=_label(Offer, "end_date"), widget=_DATE)
    budget = _money("budget")
    notes = forms.CharField(
        label=_label(Offer, "notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    brand_visible = forms.BooleanField(
        label=_label(Offer, "brand_visible"), required=False, initial=True
    )
    issued = _count(Offer, "issued")
    redeemed = _count(Offer, "redeemed")
    orders = _count(Offer, "orders")
    gmv = _money("gmv")
    cost = _money("cost")

    def plan_fields(self):
        return [self[name] for name in OFFER_PLAN_FIELDS]

    def result_fields(self):
        return [self[name] for name in OFFER_RESULT_FIELDS]

    @classmethod
    def initial_of(cls, offer: Offer) -> dict:
        return {name: getattr(offer, name) for name in cls.base_fields}


class ServiceDayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=_DATE)
    sessions = forms.IntegerField(label=_("Customer-service sessions"), max_value=COUNT_MAX)
    average_first_reply_seconds = forms.DecimalField(
        label=_("Average first reply (seconds)"), max_digits=10, decimal_places=2
    )
    inquiry_buyers = forms.IntegerField(
        label=_("Buyers who asked"), required=False, max_value=COUNT_MAX
    )
    inquiry_paying_buyers = forms.IntegerField(
        label=_("Of them, paying buyers"), required=False, max_value=COUNT_MAX
    )
    after_sales_requests = forms.IntegerField(
        label=_("After-sales requests"), required=False, max_value=COUNT_MAX
    )


class ServiceRangeForm(forms.Form):
    """The `?start=&end=` of the customer-service page."""

    start = forms.DateField(label=_("From"), required=False, widget=_DATE)
    end = forms.DateField(label=_("To"), required=False, widget=_DATE)


class OrderImportForm(forms.Form):
    file = forms.FileField(
        label=_("Order export"),
        help_text=_(
            "CSV (UTF-8 or GBK) or XLSX with the columns 订单编号, 买家会员名, 付款时间, 实付金额 "
            "(or order id, buyer id, paid time, amount). The file is read and not kept; buyer "
            "ids are hashed."
        ),
        allow_empty_file=True,  # the import says what is wrong with it, and records it
    )


class TierStrategyForm(forms.Form):
    offer = forms.CharField(label=_label(TierStrategy, "offer"), max_length=300, required=False)
    channel = forms.CharField(label=_label(TierStrategy, "channel"), max_length=200, required=False)
    cadence = forms.CharField(label=_label(TierStrategy, "cadence"), max_length=200, required=False)
    notes = forms.CharField(
        label=_label(TierStrategy, "notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    brand_visible = forms.BooleanField(
        label=_label(TierStrategy, "brand_visible"), required=False, initial=True
    )
