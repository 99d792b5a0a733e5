"""The shape of metric facts: grains, report kinds, canonical field names (shared/GLOSSARY.md).

Parsers, connectors and the JSON push all produce rows in this shape; the writer stores them.
A row is a mapping of canonical field names: `date` (datetime.date), the grain's key fields
(strings), and metric fields: counts as int, money as Decimal (2 places). A metric a report does
not carry is absent (stored as NULL, which the query sums as nothing), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grain(models.TextChoices):
    STORE_DAY = "store_day", _("Store by day")
    STORE_DAY_SOURCE = "store_day_source", _("Store by day and traffic source")
    STORE_DAY_PRODUCT = "store_day_product", _("Store by day and product")
    STORE_DAY_AD = "store_day_ad", _("Store by day, ad tool and campaign")


class AdTool(models.TextChoices):
    ZHITONGCHE = "zhitongche", _("Zhitongche (直通车)")
    WANXIANGTAI = "wanxiangtai", _("Wanxiangtai (万相台)")
    YINLIMOFANG = "yinlimofang", _("Yinlimofang (引力魔方)")


class ReportKind(models.TextChoices):
    STORE_OVERVIEW = "store_overview", _("生意参谋 store overview")
    TRAFFIC_SOURCES = "traffic_sources", _("生意参谋 traffic sources")
    PRODUCTS = "products", _("生意参谋 product report")
    ZHITONGCHE = "zhitongche", _("直通车 report")
    WANXIANGTAI = "wanxiangtai", _("万相台 report")
    YINLIMOFANG = "yinlimofang", _("引力魔方 report")


@dataclass(frozen=True)
class GrainSpec:
    grain: Grain
    key_fields: tuple[str, ...]  # besides `date`; "" is the value of an absent optional key
    count_fields: tuple[str, ...]
    money_fields: tuple[str, ...]
    text_fields: tuple[str, ...] = ()  # descriptive, not part of the key (product name)

    @property
    def metric_fields(self) -> tuple[str, ...]:
        return self.count_fields + self.money_fields


GRAINS: dict[str, GrainSpec] = {
    Grain.STORE_DAY: GrainSpec(
        grain=Grain.STORE_DAY,
        key_fields=(),
        count_fields=(
            "visitors",
            "page_views",
            "paying_buyers",
            "paid_orders",
            "paid_units",
            "new_buyers",
            "repeat_buyers",
            "add_to_cart_users",
            "favorites",
            "bounced_visitors",
            "cs_first_reply_seconds_sum",
            "cs_sessions",
        ),
        money_fields=("gmv", "refund_amount"),
    ),
    Grain.STORE_DAY_SOURCE: GrainSpec(
        grain=Grain.STORE_DAY_SOURCE,
        key_fields=("source",),
        count_fields=("visitors", "paying_buyers", "new_buyers", "add_to_cart_users"),
        money_fields=("gmv",),
    ),
    Grain.STORE_DAY_PRODUCT: GrainSpec(
        grain=Grain.STORE_DAY_PRODUCT,
        key_fields=("item_id",),
        count_fields=(
            "visitors",
            "page_views",
            "paying_buyers",
            "paid_orders",
            "paid_units",
            "add_to_cart_users",
            "favorites",
        ),
        money_fields=("gmv", "refund_amount"),
        text_fields=("item_name",),
    ),
    Grain.STORE_DAY_AD: GrainSpec(
        grain=Grain.STORE_DAY_AD,
        key_fields=("ad_tool", "campaign", "item_id"),
        count_fields=("impressions", "clicks", "ad_orders"),
        money_fields=("ad_spend", "ad_gmv"),
        text_fields=("item_name",),
    ),
}

KIND_GRAIN: dict[str, Grain] = {
    ReportKind.STORE_OVERVIEW: Grain.STORE_DAY,
    ReportKind.TRAFFIC_SOURCES: Grain.STORE_DAY_SOURCE,
    ReportKind.PRODUCTS: Grain.STORE_DAY_PRODUCT,
    ReportKind.ZHITONGCHE: Grain.STORE_DAY_AD,
    ReportKind.WANXIANGTAI: Grain.STORE_DAY_AD,
    ReportKind.YINLIMOFANG: Grain.STORE_DAY_AD,
}

# An ad report replaces only its own tool's rows (直通车 and 万相台 of one day add up).
KIND_AD_TOOL: dict[str, AdTool] = {
    ReportKind.ZHITONGCHE: AdTool.ZHITONGCHE,
    ReportKind.WANXIANGTAI: AdTool.WANXIANGTAI,
    ReportKind.YINLIMOFANG: AdTool.YINLIMOFANG,
}
