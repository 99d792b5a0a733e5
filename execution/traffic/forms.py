"""Forms of the traffic pages. They only shape input; every rule lives in the services, whose
ValidationErrors the views put back on these forms (so a bad value is named by the service)."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from execution.models import CampaignStatus, Channel, EventKind, PlatformEvent, SearchKeyword
from execution.workspace import COUNT_MAX

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    event = forms.ModelChoiceField(
        label=_("Platform event"),
        queryset=PlatformEvent.objects.none(),
        required=False,
        help_text=_("For a campaign run for 618, 双11 or another event of the calendar."),
    )
    goal = forms.CharField(label=_("Goal"), max_length=300, required=False)
    start_date = forms.DateField(label=_("Start date"), widget=DATE)
    end_date = forms.DateField(label=_("End date"), widget=DATE)
    budget = forms.DecimalField(
        label=_("Budget (CNY)"), max_digits=14, decimal_places=2, required=False
    )
    status = forms.ChoiceField(label=_("Status"), choices=CampaignStatus.choices)
    ad_campaign_name = forms.CharField(
        label=_("Name in the ad reports"),
        max_length=255,
        required=False,
        help_text=_(
            "For 直通车, 引力魔方 and 万相台: the plan name as the ad report spells it; empty "
            "means the campaign's name. Its spend, CTR, CPC and ROI come from those reports."
        ),
    )
    targeting_notes = forms.CharField(
        label=_("Targeting notes (internal)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Audiences, keywords, bids: for the team only, never shown to the brand."),
    )
    brand_visible = forms.BooleanField(
        label=_("Visible to the brand"),
        required=False,
        initial=True,
        help_text=_("Brand users see a visible campaign, its figures and its creatives."),
    )

    def __init__(self, *args, agency=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the agency's own events can be chosen (the default manager is tenant-scoped).
        events = PlatformEvent.objects.all()
        if agency is not None:
            events = events.filter(agency=agency)
        self.fields["event"].queryset = events.order_by("-start_date", "name")


class CreativeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(
        label=_("File"),
        help_text=_("An image (PNG, JPEG, GIF, WebP), an MP4 video, a PDF or an Office file."),
    )


class EventForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    start_date = forms.DateField(label=_("Start date"), widget=DATE)
    end_date = forms.DateField(label=_("End date"), widget=DATE)
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)


class UsualEventsForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, choices=())

    def __init__(self, *args, today: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        year = (today or timezone.localdate()).year
        self.fields["year"].choices = [(y, str(y)) for y in range(year - 1, year + 3)]
        self.fields["year"].initial = year


class KeywordForm(forms.Form):
    product_item_id = forms.CharField(label=_("Product item id"), max_length=40)
    product_name = forms.CharField(label=_("Product"), max_length=200, required=False)
    keyword = forms.CharField(label=_("Keyword"), max_length=100)
    search_volume = forms.IntegerField(
        label=_("Estimated monthly searches"), required=False, max_value=COUNT_MAX
    )
    target_rank = forms.IntegerField(label=_("Target rank"), required=False)


class RankRecordForm(forms.Form):
    """One day's ranks for every keyword of the engagement: a field per keyword, blank for not
    found in the positions checked."""

    date = forms.DateField(label=_("Date checked"), widget=DATE)

    def __init__(self, *args, keywords: list[SearchKeyword], **kwargs):
        super().__init__(*args, **kwargs)
        self.keywords = keywords
        for keyword in keywords:
            self.fields[f"rank_{keyword.pk}"] = forms.IntegerField(
                label=keyword.keyword, required=False, widget=forms.NumberInput(attrs={"min": 1})
            )

    def keyword_fields(self):
        return [(keyword, self[f"rank_{keyword.pk}"]) for keyword in self.keywords]

    def ranks(self) -> dict[int, int | None]:
        return {k.pk: self.cleaned_data.get(f"rank_{k.pk}") for k in self.keywords}


class RankUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Rank file (CSV)"),
        help_text=_(
            "Columns date, item id, keyword, rank (or 日期, 商品ID, 关键词, 排名); UTF-8 or GBK. "
            "A blank rank means not found. Nothing is imported unless every row is good."
        ),
    )
