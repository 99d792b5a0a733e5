"""Forms of the weekly and monthly reviews. They parse input; the rules (whole periods, finished
periods, owners from the agency's staff) live in `reporting.reviews`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from agency.models import Agency
from reporting.models import ActionStatus, ReviewKind
from reporting.reviews import review_owner_choices


class DateInput(forms.DateInput):
    input_type = "date"


class ReviewDraftForm(forms.Form):
    """Staff draft a review now, for a chosen kind and period."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ReviewKind.choices)
    period_start = forms.DateField(
        label=_("First day of the period"),
        widget=DateInput,
        help_text=_("A Monday for a weekly review; the 1st for a monthly review."),
    )


class NarrativeForm(forms.Form):
    narrative = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What happened, why, and what comes next: the brand reads this first."),
    )


class ActionItemForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("Choose a staff member of this agency.")},
    )
    due_date = forms.DateField(label=_("Due"), required=False, widget=DateInput)

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = review_owner_choices(agency=agency)
        self.fields["owner"].label_from_instance = lambda member: member.user.display_name


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
