"""Forms of the dashboards: the engagement dashboard's date range, the overview's filters, and
the note that acknowledges an alert."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.lifecycle import Stage
from reporting.dashboards import (
    HEALTH_LABELS,
    MAX_RANGE_DAYS,
    PRESETS,
    DateRange,
    default_range,
    preset_range,
)

# Dates a store's data can have; outside them a range is a typo (and the previous period of a
# range starting on 1 January of year 1 does not exist).
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2099, 12, 31)

PRESET_LABELS = {
    "7": _("Last 7 days"),
    "30": _("Last 30 days"),
    "90": _("Last 90 days"),
    "month": _("This month"),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DashboardRangeForm(forms.Form):
    """The range of the engagement dashboard. A preset wins over typed dates; with neither, the
    30 days ending on `anchor` (the last day with data). A missing end is the anchor, a missing
    start the 30 days before the end. Sort and rank ride along so that changing the range keeps
    the tables' order (the view checks them against their whitelists)."""

    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("The start date is not a valid date (use YYYY-MM-DD).")},
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("The end date is not a valid date (use YYYY-MM-DD).")},
    )
    preset = forms.ChoiceField(
        label=_("Preset"),
        required=False,
        choices=[("", "")] + [(key, PRESET_LABELS[key]) for key in PRESETS],
        error_messages={
            "invalid_choice": _("Unknown preset; choose 7, 30, 90 days or this month.")
        },
    )
    sort = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    rank = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args, anchor: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.anchor = anchor

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        preset = cleaned.get("preset")
        if preset:
            date_range = preset_range(preset, self.anchor)
        else:
            end = cleaned.get("end")
            start = cleaned.get("start")
            if start is None and end is None:
                date_range = default_range(self.anchor)
            else:
                end = end or max(self.anchor, start)
                start = start or default_range(end).start
                date_range = DateRange(start, end)
        if date_range.start < EARLIEST:
            self.add_error(
                "start",
                _("The start date is before %(date)s.") % {"date": EARLIEST.isoformat()},
            )
        elif date_range.end > LATEST:
            self.add_error(
                "end", _("The end date is after %(date)s.") % {"date": LATEST.isoformat()}
            )
        elif date_range.end < date_range.start:
            self.add_error("end", _("The end date is before the start date."))
        elif date_range.days > MAX_RANGE_DAYS:
            self.add_error(
                "end",
                _("The range is longer than two years; choose at most %(days)s days.")
                % {"days": MAX_RANGE_DAYS},
            )
        else:
            cleaned["range"] = date_range
            cleaned["start"], cleaned["end"] = date_range.start, date_range.end
        return cleaned


class OverviewFilterForm(forms.Form):
    """Filters of the agency overview; sort is checked against its whitelist by the view."""

    manager = forms.ModelChoiceField(
        label=_("Account manager"),
        required=False,
        queryset=None,
        empty_label=_("All managers"),
        error_messages={"invalid_choice": _("Unknown account manager.")},
    )
    health = forms.ChoiceField(
        label=_("Health"),
        required=False,
        choices=[("", _("Any health")), *HEALTH_LABELS.items()],
        error_messages={"invalid_choice": _("Unknown health; choose at risk, watch or on track.")},
    )
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("", _("All stages")), *Stage.choices],
        error_messages={"invalid_choice": _("Unknown stage.")},
    )
    sort = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = managers
        self.fields["manager"].label_from_instance = lambda member: member.user.display_name


class AlertAcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write a note: what was done, or why no action is needed.")},
    )
