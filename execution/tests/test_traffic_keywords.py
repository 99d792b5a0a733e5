"""Search keywords per product and their rank history: add, edit, delete; a day's ranks recorded
at once (blank = not found, a day recorded again replaces it); a rank CSV imported all or
nothing; latest, best and changes; a server-side SVG chart; brand users read, never write."""

import datetime
import html

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from execution.models import KeywordRank, SearchKeyword
from execution.traffic import services
from execution.traffic.charts import rank_chart
from execution.traffic.selectors import keyword_rows


@pytest.fixture
def running(make_engagement, store_a, demo_manager):
    return make_engagement(store_a, demo_manager, stage=Stage.TRAFFIC, title="Brand A traffic")


def url(engagement, rest=""):
    return f"/demo/engagements/{engagement.pk}/traffic/keywords/{rest}"


def keywords_of(engagement):
    with agency_scope(engagement.agency_id):
        return list(SearchKeyword.objects.filter(engagement=engagement))


def ranks_of(keyword):
    with agency_scope(keyword.agency_id):
        return dict(KeywordRank.objects.filter(keyword=keyword).values_list("date", "rank"))


def test_keywords_are_added_edited_and_deleted(client_for, demo_operator, running):
    client = client_for(demo_operator)
    data = {
        "product_item_id": "600123456789",
        "product_name": "玻尿酸 保湿面霜 50ml",
        "keyword": "保湿面霜",
        "search_volume": "120000",
        "target_rank": "10",
    }
    assert client.post(url(running, "new/"), data).status_code == 302
    [keyword] = keywords_of(running)
    assert (keyword.keyword, keyword.search_volume, keyword.target_rank) == ("保湿面霜", 120000, 10)
    # The same keyword for the same product twice is named.
    response = client.post(url(running, "new/"), data)
    assert response.status_code == 400
    assert "“保湿面霜” is already tracked for item 600123456789" in html.unescape(
        response.content.decode()
    )
    response = client.post(url(running, f"{keyword.pk}/edit/"), {**data, "target_rank": "5"})
    assert response.status_code == 302
    keyword.refresh_from_db()
    assert keyword.target_rank == 5
    assert client.post(url(running, f"{keyword.pk}/delete/")).status_code == 302
    assert keywords_of(running) == []


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"product_item_id": "abc-1"}, "product_item_id", "“abc-1” is not a Tmall item id"),
        ({"target_rank": "0"}, "target_rank", "The target rank 0 is not between 1 and"),
        ({"search_volume": "-3"}, "search_volume", "The search volume -3 is negative"),
        # Beyond the column's range: refused by the form, not a database error.
        ({"search_volume": "99999999999"}, "search_volume", "less than or equal to 2147483647"),
    ],
)
def test_bad_keyword_input_is_named(client_for, demo_manager, running, overrides, field, text):
    data = {"product_item_id": "600123456789", "keyword": "面霜", **overrides}
    response = client_for(demo_manager).post(url(running, "new/"), data)
    assert response.status_code == 400
    assert text in " ".join(response.context["form"].errors[field])
    assert keywords_of(running) == []


def test_a_days_ranks_are_recorded_at_once_and_replaced(
    client_for, demo_operator, running, make_keyword
):
    first, second = make_keyword(running, keyword="面霜"), make_keyword(running, keyword="保湿霜")
    client = client_for(demo_operator)
    day = datetime.date.today() - datetime.timedelta(days=2)
    form = client.get(url(running, "ranks/"))
    assert form.status_code == 200 and "保湿霜" in form.content.decode()
    response = client.post(
        url(running, "ranks/"),
        {"date": day.isoformat(), f"rank_{first.pk}": "12", f"rank_{second.pk}": ""},
    )
    assert response.status_code == 302
    assert ranks_of(first) == {day: 12} and ranks_of(second) == {day: None}  # blank: not found
    # The same day again replaces; the form shows what was recorded.
    prefilled = client.get(url(running, f"ranks/?date={day.isoformat()}")).content.decode()
    assert 'value="12"' in prefilled
    client.post(
        url(running, "ranks/"),
        {"date": day.isoformat(), f"rank_{first.pk}": "8", f"rank_{second.pk}": "40"},
    )
    assert ranks_of(first) == {day: 8} and ranks_of(second) == {day: 40}


def test_a_bad_rank_is_named_and_nothing_is_written(
    client_for, demo_operator, running, make_keyword
):
    first, second = make_keyword(running, keyword="面霜"), make_keyword(running, keyword="保湿霜")
    day = datetime.date.today() - datetime.timedelta(days=1)
    response = client_for(demo_operator).post(
        url(running, "ranks/"),
        {"date": day.isoformat(), f"rank_{first.pk}": "3", f"rank_{second.pk}": "0"},
    )
    assert response.status_code == 400
    assert "“保湿霜”: rank 0 is not between 1 and" in html.unescape(response.content.decode())
    assert ranks_of(first) == {} and ranks_of(second) == {}
    future = datetime.date.today() + datetime.timedelta(days=3)
    response = client_for(demo_operator).post(
        url(running, "ranks/"), {"date": future.isoformat(), f"rank_{first.pk}": "3"}
    )
    assert response.status_code == 400
    assert f"{future.isoformat()} is in the future" in response.content.decode()
    assert ranks_of(first) == {}


def test_a_rank_file_is_imported_all_or_nothing(client_for, demo_operator, running, make_keyword):
    keyword = make_keyword(running, product_item_id="600123456789", keyword="保湿面霜")
    client = client_for(demo_operator)
    good = (
        "日期,商品ID,关键词,排名\n"
        "2026-11-01,600123456789,保湿面霜,15\n"
        "2026/11/2,600123456789,保湿面霜,-\n"
    )
    response = client.post(
        url(running, "ranks/upload/"),
        {"file": SimpleUploadedFile("ranks.csv", good.encode("gbk"))},
    )
    assert response.status_code == 302
    assert ranks_of(keyword) == {datetime.date(2026, 11, 1): 15, datetime.date(2026, 11, 2): None}

    bad = (
        "date,item id,keyword,rank\n"
        "2026-11-03,600123456789,保湿面霜,9\n"
        "2026-11-04,600123456789,保湿面霜,abc\n"
        "2026-11-05,600123456789,不存在的词,3\n"
    )
    response = client.post(
        url(running, "ranks/upload/"),
        {"file": SimpleUploadedFile("ranks.csv", ("\ufeff" + bad).encode("utf-8"))},
    )
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert "Row 3, column rank, value “abc”" in text
    assert datetime.date(2026, 11, 3) not in ranks_of(keyword)  # nothing of the file written
    bad_header = client.post(
        url(running, "ranks/upload/"),
        {"file": SimpleUploadedFile("ranks.csv", b"date,keyword\n2026-11-01,x\n")},
    )
    assert "lacks the column(s) item_id, rank" in html.unescape(bad_header.content.decode())
    with agency_scope(running.agency_id), pytest.raises(ValidationError) as refused:
        services.keyword_ranks_import(
            actor=demo_operator,
            engagement=running,
            upload=SimpleUploadedFile(
                "r.csv",
                "date,item id,keyword,rank\n2026-11-05,600123456789,不存在的词,3\n".encode(),
            ),
        )
    assert (
        "Row 2, column keyword: “不存在的词” is not tracked for item 600123456789"
        in (refused.value.messages[0])
    )


def test_latest_best_and_changes(running, make_keyword):
    keyword = make_keyword(running, target_rank=5)
    today = datetime.date(2026, 11, 27)
    history = {0: 6, 1: None, 7: 9, 20: 3, 30: 20, 31: 25}  # days before today -> rank
    with agency_scope(running.agency_id):
        for days, rank in history.items():
            KeywordRank.objects.create(
                keyword=keyword, date=today - datetime.timedelta(days=days), rank=rank
            )
        [stats] = keyword_rows(engagement=running, today=today)
    assert (stats.latest_date, stats.latest_rank) == (today, 6)
    assert (stats.best_rank, stats.best_date) == (3, today - datetime.timedelta(days=20))
    assert stats.change_7 == 3  # 9 -> 6: three places up
    assert stats.change_30 == 14  # 20 -> 6
    assert stats.reaches_target is False
    chart = stats.chart
    assert len(chart.misses) == 1 and len(chart.dots) == 5
    assert len(chart.segments) == 2  # the not-found day breaks the line
    # Rank 1 is at the top: the best rank is drawn highest (smallest y).
    best = min(chart.dots, key=lambda dot: dot[3])
    assert best[1] == min(dot[1] for dot in chart.dots)


def test_the_chart_puts_rank_one_at_the_top():
    start = datetime.date(2026, 11, 1)
    chart = rank_chart(
        [(start, 1), (start + datetime.timedelta(days=9), 11)],
        start=start,
        end=start + datetime.timedelta(days=9),
        width=110,
        height=60,
        margin=(5, 5, 5, 5),
    )
    assert chart.segments == ["M5.0 5.0 L105.0 55.0"]


def test_brand_users_read_keywords_and_ranks_but_write_nothing(
    client_for, brand_a_owner, brand_b_owner, running, make_keyword
):
    keyword = make_keyword(running, keyword="保湿面霜")
    with agency_scope(running.agency_id):
        KeywordRank.objects.create(keyword=keyword, date=datetime.date.today(), rank=4)
    client = client_for(brand_a_owner)
    listing = client.get(url(running))
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "保湿面霜" in text and "<svg" in text and "Record ranks" not in text
    assert client.get(url(running, f"{keyword.pk}/")).status_code == 200
    for path in ("new/", "ranks/", f"{keyword.pk}/edit/", f"{keyword.pk}/delete/"):
        assert client.post(url(running, path), {}).status_code == 404
    assert client_for(brand_b_owner).get(url(running, f"{keyword.pk}/")).status_code == 404
