"""The diagnosis pages as staff and brand users see them."""

from decimal import Decimal

import pytest

from agency.tenancy import agency_scope
from diagnostics.models import Competitor, DiagnosisIntake, DiagnosisReport, ReportStatus
from execution.models import StoreDayFact


def url(engagement, rest=""):
    return f"/demo/engagements/{engagement.pk}/diagnosis/{rest}"


@pytest.fixture
def published_and_draft(engagement_a, make_report):
    published = make_report(
        engagement_a,
        title="Brand A 诊断报告",
        sections=[{"key": "overview", "title": "总览", "body": "PUBLISHED-TEXT\n\n<b>bold?</b>"}],
    )
    draft = make_report(
        engagement_a,
        status=ReportStatus.DRAFT,
        sections=[{"key": "overview", "title": "总览", "body": "DRAFT-TEXT"}],
    )
    return published, draft


def test_staff_work_on_the_diagnosis_page(
    client_for, demo_operator, engagement_a, make_competitor, make_persona
):
    make_competitor(engagement_a, name="森屿家居", store_url="https://senyu.tmall.com")
    make_persona(engagement_a, name="新婚小家庭", age_bands=["25_30"])
    page = client_for(demo_operator).get(url(engagement_a))
    body = page.content.decode()
    assert page.status_code == 200
    for text in [
        "森屿家居",
        "https://senyu.tmall.com",
        "新婚小家庭",
        "25–30",
        "Save intake",
        "The store has no data yet",
        "Enter a month",
    ]:
        assert text in body


def test_the_intake_form_saves_and_refuses_bad_input_with_nothing_changed(
    client_for, demo_operator, engagement_a
):
    client = client_for(demo_operator)
    good = {
        "goal": "growth",
        "budget_min": "1000",
        "budget_max": "2000",
        "price_low": "10",
        "price_high": "20",
    }
    response = client.post(url(engagement_a, "intake/"), good)
    assert response.status_code == 302
    response = client.post(url(engagement_a, "intake/"), {**good, "budget_min": "5000"})
    assert response.status_code == 400
    assert "The budget&#x27;s upper end cannot be below its lower end." in response.content.decode()
    response = client.post(url(engagement_a, "intake/"), {**good, "budget_min": "-3"})
    assert response.status_code == 400 and "zero or more" in response.content.decode()
    with agency_scope(engagement_a.agency_id):
        intake = DiagnosisIntake.objects.get(engagement=engagement_a)
    assert intake.budget_min == Decimal("1000.00") and intake.budget_max == Decimal("2000.00")


def test_competitor_pages_add_edit_remove_and_refuse_a_bad_url(
    client_for, demo_operator, engagement_a
):
    client = client_for(demo_operator)
    response = client.post(
        url(engagement_a, "competitors/new/"), {"name": "木言", "store_url": "not a url"}
    )
    assert response.status_code == 400 and "Enter a valid URL." in response.content.decode()
    assert client.post(url(engagement_a, "competitors/new/"), {"name": "木言"}).status_code == 302
    with agency_scope(engagement_a.agency_id):
        competitor = Competitor.objects.get()
    edit = url(engagement_a, f"competitors/{competitor.pk}/")
    assert "木言" in client.get(edit).content.decode()
    response = client.post(edit, {"name": "木言生活", "price_low": "50", "price_high": "40"})
    assert response.status_code == 400 and "upper end" in response.content.decode()
    assert client.post(edit, {"name": "木言生活"}).status_code == 302
    with agency_scope(engagement_a.agency_id):
        assert Competitor.objects.get().name == "木言生活"
    assert client.get(url(engagement_a, f"competitors/{competitor.pk}/delete/")).status_code == 405
    assert client.post(url(engagement_a, f"competitors/{competitor.pk}/delete/")).status_code == 302
    with agency_scope(engagement_a.agency_id):
        assert not Competitor.objects.exists()


def test_another_engagements_competitor_is_404_under_this_one(
    client_for, demo_operator, engagement_a, engagement_b, make_competitor
):
    theirs = make_competitor(engagement_b, name="B's")
    response = client_for(demo_operator).get(url(engagement_a, f"competitors/{theirs.pk}/"))
    assert response.status_code == 404


@pytest.mark.parametrize("user", ["brand_a_owner", "brand_a_viewer"])
def test_brand_users_get_404_on_every_staff_page_and_the_draft(
    request, client_for, user, engagement_a, make_competitor, make_persona, published_and_draft
):
    client = client_for(request.getfixturevalue(user))
    _published, draft = published_and_draft
    competitor = make_competitor(engagement_a)
    persona = make_persona(engagement_a)
    for path in [
        "",
        "intake/",
        f"competitors/{competitor.pk}/",
        "competitors/new/",
        f"personas/{persona.pk}/",
        "months/",
        "report/generate/",
        "report/new-draft/",
        f"report/{draft.pk}/",
        f"report/{draft.pk}/edit/",
        f"report/{draft.pk}/publish/",
    ]:
        assert client.get(url(engagement_a, path)).status_code == 404, path
        assert client.post(url(engagement_a, path), {"name": "x"}).status_code == 404, path
    with agency_scope(engagement_a.agency_id):
        assert DiagnosisReport.objects.get(pk=draft.pk).status == ReportStatus.DRAFT
        assert Competitor.objects.get(pk=competitor.pk).name != "x"


def test_brand_users_read_published_versions_only(
    client_for, brand_a_viewer, engagement_a, published_and_draft
):
    published, _draft = published_and_draft
    client = client_for(brand_a_viewer)
    body = client.get(url(engagement_a, "report/")).content.decode()
    assert "PUBLISHED-TEXT" in body and "DRAFT-TEXT" not in body
    assert "&lt;b&gt;bold?&lt;/b&gt;" in body and "<b>bold?" not in body  # autoescaped
    assert "Version 2" not in body and "Edit draft" not in body
    assert "Publish to the brand" not in body
    assert client.get(url(engagement_a, f"report/{published.pk}/")).status_code == 200


def test_the_brand_sees_a_waiting_note_before_anything_is_published(
    client_for, brand_a_owner, engagement_a, make_report
):
    make_report(
        engagement_a,
        status=ReportStatus.DRAFT,
        sections=[{"key": "a", "title": "A", "body": "DRAFT-TEXT"}],
    )
    body = client_for(brand_a_owner).get(url(engagement_a, "report/")).content.decode()
    assert "preparing the diagnosis report" in body and "DRAFT-TEXT" not in body


def test_staff_generate_edit_and_publish_through_the_pages(client_for, demo_manager, engagement_a):
    client = client_for(demo_manager)
    response = client.post(url(engagement_a, "report/generate/"))
    with agency_scope(engagement_a.agency_id):
        draft = DiagnosisReport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"report/{draft.pk}/edit/")
    form = client.get(response["Location"])
    assert form.status_code == 200 and "Store baseline" in form.content.decode()
    data = {
        "title": "Brand A 诊断",
        "section_0_key": "overview",
        "section_0_title": "总览",
        "section_0_body": "第一段\n\n第二段",
    }
    data.update({f"section_{i}_title": "x" for i in range(1, len(draft.sections))})
    assert client.post(response["Location"], data).status_code == 302
    assert client.post(url(engagement_a, f"report/{draft.pk}/publish/")).status_code == 302
    with agency_scope(engagement_a.agency_id):
        draft.refresh_from_db()
    assert (
        draft.status == ReportStatus.PUBLISHED and draft.sections[0]["body"] == "第一段\n\n第二段"
    )
    body = client.get(url(engagement_a, f"report/{draft.pk}/")).content.decode()
    assert "<p>第一段</p>" in body and "<p>第二段</p>" in body


def test_editing_a_published_version_in_the_browser_changes_nothing(
    client_for, demo_manager, engagement_a, published_and_draft
):
    published, _draft = published_and_draft
    client = client_for(demo_manager)
    response = client.post(
        url(engagement_a, f"report/{published.pk}/edit/"),
        {"title": "changed", "section_0_title": "x", "section_0_body": "changed"},
        follow=True,
    )
    assert "published and cannot be edited" in response.content.decode()
    with agency_scope(engagement_a.agency_id):
        published.refresh_from_db()
    assert (
        published.title == "Brand A 诊断报告" and "PUBLISHED-TEXT" in published.sections[0]["body"]
    )


def test_an_operator_edits_drafts_but_cannot_publish(
    client_for, demo_operator, engagement_a, published_and_draft
):
    _published, draft = published_and_draft
    client = client_for(demo_operator)
    assert client.get(url(engagement_a, f"report/{draft.pk}/edit/")).status_code == 200
    assert (
        "Publish to the brand"
        not in client.get(url(engagement_a, f"report/{draft.pk}/")).content.decode()
    )
    assert client.post(url(engagement_a, f"report/{draft.pk}/publish/")).status_code == 403
    with agency_scope(engagement_a.agency_id):
        assert DiagnosisReport.objects.get(pk=draft.pk).status == ReportStatus.DRAFT


def test_a_month_entered_shows_in_the_baseline_and_a_future_month_is_refused(
    client_for, demo_operator, engagement_a
):
    client = client_for(demo_operator)
    response = client.post(
        url(engagement_a, "months/"),
        {"month": "2027-01", "visitors": "10", "paying_buyers": "1", "gmv": "10"},
    )
    assert (
        response.status_code == 400 and "Enter a month that has ended." in response.content.decode()
    )
    with agency_scope(engagement_a.agency_id):
        assert not StoreDayFact.objects.exists()
    response = client.post(
        url(engagement_a, "months/"),
        {"month": "2026-10", "visitors": "31000", "paying_buyers": "620", "gmv": "93000.00"},
    )
    assert response.status_code == 302
    body = client.get(url(engagement_a)).content.decode()
    assert "2026-10-31" in body and "31,000" in body and "2.00%" in body and "¥150.00" in body


def test_the_engagement_page_panel(
    client_for, demo_operator, brand_a_owner, engagement_a, make_report
):
    staff_body = (
        client_for(demo_operator).get(f"/demo/engagements/{engagement_a.pk}/").content.decode()
    )
    assert url(engagement_a) in staff_body and "No report published yet" in staff_body
    brand_body = (
        client_for(brand_a_owner).get(f"/demo/engagements/{engagement_a.pk}/").content.decode()
    )
    assert "preparing the diagnosis report" in brand_body
    make_report(engagement_a)
    brand_body = (
        client_for(brand_a_owner).get(f"/demo/engagements/{engagement_a.pk}/").content.decode()
    )
    assert url(engagement_a, "report/") in brand_body
    assert f'href="{url(engagement_a)}"' not in brand_body
    assert "Read the diagnosis report" in brand_body
