"""A full review and a long-term plan as a page (and their PDFs) show them: the stored figures as
text in the reader's language. The brand's view leaves out the timeline's internal entries."""

from __future__ import annotations

from django.utils.translation import gettext as _

from engagements.lifecycle import Service
from execution.metrics.formatting import (
    change_tone,
    format_change,
    format_money,
    format_percent,
    format_value,
    metric_label,
)
from execution.models.conversion import OfferKind, Tier
from execution.models.setup import SetupItemStatus, SetupSection
from execution.models.traffic import CampaignStatus, Channel
from reporting.full_review.figures import AD_METRICS, GROWTH_METRICS, PRODUCT_METRICS
from reporting.models import (
    FindingKind,
    FullReview,
    LongTermPlan,
)
from reporting.reviews import ad_tool_label, period_text, timestamp_of

SUMMARY_METRICS = (
    "gmv",
    "visitors",
    "paying_buyers",
    "conversion_rate",
    "aov",
    "repurchase_rate",
    "ad_spend",
    "roi",
)
COMPARISONS = {">=": "≥", "<=": "≤"}


def _label(choices, value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def _ad_row(row: dict) -> dict:
    return {
        "ad_tool": ad_tool_label(row.get("ad_tool", "")),
        "campaign": row.get("campaign", ""),
        **{name: format_value(name, row.get(name)) for name in AD_METRICS},
    }


def _product_row(row: dict) -> dict:
    return {
        "item_id": row.get("item_id", ""),
        "item_name": row.get("item_name", ""),
        **{name: format_value(name, row.get(name)) for name in PRODUCT_METRICS},
        "gmv_share": format_percent(row.get("gmv_share")),
    }


def _window(window: dict | None) -> dict | None:
    if window is None:
        return None
    return {
        "period": period_text(window["start"], window["end"]),
        "data_days": window["data_days"],
        "values": {name: format_value(name, window["values"].get(name)) for name in GROWTH_METRICS},
    }


def _timeline_entry(entry: dict) -> dict:
    kind = entry["kind"]
    if kind == "campaign":
        detail, status = _label(Channel, entry["detail"]), _label(CampaignStatus, entry["status"])
    elif kind == "offer":
        detail, status = _label(OfferKind, entry["detail"]), ""
    else:
        detail = _label(SetupSection, entry["detail"])
        status = _label(SetupItemStatus, entry["status"])
    return {
        **entry,
        "period": period_text(entry["start"], entry["end"])
        if entry["end"] != entry["start"]
        else entry["start"],
        "detail_label": detail,
        "status_label": status,
    }


def _tiers(rows: list[dict]) -> list[dict]:
    return [
        {
            "tier": _label(Tier, row["tier"]),
            "buyers": format_value("paying_buyers", row["buyers"]),
            "buyer_share": format_percent(row["buyer_share"]),
            "gmv": format_money(row["gmv"]),
            "gmv_share": format_percent(row["gmv_share"]),
        }
        for row in rows
    ]


def full_review_page(*, review: FullReview, brand_view: bool) -> dict:
    """Everything the full review shows, in the active language."""
    content = review.content or {}
    totals = content.get("totals") or {}
    growth = content.get("growth") or {}
    changes = growth.get("changes") or {}
    targets = []
    for target in content.get("targets") or []:
        name = target["metric"]
        targets.append(
            {
                "label": metric_label(name),
                "comparison": COMPARISONS.get(target["comparison"], target["comparison"]),
                "target": format_value(name, target["target"]),
                "actual": format_value(name, target["actual"]),
                "achievement": format_percent(target["achievement"]),
                "period": period_text(target["period_start"], target["period_end"]),
                "met": target["met"],
            }
        )
    best, worst = content.get("best") or {}, content.get("worst") or {}
    tiers = content.get("tiers")
    timeline = [
        _timeline_entry(entry)
        for entry in content.get("timeline") or []
        if entry["brand_visible"] or not brand_view
    ]
    period = content.get("period") or {}
    findings = list(review.findings.all())
    page = {
        "period": period_text(period.get("start"), period.get("end")),
        "days": period.get("days"),
        "data_days": content.get("data_days"),
        "generated_at": timestamp_of(content.get("generated_at")),
        "totals": [
            {
                "name": name,
                "label": metric_label(name),
                "value": format_value(name, totals.get(name)),
            }
            for name in SUMMARY_METRICS
        ],
        "targets": targets,
        "targets_met": content.get("targets_met", 0),
        "targets_judged": content.get("targets_judged", 0),
        "first_month": _window(growth.get("first_month")),
        "last_month": _window(growth.get("last_month")),
        "baseline": _window(growth.get("baseline")),
        "growth": [
            {
                "label": metric_label(name),
                "vs_first": format_change(changes.get(name, {}).get("vs_first")),
                "vs_first_tone": change_tone(name, changes.get(name, {}).get("vs_first")),
                "vs_baseline": format_change(changes.get(name, {}).get("vs_baseline")),
                "vs_baseline_tone": change_tone(name, changes.get(name, {}).get("vs_baseline")),
                "first": (_window(growth.get("first_month")) or {}).get("values", {}).get(name),
                "last": (_window(growth.get("last_month")) or {}).get("values", {}).get(name),
                "baseline": (_window(growth.get("baseline")) or {}).get("values", {}).get(name),
            }
            for name in GROWTH_METRICS
        ],
        "roi": {
            name: format_value(name, (content.get("roi") or {}).get(name))
            for name in ("ad_spend", "ad_gmv", "roi")
        },
        "channels": [_ad_row(row) for row in content.get("channels") or []],
        "campaigns": [_ad_row(row) for row in content.get("campaigns") or []],
        "campaigns_total": content.get("campaigns_total", 0),
        "best": {
            "channels": [_ad_row(row) for row in best.get("channels") or []],
            "campaigns": [_ad_row(row) for row in best.get("campaigns") or []],
            "products": [_product_row(row) for row in best.get("products") or []],
        },
        "worst": {
            "channels": [_ad_row(row) for row in worst.get("channels") or []],
            "campaigns": [_ad_row(row) for row in worst.get("campaigns") or []],
            "products": [_product_row(row) for row in worst.get("products") or []],
        },
        "products": [_product_row(row) for row in content.get("products") or []],
        "products_total": content.get("products_total", 0),
        "top_products_share": format_percent(content.get("top_products_share")),
        "sources": [
            {
                "source": row["source"],
                "visitors": format_value("visitors", row["visitors"]),
                "share": format_percent(row["share"]),
                "paid": row["paid"],
            }
            for row in content.get("sources") or []
        ],
        "paid_visitor_share": format_percent(content.get("paid_visitor_share")),
        "tiers": None
        if not tiers
        else {
            "first_month": tiers["first_month"][:7],
            "last_month": tiers["last_month"][:7],
            "first": _tiers(tiers["first"]),
            "last": _tiers(tiers["last"]),
        },
        "timeline": timeline,
        "strengths": [f for f in findings if f.kind == FindingKind.STRENGTH],
        "weaknesses": [f for f in findings if f.kind == FindingKind.WEAKNESS],
        "actions": list(review.actions.select_related("owner__user")),
    }
    page["finding_columns"] = [
        (_("Strengths"), page["strengths"]),
        (_("Weak spots"), page["weaknesses"]),
    ]
    if page["tiers"]:
        page["tier_columns"] = [
            (_("First month"), page["tiers"]["first_month"], page["tiers"]["first"]),
            (_("Last month"), page["tiers"]["last_month"], page["tiers"]["last"]),
        ]
    return page


def plan_page(*, plan: LongTermPlan) -> dict:
    return {
        "recommendations": list(plan.recommendations.all()),
        "suggested_services": [
            str(Service(value).label)
            for value in plan.suggested_services
            if value in Service.values
        ],
        "review_period": period_text(
            plan.full_review.period_start.isoformat(), plan.full_review.period_end.isoformat()
        ),
    }
