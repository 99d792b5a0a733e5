"""Strengths and weak spots a full review's figures point to, each with its evidence: proposed
when the review is drafted, then the staff's to keep, edit or delete. Written in the language of
the staff member who drafts the review (they edit it before the brand reads it)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from execution.metrics.formatting import (
    format_change,
    format_money,
    format_number,
    format_percent,
    format_value,
    metric_label,
)
from reporting.full_review.figures import per_day
from reporting.models import FindingKind
from reporting.reviews import ad_tool_label

# Growth of visitors per day (last month against the first) worth naming either way.
GROWTH_NOTABLE = Decimal("0.10")


def _target_line(target: dict) -> str:
    return _("%(metric)s %(actual)s against %(target)s (%(achievement)s achieved)") % {
        "metric": metric_label(target["metric"]),
        "actual": format_value(target["metric"], target["actual"]),
        "target": format_value(target["metric"], target["target"]),
        "achievement": format_percent(target["achievement"]),
    }


def _ad_line(row: dict) -> str:
    name = row.get("campaign") or ad_tool_label(row["ad_tool"])
    return _("%(name)s: ROI %(roi)s on %(spend)s spend (%(gmv)s ad GMV)") % {
        "name": name,
        "roi": format_value("roi", row["roi"]),
        "spend": format_money(row["ad_spend"]),
        "gmv": format_money(row["ad_gmv"]),
    }


def _product_line(row: dict) -> str:
    return _("%(name)s: GMV %(gmv)s (%(share)s of product GMV), conversion %(rate)s") % {
        "name": row["item_name"] or row["item_id"],
        "gmv": format_money(row["gmv"]),
        "share": format_percent(row["gmv_share"]),
        "rate": format_percent(row["conversion_rate"]),
    }


def proposed_findings(content: dict) -> list[dict]:
    """`{kind, statement, evidence, rule}` for each finding the figures support."""
    findings = []
    targets = [t for t in content["targets"] if t["met"] is not None]
    met = [t for t in targets if t["met"]]
    missed = [t for t in targets if not t["met"]]
    if met:
        findings.append(
            {
                "kind": FindingKind.STRENGTH,
                "rule": "targets_met",
                "statement": _("%(met)s of %(total)s targets met")
                % {"met": len(met), "total": len(targets)},
                "evidence": "\n".join(_target_line(t) for t in met),
            }
        )
    for target in missed:
        findings.append(
            {
                "kind": FindingKind.WEAKNESS,
                "rule": "target_missed",
                "statement": _("%(metric)s target missed")
                % {"metric": metric_label(target["metric"])},
                "evidence": _target_line(target),
            }
        )
    change = content["growth"]["changes"]["visitors"]["vs_first"]
    if change is not None and abs(Decimal(change)) >= GROWTH_NOTABLE:
        first, last = content["growth"]["first_month"], content["growth"]["last_month"]
        grew = Decimal(change) > 0
        findings.append(
            {
                "kind": FindingKind.STRENGTH if grew else FindingKind.WEAKNESS,
                "rule": "traffic_growth" if grew else "traffic_decline",
                "statement": _("Traffic grew") if grew else _("Traffic fell"),
                "evidence": _(
                    "Visitors per day %(change)s: %(last)s a day (%(last_start)s to "
                    "%(last_end)s) against %(first)s a day (%(first_start)s to %(first_end)s)"
                )
                % {
                    "change": format_change(change),
                    "last": format_number(per_day(last, "visitors"), 0),
                    "last_start": last["start"],
                    "last_end": last["end"],
                    "first": format_number(per_day(first, "visitors"), 0),
                    "first_start": first["start"],
                    "first_end": first["end"],
                },
            }
        )
    best, worst = content["best"], content["worst"]
    if best["channels"]:
        findings.append(
            {
                "kind": FindingKind.STRENGTH,
                "rule": "best_channel",
                "statement": _("Best paid channel: %(name)s")
                % {"name": ad_tool_label(best["channels"][0]["ad_tool"])},
                "evidence": _ad_line(best["channels"][0]),
            }
        )
    if worst["channels"]:
        findings.append(
            {
                "kind": FindingKind.WEAKNESS,
                "rule": "worst_channel",
                "statement": _("Weakest paid channel: %(name)s")
                % {"name": ad_tool_label(worst["channels"][0]["ad_tool"])},
                "evidence": _ad_line(worst["channels"][0]),
            }
        )
    lists = (
        (FindingKind.STRENGTH, "best_campaigns", _("Campaigns that paid back best"),
         best["campaigns"], _ad_line),
        (FindingKind.WEAKNESS, "worst_campaigns", _("Campaigns that paid back worst"),
         worst["campaigns"], _ad_line),
        (FindingKind.STRENGTH, "best_products", _("Products that carried the sales"),
         best["products"], _product_line),
        (FindingKind.WEAKNESS, "worst_products", _("Products that convert their visitors worst"),
         worst["products"], _product_line),
    )  # fmt: skip
    for kind, rule, statement, rows, line in lists:
        if rows:
            findings.append(
                {
                    "kind": kind,
                    "rule": rule,
                    "statement": statement,
                    "evidence": "\n".join(line(row) for row in rows),
                }
            )
    return findings
