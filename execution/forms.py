from django import forms
from django.utils.translation import gettext_lazy as _

from execution.metrics.schema import ReportKind


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Export file"),
        help_text=_("CSV (UTF-8 or GBK), XLSX, XLS or a ZIP holding one CSV, as downloaded."),
    )
    kind = forms.ChoiceField(
        label=_("Report kind"),
        required=False,
        choices=[("", _("Recognise from the headers")), *ReportKind.choices],
    )
