"""Forms of the diagnosis. They parse input; every business rule lives in `services`."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from diagnostics.models import AgeBand, DiagnosisReport
from engagements.models import Goal


def _money(label, required=False, **kwargs):
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        **kwargs,
    )


def _text(label, rows=3):
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": rows}))


class IntakeForm(forms.Form):
    goal = forms.ChoiceField(label=_("Core goal"), choices=Goal.choices)
    goal_notes = _text(_("Goal details"), rows=2)
    budget_min = _money(_("Budget from (CNY)"))
    budget_max = _money(_("Budget up to (CNY)"))
    budget_notes = forms.CharField(label=_("Budget notes"), required=False, max_length=255)
    category = forms.CharField(label=_("Category"), required=False, max_length=200)
    price_low = _money(_("Price band from (CNY)"))
    price_high = _money(_("Price band up to (CNY)"))
    average_order_value = _money(_("Average order value (CNY)"))
    advantages = _text(_("Competitive advantages"))
    has_tmall_store = forms.BooleanField(label=_("Already has a Tmall store"), required=False)
    past_operations = _text(_("Past operating data"))


class CompetitorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    store_url = forms.URLField(
        label=_("Store URL"), required=False, max_length=500, assume_scheme="https"
    )
    monthly_sales = _money(_("Estimated monthly sales (CNY)"))
    price_low = _money(_("Price band from (CNY)"))
    price_high = _money(_("Price band up to (CNY)"))
    marketing_tactics = _text(_("Marketing tactics"))
    notes = _text(_("Notes"), rows=2)


class PersonaForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    age_bands = forms.MultipleChoiceField(
        label=_("Age bands"),
        choices=AgeBand.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consumption_habits = _text(_("Consumption habits"))
    pain_points = _text(_("Decision pain points"))


class MonthEntryForm(forms.Form):
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text=_("A month that has ended, e.g. 2026-03."),
    )
    visitors = forms.IntegerField(label=_("Visitors"), min_value=0)
    paying_buyers = forms.IntegerField(label=_("Paying buyers"), min_value=0)
    gmv = _money(_("GMV (CNY)"), required=True, min_value=0)
    ad_spend = _money(_("Ad spend (CNY)"), min_value=0)

    def clean_month(self) -> datetime.date:
        return self.cleaned_data["month"].replace(day=1)


class ReportEditForm(forms.Form):
    """The draft's title and one title/body pair per section (keys ride along hidden)."""

    title = forms.CharField(label=_("Title"), max_length=200)

    def __init__(self, *args, report: DiagnosisReport, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "title": report.title,
                **{
                    f"section_{i}_{part}": section.get(part, "")
                    for i, section in enumerate(report.sections)
                    for part in ("key", "title", "body")
                },
            },
        )
        super().__init__(*args, **kwargs)
        self.section_count = len(report.sections)
        for i in range(self.section_count):
            self.fields[f"section_{i}_key"] = forms.CharField(
                required=False, widget=forms.HiddenInput
            )
            self.fields[f"section_{i}_title"] = forms.CharField(
                label=_("Section title"), max_length=200
            )
            self.fields[f"section_{i}_body"] = forms.CharField(
                label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 8})
            )

    def section_fields(self) -> list[tuple]:
        return [
            (self[f"section_{i}_key"], self[f"section_{i}_title"], self[f"section_{i}_body"])
            for i in range(self.section_count)
        ]

    def sections(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "key": data.get(f"section_{i}_key", ""),
                "title": data.get(f"section_{i}_title", ""),
                "body": data.get(f"section_{i}_body", ""),
            }
            for i in range(self.section_count)
        ]
