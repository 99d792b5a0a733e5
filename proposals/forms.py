"""Forms of the proposals app. They parse what people type; the rules (dates, bounds, who may)
live in `proposals.services`, whose refusals the views show on these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.lifecycle import Service
from execution.metrics.registry import METRICS
from proposals import planner
from proposals.models import Comparison, Party, ResourceKind, TargetPeriod
from proposals.services import EVENT_CHANNELS

DATE = forms.DateInput(attrs={"type": "date"})


def metric_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(name, f"{metric.label} ({name})") for name, metric in METRICS.items()]


def channel_choices() -> list[tuple[str, str]]:
    return (
        [("", "—")]
        + [(key, label) for key, label in planner.CHANNELS.items()]
        + [(key, label) for key, label in EVENT_CHANNELS.items()]
    )


class VersionForm(forms.Form):
    scope_services = forms.MultipleChoiceField(
        label=_("Services in scope"),
        choices=Service.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("All four: full service."),
    )
    brand_approves_visuals = forms.BooleanField(
        label=_("The brand approves the visual designs"),
        required=False,
        help_text=_(
            "The homepage and each detail page wait for the brand owner's approval in the "
            "store-setup checklist."
        ),
    )
    monthly_base_fee = forms.DecimalField(
        label=_("Monthly base fee (CNY)"), max_digits=14, decimal_places=2
    )
    kpi_bonus = forms.CharField(
        label=_("KPI bonus"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional, e.g. 50,000 when monthly GMV reaches 800,000 by month 6."),
    )
    terms = forms.CharField(
        label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class TargetForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=metric_choices)
    comparison = forms.ChoiceField(label=_("Comparison"), choices=Comparison.choices)
    value = forms.DecimalField(label=_("Value"), max_digits=18, decimal_places=4)
    period = forms.ChoiceField(label=_("Period"), choices=TargetPeriod.choices)
    by_month = forms.IntegerField(label=_("By month"), min_value=1)


class MilestoneForm(forms.Form):
    month = forms.IntegerField(label=_("Month"), min_value=1)
    title = forms.CharField(label=_("Milestone"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ResourceKind.choices)
    channel = forms.ChoiceField(
        label=_("Channel or event"), choices=channel_choices, required=False
    )
    month = forms.IntegerField(
        label=_("Month"), min_value=1, required=False, help_text=_("Empty: every month.")
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    amount = forms.DecimalField(
        label=_("Amount (CNY)"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("A paid budget is per month."),
    )


class ResponsibilityForm(forms.Form):
    party = forms.ChoiceField(label=_("Who"), choices=Party.choices)
    task = forms.CharField(label=_("Task"), max_length=300)
    owner = forms.CharField(label=_("Owner"), max_length=150)
    due_date = forms.DateField(label=_("Due date"), widget=DATE)


class CommissionTierForm(forms.Form):
    gmv_from = forms.DecimalField(label=_("Monthly GMV from"), max_digits=14, decimal_places=2)
    gmv_to = forms.DecimalField(
        label=_("up to"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Empty: no upper bound."),
    )
    rate_percent = forms.DecimalField(label=_("Commission %"), max_digits=5, decimal_places=2)


ROW_FORMS = {
    "targets": TargetForm,
    "milestones": MilestoneForm,
    "resources": ResourceForm,
    "responsibilities": ResponsibilityForm,
    "tiers": CommissionTierForm,
}


class PlannerForm(forms.Form):
    """The planner's assumptions: the store's organic funnel and, per paid channel, a monthly
    budget, a CPC and a click conversion rate (prefilled from the diagnosis baseline)."""

    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=planner.MAX_MONTHS)
    organic_visitors = forms.IntegerField(label=_("Organic visitors in month 1"), min_value=0)
    organic_growth = forms.DecimalField(
        label=_("Organic growth per month"), help_text=_("0.05 is +5 % a month.")
    )
    conversion_rate = forms.DecimalField(
        label=_("Conversion rate"), help_text=_("0.02 means 2 in 100 visitors buy.")
    )
    aov = forms.DecimalField(label=_("Average order value (CNY)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in planner.CHANNELS.items():
            self.fields[f"{key}_budget"] = forms.DecimalField(
                label=_("%(channel)s: monthly budget") % {"channel": label},
                required=False,
                min_value=0,
            )
            self.fields[f"{key}_cpc"] = forms.DecimalField(
                label=_("%(channel)s: CPC") % {"channel": label}, required=False
            )
            self.fields[f"{key}_conversion_rate"] = forms.DecimalField(
                label=_("%(channel)s: click conversion") % {"channel": label}, required=False
            )

    @staticmethod
    def initial_from(assumptions: planner.PlannerAssumptions) -> dict:
        initial = {
            "months": assumptions.months,
            "organic_visitors": assumptions.organic_visitors,
            "organic_growth": assumptions.organic_growth,
            "conversion_rate": assumptions.conversion_rate,
            "aov": assumptions.aov,
        }
        for channel in assumptions.channels:
            initial[f"{channel.channel}_budget"] = channel.monthly_budget
            initial[f"{channel.channel}_cpc"] = channel.cpc
            initial[f"{channel.channel}_conversion_rate"] = channel.conversion_rate
        return initial

    def assumptions(self) -> dict:
        """The cleaned data as the planner's dict (channels with a budget only)."""
        data = self.cleaned_data
        channels = []
        for key in planner.CHANNELS:
            if data.get(f"{key}_budget"):
                channels.append(
                    {
                        "channel": key,
                        "monthly_budget": data[f"{key}_budget"],
                        "cpc": data.get(f"{key}_cpc") or planner.DEFAULTS["cpc"],
                        "conversion_rate": data.get(f"{key}_conversion_rate")
                        or data["conversion_rate"],
                    }
                )
        return {
            "months": data["months"],
            "organic_visitors": data["organic_visitors"],
            "organic_growth": data["organic_growth"],
            "conversion_rate": data["conversion_rate"],
            "aov": data["aov"],
            "channels": channels,
        }


class ApproveForm(forms.Form):
    signed_name = forms.CharField(
        label=_("Your full name, as your signature"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class RequestChangesForm(forms.Form):
    comment = forms.CharField(
        label=_("What should change?"), widget=forms.Textarea(attrs={"rows": 4})
    )


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))
    internal = forms.BooleanField(
        label=_("Internal note (staff only, never shown to the brand)"), required=False
    )


class ProposalCreateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
