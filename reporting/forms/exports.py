"""The handover page's form: the file format, and for staff the audience."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from reporting.models import ExportAudience, ExportFormat


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=ExportFormat.choices,
        initial=ExportFormat.XLSX,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a format: xlsx or zip."),
            "invalid_choice": _("Unknown format “%(value)s”: choose xlsx or zip."),
        },
    )
    audience = forms.ChoiceField(
        label=_("Audience"),
        choices=ExportAudience.choices,
        initial=ExportAudience.BRAND,
        widget=forms.RadioSelect,
        help_text=_("Internal adds internal rows and fields: never hand it to the brand."),
        error_messages={
            "required": _("Choose an audience: brand or internal."),
            "invalid_choice": _("Unknown audience “%(value)s”: choose brand or internal."),
        },
    )

    def __init__(self, *args, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not staff:
            # Brand users take the brand export; the service refuses anything else anyway.
            self.fields["audience"].required = False
            self.fields["audience"].widget = forms.HiddenInput()

    def clean_audience(self) -> str:
        return self.cleaned_data.get("audience") or ExportAudience.BRAND
