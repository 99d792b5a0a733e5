"""Weekly and monthly reviews (周报 / 月报): figures from summed parts, the previous period, the
targets, the period's insights and the previous review's action items; drafting when due (and
only once); the staff's edit, preview and publish flow; what a brand user may see."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from agency.models import Agency, Notification
from agency.tenancy import agency_scope
from engagements.models import EngagementStatus, EngagementTarget
from execution.models import AlertSeverity
from reporting import reviews
from reporting.models import ActionStatus, Review, ReviewActionItem, ReviewKind, ReviewStatus
from reporting.tasks.reviews import draft_due_reviews

WEEK = datetime.date(2026, 9, 7)  # a Monday; the week runs to Sunday 13 September
PREVIOUS_WEEK = datetime.date(2026, 8, 31)


def day(month: int, number: int) -> str:
    return datetime.date(2026, month, number).isoformat()


@pytest.fixture
def week_data(push, store_a):
    """Three days whose daily rates differ a lot, so the mean of daily ratios is far from the
    ratio of the week's sums; one day in the week before; ads, sources and products."""
    push(
        store_a,
        "store_day",
        [
            # conversion 10%, AOV 100
            {"date": day(9, 7), "visitors": 100, "paying_buyers": 10, "gmv": "1000.00",
             "new_buyers": 6, "repeat_buyers": 4, "refund_amount": "50.00"},
            # conversion 1%, AOV 300
            {"date": day(9, 8), "visitors": 900, "paying_buyers": 9, "gmv": "2700.00",
             "new_buyers": 5, "repeat_buyers": 4},
            # conversion 2%, AOV 50
            {"date": day(9, 10), "visitors": 1000, "paying_buyers": 20, "gmv": "1000.00",
             "new_buyers": 15, "repeat_buyers": 5},
            # the week before: conversion 1%, AOV 100
            {"date": day(9, 1), "visitors": 500, "paying_buyers": 5, "gmv": "500.00",
             "new_buyers": 5, "repeat_buyers": 0},
        ],
    )  # fmt: skip
    push(
        store_a,
        "store_day_ad",
        [
            {"date": day(9, 7), "ad_tool": "zhitongche", "campaign": "Search A",
             "impressions": 10000, "clicks": 200, "ad_spend": "300.00", "ad_gmv": "900.00",
             "ad_orders": 6},
            {"date": day(9, 8), "ad_tool": "wanxiangtai", "campaign": "Feed B",
             "impressions": 5000, "clicks": 50, "ad_spend": "100.00", "ad_gmv": "100.00",
             "ad_orders": 1},
            {"date": day(9, 2), "ad_tool": "zhitongche", "campaign": "Search A",
             "impressions": 2000, "clicks": 40, "ad_spend": "80.00", "ad_gmv": "160.00"},
        ],
    )  # fmt: skip
    push(
        store_a,
        "store_day_source",
        [
            {"date": day(9, 7), "source": "手淘搜索", "visitors": 60, "paying_buyers": 6},
            {"date": day(9, 8), "source": "手淘搜索", "visitors": 540, "paying_buyers": 3},
            {"date": day(9, 8), "source": "直通车", "visitors": 400, "paying_buyers": 8},
            {"date": day(9, 1), "source": "手淘搜索", "visitors": 300},
        ],
    )
    push(
        store_a,
        "store_day_product",
        [
            {"date": day(9, 7), "item_id": "101", "item_name": "Green tea", "visitors": 80,
             "paying_buyers": 8, "gmv": "800.00"},
            {"date": day(9, 8), "item_id": "202", "item_name": "Tea cup", "visitors": 500,
             "paying_buyers": 9, "gmv": "2700.00"},
        ],
    )  # fmt: skip
    return store_a


def draft(engagement, kind=ReviewKind.WEEK, start=WEEK, **kwargs):
    with agency_scope(engagement.agency_id):
        return reviews.review_draft(engagement=engagement, kind=kind, period_start=start, **kwargs)


def detail_url(review, suffix=""):
    return f"/demo/reviews/{review.pk}/{suffix}"


def html(response) -> str:
    import html as html_module

    return html_module.unescape(response.content.decode())


# --- correctness: every period figure from summed parts ---------------------------------------


def test_week_rates_are_ratios_of_sums_not_means_of_daily_ratios(week_data, engagement_a):
    review = draft(engagement_a)
    metrics = review.content["metrics"]

    visitors, buyers, gmv = 100 + 900 + 1000, 10 + 9 + 20, Decimal("4700.00")
    ratio_of_sums = (Decimal(buyers) / visitors).quantize(Decimal("0.000001"))
    mean_of_daily = ((Decimal(10) / 100 + Decimal(9) / 900 + Decimal(20) / 1000) / 3).quantize(
        Decimal("0.000001")
    )
    assert Decimal(metrics["conversion_rate"]["value"]) == ratio_of_sums == Decimal("0.019500")
    assert Decimal(metrics["conversion_rate"]["value"]) != mean_of_daily  # 0.043333

    aov_of_sums = (gmv / buyers).quantize(Decimal("0.01"))
    mean_daily_aov = ((Decimal(1000) / 10 + Decimal(2700) / 9 + Decimal(1000) / 20) / 3).quantize(
        Decimal("0.01")
    )
    assert Decimal(metrics["aov"]["value"]) == aov_of_sums == Decimal("120.51")
    assert Decimal(metrics["aov"]["value"]) != mean_daily_aov  # 150.00

    assert metrics["visitors"]["value"] == visitors
    assert metrics["gmv"]["value"] == "4700.00"
    assert metrics["uv_value"]["value"] == "2.35"  # 4700 / 2000
    assert metrics["roi"]["value"] == "2.500000"  # (900 + 100) / (300 + 100)
    assert metrics["cpc"]["value"] == "1.60"  # 400 / 250 clicks
    assert metrics["ctr"]["value"] == str((Decimal(250) / 15000).quantize(Decimal("0.000001")))
    assert metrics["refund_rate"]["value"] == str((Decimal(50) / gmv).quantize(Decimal("0.000001")))
    # Days with data: 3 of 7, said on the page rather than hidden.
    assert (review.content["data_days"], review.content["period"]["days"]) == (3, 7)


def test_the_previous_period_is_the_week_before_with_absolute_and_relative_change(
    week_data, engagement_a
):
    content = draft(engagement_a).content
    assert content["previous_period"] == {
        "start": "2026-08-31",
        "end": "2026-09-06",
        "days": 7,
    }
    gmv = content["metrics"]["gmv"]
    assert (gmv["value"], gmv["previous"], gmv["change"], gmv["change_ratio"]) == (
        "4700.00",
        "500.00",
        "4200.00",
        "8.4000",
    )
    visitors = content["metrics"]["visitors"]
    assert (visitors["previous"], visitors["change"], visitors["change_ratio"]) == (
        500,
        1500,
        "3.0000",
    )
    rate = content["metrics"]["conversion_rate"]
    assert (rate["previous"], rate["change"]) == ("0.010000", "0.009500")
    roi = content["metrics"]["roi"]  # 160 / 80 the week before
    assert (roi["previous"], roi["change"], roi["change_ratio"]) == (
        "2.000000",
        "0.500000",
        "0.2500",
    )
    # A metric with no value on one side has no change (never 0, never an error).
    assert content["metrics"]["repeat_buyers"]["change_ratio"] is None  # 0 before


def test_a_monthly_review_compares_with_the_calendar_month_before(push, store_a, engagement_a):
    push(
        store_a,
        "store_day",
        [
            {"date": day(8, 31), "visitors": 310, "paying_buyers": 31, "gmv": "3100.00"},
            {"date": day(9, 30), "visitors": 300, "paying_buyers": 15, "gmv": "1500.00"},
        ],
    )
    review = draft(engagement_a, kind=ReviewKind.MONTH, start=datetime.date(2026, 9, 1))
    content = review.content
    assert (review.period_start, review.period_end) == (
        datetime.date(2026, 9, 1),
        datetime.date(2026, 9, 30),
    )
    assert content["previous_period"] == {"start": "2026-08-01", "end": "2026-08-31", "days": 31}
    assert content["metrics"]["gmv"]["previous"] == "3100.00"
    assert content["metrics"]["gmv"]["change_ratio"] == "-0.5161"
    charts = content["charts"]
    assert len(charts["days"]) == 30 and len(charts["previous_days"]) == 31
    assert charts["series"]["gmv"]["current"][-1] == "1500.00"
    assert charts["series"]["gmv"]["previous"][-1] == "3100.00"
    assert charts["series"]["gmv"]["current"][0] is None  # no data: no value, not zero


def test_content_has_targets_charts_sources_campaigns_products_and_is_json_safe(
    week_data, engagement_a
):
    with agency_scope(engagement_a.agency_id):
        EngagementTarget.objects.create(
            engagement=engagement_a,
            metric="gmv",
            comparison=">=",
            value=Decimal("30000"),
            period="month",
            by_month=9,  # September 2026 for an engagement that starts on 1 January
        )
        EngagementTarget.objects.create(
            engagement=engagement_a,
            metric="gmv",
            comparison=">=",
            value=Decimal("10000"),
            period="month",
            by_month=2,  # February: does not overlap the week
        )
    content = draft(engagement_a).content
    json.dumps(content)  # decimals as strings, dates as ISO: storable and servable as is

    [target] = content["targets"]
    assert (target["metric"], target["period_start"], target["state"]) == (
        "gmv",
        "2026-09-01",
        "current",
    )
    # As of the week's last day (13 September): 1–13 September to date, 13 of 30 days.
    assert (target["actual"], target["days_elapsed"]) == ("5200.00", 13)
    assert target["expected"] == "13000.00" and target["on_pace"] is False

    series = content["charts"]["series"]
    assert content["charts"]["days"][0] == "2026-09-07"
    assert series["gmv"]["current"] == ["1000.00", "2700.00", None, "1000.00", None, None, None]
    assert series["visitors"]["previous"][1] == 500  # Tuesday 1 September
    assert series["conversion_rate"]["current"][1] == "0.010000"

    sources = {row["source"]: row for row in content["sources"]}
    assert [row["source"] for row in content["sources"]] == ["手淘搜索", "直通车"]
    assert (
        sources["手淘搜索"]["visitors"] == 600 and sources["手淘搜索"]["previous_visitors"] == 300
    )
    assert sources["手淘搜索"]["share"] == "0.6000"
    assert sources["直通车"]["conversion_rate"] == "0.020000"

    assert [(row["campaign"], row["ad_spend"], row["roi"]) for row in content["campaigns"]] == [
        ("Search A", "300.00", "3.000000"),
        ("Feed B", "100.00", "1.000000"),
    ]
    assert [(row["item_name"], row["gmv"]) for row in content["products"]] == [
        ("Tea cup", "2700.00"),
        ("Green tea", "800.00"),
    ]


def test_the_charts_are_drawn_on_the_server_with_gaps_for_days_without_data(
    week_data, engagement_a
):
    review = draft(engagement_a)
    with agency_scope(engagement_a.agency_id):
        page = reviews.review_page(review=review)
    gmv = next(chart for chart in page["charts"] if chart.name == "gmv")
    # Monday and Tuesday joined, no line across Wednesday, Thursday on its own.
    assert gmv.current_path.count("M") == 2 and gmv.current_path.count("L") == 1
    assert len(gmv.current_points) == 3 and len(gmv.previous_points) == 1
    assert gmv.top_text == "¥2,700.00"
    assert gmv.current_points[1][1] == "6.0"  # the best day touches the top
    assert [row["value"] for row in gmv.rows][:3] == ["¥1,000.00", "¥2,700.00", "—"]


CPC_EVIDENCE = {
    "date": "2026-09-08",
    "cpc": "1.60",
    "cpc_previous": "1.20",
    "cpc_change": "0.3333",
    "clicks": 250,
    "clicks_previous": 240,
    "ad_spend": "400.00",
    "ad_spend_previous": "288.00",
    "window_start": "2026-09-02",
}


def test_the_periods_insights_are_the_alerts_grouped_by_rule_with_the_worst_example(
    engagement_a, make_alert
):
    make_alert(engagement_a, rule="cpc_rising", date=datetime.date(2026, 9, 8),
               severity=AlertSeverity.INFO, evidence=CPC_EVIDENCE)  # fmt: skip
    make_alert(engagement_a, rule="product_low_ctr", date=datetime.date(2026, 9, 7),
               cause="101", severity=AlertSeverity.WARNING, evidence={"ctr": "0.01"})  # fmt: skip
    make_alert(engagement_a, rule="product_low_ctr", date=datetime.date(2026, 9, 9),
               cause="202", severity=AlertSeverity.CRITICAL, evidence={"ctr": "0.002"})  # fmt: skip
    make_alert(engagement_a, rule="product_low_ctr", date=datetime.date(2026, 9, 12),
               cause="101", severity=AlertSeverity.WARNING, evidence={"ctr": "0.02"})  # fmt: skip
    # Outside the week: not this review's.
    make_alert(engagement_a, rule="refund_rate_jump", date=datetime.date(2026, 9, 14))
    review = draft(engagement_a)
    insights = review.content["insights"]
    assert [(i["rule"], i["count"], i["days"], i["severity"]) for i in insights] == [
        ("product_low_ctr", 3, 3, "critical"),
        ("cpc_rising", 1, 1, "info"),
    ]
    worst = insights[0]
    assert worst["causes"] == ["101", "202"]
    assert worst["example"] == {
        "date": "2026-09-09",
        "cause": "202",
        "severity": "critical",
        "evidence": {"ctr": "0.002"},
    }
    # The text is the rule's own, rendered when read (in the reader's language).
    with agency_scope(engagement_a.agency_id):
        page = reviews.review_page(review=review)
    cpc = page["insights"][1]
    assert cpc["title"] == "Cost per click rising"
    assert "¥1.60" in cpc["message"] and "¥1.20" in cpc["message"]
    assert "long-tail keywords" in cpc["action"]


# --- drafting: idempotent, refreshable, due on the right days ---------------------------------


def test_drafting_a_period_again_returns_the_same_review_until_staff_refresh(
    week_data, push, store_a, engagement_a, demo_manager
):
    first = draft(engagement_a)
    push(store_a, "store_day", [{"date": day(9, 13), "visitors": 1000, "paying_buyers": 1}])
    again = draft(engagement_a)
    assert again.pk == first.pk
    assert again.content["metrics"]["visitors"]["value"] == 2000  # unchanged by a re-draft
    with agency_scope(engagement_a.agency_id):
        refreshed = reviews.review_refresh(actor=demo_manager, review=again)
    assert refreshed.content["metrics"]["visitors"]["value"] == 3000
    assert Review.objects.unscoped().filter(engagement=engagement_a).count() == 1


def test_a_concurrent_draft_that_loses_the_race_returns_the_winner_and_notifies_nobody(
    engagement_a, demo_manager
):
    real_figures = reviews.review_figures

    def figures_while_another_run_inserts(**kwargs):
        content = real_figures(**kwargs)
        # Another worker commits the same period between our check and our insert.
        Review.objects.create(
            engagement=engagement_a, kind=ReviewKind.WEEK, period_start=WEEK,
            period_end=WEEK + datetime.timedelta(days=6), content={"winner": True},
        )  # fmt: skip
        return content

    with mock.patch.object(reviews, "review_figures", figures_while_another_run_inserts):
        review = draft(engagement_a)
    assert review.content == {"winner": True}
    assert Notification.objects.unscoped().count() == 0


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime.date(2026, 9, 14), [("week", datetime.date(2026, 9, 7)),
                                      ("month", datetime.date(2026, 8, 1))]),
        (datetime.date(2026, 9, 15), [("month", datetime.date(2026, 8, 1))]),  # a Tuesday
        (datetime.date(2026, 10, 4), [("month", datetime.date(2026, 9, 1))]),  # the 4th
        (datetime.date(2026, 10, 3), []),  # a Saturday, the 3rd: ad data still settling
        (datetime.date(2026, 10, 1), []),
        (datetime.date(2026, 8, 3), [("week", datetime.date(2026, 7, 27))]),  # Monday the 3rd
    ],
)  # fmt: skip
def test_which_reviews_fall_due(today, expected):
    assert reviews.periods_due(today) == expected


def test_drafts_are_due_on_monday_and_from_the_4th_once_however_often_the_job_runs(
    engagement_a, engagement_b, make_engagement, store_a, demo_manager
):
    ended = make_engagement(store_a, demo_manager, title="Ended one")
    late = make_engagement(store_a, demo_manager, title="Starts later",
                           start_date=datetime.date(2026, 10, 1))  # fmt: skip
    with agency_scope(ended.agency_id):
        ended.status = EngagementStatus.ENDED
        ended.save()
        assert reviews.reviews_draft_due(today=datetime.date(2026, 10, 2)) == []  # not due
        monday = reviews.reviews_draft_due(today=datetime.date(2026, 8, 3))  # the 3rd
        assert {(r.engagement_id, r.kind, r.period_start) for r in monday} == {
            (engagement_a.pk, "week", datetime.date(2026, 7, 27)),
            (engagement_b.pk, "week", datetime.date(2026, 7, 27)),
        }
        tuesday = reviews.reviews_draft_due(today=datetime.date(2026, 8, 4))  # the 4th
        assert {(r.engagement_id, r.kind, r.period_start) for r in tuesday} == {
            (engagement_a.pk, "month", datetime.date(2026, 7, 1)),
            (engagement_b.pk, "month", datetime.date(2026, 7, 1)),
        }
        for _hour in range(3):  # every hour, retried: nothing new
            assert reviews.reviews_draft_due(today=datetime.date(2026, 8, 3)) == []
            assert reviews.reviews_draft_due(today=datetime.date(2026, 8, 4)) == []
        assert not Review.objects.filter(engagement__in=[ended, late]).exists()
        assert Review.objects.count() == 4
        assert not Review.objects.filter(kind="week", period_start__gt="2026-07-27").exists()
    # The account manager heard of each draft exactly once.
    titles = list(
        Notification.objects.unscoped()
        .filter(user=demo_manager.user)
        .values_list("title", flat=True)
    )
    assert len(titles) == 4
    assert all("Draft ready" in title for title in titles)


def test_a_weekly_review_is_due_even_when_a_monthly_one_starts_the_same_day(
    engagement_a, make_review
):
    # Monday 1 June 2026: the monthly review of June and the weekly review of that week share
    # their first day; one existing must not hide the other's absence.
    june = datetime.date(2026, 6, 1)
    make_review(engagement_a, kind=ReviewKind.MONTH, period_start=june,
                period_end=datetime.date(2026, 6, 30))  # fmt: skip
    make_review(engagement_a, kind=ReviewKind.WEEK, period_start=datetime.date(2026, 5, 25))
    with agency_scope(engagement_a.agency_id):
        drafted = reviews.reviews_draft_due(today=datetime.date(2026, 6, 8))
    assert sorted((r.kind, r.period_start) for r in drafted) == [
        ("month", datetime.date(2026, 5, 1)),
        ("week", june),
    ]


def test_the_beat_job_uses_each_agencys_local_date(
    engagement_a, rival_engagement, rival_agency, demo_manager
):
    Agency.objects.filter(pk=rival_agency.pk).update(time_zone="Europe/London")
    # 17:00 UTC on Sunday 2 August: already Monday 3 August in Shanghai, still Sunday the 2nd
    # in London (neither a Monday nor from the 4th).
    queued = draft_due_reviews(now="2026-08-02T17:00:00+00:00")
    assert queued == 1
    assert list(Review.objects.unscoped().values_list("engagement_id", "kind", "period_start")) == [
        (engagement_a.pk, "week", datetime.date(2026, 7, 27))
    ]
    assert draft_due_reviews(now="2026-08-02T18:00:00+00:00") == 1  # an hour later: no duplicate
    assert Review.objects.unscoped().count() == 1
    assert Notification.objects.unscoped().filter(user=demo_manager.user).count() == 1


# --- the previous review's action items --------------------------------------------------------


def test_the_previous_reviews_action_items_are_carried_with_their_status(
    week_data, engagement_a, demo_manager, demo_operator, make_action_item
):
    before = draft(engagement_a, start=PREVIOUS_WEEK)
    done = make_action_item(
        before,
        title="Cut the bids of Feed B",
        owner=demo_operator,
        due_date=datetime.date(2026, 9, 9),
        status=ActionStatus.DONE,
    )
    still_open = make_action_item(before, title="New main image for the tea cup")
    review = draft(engagement_a)
    assert review.content["previous_review"]["id"] == before.pk
    assert review.content["previous_actions"] == [
        {"id": done.pk, "title": "Cut the bids of Feed B", "owner": demo_operator.user.display_name,
         "due_date": "2026-09-09", "status": "done"},
        {"id": still_open.pk, "title": "New main image for the tea cup", "owner": "",
         "due_date": None, "status": "open"},
    ]  # fmt: skip

    with agency_scope(engagement_a.agency_id):
        # While the new review is a draft, it shows the items as they stand now ...
        reviews.review_action_set_status(actor=demo_manager, item=still_open, status="dropped")
        page = reviews.review_page(review=review)
        assert [line["status"] for line in page["previous_actions"]] == ["done", "dropped"]
        # ... publishing freezes them; later follow-up changes the item, not the review.
        published = reviews.review_publish(actor=demo_manager, review=review)
        reviews.review_action_set_status(actor=demo_manager, item=still_open, status="open")
        published.refresh_from_db()
        page = reviews.review_page(review=published)
    assert [line["status"] for line in page["previous_actions"]] == ["done", "dropped"]
    assert [a["status"] for a in published.content["previous_actions"]] == ["done", "dropped"]


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "start", "extra", "field", "words"),
    [
        ("year", WEEK, {}, "kind", "Unknown kind"),
        ("week", datetime.date(2026, 9, 8), {}, "period_start", "not a Monday"),
        ("month", datetime.date(2026, 9, 2), {}, "period_start", "start it on the 1st"),
        ("week", WEEK, {"period_end": datetime.date(2026, 9, 12)}, "period_end", "2026-09-13"),
        ("week", datetime.date(2030, 1, 7), {}, "period_start", "has not ended yet"),
        ("month", datetime.date(2025, 11, 1), {}, "period_start", "engagement starts on"),
    ],
)
def test_bad_periods_are_refused_naming_the_field(engagement_a, kind, start, extra, field, words):
    with pytest.raises(reviews.ReviewRefused) as refused:
        draft(engagement_a, kind=kind, start=start, **extra)
    assert field in refused.value.error_dict
    assert words in " ".join(refused.value.message_dict[field])
    assert Review.objects.unscoped().count() == 0


def test_the_current_period_is_not_reviewable_yet(engagement_a):
    with agency_scope(engagement_a.agency_id):
        today = reviews.agency_today(engagement_a.agency)
        monday = today - datetime.timedelta(days=today.weekday())
        with pytest.raises(reviews.ReviewRefused, match="has not ended yet"):
            reviews.review_draft(engagement=engagement_a, kind="week", period_start=monday)


def test_an_action_owner_must_be_staff_of_the_agency(
    engagement_a, demo_manager, rival_manager, brand_a_owner
):
    review = draft(engagement_a)
    with agency_scope(engagement_a.agency_id):
        for owner in (rival_manager, brand_a_owner):
            with pytest.raises(reviews.ReviewRefused) as refused:
                reviews.review_action_add(actor=demo_manager, review=review, title="X", owner=owner)
            assert "owner" in refused.value.error_dict
        with pytest.raises(reviews.ReviewRefused) as refused:
            reviews.review_action_add(actor=demo_manager, review=review, title="  ")
        assert "title" in refused.value.error_dict
        with pytest.raises(reviews.ReviewRefused) as refused:
            reviews.review_action_set_status(
                actor=demo_manager,
                item=reviews.review_action_add(actor=demo_manager, review=review, title="Y"),
                status="finished",
            )
        assert "status" in refused.value.error_dict
        with pytest.raises(PermissionDenied):
            reviews.review_action_add(actor=brand_a_owner, review=review, title="Z")


# --- the pages: edit, preview, publish; what the brand sees -----------------------------------


def test_staff_draft_a_review_from_the_list_and_bad_input_names_the_field(
    client_for, demo_manager, engagement_a, week_data
):
    client = client_for(demo_manager)
    url = f"/demo/engagements/{engagement_a.pk}/reviews/"
    page = client.get(url)
    assert page.status_code == 200 and "Draft a review now" in html(page)
    refused = client.post(url, {"kind": "week", "period_start": "2026-09-08"})
    assert refused.status_code == 400
    assert "2026-09-08 is not a Monday" in html(refused)
    refused = client.post(url, {"kind": "fortnight", "period_start": "2026-09-07"})
    assert refused.status_code == 400 and "fortnight" in html(refused)
    response = client.post(url, {"kind": "week", "period_start": "2026-09-07"})
    assert response.status_code == 302
    review = Review.objects.unscoped().get()
    assert response["Location"] == detail_url(review)
    again = client.post(url, {"kind": "week", "period_start": "2026-09-07"})
    assert again["Location"] == detail_url(review)  # the same review, not a second one


def test_the_edit_preview_publish_flow(
    client_for, demo_manager, demo_operator, brand_a_owner, brand_b_owner, engagement_a,
    week_data, django_capture_on_commit_callbacks, make_alert,
):  # fmt: skip
    make_alert(engagement_a, rule="cpc_rising", date=datetime.date(2026, 9, 8),
               evidence=CPC_EVIDENCE)  # fmt: skip
    review = draft(engagement_a)
    client = client_for(demo_manager)
    page = client.get(detail_url(review))
    text = html(page)
    assert page.status_code == 200
    assert "Save summary" in text and "Refresh figures" in text and "Publish" in text
    assert "¥4,700.00" in text and "1.95%" in text and "¥120.51" in text
    assert brand_a_owner.user.display_name in text  # who will be told on publishing
    assert "Cost per click rising" in text and "long-tail keywords" in text

    # The narrative, as htmx does it: the card comes back.
    saved = client.post(
        detail_url(review),
        {"narrative": "GMV up 8.4×; Feed B cut."},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200 and 'id="review-narrative"' in html(saved)
    assert "<html" not in html(saved)
    # An action item, owned by a staff member.
    added = client.post(
        detail_url(review, "actions/"),
        {"action-title": "Raise Search A bids 10%", "action-owner": demo_operator.pk,
         "action-due_date": "2026-09-18"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert added.status_code == 200 and "Raise Search A bids 10%" in html(added)
    item = ReviewActionItem.objects.unscoped().get()
    assert (item.owner_id, item.due_date) == (demo_operator.pk, datetime.date(2026, 9, 18))
    # A status change, as htmx does it: the row comes back.
    row = client.post(
        f"/demo/actions/{item.pk}/", {"status": "done"}, headers={"HX-Request": "true"}
    )
    assert row.status_code == 200 and f'id="action-{item.pk}"' in html(row)
    item.refresh_from_db()
    assert item.status == "done"

    # The brand's view, while still a draft: no editing, nothing internal.
    preview = client.get(detail_url(review, "preview/"))
    text = html(preview)
    assert preview.status_code == 200
    assert "GMV up 8.4×; Feed B cut." in text and "Raise Search A bids 10%" in text
    assert "¥4,700.00" in text
    for internal in ("Save summary", "Refresh figures", "SECRET-MARGIN-NOTE", 'name="status"',
                     "Add an action item"):  # fmt: skip
        assert internal not in text
    # The brand owner cannot see the draft at all.
    owner = client_for(brand_a_owner)
    assert owner.get(detail_url(review)).status_code == 404
    assert owner.get(detail_url(review, "preview/")).status_code == 404
    client.force_login(demo_manager.user)

    # An operator edits but may not publish (the account manager or an admin does).
    operator = client_for(demo_operator)
    assert operator.post(detail_url(review, "publish/")).status_code == 403
    client.force_login(demo_manager.user)
    with django_capture_on_commit_callbacks(execute=True):
        published = client.post(detail_url(review, "publish/"))
    assert published.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.PUBLISHED and review.published_by == demo_manager.user
    notices = Notification.objects.unscoped().filter(user=brand_a_owner.user)
    assert notices.count() == 1 and notices.get().url == detail_url(review)
    assert [message.to for message in mail.outbox] == [[brand_a_owner.user.email]]
    assert "published" in mail.outbox[0].body
    assert not Notification.objects.unscoped().filter(user=brand_b_owner.user).exists()

    # Published: read-only, and a second publish tells nobody again.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(detail_url(review, "publish/")).status_code == 400
    assert client.post(detail_url(review), {"narrative": "changed"}).status_code == 400
    assert client.post(detail_url(review, "refresh/")).status_code == 400
    refused = client.post(detail_url(review, "actions/"), {"action-title": "Late"})
    assert refused.status_code == 400
    review.refresh_from_db()
    assert review.narrative == "GMV up 8.4×; Feed B cut."
    assert ReviewActionItem.objects.unscoped().count() == 1
    assert notices.count() == 1 and len(mail.outbox) == 1
    page = html(client.get(detail_url(review)))
    assert "Save summary" not in page and "Refresh figures" not in page


def test_a_brand_user_sees_published_reviews_only_and_cannot_edit(
    client_for, brand_a_owner, brand_b_owner, engagement_a, make_review, make_action_item
):
    published = make_review(engagement_a, narrative="Visible summary")
    drafted = make_review(engagement_a, status=ReviewStatus.DRAFT, narrative="Hidden draft")
    item = make_action_item(published)
    owner = client_for(brand_a_owner)
    listing = html(owner.get(f"/demo/engagements/{engagement_a.pk}/reviews/"))
    assert detail_url(published) in listing and detail_url(drafted) not in listing
    assert "Draft a review now" not in listing

    page = owner.get(detail_url(published))
    assert page.status_code == 200 and "Visible summary" in html(page)
    assert owner.get(detail_url(drafted)).status_code == 404
    # No editing of any kind: the draft's address and the staff actions are 404 for them.
    assert owner.post(detail_url(published), {"narrative": "x"}).status_code == 405
    for suffix in ("publish/", "refresh/", "actions/", "preview/"):
        assert owner.post(detail_url(drafted, suffix)).status_code == 404
        assert owner.post(detail_url(published, suffix)).status_code == 404
    assert owner.post(f"/demo/actions/{item.pk}/", {"status": "done"}).status_code == 404
    draft_now = {"kind": "week", "period_start": "2026-09-07"}
    assert owner.post(f"/demo/engagements/{engagement_a.pk}/reviews/", draft_now).status_code == 405
    published.refresh_from_db()
    item.refresh_from_db()
    assert published.narrative == "Visible summary" and item.status == "open"
    # Another brand's user sees nothing of it.
    other = client_for(brand_b_owner)
    assert other.get(detail_url(published)).status_code == 404
    assert other.get(f"/demo/engagements/{engagement_a.pk}/reviews/").status_code == 404


def test_a_draft_notifies_the_engagement_staff_once_and_not_the_acting_member(
    engagement_a, demo_manager, demo_operator, django_capture_on_commit_callbacks
):
    from engagements.models import EngagementTeamMember

    with agency_scope(engagement_a.agency_id):
        EngagementTeamMember.objects.create(engagement=engagement_a, membership=demo_operator)
    with django_capture_on_commit_callbacks(execute=True):
        draft(engagement_a, actor=demo_operator)
        draft(engagement_a, actor=demo_operator)
    notices = Notification.objects.unscoped()
    assert list(notices.values_list("user_id", flat=True)) == [demo_manager.user_id]
    assert [message.to for message in mail.outbox] == [[demo_manager.user.email]]
