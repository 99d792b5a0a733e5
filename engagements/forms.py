"""Forms of the engagements app; choices come from scoped selectors passed in by the view."""

from django import forms
from django.utils.translation import gettext_lazy as _

from agency.models import Membership, Store
from engagements.lifecycle import Service, Stage
from engagements.models import Engagement, EngagementStatus, Goal


class EngagementForm(forms.Form):
    SCOPE_FULL = "full"
    SCOPE_PARTIAL = "partial"

    title = forms.CharField(label=_("Title"), max_length=200)
    store = forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none())
    goal = forms.ChoiceField(label=_("Goal"), choices=Goal.choices)
    goal_notes = forms.CharField(
        label=_("Goal details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=[(SCOPE_FULL, _("Full service")), (SCOPE_PARTIAL, _("Chosen services"))],
        widget=forms.RadioSelect,
        initial=SCOPE_FULL,
    )
    scope_services = forms.MultipleChoiceField(
        label=_("Services"),
        choices=Service.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("End date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    account_manager = forms.ModelChoiceField(
        label=_("Account manager"), queryset=Membership.objects.none()
    )
    team = forms.ModelMultipleChoiceField(
        label=_("Team"),
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    status = forms.ChoiceField(label=_("Status"), choices=EngagementStatus.choices)
    internal_notes = forms.CharField(
        label=_("Internal notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Never shown to the brand."),
    )

    def __init__(self, *args, stores, managers, staff, editing: Engagement | None = None, **kwargs):
        if editing is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": editing.title,
                "store": editing.store_id,
                "goal": editing.goal,
                "goal_notes": editing.goal_notes,
                "scope": self.SCOPE_FULL if editing.is_full_service else self.SCOPE_PARTIAL,
                "scope_services": editing.scope_services,
                "start_date": editing.start_date,
                "end_date": editing.end_date,
                "account_manager": editing.account_manager_id,
                "team": [member.pk for member in editing.team.all()],
                "status": editing.status,
                "internal_notes": editing.internal_notes,
            }
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        self.fields["account_manager"].queryset = managers
        self.fields["team"].queryset = staff
        self.fields["account_manager"].label_from_instance = lambda m: m.user.display_name
        self.fields["team"].label_from_instance = lambda m: m.user.display_name
        if editing is None:
            del self.fields["status"]
        else:
            # The store of an engagement is fixed: metrics and history hang on it.
            del self.fields["store"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == self.SCOPE_FULL:
            cleaned["scope_services"] = list(Service.values)
        elif not cleaned.get("scope_services"):
            self.add_error("scope_services", _("Choose at least one service."))
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        return cleaned

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("scope", None)
        return data


class StageMoveForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    expected_stage = forms.ChoiceField(choices=Stage.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when moving back."),
    )
