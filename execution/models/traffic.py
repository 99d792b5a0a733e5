"""Step 4, traffic: campaigns with budgets and creatives, the platform's event calendar, and
search keywords with their rank history.

A campaign on an ad tool is linked to the ingested ad facts by its campaign (plan) name
(`ad_campaign_name`, the name as the ad report spells it; empty means the campaign's own name),
which gives its spend, CTR, CPC and ROI and its budget burn. Free channels have no ad facts.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agency.tenancy import AgencyOwnedModel
from execution.metrics.schema import AdTool
from execution.models.files import UploadedFileFields

MONEY = {"max_digits": 14, "decimal_places": 2}


class Channel(models.TextChoices):
    SEARCH = "search", _("Search optimisation")
    PLATFORM_EVENT = "platform_event", _("Platform event")
    LIVESTREAM = "livestream", _("Livestream")
    SHORT_VIDEO = "short_video", _("Short video")
    ZHITONGCHE = "zhitongche", _("Zhitongche (直通车)")
    YINLIMOFANG = "yinlimofang", _("Yinlimofang (引力魔方)")
    WANXIANGTAI = "wanxiangtai", _("Wanxiangtai (万相台)")
    TAOBAOKE = "taobaoke", _("Taobaoke (淘宝客)")


# The paid channels whose figures come from ingested ad reports, by their ad tool.
CHANNEL_AD_TOOL = {
    Channel.ZHITONGCHE: AdTool.ZHITONGCHE,
    Channel.YINLIMOFANG: AdTool.YINLIMOFANG,
    Channel.WANXIANGTAI: AdTool.WANXIANGTAI,
}


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    # Not the ingestion run's "Running" (处理中): a campaign is live (进行中).
    RUNNING = "running", pgettext_lazy("campaign status", "Running")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class EventKind(models.TextChoices):
    NIANHUO = "nianhuo", _("Spring Festival shopping (年货节)")
    WOMENS_DAY = "womens_day", _("Women's Day (38节)")
    MID_YEAR = "618", _("618")
    JUHUASUAN = "juhuasuan", _("Juhuasuan (聚划算)")
    SUPER_BRAND_DAY = "brand_day", _("Brand day (品牌日)")
    NINE_NINE = "99", _("99 sale (99划算节)")
    DOUBLE_11 = "double11", _("Double 11 (双11)")
    DOUBLE_12 = "double12", _("Double 12 (双12)")
    OTHER = "other", _("Other event")


class PlatformEvent(AgencyOwnedModel):
    """A date range of the platform's calendar (618, 双11, ...), kept by each agency: the dates
    move every year and each agency plans against its own (pre-sale included or not)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    # The calendar is the platform's, not a client's: brand users see it beside their campaigns.
    tenant_shared_with_brands = True

    class Meta:
        verbose_name = _("platform event")
        verbose_name_plural = _("platform events")
        ordering = ["start_date", "name"]
        indexes = [models.Index(fields=["agency", "start_date"], name="platform_event_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="platform_event_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(AgencyOwnedModel):
    """One traffic campaign of an engagement: a channel, a goal, dates, a budget, its creatives."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    event = models.ForeignKey(
        PlatformEvent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("platform event"),
    )
    goal = models.CharField(_("goal"), max_length=300, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    budget = models.DecimalField(
        _("budget (CNY)"), null=True, blank=True, validators=[MinValueValidator(0)], **MONEY
    )
    targeting_notes = models.TextField(_("targeting notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    ad_campaign_name = models.CharField(
        _("name in the ad reports"),
        max_length=255,
        blank=True,
        help_text=_("The plan name as the ad report spells it; empty: the campaign's name."),
    )
    brand_visible = models.BooleanField(_("visible to the brand"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["engagement", "start_date", "name", "pk"]
        indexes = [
            models.Index(fields=["agency", "engagement", "start_date"], name="campaign_start")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="campaign_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ad_tool(self) -> str | None:
        return CHANNEL_AD_TOOL.get(self.channel)

    @property
    def report_name(self) -> str:
        return self.ad_campaign_name or self.name


class CampaignCreative(AgencyOwnedModel, UploadedFileFields):
    """A creative of a campaign (a banner, a main image, a video): seen by whoever sees the
    campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="creatives")
    title = models.CharField(_("title"), max_length=200, blank=True)

    tenant_parent = "campaign"
    tenant_brand_path = "campaign__engagement__store__brand"

    class Meta:
        verbose_name = _("creative")
        verbose_name_plural = _("creatives")
        ordering = ["campaign", "created_at", "pk"]


class SearchKeyword(AgencyOwnedModel):
    """A search keyword tracked for one product: its estimated monthly search volume and, in
    `ranks`, where the product ranked for it on each day it was checked."""

    engagement = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="search_keywords"
    )
    product_item_id = models.CharField(_("product item id"), max_length=40)
    product_name = models.CharField(_("product"), max_length=200, blank=True)
    keyword = models.CharField(_("keyword"), max_length=100)
    search_volume = models.PositiveIntegerField(
        _("estimated monthly searches"), null=True, blank=True
    )
    target_rank = models.PositiveSmallIntegerField(
        _("target rank"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "engagement"
    tenant_brand_path = "engagement__store__brand"

    class Meta:
        verbose_name = _("search keyword")
        verbose_name_plural = _("search keywords")
        ordering = ["engagement", "product_name", "keyword", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "engagement", "product_item_id", "keyword"],
                name="search_keyword_unique",
            )
        ]

    def __str__(self) -> str:
        return self.keyword


class KeywordRank(AgencyOwnedModel):
    """Where a product ranked in Tmall search for a keyword on a day; no rank: not found in the
    positions checked."""

    keyword = models.ForeignKey(SearchKeyword, on_delete=models.CASCADE, related_name="ranks")
    date = models.DateField(_("date"))
    rank = models.PositiveIntegerField(
        _("rank"), null=True, blank=True, validators=[MinValueValidator(1)]
    )

    tenant_parent = "keyword"
    tenant_brand_path = "keyword__engagement__store__brand"

    class Meta:
        verbose_name = _("keyword rank")
        verbose_name_plural = _("keyword ranks")
        ordering = ["keyword", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "keyword", "date"], name="keyword_rank_once_a_day"
            )
        ]
