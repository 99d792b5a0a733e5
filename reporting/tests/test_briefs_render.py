"""The brief's renderings: the group-robot markdown within 800 characters, the e-mail, text in
the reader's language, and the `daily_brief` command in each format."""

import copy
import datetime
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from agency.tenancy import agency_scope
from execution.models import Alert
from reporting.briefs.builder import brief_build
from reporting.briefs.render import (
    MARKDOWN_LIMIT,
    brief_display,
    brief_render_email,
    brief_render_markdown,
    insight_text,
)
from reporting.models import DailyBrief

DAY = datetime.date(2026, 9, 10)
LINK = "https://portal.example.test/demo/briefs/12345/"


@pytest.fixture
def content(brief_data, engagement_a):
    with agency_scope(engagement_a.agency_id):
        return brief_build(engagement=engagement_a, date=DAY, language="en")


def crowded(content, alerts=40):
    """The brief with many alerts with long evidence, as a bad day of a big store looks."""
    content = copy.deepcopy(content)
    content["alerts"] = [
        {
            "id": number,
            "rule": "roi_below_target",
            "severity": "critical" if number % 3 == 0 else "warning",
            "cause": f"zhitongche:计划 {number} 夏季新品推广超长的计划名称",
            "evidence": {"campaign": f"计划 {number} 夏季新品推广超长的计划名称"},
            "message": "x" * 300,
            "action": "y" * 300,
        }
        for number in range(alerts)
    ]
    return content


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_markdown_of_a_crowded_brief_stays_within_800_characters(content, language):
    with translation.override(language):
        markdown = brief_render_markdown(crowded(content), revision=2, link=LINK)
    assert len(markdown) <= MARKDOWN_LIMIT
    lines = markdown.splitlines()
    assert lines[0].startswith("### ")
    # Cut gracefully: whole lines only, then the way to the rest.
    assert lines[-1].startswith("… [") and lines[-1].endswith(f"]({LINK})")
    assert all(len(line) <= 2 * 150 + 2 for line in lines)


def test_markdown_of_an_ordinary_brief(content):
    with translation.override("en"):
        markdown = brief_render_markdown(content, link=LINK)
    assert len(markdown) <= MARKDOWN_LIMIT
    assert "- **GMV** ¥3,000.00 (d/d +150.00%, w/w +200.00%)" in markdown
    assert "**Alerts: 1**" in markdown
    assert "- [Warning] Customer service took 50.0 s" in markdown
    assert "→ Staff the busy hours" in markdown  # the alert's action
    assert markdown.endswith(f"]({LINK})")


def test_markdown_of_a_short_brief_is_complete(content):
    short = {**content, "alerts": [], "insights": content["insights"][1:2]}
    with translation.override("en"):
        markdown = brief_render_markdown(short, link=LINK)
    assert markdown.splitlines()[-1] == f"[Open the full brief]({LINK})"
    assert "**Insights**" in markdown


def test_the_limit_holds_for_any_limit(content):
    for limit in (120, 300, 500, 800):
        text = brief_render_markdown(crowded(content, alerts=10), link=LINK, limit=limit)
        assert len(text) <= limit


def test_insight_text_follows_the_readers_language(push, store_a, engagement_a):
    push(
        store_a,
        "store_day",
        [
            {"date": "2026-09-09", "visitors": 100, "paying_buyers": 5, "gmv": "500.00"},
            {"date": DAY.isoformat(), "visitors": 120, "paying_buyers": 5, "gmv": "450.00"},
        ],
    )
    with agency_scope(engagement_a.agency_id):
        content = brief_build(engagement=engagement_a, date=DAY, language="en")
    insight = content["insights"][0]
    assert "Visitors" in insight["message"]
    with translation.override("zh-hans"):
        message, _action = insight_text(insight)
        display = brief_display(content)
    assert "访客数" in message
    assert display["metrics"][1]["label"] == "访客数"


def test_an_unknown_rule_reads_from_its_stored_copy():
    item = {"rule": "retired_rule", "evidence": {}, "message": "Old words", "action": "Old act"}
    assert insight_text(item) == ("Old words", "Old act")


def test_the_email_has_text_and_html(content):
    with translation.override("en"):
        subject, text, html = brief_render_email(content, link=LINK)
    assert subject == "Daily brief: Brand A · 2026-09-10"
    assert "\n" not in subject
    for body in (text, html):
        assert "¥3,000.00" in body
        assert "手淘搜索" in body  # traffic by source
        assert "Customer service took 50.0 s" in body  # the alert, with its numbers
        assert LINK in body
    assert html.startswith("<!doctype html>")
    assert "&lt;" not in text and "&amp;" not in text  # plain text is not HTML-escaped


def test_a_corrected_brief_says_so_everywhere(content):
    corrected = copy.deepcopy(content)
    corrected["correction"] = {
        "previous_revision": 1,
        "changes": [{"metric": "gmv", "before": "3000.00", "after": "3600.00"}],
        "sections": ["metrics", "alerts"],
    }
    with translation.override("en"):
        subject, text, html = brief_render_email(corrected, revision=2, link=LINK)
        markdown = brief_render_markdown(corrected, revision=2, link=LINK)
    assert subject.startswith("[Corrected]")
    for body in (text, html, markdown):
        assert "GMV ¥3,000.00 → ¥3,600.00" in body
        assert "alerts" in body
    assert "CORRECTED (revision 2)" in text
    assert markdown.startswith("### [Corrected] Daily brief")


def test_a_minimal_stored_content_still_renders():
    display = brief_display({"date": "2026-09-01", "metrics": {}, "insights": []})
    assert display["metrics"] == [] and display["insights"] == []
    assert brief_render_markdown({"date": "2026-09-01"}, link=LINK)


# --- the command ------------------------------------------------------------------------------


def run(*arguments):
    from io import StringIO

    out = StringIO()
    call_command("daily_brief", *arguments, stdout=out)
    return out.getvalue()


def test_the_command_prints_json_by_default(brief_data, engagement_a):
    output = run("--engagement", str(engagement_a.pk), "--date", "2026-09-10")
    content = json.loads(output)
    assert content["date"] == "2026-09-10"
    assert content["metrics"]["gmv"] == {
        "value": "3000.00",
        "previous_day": "1200.00",
        "same_day_last_week": "1000.00",
        "avg_7d": "1333.33",
    }
    assert content["insights"][0]["rule"] == "cs_reply_slow"
    assert "\n  " in output  # indented
    assert "手淘搜索" in output  # not \\u-escaped
    with agency_scope(engagement_a.agency_id):
        assert not DailyBrief.objects.exists()  # printed, not stored
        assert not Alert.objects.exists()  # nor the alert it shows
    assert content["alerts"][0]["id"] is None


def test_the_command_prints_markdown_and_html(brief_data, engagement_a):
    markdown = run("--engagement", str(engagement_a.pk), "--date", "2026-09-10", "--format", "md")
    assert len(markdown.rstrip("\n")) <= MARKDOWN_LIMIT
    assert markdown.startswith("### Daily brief: Brand A · 2026-09-10")
    assert f"/engagements/{engagement_a.pk}/briefs/" in markdown
    html = run("--engagement", str(engagement_a.pk), "--date", "2026-09-10", "--format", "html")
    assert html.startswith("<!doctype html>") and "¥3,000.00" in html


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--engagement", "999999", "--date", "2026-09-10"], "--engagement"),
        (["--engagement", "abc", "--date", "2026-09-10"], "--engagement"),
        (["--engagement", "{id}", "--date", "2026-13-40"], "--date"),
        (["--engagement", "{id}", "--date", "yesterday"], "--date"),
        (["--engagement", "{id}", "--date", "2026-09-10", "--format", "pdf"], "--format"),
    ],
)
def test_the_command_names_a_bad_argument(engagement_a, arguments, named):
    arguments = [argument.format(id=engagement_a.pk) for argument in arguments]
    with pytest.raises(CommandError, match=named):
        run(*arguments)


def test_evidence_reads_in_each_figures_unit():
    from execution.metrics.formatting import evidence_rows

    with translation.override("en"):
        rows = dict(
            evidence_rows(
                {
                    "metric": "gmv",
                    "value": "1000.00",
                    "median": "800.00",
                    "date": "2026-09-10",
                    "visitors_avg_7d": "1234.5",
                    "conversion_rate_7d": "0.0123",
                    "visitors_change": "0.2",
                    "share": "0.6",
                    "source": "手淘搜索",
                    "store_conversion_rate": "0.03",
                }
            )
        )
    assert rows == {
        "Metric": "GMV",
        "Value": "¥1,000.00",
        "Median": "¥800.00",
        "Day": "2026-09-10",
        "Visitors, 7-day average": "1,235",
        "Conversion rate, trailing 7 days": "1.23%",
        "Visitors, change": "+20.00%",
        "Share": "60.00%",
        "Traffic source": "手淘搜索",
        "Store: Conversion rate": "3.00%",
    }
