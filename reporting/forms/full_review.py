"""Forms of the full review and the long-term plan. They parse input; the rules (periods inside
the engagement, evidence for every finding, owners from the agency's staff) live in
`reporting.full_review`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from agency.models import Agency
from engagements.lifecycle import Service
from reporting.forms.reviews import DateInput
from reporting.models import FindingKind
from reporting.reviews import review_owner_choices


class FullReviewDraftForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=DateInput)
    period_end = forms.DateField(label=_("To"), widget=DateInput)


class AnswersForm(forms.Form):
    """The three questions of a 复盘 (the third is answered by the action items) and the summary."""

    target_answer = forms.CharField(
        label=_("Did we hit the target?"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    cause_answer = forms.CharField(
        label=_("What went wrong, and why?"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    narrative = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The story of the period in a few paragraphs: the brand reads this first."),
    )


class FindingForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FindingKind.choices)
    statement = forms.CharField(label=_("Finding"), max_length=300)
    evidence = forms.CharField(
        label=_("Evidence"),
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The figure or fact that shows it."),
    )


class FullReviewActionForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose a staff member of this agency.")},
    )
    due_date = forms.DateField(label=_("Due"), widget=DateInput)

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = review_owner_choices(agency=agency)
        self.fields["owner"].label_from_instance = lambda member: member.user.display_name


class PlanForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    suggested_services = forms.MultipleChoiceField(
        label=_("Suggested scope"),
        choices=Service.choices,
        widget=forms.CheckboxSelectMultiple,
    )


class RecommendationForm(forms.Form):
    title = forms.CharField(label=_("Recommendation"), max_length=200)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why, with the numbers behind it."),
    )
