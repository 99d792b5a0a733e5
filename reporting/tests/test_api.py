"""The reporting API: a day's brief by engagement and date (its latest revision), the issued
briefs, published reviews; ETag / 304 on each report; a brand-restricted token sees its brand's."""

from __future__ import annotations

import datetime

import pytest

from agency.tenancy import agency_scope
from reporting.briefs.services import brief_issue
from reporting.models import ReviewStatus

DAY = datetime.date(2026, 9, 1)


def brief_url(engagement, day="2026-09-01"):
    return f"/api/v1/engagements/{engagement.pk}/briefs/{day}/"


def test_the_brief_of_a_day_is_its_latest_revision_with_etag_and_304(
    api, make_token, demo_agency, engagement_a, make_brief
):
    make_brief(engagement_a, date=DAY, content={"date": "2026-09-01", "metrics": {"gmv": 1}})
    corrected = make_brief(
        engagement_a, date=DAY, revision=2, content={"date": "2026-09-01", "metrics": {"gmv": 2}}
    )
    secret = make_token(demo_agency, scopes=["reports:read"])
    response = api.get(secret, brief_url(engagement_a))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["revision"], body["corrected"]) == (corrected.pk, 2, True)
    assert body["content"]["metrics"] == {"gmv": 2}
    assert response["Last-Modified"]
    again = api.get(secret, brief_url(engagement_a), headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_a_day_without_a_brief_is_404_and_a_bad_date_is_400_naming_it(
    api, make_token, demo_agency, engagement_a, make_brief
):
    make_brief(engagement_a, date=DAY)
    secret = make_token(demo_agency)
    missing = api.get(secret, brief_url(engagement_a, "2026-09-02"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    bad = api.get(secret, brief_url(engagement_a, "2026-13-01"))
    assert bad.status_code == 400
    assert set(bad.json()["error"]["details"]) == {"date"}


def test_the_brief_list_filters_by_engagement_and_dates(
    api, make_token, demo_agency, engagement_a, engagement_b, make_brief
):
    first = make_brief(engagement_a, date=DAY)
    make_brief(engagement_a, date=DAY + datetime.timedelta(days=5))
    make_brief(engagement_b, date=DAY)
    secret = make_token(demo_agency)
    response = api.get(secret, "/api/v1/briefs/", engagement=engagement_a.pk, date_to="2026-09-03")
    assert [row["id"] for row in response.json()["results"]] == [first.pk]
    bad = api.get(secret, "/api/v1/briefs/", date_from="yesterday")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["details"]) == {"date_from"}


def test_reviews_are_the_published_ones_with_their_action_items(
    api, make_token, demo_agency, engagement_a, make_review, make_action_item, demo_manager
):
    published = make_review(engagement_a, narrative="GMV up 12%")
    make_action_item(published, title="Cut bids on the weak plan", owner=demo_manager)
    draft = make_review(engagement_a, status=ReviewStatus.DRAFT)
    secret = make_token(demo_agency, scopes=["reports:read"])
    listed = api.get(secret, "/api/v1/reviews/").json()["results"]
    assert [row["id"] for row in listed] == [published.pk]
    detail = api.get(secret, f"/api/v1/reviews/{published.pk}/")
    assert detail.json()["narrative"] == "GMV up 12%"
    assert [(item["title"], item["owner"]) for item in detail.json()["action_items"]] == [
        ("Cut bids on the weak plan", demo_manager.user.display_name)
    ]
    assert (
        api.get(
            secret, f"/api/v1/reviews/{published.pk}/", headers={"If-None-Match": detail["ETag"]}
        ).status_code
        == 304
    )
    assert api.get(secret, f"/api/v1/reviews/{draft.pk}/").status_code == 404


def test_a_brand_token_sees_its_brand_s_reports_only(
    api, make_token, demo_agency, brand_b, engagement_a, engagement_b, make_brief, make_review
):
    make_brief(engagement_a, date=DAY)
    own = make_brief(engagement_b, date=DAY)
    review_a = make_review(engagement_a)
    secret = make_token(demo_agency, brand=brand_b, scopes=["reports:read"])
    assert api.get(secret, brief_url(engagement_a)).status_code == 404
    assert api.get(secret, brief_url(engagement_b)).json()["id"] == own.pk
    assert [row["id"] for row in api.get(secret, "/api/v1/briefs/").json()["results"]] == [own.pk]
    assert api.get(secret, f"/api/v1/reviews/{review_a.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("render_as", "expected"), [("markdown", "###"), ("html", "<html"), ("text", "2026-09-10")]
)
def test_a_brief_comes_rendered_as_people_read_it(
    api, make_token, demo_agency, engagement_a, brief_data, render_as, expected
):
    with agency_scope(demo_agency):
        brief = brief_issue(engagement=engagement_a, date=datetime.date(2026, 9, 10))
    secret = make_token(demo_agency, scopes=["reports:read"])
    url = brief_url(engagement_a, brief.date.isoformat()) + "rendered/"
    response = api.get(secret, url, headers={"Accept-Language": "en"}, render_as=render_as)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["format"], body["language"]) == (brief.pk, render_as, "en")
    assert expected in body["body"]
    assert "Daily brief" in body["title"]
    if render_as == "markdown":
        assert len(body["body"]) <= 800
    chinese = api.get(secret, url, headers={"Accept-Language": "zh-hans"}, render_as=render_as)
    assert chinese.json()["language"] == "zh-hans" and "日报" in chinese.json()["title"]
    again = api.get(
        secret,
        url,
        headers={"Accept-Language": "en", "If-None-Match": response["ETag"]},
        render_as=render_as,
    )
    assert again.status_code == 304


def test_an_unknown_rendering_is_400_naming_it(
    api, make_token, demo_agency, engagement_a, make_brief
):
    make_brief(engagement_a, date=DAY)
    response = api.get(
        make_token(demo_agency), brief_url(engagement_a) + "rendered/", render_as="pdf"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"render_as"}


def test_a_blank_rendering_is_400_too(api, make_token, demo_agency, engagement_a, make_brief):
    make_brief(engagement_a, date=DAY)
    response = api.get(make_token(demo_agency), brief_url(engagement_a) + "rendered/", render_as="")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"render_as"}
