"""Forms of the daily brief. They parse input; the rules live in `reporting.briefs.services`."""

from __future__ import annotations

import datetime

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from reporting.models import WebhookKind


class BriefSettingsForm(forms.Form):
    send_email = forms.BooleanField(
        label=_("Send the brief by e-mail"),
        required=False,
        help_text=_(
            "To the account manager, the team and the brand's users, each in their language."
        ),
    )
    webhook_kind = forms.ChoiceField(
        label=_("Group robot"),
        required=False,
        choices=[("", _("None")), *WebhookKind.choices],
    )
    webhook_url = forms.CharField(
        label=_("Robot webhook address"),
        required=False,
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_("The address the group's robot settings show (it contains the robot's key)."),
    )
    webhook_secret = forms.CharField(
        label=_("Signing secret (DingTalk)"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Only for a DingTalk robot with signing on. Leave empty to keep the saved one."
        ),
    )
    clear_secret = forms.BooleanField(label=_("Remove the saved secret"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("webhook_url") and not cleaned.get("webhook_kind"):
            self.add_error("webhook_kind", _("Choose which group robot the address is for."))
        return cleaned

    def secret_to_save(self) -> str | None:
        """The secret to store: "" to remove it, None to keep the saved one."""
        if self.cleaned_data.get("clear_secret"):
            return ""
        return self.cleaned_data.get("webhook_secret") or None


class BriefPreviewForm(forms.Form):
    date = forms.DateField(
        label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}), required=True
    )

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > datetime.date.today() + datetime.timedelta(days=1):
            raise forms.ValidationError(_("Choose a day that has passed."))
        return day
