"""The data handover: the file read back (same numbers as the database, numbers as numbers,
dates as dates), hostile text neutralised with zero formula cells, the brand and internal
audiences, who may download, the command line, and the record of every export."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone
from openpyxl import load_workbook

from agency.tenancy import agency_scope
from engagements.models import EngagementTarget
from execution.models import (
    Campaign,
    Channel,
    KeywordRank,
    Offer,
    OfferKind,
    StoreDayAdFact,
    StoreDayFact,
    StoreDayProductFact,
    StoreDaySourceFact,
    TierSnapshot,
)
from reporting.exports.tables import DATE, INTEGER, MONEY, Column, Table
from reporting.exports.writers import write_csv_zip, write_xlsx
from reporting.models import (
    ExportRecord,
    FullReview,
    FullReviewAction,
    FullReviewFinding,
    LongTermPlan,
    Recommendation,
    ReviewStatus,
)

ALL_HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\0x"]
# PostgreSQL text cannot hold NUL, so no stored row can start with one; the writers' own test
# below feeds "\0x" straight in.
HOSTILE = [text for text in ALL_HOSTILE if "\0" not in text]


def url(engagement) -> str:
    return f"/{engagement.agency.slug}/engagements/{engagement.pk}/handover/"


def download(client, engagement, **data) -> tuple[bytes, object]:
    response = client.post(url(engagement), data)
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content), response


def sheets(content: bytes) -> dict[str, list[tuple]]:
    """Sheet key (the English part of its title) -> rows of cells, header first."""
    workbook = load_workbook(io.BytesIO(content))
    return {ws.title.split()[-1]: [tuple(row) for row in ws.iter_rows()] for ws in workbook}


def csv_files(content: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        result = {}
        for name in archive.namelist():
            raw = archive.read(name)
            assert raw.startswith(b"\xef\xbb\xbf"), name  # UTF-8 with BOM, for Excel
            text = raw.decode("utf-8-sig")
            if name.endswith(".csv"):
                result[name[:-4]] = list(csv.reader(io.StringIO(text, newline="")))
            else:
                result[name] = text
        return result


def column(rows, key: str) -> list:
    """The values under the header that ends with `key`."""
    headers = [cell.value if hasattr(cell, "value") else cell for cell in rows[0]]
    index = next(i for i, header in enumerate(headers) if header.split()[-1] == key)
    return [row[index].value if hasattr(row[index], "value") else row[index] for row in rows[1:]]


@pytest.fixture
def handover(
    push,
    engagement_a,
    demo_manager,
    make_setup_item,
    make_review,
    make_action_item,
    make_keyword,
):
    """Brand A's engagement (from 2026-01-01) with known figures, one row of each before its
    start (never exported), internal rows besides brand-visible ones, and hostile text."""
    store = engagement_a.store
    push(
        store,
        "store_day",
        [
            {"date": "2025-12-31", "visitors": 999, "paying_buyers": 9, "gmv": "9999.99"},
            {"date": "2026-03-01", "visitors": 1000, "paying_buyers": 40, "gmv": "4000.50"},
            {"date": "2026-03-02", "visitors": 1200, "paying_buyers": 30, "gmv": "2999.25"},
        ],
    )
    push(
        store,
        "store_day_source",
        [
            {"date": "2026-03-01", "source": "手淘搜索", "visitors": 600, "gmv": "2500.00"},
            {"date": "2026-03-01", "source": "直通车", "visitors": 400, "gmv": "1500.50"},
        ],
    )
    push(
        store,
        "store_day_product",
        [
            {"date": "2026-03-01", "item_id": "6001", "item_name": "面霜", "gmv": "3000.10"},
            {"date": "2026-03-02", "item_id": "6001", "item_name": "面霜", "gmv": "1000.20"},
            {"date": "2026-03-02", "item_id": "6002", "item_name": "精华", "gmv": "999.05"},
        ],
    )
    push(
        store,
        "store_day_ad",
        [
            {
                "date": "2026-03-01",
                "ad_tool": "zhitongche",
                "campaign": "核心词",
                "impressions": 10000,
                "clicks": 300,
                "ad_orders": 12,
                "ad_spend": "450.55",
                "ad_gmv": "1800.00",
            },
            {
                "date": "2026-03-02",
                "ad_tool": "wanxiangtai",
                "campaign": "拉新",
                "impressions": 5000,
                "clicks": 100,
                "ad_orders": 3,
                "ad_spend": "120.45",
                "ad_gmv": "300.00",
            },
        ],
    )
    with agency_scope(engagement_a.agency_id):
        EngagementTarget.objects.create(
            engagement=engagement_a,
            metric="gmv",
            comparison=">=",
            value=Decimal("500000"),
            period="month",
            by_month=3,
        )
        for number, name in enumerate(HOSTILE):
            Campaign.objects.create(
                engagement=engagement_a,
                name=name,
                channel=Channel.ZHITONGCHE,
                start_date=datetime.date(2026, 3, 1),
                end_date=datetime.date(2026, 3, 31),
                budget=Decimal("1000.00") + number,
                targeting_notes="SECRET-TARGETING",
            )
        Campaign.objects.create(
            engagement=engagement_a,
            name="INTERNAL-CAMPAIGN",
            channel=Channel.WANXIANGTAI,
            start_date=datetime.date(2026, 3, 1),
            end_date=datetime.date(2026, 3, 31),
            budget=Decimal("77.00"),
            brand_visible=False,
        )
        Offer.objects.create(
            engagement=engagement_a,
            name="满300减50",
            kind=OfferKind.FULL_REDUCTION,
            threshold=Decimal(300),
            discount=Decimal(50),
            start_date=datetime.date(2026, 3, 1),
            end_date=datetime.date(2026, 3, 11),
            issued=100,
            gmv=Decimal("2400.00"),
        )
        Offer.objects.create(
            engagement=engagement_a,
            name="INTERNAL-OFFER",
            kind=OfferKind.STORE_COUPON,
            discount=Decimal(10),
            start_date=datetime.date(2026, 3, 1),
            end_date=datetime.date(2026, 3, 11),
            brand_visible=False,
        )
        for month, gmv in (
            (datetime.date(2026, 2, 1), "800.00"),
            (datetime.date(2026, 3, 1), "1200.40"),
        ):
            TierSnapshot.objects.create(
                engagement=engagement_a, month=month, tier="new", buyers=10, orders=12, gmv=gmv
            )
    for title in HOSTILE:
        make_setup_item(
            engagement_a, title=title, owner=demo_manager, due_date=datetime.date(2026, 2, 1)
        )
    make_setup_item(engagement_a, title="INTERNAL-ITEM", brand_visible=False)
    keyword = make_keyword(engagement_a, keyword="保湿面霜")
    make_keyword(engagement_a, keyword="never checked")
    with agency_scope(engagement_a.agency_id):
        KeywordRank.objects.create(keyword=keyword, date=datetime.date(2026, 3, 1), rank=12)
        KeywordRank.objects.create(keyword=keyword, date=datetime.date(2026, 3, 2), rank=8)
    published = make_review(
        engagement_a,
        narrative=HOSTILE[0],
        content={
            "metrics": {
                "gmv": {"value": "7000.75"},
                "visitors": {"value": 2200},
                "conversion_rate": {"value": "0.031818"},
                "roi": {"value": "3.250000"},
            }
        },
    )
    make_action_item(
        published, title="-2+3", owner=demo_manager, due_date=datetime.date(2026, 3, 9)
    )
    draft = make_review(engagement_a, status=ReviewStatus.DRAFT, narrative="DRAFT-NARRATIVE")
    make_action_item(draft, title="DRAFT-ACTION")
    add_full_reviews(engagement_a, demo_manager)
    return engagement_a


def add_full_reviews(engagement, owner) -> None:
    """Two published full reviews (the first with a published plan, the second with a draft
    one) and a draft review, each with a finding and an action item."""
    with agency_scope(engagement.agency_id):
        published, second, draft = (
            FullReview.objects.create(
                engagement=engagement,
                period_start=start,
                period_end=end,
                status=status,
                published_at=timezone.now() if status == ReviewStatus.PUBLISHED else None,
                content=content,
                narrative=narrative,
                target_answer="一月目标未达成",
                cause_answer="投放不足",
            )
            for start, end, status, content, narrative in (
                (
                    datetime.date(2026, 1, 1),
                    datetime.date(2026, 2, 28),
                    ReviewStatus.PUBLISHED,
                    {
                        "totals": {
                            "gmv": "6999.75",
                            "visitors": 2200,
                            "conversion_rate": "0.031818",
                            "aov": None,
                            "roi": "3.250000",
                        },
                        "targets_met": 1,
                        "targets_judged": 2,
                    },
                    HOSTILE[1],
                ),
                (
                    datetime.date(2026, 3, 1),
                    datetime.date(2026, 3, 31),
                    ReviewStatus.PUBLISHED,
                    {},
                    "",
                ),
                (
                    datetime.date(2026, 1, 1),
                    datetime.date(2026, 3, 31),
                    ReviewStatus.DRAFT,
                    {},
                    "DRAFT-FULL-REVIEW",
                ),
            )
        )
        for review, statement, title in (
            (published, "搜索增长", "加投直通车"),
            (draft, "DRAFT-FINDING", "DRAFT-FULL-ACTION"),
        ):
            FullReviewFinding.objects.create(
                review=review,
                kind="strength",
                statement=statement,
                evidence="访客 +20%\n转化 +5%",
                rule="SECRET-RULE",
            )
            FullReviewAction.objects.create(
                review=review, title=title, owner=owner, due_date=datetime.date(2026, 3, 15)
            )
        plan = LongTermPlan.objects.create(
            full_review=published,
            engagement=engagement,
            status=ReviewStatus.PUBLISHED,
            published_at=timezone.now(),
            summary="继续合作",
            suggested_services=["traffic", "conversion"],
        )
        for position, title in ((3, "扩大预算"), (5, "私域运营")):  # gaps, as after a delete
            Recommendation.objects.create(
                plan=plan, title=title, reason="ROI 3.25", rule="SECRET-RULE", position=position
            )
        draft_plan = LongTermPlan.objects.create(full_review=second, engagement=engagement)
        Recommendation.objects.create(
            plan=draft_plan, title="DRAFT-RECOMMENDATION", reason="draft", position=0
        )


def db_sum(engagement, model, field):
    with agency_scope(engagement.agency_id):
        return model.objects.filter(
            store=engagement.store, date__gte=engagement.start_date
        ).aggregate(total=Sum(field))["total"]


# --- the workbook ---------------------------------------------------------------------------


def test_the_workbook_holds_the_database_numbers_as_numbers_and_dates_as_dates(
    client_for, demo_manager, handover
):
    content, response = download(
        client_for(demo_manager), handover, file_format="xlsx", audience="internal"
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = sheets(content)
    assert list(book) == [
        "store_day",
        "store_day_source",
        "store_day_product",
        "store_day_ad",
        "targets",
        "campaigns",
        "setup_items",
        "offers",
        "keyword_ranks",
        "tier_snapshots",
        "reviews",
        "review_actions",
        "full_reviews",
        "full_review_findings",
        "full_review_actions",
        "long_term_plans",
        "plan_recommendations",
    ]
    store_day = book["store_day"]
    assert store_day[0][0].value == "日期 date"
    assert "支付金额 gmv" in [cell.value for cell in store_day[0]]
    assert "访客数 visitors" in [cell.value for cell in store_day[0]]
    # The day before the engagement started is not handed over.
    assert len(store_day) == 3
    dates = column(store_day, "date")
    assert all(isinstance(value, datetime.datetime) for value in dates)
    assert [value.date() for value in dates] == [
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 2),
    ]
    assert all(cell.is_date for cell in (row[0] for row in store_day[1:]))
    gmv = column(store_day, "gmv")
    assert all(isinstance(value, float | int) for value in gmv)
    assert (
        round(Decimal(str(sum(gmv))), 2)
        == db_sum(handover, StoreDayFact, "gmv")
        == Decimal("6999.75")
    )
    visitors = column(store_day, "visitors")
    assert all(isinstance(value, int) for value in visitors)
    assert sum(visitors) == db_sum(handover, StoreDayFact, "visitors") == 2200
    money_cell = next(cell for cell in store_day[1] if cell.value == 4000.5)
    assert money_cell.number_format == "0.00" and money_cell.data_type == "n"

    for key, model, field in (
        ("store_day_source", StoreDaySourceFact, "gmv"),
        ("store_day_product", StoreDayProductFact, "gmv"),
        ("store_day_ad", StoreDayAdFact, "ad_spend"),
        ("store_day_ad", StoreDayAdFact, "ad_gmv"),
    ):
        values = column(book[key], field)
        assert round(Decimal(str(sum(values))), 2) == db_sum(handover, model, field), key
    assert sum(column(book["store_day_ad"], "clicks")) == db_sum(handover, StoreDayAdFact, "clicks")
    assert len(book["store_day_product"]) == 4

    assert column(book["targets"], "value") == [500000]
    assert column(book["tier_snapshots"], "gmv") == [800, 1200.4]
    budgets = column(book["campaigns"], "budget")
    assert sum(budgets) == sum(1000 + n for n in range(len(HOSTILE))) + 77
    assert "INTERNAL-CAMPAIGN" in column(book["campaigns"], "name")
    assert column(book["campaigns"], "ad_report_name")[-1] == "INTERNAL-CAMPAIGN"
    ranks = book["keyword_ranks"]
    assert column(ranks, "keyword") == ["never checked", "保湿面霜", "保湿面霜"]
    assert column(ranks, "rank") == [None, 12, 8]
    owners = column(book["setup_items"], "owner")
    assert owners[0] == "Max Manager"
    reviews = book["reviews"]
    assert column(reviews, "status") == ["published", "draft"]
    assert column(reviews, "gmv") == [7000.75, 1]
    assert column(reviews, "conversion_rate")[0] == pytest.approx(0.031818)
    assert column(reviews, "roi")[0] == 3.25
    assert column(book["review_actions"], "title") == ["'-2+3", "DRAFT-ACTION"]
    full_reviews = book["full_reviews"]
    assert column(full_reviews, "status") == ["published", "draft", "published"]
    assert column(full_reviews, "gmv") == [6999.75, None, None]
    assert column(full_reviews, "visitors")[0] == 2200
    assert isinstance(column(full_reviews, "visitors")[0], int)
    assert column(full_reviews, "conversion_rate")[0] == pytest.approx(0.031818)
    assert column(full_reviews, "roi")[0] == 3.25
    assert column(full_reviews, "targets_met")[0] == 1
    assert column(full_reviews, "targets_judged")[0] == 2
    assert column(full_reviews, "narrative")[0] == "'" + HOSTILE[1]
    assert column(full_reviews, "period_end")[0].date() == datetime.date(2026, 2, 28)
    findings = book["full_review_findings"]
    assert column(findings, "statement") == ["搜索增长", "DRAFT-FINDING"]
    assert column(findings, "evidence")[0] == "访客 +20%\n转化 +5%"
    assert column(book["full_review_actions"], "owner") == ["Max Manager", "Max Manager"]
    plans = book["long_term_plans"]
    assert column(plans, "status") == ["published", "draft"]
    assert column(plans, "suggested_services")[0] == "traffic,conversion"
    recommendations = book["plan_recommendations"]
    assert column(recommendations, "title") == ["扩大预算", "私域运营", "DRAFT-RECOMMENDATION"]
    assert column(recommendations, "position") == [1, 2, 1]


def test_no_cell_is_a_formula_and_hostile_text_comes_back_prefixed(
    client_for, demo_manager, handover
):
    content, _response = download(
        client_for(demo_manager), handover, file_format="xlsx", audience="internal"
    )
    workbook = load_workbook(io.BytesIO(content))
    formulas = [
        (ws.title, cell.coordinate)
        for ws in workbook
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []
    book = sheets(content)
    # XML keeps no NUL (it becomes U+FFFD) and reads a bare CR back as a line feed.
    expected = ["'" + text for text in HOSTILE]
    names = column(book["campaigns"], "name")[: len(HOSTILE)]
    assert sorted(value.replace("\n", "\r") for value in names) == sorted(expected)
    titles = column(book["setup_items"], "title")[: len(HOSTILE)]
    assert sorted(value.replace("\n", "\r") for value in titles) == sorted(expected)
    assert column(book["reviews"], "narrative")[0] == "'" + HOSTILE[0]
    for ws in workbook:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r", "\0"))


def test_the_zip_holds_utf8_csv_files_a_readme_and_the_same_numbers(
    client_for, brand_a_owner, handover
):
    content, response = download(client_for(brand_a_owner), handover, file_format="zip")
    assert response["Content-Type"] == "application/zip"
    files = csv_files(content)
    assert "README.txt" in files and "store_day_product.csv" in files["README.txt"]
    assert "数据交接" in files["README.txt"]
    store_day = files["store_day"]
    assert store_day[0][:3] == ["日期 date", "访客数 visitors", "浏览量 page_views"]
    assert column(store_day, "date") == ["2026-03-01", "2026-03-02"]
    assert column(store_day, "gmv") == ["4000.50", "2999.25"]
    assert sum(Decimal(value) for value in column(store_day, "gmv")) == db_sum(
        handover, StoreDayFact, "gmv"
    )
    assert sum(int(value) for value in column(store_day, "visitors")) == 2200
    ads = files["store_day_ad"]
    assert sum(Decimal(value) for value in column(ads, "ad_spend")) == db_sum(
        handover, StoreDayAdFact, "ad_spend"
    )
    products = files["store_day_product"]
    assert sum(Decimal(value) for value in column(products, "gmv")) == Decimal("4999.35")
    names = column(files["campaigns"], "name")
    assert sorted(names) == sorted("'" + text for text in HOSTILE)
    assert column(files["reviews"], "narrative") == ["'" + HOSTILE[0]]
    assert column(files["review_actions"], "title") == ["'-2+3"]
    full_reviews = files["full_reviews"]
    assert column(full_reviews, "period_start") == ["2026-01-01", "2026-03-01"]
    assert column(full_reviews, "gmv") == ["6999.75", ""]
    assert column(full_reviews, "roi")[0] == "3.250000"
    assert column(files["full_review_actions"], "title") == ["加投直通车"]
    assert column(files["plan_recommendations"], "title") == ["扩大预算", "私域运营"]


def test_the_brand_export_leaves_out_internal_rows_and_fields(client_for, brand_a_owner, handover):
    content, _response = download(client_for(brand_a_owner), handover, file_format="xlsx")
    book = sheets(content)
    everything = repr(book)
    for secret in (
        "INTERNAL-CAMPAIGN",
        "INTERNAL-ITEM",
        "INTERNAL-OFFER",
        "SECRET-TARGETING",
        "DRAFT-NARRATIVE",
        "DRAFT-ACTION",
        "DRAFT-FULL-REVIEW",
        "DRAFT-FINDING",
        "DRAFT-FULL-ACTION",
        "DRAFT-RECOMMENDATION",
        "SECRET-RULE",
        "targeting_notes",
        "brand_visible",
        "reminder_days",
    ):
        assert secret not in everything, secret
    assert len(book["campaigns"]) == 1 + len(HOSTILE)
    assert len(book["setup_items"]) == 1 + len(HOSTILE)
    assert column(book["offers"], "name") == ["满300减50"]
    assert len(book["reviews"]) == 2  # the header and the published review
    headers = [cell.value for cell in book["reviews"][0]]
    assert "状态 status" not in headers
    for key in ("full_reviews", "long_term_plans"):
        assert "状态 status" not in [cell.value for cell in book[key][0]], key
    assert len(book["full_reviews"]) == 3  # the header and the two published reviews
    assert column(book["long_term_plans"], "summary") == ["继续合作"]
    # The figures are the same for both audiences.
    assert len(book["store_day"]) == 3


def test_a_zip_export_has_a_readme_per_table_and_an_ascii_and_utf8_file_name(
    client_for, demo_manager, handover
):
    with agency_scope(handover.agency_id):
        handover.title = "全链路增长"
        handover.save()
    content, response = download(
        client_for(demo_manager), handover, file_format="zip", audience="brand"
    )
    disposition = response["Content-Disposition"]
    today = datetime.date.today().isoformat()
    assert disposition.startswith('attachment; filename="brand-a')
    assert "filename*=UTF-8''brand-a_%E5%85%A8%E9%93%BE%E8%B7%AF%E5%A2%9E%E9%95%BF_" in disposition
    assert disposition.endswith(".zip")
    with agency_scope(handover.agency_id):
        record = ExportRecord.objects.get()
    assert record.filename.startswith("brand-a_全链路增长_") and record.filename.endswith(".zip")
    assert record.filename[len("brand-a_全链路增长_") : -4] in {
        today,
        (datetime.date.today() + datetime.timedelta(days=1)).isoformat(),  # Shanghai is ahead
        (datetime.date.today() - datetime.timedelta(days=1)).isoformat(),
    }
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist()[0] == "README.txt"
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}


# --- who may take what, and bad input ---------------------------------------------------------


def test_other_brands_and_agencies_get_404_and_nothing_is_recorded(
    client_for, brand_b_owner, rival_manager, handover
):
    for member in (brand_b_owner, rival_manager):
        client = client_for(member)
        assert client.get(url(handover)).status_code == 404
        assert client.post(url(handover), {"file_format": "xlsx"}).status_code == 404
    with agency_scope(handover.agency_id):
        assert not ExportRecord.objects.exists()


def test_bad_format_or_audience_is_refused_with_the_reason_and_records_nothing(
    client_for, demo_manager, brand_a_owner, handover
):
    client = client_for(demo_manager)
    response = client.post(url(handover), {"file_format": "pdf", "audience": "brand"})
    assert response.status_code == 400
    assert "Unknown format" in response.content.decode()
    response = client.post(url(handover), {"file_format": "xlsx", "audience": "everyone"})
    assert response.status_code == 400
    assert "Unknown audience" in response.content.decode()
    response = client.post(url(handover), {})
    assert response.status_code == 400
    # A brand owner cannot take the internal export.
    client = client_for(brand_a_owner)
    response = client.post(url(handover), {"file_format": "xlsx", "audience": "internal"})
    assert response.status_code == 400
    assert "Only agency staff may export the internal data." in response.content.decode()
    with agency_scope(handover.agency_id):
        assert not ExportRecord.objects.exists()


def test_brand_viewers_download_the_brand_export_too(client_for, brand_a_viewer, handover):
    content, _response = download(client_for(brand_a_viewer), handover, file_format="xlsx")
    assert "INTERNAL-CAMPAIGN" not in repr(sheets(content))


# --- the page and the record ------------------------------------------------------------------


def test_the_page_shows_the_tables_row_counts_and_the_history(
    client_for, demo_manager, brand_a_owner, handover
):
    client = client_for(demo_manager)
    page = client.get(url(handover)).content.decode()
    assert "store_day_product" in page and "2026-03-02" in page
    assert "No export yet." in page
    download(client, handover, file_format="xlsx", audience="internal")
    download(client, handover, file_format="zip", audience="brand")
    with agency_scope(handover.agency_id):
        records = list(ExportRecord.objects.order_by("pk"))
    assert [(r.audience, r.file_format) for r in records] == [
        ("internal", "xlsx"),
        ("brand", "zip"),
    ]
    internal, brand = records
    assert internal.requested_by == demo_manager.user
    assert internal.row_counts["store_day"] == 2
    assert internal.row_counts["campaigns"] == len(HOSTILE) + 1
    assert brand.row_counts["campaigns"] == len(HOSTILE)
    assert internal.size > 0 and len(internal.sha256) == 64
    page = client.get(url(handover)).content.decode()
    assert "Max Manager" in page and "Internal (everything)" in page
    # Brand users see the brand exports only (an internal export is staff information).
    page = client_for(brand_a_owner).get(url(handover)).content.decode()
    assert brand.filename in page and "Internal (everything)" not in page
    assert page.count("CSV files in a ZIP") >= 1 and "Excel workbook (XLSX)</td>" not in page


def test_the_same_data_gives_the_same_bytes(client_for, demo_manager, handover):
    client = client_for(demo_manager)
    for file_format in ("xlsx", "zip"):
        first, _ = download(client, handover, file_format=file_format, audience="internal")
        second, _ = download(client, handover, file_format=file_format, audience="internal")
        assert first == second, file_format


def test_the_engagements_end_date_bounds_the_facts(client_for, demo_manager, handover):
    with agency_scope(handover.agency_id):
        handover.end_date = datetime.date(2026, 3, 1)
        handover.save()
    content, _ = download(client_for(demo_manager), handover, file_format="zip", audience="brand")
    assert column(csv_files(content)["store_day"], "date") == ["2026-03-01"]


# --- the command ------------------------------------------------------------------------------


def test_the_command_writes_the_same_file_as_the_page_and_records_it(
    tmp_path, client_for, brand_a_owner, demo_manager, handover
):
    page_bytes, _ = download(client_for(brand_a_owner), handover, file_format="xlsx")
    output = tmp_path / "handover.xlsx"
    stdout = io.StringIO()
    call_command(
        "export_engagement",
        engagement=str(handover.pk),
        format="xlsx",
        output=str(output),
        stdout=stdout,
    )
    assert output.read_bytes() == page_bytes
    assert "store_day 2" in stdout.getvalue()
    internal = tmp_path / "internal.zip"
    call_command(
        "export_engagement",
        engagement=str(handover.pk),
        format="zip",
        output=str(internal),
        audience="internal",
        user="MANAGER@demo.test",
        stdout=io.StringIO(),
    )
    assert "INTERNAL-CAMPAIGN" in repr(csv_files(internal.read_bytes())["campaigns"])
    with agency_scope(handover.agency_id):
        records = list(ExportRecord.objects.order_by("pk"))
    assert [(r.requested_by, r.audience, r.filename) for r in records[1:]] == [
        (None, "brand", "handover.xlsx"),
        (demo_manager.user, "internal", "internal.zip"),
    ]
    assert records[1].sha256 == records[0].sha256
    assert sorted(tmp_path.iterdir()) == sorted([output, internal])  # no temporary file left


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"engagement": "abc"}, "--engagement must be an id"),
        ({"engagement": "999999"}, "no engagement with id 999999"),
        ({"format": "pdf"}, "--format must be xlsx or zip"),
        ({"audience": "everyone"}, "--audience must be brand or internal"),
        ({"output": "/nonexistent-dir/x.xlsx"}, "does not exist"),
        ({"output": "{tmp}"}, "is a directory"),
        ({"user": "nobody@example.test"}, "no active member"),
        ({"user": "owner@brand-a.test", "audience": "internal"}, "Only agency staff"),
    ],
)
def test_the_command_fails_clearly_and_records_nothing(
    tmp_path, handover, brand_a_owner, arguments, message
):
    options = {
        "engagement": str(handover.pk),
        "format": "xlsx",
        "output": str(tmp_path / "out.xlsx"),
        **arguments,
    }
    options["output"] = options["output"].replace("{tmp}", str(tmp_path))
    with pytest.raises(CommandError, match=message):
        call_command("export_engagement", stdout=io.StringIO(), **options)
    with agency_scope(handover.agency_id):
        assert not ExportRecord.objects.exists()
    assert not (tmp_path / "out.xlsx").exists()


def test_the_command_refuses_a_place_it_cannot_write(handover):
    # /proc takes no new files, even for root (who ignores directory permissions).
    with pytest.raises(CommandError, match="cannot write in '/proc'"):
        call_command(
            "export_engagement",
            engagement=str(handover.pk),
            format="zip",
            output="/proc/handover.zip",
            stdout=io.StringIO(),
        )
    with agency_scope(handover.agency_id):
        assert not ExportRecord.objects.exists()


# --- the writers on their own -----------------------------------------------------------------


def test_negative_amounts_stay_numbers_and_text_that_looks_negative_is_prefixed():
    table = Table(
        key="sample",
        zh="样例",
        description="",
        columns=(
            Column("day", "日期", DATE),
            Column("label", "名称"),
            Column("amount", "金额", MONEY),
            Column("count", "数量", INTEGER),
        ),
        rows=lambda: iter(
            [
                (None, None, None, None),
                (datetime.date(2026, 1, 2), "-5", Decimal("-5.5"), -3),
            ]
        ),
        count=lambda: 2,
    )
    workbook_file = io.BytesIO()
    assert write_xlsx([table], workbook_file) == {"sample": 2}
    rows = sheets(workbook_file.getvalue())["sample"]
    assert [cell.value for cell in rows[1]] == [None, None, None, None]
    assert [cell.value for cell in rows[2]] == [datetime.datetime(2026, 1, 2), "'-5", -5.5, -3]
    assert rows[2][0].is_date
    assert [cell.data_type for cell in rows[2][1:]] == ["s", "n", "n"]
    archive_file = io.BytesIO()
    write_csv_zip([table], archive_file, readme="read me")
    files = csv_files(archive_file.getvalue())
    assert files["sample"][1:] == [["", "", "", ""], ["2026-01-02", "'-5", "-5.50", "-3"]]


def test_every_hostile_text_nul_included_is_neutralised_in_both_formats():
    table = Table(
        key="hostile",
        zh="文本",
        description="",
        columns=(Column("text", "文本"),),
        rows=lambda: iter([(text,) for text in ALL_HOSTILE]),
        count=lambda: len(ALL_HOSTILE),
    )
    workbook_file = io.BytesIO()
    write_xlsx([table], workbook_file)
    workbook = load_workbook(io.BytesIO(workbook_file.getvalue()))
    cells = [row[0] for row in workbook.active.iter_rows(min_row=2)]
    assert [cell.data_type for cell in cells] == ["s"] * len(ALL_HOSTILE)
    # XML holds no NUL (it becomes U+FFFD) and reads a bare CR back as a line feed.
    assert [cell.value.replace("\n", "\r") for cell in cells] == [
        "'" + text.replace("\0", "\ufffd") for text in ALL_HOSTILE
    ]
    archive_file = io.BytesIO()
    write_csv_zip([table], archive_file, readme="")
    rows = csv_files(archive_file.getvalue())["hostile"][1:]
    assert [row[0] for row in rows] == ["'" + text.replace("\0", "\ufffd") for text in ALL_HOSTILE]
