"""The brief's own observation, for a day on which the rules (`execution.metrics.rules`, alerts
and insights) found fewer than three things to say: how far each headline metric moved against
its 7-day average, biggest move first. Not an alert (nothing is stored or acknowledged), and it
computes nothing new: it reads the value and the 7-day average the brief already holds.

Like a rule, it has a stable id (`brief_metric_move`), a severity ("info"), evidence, and a
message and action rendered from the evidence in the reader's language (`observation_text`).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from execution.metrics.formatting import (
    format_change,
    format_value,
    metric_label,
    relative_change,
    to_decimal,
)
from execution.metrics.registry import METRICS

# The headline metrics whose move against the 7-day average is worth a line.
MOVER_METRICS = ("gmv", "visitors", "conversion_rate", "aov", "ad_spend", "roi")
# A move smaller than this either way reads as "about as usual".
NOTABLE_CHANGE = Decimal("0.05")


def _observation(rule: str, cause: str, evidence: dict) -> dict:
    message, action = observation_text(rule, evidence)
    return {
        "rule": rule,
        "severity": "info",
        "cause": cause,
        "evidence": evidence,
        "message": message,
        "action": action,
    }


def observations_for(content: dict) -> list[dict]:
    """The headline metrics in order of how far they moved against their 7-day average, each
    as an observation (skipping metrics another insight is already about)."""
    taken = {item.get("cause") for item in content.get("insights") or []}
    moves = []
    for name in MOVER_METRICS:
        block = (content.get("metrics") or {}).get(name) or {}
        change = relative_change(block.get("value"), block.get("avg_7d"))
        if change is not None and name not in taken:
            moves.append((abs(change), name, block, change))
    moves.sort(key=lambda move: (-move[0], MOVER_METRICS.index(move[1])))
    return [
        _observation(
            "brief_metric_move",
            name,
            {
                "metric": name,
                "value": block["value"],
                "avg_7d": block["avg_7d"],
                "change": str(change),
            },
        )
        for _size, name, block, change in moves
    ]


def observation_text(rule: str, evidence: dict) -> tuple[str, str]:
    """Message and recommended action of an observation, in the active language."""
    if rule == "brief_metric_move":
        metric = evidence.get("metric", "")
        change = to_decimal(evidence.get("change"))
        message = _(
            "%(metric)s was %(value)s, %(change)s against the 7-day average (%(average)s)."
        ) % {
            "metric": metric_label(metric),
            "value": format_value(metric, evidence.get("value")),
            "change": format_change(change),
            "average": format_value(metric, evidence.get("avg_7d")),
        }
        better = METRICS[metric].higher_is_better if metric in METRICS else None
        if change is None or abs(change) < NOTABLE_CHANGE:
            action = _(
                "About as usual: nothing to correct here; watch the trend in the next briefs."
            )
        elif better is None:
            action = _("Check that spend follows the plan and that its return (ROI) holds.")
        elif change is not None and (change > 0) == better:
            action = _("Find what drove it (sources, campaigns, products) and keep it going.")
        else:
            action = _(
                "Find what changed (sources, campaigns, prices, stock) and correct it today."
            )
        return message, action
    raise KeyError(f"Unknown brief observation {rule!r}")


def is_observation(rule: str) -> bool:
    return rule.startswith("brief_")
