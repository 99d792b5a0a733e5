"""The brief's renderings: the portal page and the e-mail (HTML and plain text) from templates,
and the group-robot markdown (at most 800 characters) from code, since it has to fit.

Every rendering reads the stored content and writes in the active language: metric labels come
from the registry, and each insight's and alert's text is rendered again from its rule and
evidence (`finding_text`, or `observation_text` for the brief's own observations), so a brief
generated in Chinese reads in English for an English-speaking reader. The stored message and
action are only the fallback for a rule the portal no longer knows.
"""

from __future__ import annotations

import logging

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from execution.metrics.formatting import (
    change_tone,
    evidence_rows,
    format_change,
    format_percent,
    format_value,
    metric_label,
    relative_change,
)
from reporting.briefs.builder import BRIEF_METRICS, severity_rank
from reporting.briefs.observations import is_observation, observation_text

logger = logging.getLogger(__name__)

MARKDOWN_LIMIT = 800
# The lines a group robot gets, in this order, as long as they fit.
HEADLINE_METRICS = ("gmv", "visitors", "conversion_rate", "aov", "ad_spend", "roi")
MARKDOWN_LINE_LIMIT = 150
MARKDOWN_ALERT_LIMIT = 200


def severity_label(severity: str) -> str:
    labels = {"critical": _("Critical"), "warning": _("Warning"), "info": _("Info")}
    return labels.get(severity, severity)


def insight_text(item: dict) -> tuple[str, str]:
    """An insight's or alert's message and action in the active language."""
    rule, evidence = item.get("rule", ""), item.get("evidence") or {}
    try:
        if is_observation(rule):
            message, action = observation_text(rule, evidence)
        else:
            from execution.metrics.rules import RULES, finding_text

            if rule not in RULES:
                raise LookupError(rule)
            message, action = finding_text(rule, evidence)
        return str(message), str(action)
    except (ImportError, KeyError, LookupError, TypeError, ValueError, ArithmeticError):
        # A rule renamed or retired since the brief was stored, or evidence it no longer reads:
        # the copy written when the brief was generated still says what it said then.
        logger.info("Brief insight %r rendered from its stored copy", rule)
        return item.get("message", ""), item.get("action", "")


def brief_title(content: dict, *, revision: int = 1) -> str:
    """ "Daily brief: <brand> · <date>", marked "[Corrected]" for a corrected revision."""
    engagement = content.get("engagement") or {}
    title = _("Daily brief: %(brand)s · %(date)s") % {
        "brand": engagement.get("brand") or engagement.get("title") or "",
        "date": content.get("date", ""),
    }
    if revision > 1 or content.get("correction"):
        title = _("[Corrected] %(title)s") % {"title": title}
    return title


def _comparison(name: str, value, base) -> dict:
    change = relative_change(value, base)
    return {
        "value": format_value(name, base),
        "change": format_change(change),
        "tone": change_tone(name, change),
    }


def _data_notice(content: dict) -> str:
    status = content.get("data_status") or {}
    if status.get("has_data", True):
        return ""
    through = content.get("data_through")
    if through is None:
        return _("No data has arrived for this store yet.")
    days = status.get("days_behind") or 0
    return ngettext(
        "No data arrived for %(date)s: the latest data is from %(through)s (%(days)s day "
        "behind). Check the store's data connection or upload the day's exports.",
        "No data arrived for %(date)s: the latest data is from %(through)s (%(days)s days "
        "behind). Check the store's data connection or upload the day's exports.",
        days,
    ) % {"date": content.get("date", ""), "through": through, "days": days}


def _missing_notice(content: dict) -> str:
    status = content.get("data_status") or {}
    missing = status.get("missing") or []
    if not missing or not status.get("has_data", True):
        return ""
    labels = {
        "store": _("store overview"),
        "ads": _("ad reports"),
        "sources": _("traffic sources"),
    }
    return _("Part of the day's data has not arrived yet: %(parts)s.") % {
        "parts": ", ".join(labels.get(part, part) for part in missing)
    }


def _correction(content: dict, revision: int) -> dict | None:
    correction = content.get("correction")
    if revision <= 1 and not correction:
        return None
    correction = correction or {}
    changes = [
        {
            "label": metric_label(change["metric"]),
            "before": format_value(change["metric"], change.get("before")),
            "after": format_value(change["metric"], change.get("after")),
        }
        for change in correction.get("changes") or []
    ]
    section_labels = {
        "data_through": _("data dates"),
        "metrics": _("comparisons"),
        "targets": _("targets"),
        "sources": _("traffic sources"),
        "alerts": _("alerts"),
        "insights": _("insights"),
    }
    sections = [
        section_labels.get(section, section)
        for section in correction.get("sections") or []
        if section != "metrics" or not changes
    ]
    summary = "; ".join(f"{c['label']} {c['before']} → {c['after']}" for c in changes)
    if sections:
        other = _("other figures changed: %(sections)s") % {"sections": ", ".join(sections)}
        summary = f"{summary}; {other}" if summary else other
    previous = correction.get("previous_revision")
    return {
        "revision": max(revision, (previous or 0) + 1),
        "previous_revision": previous,
        "changes": changes,
        "sections": sections,
        "summary": summary,
    }


def _target_row(pace: dict) -> dict:
    name = pace.get("metric", "")
    on_pace = pace.get("on_pace")
    return {
        "label": metric_label(name),
        "target": f"{pace.get('comparison', '')} {format_value(name, pace.get('target'))}",
        "period": f"{pace.get('period_start', '')} – {pace.get('period_end', '')}",
        "actual": format_value(name, pace.get("actual")),
        "expected": format_value(name, pace.get("expected")),
        "forecast": format_value(name, pace.get("forecast")),
        "achievement": format_percent(pace.get("achievement")),
        "on_pace": on_pace,
        "pace_text": _("On pace")
        if on_pace
        else (_("Behind pace") if on_pace is False else _("Not started")),
    }


def _finding_rows(items: list[dict]) -> list[dict]:
    rows = []
    for item in sorted(items or [], key=lambda item: severity_rank(item.get("severity", ""))):
        message, action = insight_text(item)
        evidence = item.get("evidence") or {}
        rows.append(
            {
                "rule": item.get("rule", ""),
                "severity": item.get("severity", ""),
                "severity_label": severity_label(item.get("severity", "")),
                "cause": item.get("cause", ""),
                "message": message,
                "action": action,
                "evidence": evidence_rows(evidence) if isinstance(evidence, dict) else [],
            }
        )
    return rows


def brief_display(content: dict, *, revision: int = 1) -> dict:
    """Everything a template shows, formatted in the active language. Tolerates a partial or
    older content (every key is optional), as stored briefs outlive code changes."""
    metrics = content.get("metrics") or {}
    metric_rows = []
    for name in [*BRIEF_METRICS, *(name for name in metrics if name not in BRIEF_METRICS)]:
        block = metrics.get(name)
        if not block:
            continue
        value = block.get("value")
        row = {
            "name": name,
            "label": metric_label(name),
            "value": format_value(name, value),
            "previous_day": _comparison(name, value, block.get("previous_day")),
            "same_day_last_week": _comparison(name, value, block.get("same_day_last_week")),
            "avg_7d": _comparison(name, value, block.get("avg_7d")),
        }
        row["comparisons"] = [row["previous_day"], row["same_day_last_week"], row["avg_7d"]]
        metric_rows.append(row)
    sources = [
        {
            "source": source.get("source", ""),
            "visitors": format_value("visitors", source.get("visitors")),
            "share": format_percent(source.get("visitor_share")),
            "paying_buyers": format_value("paying_buyers", source.get("paying_buyers")),
            "conversion_rate": format_percent(source.get("conversion_rate")),
            "gmv": format_value("gmv", source.get("gmv")),
            "change": format_change(
                relative_change(source.get("visitors"), source.get("previous_day_visitors"))
            ),
        }
        for source in content.get("sources") or []
    ]
    alerts = _finding_rows(content.get("alerts") or [])
    insights = _finding_rows(content.get("insights") or [])
    return {
        "title": brief_title(content),
        "heading": brief_title(content, revision=revision),
        "date": content.get("date", ""),
        "engagement": content.get("engagement") or {},
        "data_through": content.get("data_through"),
        "data_notice": _data_notice(content),
        "missing_notice": _missing_notice(content),
        "correction": _correction(content, revision),
        "metrics": metric_rows,
        "targets": [_target_row(pace) for pace in content.get("targets") or []],
        "sources": sources,
        "alerts": alerts,
        "insights": insights,
        # The insights that are not already shown as the day's alerts.
        "other_insights": [
            insight
            for insight in insights
            if (insight["rule"], insight["cause"])
            not in {(alert["rule"], alert["cause"]) for alert in alerts}
        ],
    }


def brief_render_email(content: dict, *, revision: int = 1, link: str = "") -> tuple:
    """(subject, plain text, HTML) of the brief's e-mail, in the active language."""
    display = brief_display(content, revision=revision)
    context = {"brief": display, "link": link}
    subject = render_to_string("emails/brief_subject.txt", context)
    subject = " ".join(subject.split())
    text = render_to_string("emails/brief.txt", context)
    html = render_to_string("emails/brief.html", context)
    return subject, text, html


def brief_render_html(content: dict, *, revision: int = 1, link: str = "") -> str:
    """A standalone HTML document of the brief (the e-mail's HTML; the CLI prints it)."""
    return brief_render_email(content, revision=revision, link=link)[2]


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _markdown_blocks(display: dict) -> list[list[str]]:
    correction = display["correction"]
    blocks = [[f"### {_clip(display['heading'], MARKDOWN_LINE_LIMIT)}"]]
    if correction:
        blocks.append(
            [
                "> "
                + _clip(
                    _("Corrected (revision %(revision)s): %(summary)s")
                    % {"revision": correction["revision"], "summary": correction["summary"]},
                    MARKDOWN_LINE_LIMIT * 2,
                )
            ]
        )
    for notice in (display["data_notice"], display["missing_notice"]):
        if notice:
            blocks.append(["> " + _clip(notice, MARKDOWN_LINE_LIMIT * 2)])
    rows = {row["name"]: row for row in display["metrics"]}
    metric_lines = []
    for name in HEADLINE_METRICS:
        row = rows.get(name)
        if row is None or row["value"] == "—":
            continue
        comparisons = ", ".join(
            [
                _("d/d %(change)s") % {"change": row["previous_day"]["change"]},
                _("w/w %(change)s") % {"change": row["same_day_last_week"]["change"]},
            ]
        )
        metric_lines.append(f"- **{row['label']}** {row['value']} ({comparisons})")
    if metric_lines:
        blocks.append(metric_lines)
    target_lines = [
        "- "
        + _clip(
            _("%(metric)s target %(target)s: %(achievement)s so far, %(pace)s")
            % {
                "metric": target["label"],
                "target": target["target"],
                "achievement": target["achievement"],
                "pace": target["pace_text"],
            },
            MARKDOWN_LINE_LIMIT,
        )
        for target in display["targets"]
    ]
    if target_lines:
        blocks.append(target_lines)
    if display["alerts"]:
        lines = [_("**Alerts: %(count)s**") % {"count": len(display["alerts"])}]
        lines += [
            f"- [{alert['severity_label']}] "
            + _clip(f"{alert['message']} → {alert['action']}", MARKDOWN_ALERT_LIMIT)
            for alert in display["alerts"]
        ]
        blocks.append(lines)
    if display["other_insights"]:
        lines = [_("**Insights**")]
        lines += [
            "- " + _clip(insight["message"], MARKDOWN_LINE_LIMIT)
            for insight in display["other_insights"]
        ]
        blocks.append(lines)
    return blocks


def brief_render_markdown(
    content: dict, *, revision: int = 1, link: str = "", limit: int = MARKDOWN_LIMIT
) -> str:
    """The brief for a WeChat Work / DingTalk group robot: markdown of at most `limit`
    characters. Sections go in order of importance (headline, correction, data gaps, headline
    metrics, targets, alerts with their action, the other insights' findings) and stop at the
    first line that does not fit; the link to the portal page always closes the message, saying
    when more is there. Long lines are clipped with "…"."""
    display = brief_display(content, revision=revision)
    complete_footer = f"[{_('Open the full brief')}]({link})" if link else ""
    cut_footer = (
        f"… [{_('More in the portal')}]({link})" if link else "… " + _("More in the portal")
    )
    lines: list[str] = []
    used = 0
    truncated = False
    for block in _markdown_blocks(display):
        for line in block:
            # +1 for the newline; the longer footer is reserved in case a later line is cut.
            if used + len(line) + 1 + len(cut_footer) > limit:
                truncated = True
                break
            lines.append(line)
            used += len(line) + 1
        if truncated:
            break
    footer = cut_footer if truncated else complete_footer
    text = "\n".join([*lines, footer]) if footer else "\n".join(lines)
    if len(text) > limit:  # only when the footer alone (a very long link) does not fit
        text = text[: limit - 1] + "…"
    return text
