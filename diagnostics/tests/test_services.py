"""Writes of the diagnosis: rules, refusals that change nothing, monthly entry, report versions."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agency.tenancy import agency_scope
from diagnostics import services
from diagnostics.demo import diagnosis_seed_demo
from diagnostics.models import Competitor, DiagnosisIntake, DiagnosisReport, Persona, ReportStatus
from diagnostics.selectors import diagnosis_baseline
from execution.metrics.ingestion import spread_count, spread_money
from execution.metrics.query import metrics_query
from execution.models import IngestionRun, StoreDayAdFact, StoreDayFact

INTAKE = {
    "goal": "growth",
    "budget_min": Decimal("100000.00"),
    "budget_max": Decimal("300000.00"),
    "category": "家居收纳",
    "price_low": Decimal("59.00"),
    "price_high": Decimal("299.00"),
    "average_order_value": Decimal("128.00"),
    "advantages": "自有工厂",
    "has_tmall_store": True,
    "past_operations": "月均 20 万",
}


@pytest.fixture
def scoped(demo_agency):
    with agency_scope(demo_agency):
        yield


# --- intake ------------------------------------------------------------------------------------


def test_the_intake_is_saved_once_per_engagement(scoped, demo_operator, engagement_a):
    services.diagnosis_intake_save(actor=demo_operator, engagement=engagement_a, **INTAKE)
    services.diagnosis_intake_save(
        actor=demo_operator, engagement=engagement_a, **{**INTAKE, "category": "厨房"}
    )
    intakes = list(DiagnosisIntake.objects.filter(engagement=engagement_a))
    assert len(intakes) == 1
    assert intakes[0].category == "厨房" and intakes[0].agency_id == engagement_a.agency_id
    assert intakes[0].updated_by == demo_operator.user


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"budget_min": Decimal("-1.00")}, "budget_min", "zero or more"),
        ({"budget_min": Decimal("500000.00")}, "budget_max", "budget's upper end"),
        ({"price_low": Decimal("300.00")}, "price_high", "price band's upper end"),
        ({"average_order_value": Decimal("-5.00")}, "average_order_value", "zero or more"),
        ({"goal": "world_domination"}, "goal", "Choose a goal"),
    ],
)
def test_bad_intake_is_refused_and_nothing_changes(
    scoped, demo_operator, engagement_a, changes, field, message
):
    services.diagnosis_intake_save(actor=demo_operator, engagement=engagement_a, **INTAKE)
    with pytest.raises(ValidationError) as refused:
        services.diagnosis_intake_save(
            actor=demo_operator, engagement=engagement_a, **{**INTAKE, **changes}
        )
    assert message in " ".join(refused.value.message_dict[field])
    intake = DiagnosisIntake.objects.get(engagement=engagement_a)
    assert intake.budget_min == INTAKE["budget_min"] and intake.price_low == INTAKE["price_low"]
    assert intake.goal == "growth" and intake.average_order_value == Decimal("128.00")


def test_brand_users_cannot_write_the_diagnosis(scoped, brand_a_owner, engagement_a):
    with pytest.raises(PermissionDenied):
        services.diagnosis_intake_save(actor=brand_a_owner, engagement=engagement_a, **INTAKE)
    with pytest.raises(PermissionDenied):
        services.competitor_create(actor=brand_a_owner, engagement=engagement_a, name="X")
    assert not DiagnosisIntake.objects.exists() and not Competitor.objects.exists()


# --- competitors and personas -------------------------------------------------------------------


def test_competitors_are_added_edited_and_removed(scoped, demo_operator, engagement_a):
    competitor = services.competitor_create(
        actor=demo_operator,
        engagement=engagement_a,
        name="森屿家居",
        store_url="https://senyu.tmall.com",
        monthly_sales=Decimal("1850000.00"),
        price_low=Decimal("89.00"),
        price_high=Decimal("459.00"),
        marketing_tactics="直通车",
    )
    services.competitor_create(actor=demo_operator, engagement=engagement_a, name="木言生活")
    services.competitor_update(
        actor=demo_operator, competitor=competitor, name="森屿家居旗舰店", notes="评价多"
    )
    competitor.refresh_from_db()
    assert competitor.name == "森屿家居旗舰店" and competitor.notes == "评价多"
    assert competitor.monthly_sales is None  # an edit replaces every field
    services.competitor_delete(actor=demo_operator, competitor=competitor)
    assert list(Competitor.objects.values_list("name", flat=True)) == ["木言生活"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "  "}, "name", "name"),
        ({"name": "A", "store_url": "not a url"}, "store_url", "valid URL"),
        ({"name": "A", "monthly_sales": Decimal("-1")}, "monthly_sales", "zero or more"),
        (
            {"name": "A", "price_low": Decimal("10"), "price_high": Decimal("5")},
            "price_high",
            "upper end",
        ),
        ({"name": "Taken"}, "name", "already has a competitor"),
    ],
)
def test_bad_competitors_are_refused_and_nothing_changes(
    scoped, demo_operator, engagement_a, fields, field, message
):
    services.competitor_create(actor=demo_operator, engagement=engagement_a, name="Taken")
    with pytest.raises(ValidationError) as refused:
        services.competitor_create(actor=demo_operator, engagement=engagement_a, **fields)
    assert message in " ".join(refused.value.message_dict[field])
    assert list(Competitor.objects.values_list("name", flat=True)) == ["Taken"]


def test_the_same_competitor_name_is_fine_on_another_engagement(
    scoped, demo_operator, engagement_a, engagement_b
):
    services.competitor_create(actor=demo_operator, engagement=engagement_a, name="Same")
    services.competitor_create(actor=demo_operator, engagement=engagement_b, name="Same")
    assert Competitor.objects.filter(name="Same").count() == 2


def test_personas_keep_age_bands_in_order_and_refuse_unknown_ones(
    scoped, demo_operator, engagement_a
):
    persona = services.persona_create(
        actor=demo_operator,
        engagement=engagement_a,
        name="新婚小家庭",
        age_bands=["31_35", "25_30"],
        consumption_habits="大促囤货",
        pain_points="怕麻烦",
    )
    assert persona.age_bands == ["25_30", "31_35"]
    with pytest.raises(ValidationError) as refused:
        services.persona_update(
            actor=demo_operator, persona=persona, name="新婚小家庭", age_bands=["12_99"]
        )
    assert "age_bands" in refused.value.message_dict
    persona.refresh_from_db()
    assert persona.age_bands == ["25_30", "31_35"] and persona.pain_points == "怕麻烦"
    services.persona_delete(actor=demo_operator, persona=persona)
    assert not Persona.objects.exists()


# --- months entered by hand ---------------------------------------------------------------------


def test_spreading_adds_up_exactly():
    assert spread_count(100, 30) == [4] * 10 + [3] * 20
    assert sum(spread_count(12_345, 31)) == 12_345
    parts = spread_money(Decimal("1000.00"), 31)
    assert sum(parts) == Decimal("1000.00") and {p.as_tuple().exponent for p in parts} == {-2}
    assert max(parts) - min(parts) == Decimal("0.01")


def test_a_month_becomes_store_day_facts_the_metric_query_reads(
    scoped, demo_operator, engagement_a, store_a
):
    runs = services.diagnosis_month_enter(
        actor=demo_operator,
        engagement=engagement_a,
        month=datetime.date(2026, 2, 1),
        visitors=28_001,
        paying_buyers=561,
        gmv=Decimal("84123.45"),
        ad_spend=Decimal("9999.99"),
    )
    assert [run.source for run in runs] == [IngestionRun.Source.MONTHLY] * 2
    assert all(run.status == IngestionRun.Status.SUCCEEDED for run in runs)
    assert StoreDayFact.objects.filter(store=store_a).count() == 28
    row = metrics_query(
        store_ids=[store_a.pk],
        start=datetime.date(2026, 2, 1),
        end=datetime.date(2026, 2, 28),
        grain="total",
    )[0]
    assert row["visitors"] == 28_001 and row["paying_buyers"] == 561
    assert row["gmv"] == Decimal("84123.45") and row["ad_spend"] == Decimal("9999.99")
    baseline = diagnosis_baseline(engagement=engagement_a)
    assert baseline.last_data_date == datetime.date(2026, 2, 28)
    assert baseline.windows[30].values["gmv"] == Decimal("84123.45")


def test_a_month_entered_again_replaces_itself_spend_included(
    scoped, demo_operator, engagement_a, store_a
):
    month = datetime.date(2026, 1, 1)
    common = {"actor": demo_operator, "engagement": engagement_a, "month": month}
    services.diagnosis_month_enter(
        **common, visitors=100, paying_buyers=10, gmv=Decimal("1000.00"), ad_spend=Decimal("50.00")
    )
    services.diagnosis_month_enter(**common, visitors=310, paying_buyers=31, gmv=Decimal("3.10"))
    row = metrics_query(
        store_ids=[store_a.pk], start=month, end=datetime.date(2026, 1, 31), grain="total"
    )[0]
    assert row["visitors"] == 310 and row["paying_buyers"] == 31 and row["gmv"] == Decimal("3.10")
    assert row["ad_spend"] is None
    assert StoreDayFact.objects.filter(store=store_a).count() == 31
    assert not StoreDayAdFact.objects.filter(store=store_a).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"month": datetime.date(2026, 11, 1)}, "month", "ended"),  # the current month
        ({"month": datetime.date(2027, 1, 1)}, "month", "ended"),
        ({"paying_buyers": 101}, "paying_buyers", "more than visitors"),
        ({"visitors": -1, "paying_buyers": -2}, "visitors", "zero or more"),
        ({"gmv": Decimal("-0.01")}, "gmv", "zero or more"),
        ({"gmv": Decimal("1.001")}, "gmv", "to the cent"),
    ],
)
def test_bad_months_are_refused_and_nothing_changes(
    scoped, demo_operator, engagement_a, store_a, changes, field, message
):
    fields = {
        "month": datetime.date(2026, 9, 1),
        "visitors": 100,
        "paying_buyers": 10,
        "gmv": Decimal("100.00"),
        **changes,
    }
    with pytest.raises(ValidationError) as refused:
        services.diagnosis_month_enter(actor=demo_operator, engagement=engagement_a, **fields)
    assert message in " ".join(refused.value.message_dict[field])
    assert not StoreDayFact.objects.exists() and not IngestionRun.objects.exists()


def test_a_month_with_exported_daily_data_is_refused(
    scoped, push, demo_operator, engagement_a, store_a
):
    push(
        store_a,
        "store_day",
        [{"date": "2026-03-15", "visitors": 7, "paying_buyers": 1, "gmv": "9.00"}],
    )
    with pytest.raises(ValidationError) as refused:
        services.diagnosis_month_enter(
            actor=demo_operator,
            engagement=engagement_a,
            month=datetime.date(2026, 3, 1),
            visitors=100,
            paying_buyers=1,
            gmv=Decimal("1.00"),
        )
    assert "export" in " ".join(refused.value.message_dict["month"])
    assert list(StoreDayFact.objects.values_list("visitors", flat=True)) == [7]


# --- report versions ----------------------------------------------------------------------------


@pytest.fixture
def diagnosed(scoped, demo_operator, engagement_a):
    services.diagnosis_intake_save(actor=demo_operator, engagement=engagement_a, **INTAKE)
    services.competitor_create(
        actor=demo_operator, engagement=engagement_a, name="森屿家居", price_low=Decimal("39.00")
    )
    services.persona_create(
        actor=demo_operator, engagement=engagement_a, name="新婚小家庭", age_bands=["25_30"]
    )
    return engagement_a


def test_generating_writes_every_part_of_the_diagnosis(diagnosed, demo_operator, push, store_a):
    push(
        store_a,
        "store_day",
        [
            {
                "date": datetime.date(2026, 10, 31) - datetime.timedelta(days=d),
                "visitors": 1000,
                "paying_buyers": 20,
                "gmv": "3000.00",
            }
            for d in range(60)
        ],
    )
    report = services.diagnosis_report_generate(actor=demo_operator, engagement=diagnosed)
    assert report.number == 1 and report.status == ReportStatus.DRAFT
    assert report.created_by == demo_operator.user
    text = {section["key"]: section["body"] for section in report.sections}
    assert {
        "overview",
        "goals",
        "product",
        "existing",
        "baseline",
        "competitors",
        "personas",
        "findings",
    } <= set(text)
    assert "¥100,000.00 – ¥300,000.00" in text["goals"]
    assert "家居收纳" in text["product"] and "自有工厂" in text["product"]
    assert "森屿家居" in text["competitors"] and "新婚小家庭" in text["personas"]
    assert "25–30" in text["personas"]
    # 30 days: 30,000 visitors, 2.00% conversion, flat against the 30 days before.
    assert "30,000" in text["baseline"] and "2.00%" in text["baseline"]
    assert "about the same" in text["baseline"]
    assert "Last 90 days" in text["baseline"] and "no comparison" in text["baseline"]
    assert "¥59.00" in text["findings"] and "¥39.00" in text["findings"]


def test_without_data_the_report_says_there_is_no_baseline(scoped, demo_operator, engagement_a):
    report = services.diagnosis_report_generate(actor=demo_operator, engagement=engagement_a)
    baseline = next(s for s in report.sections if s["key"] == "baseline")
    assert "no data yet" in baseline["body"]


def test_generating_again_rewrites_the_open_draft_not_a_new_version(diagnosed, demo_operator):
    first = services.diagnosis_report_generate(actor=demo_operator, engagement=diagnosed)
    services.competitor_create(actor=demo_operator, engagement=diagnosed, name="木言生活")
    second = services.diagnosis_report_generate(actor=demo_operator, engagement=diagnosed)
    assert second.pk == first.pk and DiagnosisReport.objects.count() == 1
    assert "木言生活" in next(s for s in second.sections if s["key"] == "competitors")["body"]


def test_edit_publish_then_a_new_draft_copied_from_the_latest(
    diagnosed, demo_operator, demo_manager
):
    draft = services.diagnosis_report_generate(actor=demo_operator, engagement=diagnosed)
    sections = [{"key": "overview", "title": "总览", "body": "品牌现状良好"}]
    services.diagnosis_report_update(
        actor=demo_operator, report=draft, title="Brand A 诊断报告", sections=sections
    )
    published = services.diagnosis_report_publish(actor=demo_manager, report=draft)
    assert published.status == ReportStatus.PUBLISHED
    assert published.published_by == demo_manager.user and published.published_at is not None
    second = services.diagnosis_report_new_draft(actor=demo_operator, engagement=diagnosed)
    assert second.number == 2 and second.status == ReportStatus.DRAFT
    assert second.title == "Brand A 诊断报告" and second.sections == sections
    # Asking again returns the open draft rather than a third version.
    assert services.diagnosis_report_new_draft(actor=demo_operator, engagement=diagnosed) == second
    services.diagnosis_report_update(
        actor=demo_operator,
        report=second,
        title="Brand A 诊断报告",
        sections=[{"key": "overview", "title": "总览", "body": "更新后的判断"}],
    )
    first = DiagnosisReport.objects.get(number=1)
    assert first.sections == sections  # what the brand read stays on record


def test_a_published_version_cannot_be_edited_published_again_or_discarded(
    diagnosed, demo_operator, demo_manager
):
    draft = services.diagnosis_report_generate(actor=demo_operator, engagement=diagnosed)
    services.diagnosis_report_publish(actor=demo_manager, report=draft)
    before = DiagnosisReport.objects.get(pk=draft.pk).sections
    with pytest.raises(ValidationError, match="published and cannot be edited"):
        services.diagnosis_report_update(
            actor=demo_manager, report=draft, title="x", sections=[{"title": "x", "body": "y"}]
        )
    with pytest.raises(ValidationError, match="already published"):
        services.diagnosis_report_publish(actor=demo_manager, report=draft)
    with pytest.raises(ValidationError, match="stays on record"):
        services.diagnosis_report_discard(actor=demo_manager, report=draft)
    reloaded = DiagnosisReport.objects.get(pk=draft.pk)
    assert reloaded.sections == before and reloaded.title != "x"


@pytest.mark.parametrize(
    ("title", "sections", "message"),
    [
        ("", [{"key": "a", "title": "A", "body": "b"}], "title"),
        ("T", [], "at least one section"),
        ("T", [{"key": "a", "title": " ", "body": "b"}], "needs a title"),
    ],
)
def test_bad_draft_edits_are_refused_and_nothing_changes(
    diagnosed, demo_operator, title, sections, message
):
    draft = services.diagnosis_report_generate(actor=demo_operator, engagement=diagnosed)
    with pytest.raises(ValidationError, match=message):
        services.diagnosis_report_update(
            actor=demo_operator, report=draft, title=title, sections=sections
        )
    reloaded = DiagnosisReport.objects.get(pk=draft.pk)
    assert reloaded.sections == draft.sections and reloaded.title == draft.title


def test_publishing_needs_the_engagement_edit_right(
    diagnosed, demo_operator, demo_admin, make_member, demo_agency
):
    from agency.models import Role

    other_manager = make_member(demo_agency, Role.ACCOUNT_MANAGER)
    draft = services.diagnosis_report_generate(actor=demo_operator, engagement=diagnosed)
    for actor in (demo_operator, other_manager):
        with pytest.raises(PermissionDenied):
            services.diagnosis_report_publish(actor=actor, report=draft)
    assert DiagnosisReport.objects.get(pk=draft.pk).status == ReportStatus.DRAFT
    services.diagnosis_report_publish(actor=demo_admin, report=draft)
    assert DiagnosisReport.objects.get(pk=draft.pk).status == ReportStatus.PUBLISHED


def test_an_empty_report_is_not_published(scoped, demo_manager, engagement_a):
    draft = services.diagnosis_report_generate(actor=demo_manager, engagement=engagement_a)
    services.diagnosis_report_update(
        actor=demo_manager,
        report=draft,
        title="T",
        sections=[{"key": "a", "title": "A", "body": ""}],
    )
    with pytest.raises(ValidationError, match="empty"):
        services.diagnosis_report_publish(actor=demo_manager, report=draft)


def test_a_new_draft_needs_a_report_first(scoped, demo_operator, engagement_a):
    with pytest.raises(ValidationError, match="generate one first"):
        services.diagnosis_report_new_draft(actor=demo_operator, engagement=engagement_a)
    assert not DiagnosisReport.objects.exists()


# --- demo ---------------------------------------------------------------------------------------


def test_the_demo_seed_publishes_a_report_once(scoped, demo_manager, engagement_a):
    first = diagnosis_seed_demo(engagement=engagement_a, actor=demo_manager)
    second = diagnosis_seed_demo(engagement=engagement_a, actor=demo_manager)
    assert first.pk == second.pk and first.status == ReportStatus.PUBLISHED
    assert DiagnosisReport.objects.count() == 1
    assert Competitor.objects.count() == 2 and Persona.objects.count() == 2
    assert DiagnosisIntake.objects.get(engagement=engagement_a).budget_max == Decimal("500000.00")
    assert first.title == "Brand A 品牌现状诊断报告"
    findings = next(s for s in first.sections if s["key"] == "findings")
    assert "直通车" in findings["body"]
