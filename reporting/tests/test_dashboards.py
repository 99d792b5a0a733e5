"""The engagement dashboard and the agency overview: the figures are the metric query's, ranges
and orderings are checked, and each reader sees only what is theirs."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from agency.models import Role
from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from engagements.models import Engagement, EngagementStatus, EngagementTarget
from execution.metrics import formatting
from execution.metrics.ingestion import ingestion_push
from execution.metrics.pacing import current_paces, targets_pacing
from execution.metrics.query import metrics_query
from execution.models import Alert, AlertSeverity
from reporting import dashboards
from reporting.dashboards import DateRange

SEPT = datetime.date(2026, 9, 1)


def day(n: int) -> datetime.date:
    return SEPT + datetime.timedelta(days=n - 1)


@pytest.fixture
def push(django_capture_on_commit_callbacks, make_member):
    """Ingest rows the real way (a JSON push, its task run eagerly); returns the finished run."""
    operators = {}

    def push_rows(store, grain, rows):
        if store.agency_id not in operators:
            operators[store.agency_id] = make_member(store.agency, Role.OPERATOR)
        with agency_scope(store.agency_id), django_capture_on_commit_callbacks(execute=True):
            run = ingestion_push(
                actor=operators[store.agency_id], store=store, grain=grain, rows=rows
            )
        run.refresh_from_db()
        assert run.status == "succeeded", run.errors
        return run

    return push_rows


def store_days(first: datetime.date, last: datetime.date, **overrides):
    """One store-day row a day; a big day with a low rate alternates with a small day with a high
    one, so the mean of daily ratios is far from the ratio of the sums."""
    rows = []
    current = first
    while current <= last:
        big = current.toordinal() % 2 == 0
        rows.append(
            {
                "date": current.isoformat(),
                "visitors": 1000 if big else 100,
                "paying_buyers": 10 if big else 20,
                "gmv": "1500.00" if big else "900.00",
                **overrides,
            }
        )
        current += datetime.timedelta(days=1)
    return rows


@pytest.fixture
def september_a(push, store_a):
    """Brand A's store: August and September store days, sources, campaigns and products."""
    push(store_a, "store_day", store_days(datetime.date(2026, 8, 1), day(30)))
    push(
        store_a,
        "store_day_source",
        [
            {"date": day(n).isoformat(), "source": source, "visitors": visitors, "gmv": "10.00"}
            for n in range(1, 31)
            for source, visitors in (("手淘搜索", 60), ("直通车", 30), ("猜你喜欢", 10))
        ],
    )
    push(
        store_a,
        "store_day_ad",
        [
            # Plan A: cheap clicks, fair ROI; B: dear clicks, best ROI; C: spend and no sales.
            {
                "date": day(n).isoformat(),
                "ad_tool": "zhitongche",
                "campaign": "Plan A",
                "impressions": 1000,
                "clicks": 100,
                "ad_spend": "50.00",
                "ad_gmv": "100.00",
                "ad_orders": 1,
            }
            for n in range(1, 31)
        ]
        + [
            {
                "date": day(n).isoformat(),
                "ad_tool": "zhitongche",
                "campaign": "Plan B",
                "impressions": 500,
                "clicks": 10,
                "ad_spend": "20.00",
                "ad_gmv": "200.00",
                "ad_orders": 2,
            }
            for n in range(1, 31)
        ]
        + [
            {
                "date": day(n).isoformat(),
                "ad_tool": "zhitongche",
                "campaign": "Plan C",
                "impressions": 2000,
                "clicks": 40,
                "ad_spend": "80.00",
                "ad_gmv": "0",
                "ad_orders": 0,
            }
            for n in range(1, 31)
        ],
    )
    push(
        store_a,
        "store_day_product",
        [
            {
                "date": day(n).isoformat(),
                "item_id": f"{600 + item}",
                "item_name": f"商品 {item}",
                "visitors": 10 * (item + 1),
                "paying_buyers": item,
                "gmv": f"{100 * item}.00",
            }
            for n in range(1, 31)
            for item in range(25)
        ],
    )
    return store_a


def dashboard_url(engagement, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    url = f"/{engagement.agency.slug}/engagements/{engagement.pk}/dashboard/"
    return f"{url}?{query}" if query else url


def as_member(client, membership):
    client.force_login(membership.user)
    return client


def chart_data(response) -> dict:
    match = re.search(
        r'<script id="dashboard-chart-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the chart data is on the page"
    return json.loads(match.group(1))


def summary_value(response, metric: str) -> str:
    html = response.content.decode()
    match = re.search(
        rf'<li data-metric="{metric}">\s*<span class="muted">[^<]*</span>\s*'
        r'<strong class="value">([^<]*)</strong>',
        html,
    )
    assert match, f"the summary shows {metric}"
    return match.group(1)


def query_total(store, start, end, metrics):
    with agency_scope(store.agency_id):
        return metrics_query(
            store_ids=[store.pk], start=start, end=end, grain="total", metrics=metrics
        )[0]


# --- figures ----------------------------------------------------------------------------------


def test_a_weeks_ratios_on_the_page_are_summed_parts_not_mean_of_days(
    client, demo_manager, engagement_a, september_a
):
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, start="2026-09-07", end="2026-09-13")
    )
    assert response.status_code == 200
    days = store_days(day(7), day(13))
    visitors = sum(row["visitors"] for row in days)
    buyers = sum(row["paying_buyers"] for row in days)
    gmv = sum(Decimal(row["gmv"]) for row in days)
    conversion = Decimal(buyers) / Decimal(visitors)
    mean_of_days = sum(Decimal(r["paying_buyers"]) / r["visitors"] for r in days) / len(days)
    assert abs(conversion - mean_of_days) > Decimal("0.01")  # the data tells them apart
    totals = query_total(
        september_a, day(7), day(13), ["conversion_rate", "aov", "gmv", "visitors"]
    )
    assert totals["conversion_rate"] == (conversion).quantize(Decimal("0.000001"))
    assert totals["aov"] == (gmv / buyers).quantize(Decimal("0.01"))

    percent = (conversion * 100).quantize(Decimal("0.01"))
    assert summary_value(response, "conversion_rate") == f"{percent}%"
    assert summary_value(response, "aov") == f"¥{(gmv / buyers).quantize(Decimal('0.01'))}"
    assert summary_value(response, "gmv") == f"¥{gmv:,.2f}"
    assert summary_value(response, "visitors") == f"{visitors:,}"
    assert summary_value(response, "roi") == "2.00"  # Σ ad GMV 300 / Σ spend 150 a day


def test_the_previous_period_overlay_is_the_same_length_just_before(
    client, demo_manager, engagement_a, september_a
):
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, start="2026-09-08", end="2026-09-14")
    )
    data = chart_data(response)["trends"]
    assert data["dates"] == [day(n).isoformat() for n in range(8, 15)]
    assert data["previous_dates"] == [day(n).isoformat() for n in range(1, 8)]
    gmv = next(series for series in data["series"] if series["metric"] == "gmv")
    with agency_scope(september_a.agency_id):
        previous = metrics_query(
            store_ids=[september_a.pk], start=day(1), end=day(7), grain="day", metrics=["gmv"]
        )
    assert gmv["previous"] == [str(row["gmv"]) for row in previous]
    assert {s["metric"] for s in data["series"]} == set(dashboards.TREND_METRICS)
    assert "2026-09-01 to 2026-09-07" in data["previous_label"]


def test_days_without_data_are_gaps_and_the_default_range_ends_on_the_last_data_day(
    client, demo_manager, engagement_a, september_a
):
    response = as_member(client, demo_manager).get(dashboard_url(engagement_a))
    assert response.status_code == 200
    data = chart_data(response)["trends"]
    assert data["dates"][0] == day(1).isoformat() and data["dates"][-1] == day(30).isoformat()
    # The range extends past the data: the days after it are null, never 0.
    response = client.get(dashboard_url(engagement_a, start="2026-09-20", end="2026-10-05"))
    visitors = next(
        s for s in chart_data(response)["trends"]["series"] if s["metric"] == "visitors"
    )
    assert visitors["current"][-5:] == [None] * 5
    assert visitors["current"][0] in {100, 1000}


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("7", day(24), day(30)),
        ("90", day(30) - datetime.timedelta(days=89), day(30)),
        ("month", day(1), day(30)),
    ],
)
def test_presets_end_on_the_last_day_with_data(
    client, demo_manager, engagement_a, september_a, preset, start, end
):
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, preset=preset, start="2026-01-01", end="2026-01-02")
    )
    assert response.status_code == 200
    assert response.context["range"] == DateRange(start, end)
    html = response.content.decode()
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html


def test_kpi_cards_pace_the_live_targets(client, demo_manager, engagement_a, september_a):
    with agency_scope(engagement_a.agency_id):
        for month, value in ((8, "10000"), (9, "60000")):  # plan month 9 is September 2026
            EngagementTarget.objects.create(
                engagement=engagement_a,
                metric="gmv",
                comparison=">=",
                value=Decimal(value),
                period="month",
                by_month=month,
            )
    response = as_member(client, demo_manager).get(dashboard_url(engagement_a))
    cards = response.context["kpis"]
    assert [card["metric"] for card in cards] == ["gmv"]  # September's only: the live one
    gmv = query_total(september_a, day(1), day(30), ["gmv"])["gmv"]
    card = cards[0]
    assert card["actual"] == f"¥{gmv:,.2f}"
    assert card["state"] == "ended"  # data through 30 September, the period's last day
    assert card["on_pace"] is (gmv >= 60000)
    assert card["achievement"] == f"{(gmv / 60000 * 100).quantize(Decimal('0.01'))}%"


def test_live_targets_are_those_current_paces_keeps(engagement_a, september_a):
    with agency_scope(engagement_a.agency_id):
        targets = [
            EngagementTarget.objects.create(
                engagement=engagement_a,
                metric=metric,
                comparison=">=",
                value=Decimal("100"),
                period=period,
                by_month=month,
            )
            for metric, period, month in [
                ("gmv", "month", 3),
                ("gmv", "month", 9),
                ("roi", "cumulative", 9),
                ("visitors", "month", 12),
                ("not_a_metric", "month", 9),
            ]
        ]
        for as_of in (
            datetime.date(2025, 12, 1),
            datetime.date(2026, 3, 15),
            datetime.date(2026, 5, 1),
            day(15),
            day(30),
            datetime.date(2026, 12, 31),
            datetime.date(2027, 6, 1),
        ):
            expected = current_paces(
                targets_pacing(engagement=engagement_a, as_of=as_of, targets=targets)
            )
            live = dashboards.live_paces(engagement=engagement_a, as_of=as_of, targets=targets)
            assert [(p.target.pk, p.actual, p.on_pace) for p in live] == [
                (p.target.pk, p.actual, p.on_pace) for p in expected
            ], as_of


def test_sources_and_products_render(client, demo_manager, engagement_a, september_a):
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, start="2026-09-01", end="2026-09-30")
    )
    sources = response.context["sources"]
    assert [row["source"] for row in sources] == ["手淘搜索", "直通车", "猜你喜欢"]
    assert [row["share"] for row in sources] == ["60.00%", "30.00%", "10.00%"]
    assert chart_data(response)["sources"]["rows"][0] == {"name": "手淘搜索", "value": 1800}
    top = response.context["top_products"]
    bottom = response.context["bottom_products"]
    assert [row["item_id"] for row in top[:3]] == ["624", "623", "622"]
    assert len(top) == 10 and len(bottom) == 10
    # The bottom list: products with visitors, lowest GMV first (item 0 sold nothing), no repeats.
    assert [row["item_id"] for row in bottom[:2]] == ["600", "601"]
    assert not {row["item_id"] for row in top} & {row["item_id"] for row in bottom}
    assert top[0]["conversion_rate"] == "9.60%"  # 24 buyers / 250 visitors a day
    assert 'id="alerts"' in response.content.decode()


def test_products_rank_by_conversion_rate_on_request(
    client, demo_manager, engagement_a, september_a
):
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, rank="conversion_rate"),
        headers={"HX-Request": "true", "HX-Target": "products"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="products"')
    assert '<strong aria-current="true">Conversion rate</strong>' in html
    assert [row["item_id"] for row in response.context["top_products"][:2]] == ["624", "623"]
    assert "rank=conversion_rate" in response["HX-Push-Url"]


# --- campaigns --------------------------------------------------------------------------------


def campaign_rows(response) -> list[list[str]]:
    """The campaign table's rows as the page shows them (cells' text)."""
    html = response.content.decode()
    table = html[html.index('<section id="campaigns"') :]
    table = table[: table.index("</section>")]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def campaign_order(response) -> list[str]:
    return [row[0] for row in campaign_rows(response)]


def test_campaigns_order_by_a_whitelisted_column(client, demo_manager, engagement_a, september_a):
    client = as_member(client, demo_manager)
    assert campaign_order(client.get(dashboard_url(engagement_a))) == ["Plan C", "Plan A", "Plan B"]
    assert campaign_order(client.get(dashboard_url(engagement_a, sort="-roi"))) == [
        "Plan B",
        "Plan A",
        "Plan C",
    ]
    assert campaign_order(client.get(dashboard_url(engagement_a, sort="cpc"))) == [
        "Plan A",
        "Plan B",
        "Plan C",
    ]
    assert campaign_order(client.get(dashboard_url(engagement_a, sort="-campaign"))) == [
        "Plan C",
        "Plan B",
        "Plan A",
    ]
    response = client.get(dashboard_url(engagement_a, sort="-roi"))
    campaign, tool, impressions, clicks, ctr, spend, cpc, ad_gmv, roi = campaign_rows(response)[0]
    assert tool == "Zhitongche (直通车)"
    assert (campaign, impressions, clicks, ctr, spend, cpc, ad_gmv, roi) == (
        "Plan B",
        "15,000",
        "300",
        "2.00%",
        "¥600.00",  # 20.00 x 30 days
        "¥2.00",
        "¥6,000.00",
        "10.00",
    )


@pytest.mark.parametrize("sort", ["campaign;drop table", "--roi", "pk", "-item_id"])
def test_an_unknown_campaign_order_falls_back_to_spend(
    client, demo_manager, engagement_a, september_a, sort
):
    response = as_member(client, demo_manager).get(dashboard_url(engagement_a, sort=sort))
    assert response.status_code == 200
    assert campaign_order(response) == ["Plan C", "Plan A", "Plan B"]
    assert "sorted by spend instead" in response.content.decode()


def test_a_campaign_header_swaps_only_the_table_and_pushes_the_address(
    client, demo_manager, engagement_a, september_a
):
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, start="2026-09-01", end="2026-09-30", sort="roi"),
        headers={"HX-Request": "true", "HX-Target": "campaigns"},
    )
    html = response.content.decode()
    assert html.startswith('<section id="campaigns"') and "dashboard-chart-data" not in html
    assert response["HX-Push-Url"].endswith("?start=2026-09-01&end=2026-09-30&sort=roi")
    assert campaign_order(response) == ["Plan C", "Plan A", "Plan B"]
    assert 'aria-sort="ascending"' in html
    assert "sort=-roi" in html  # a second click reverses


def test_a_range_change_swaps_the_dashboard(client, demo_manager, engagement_a, september_a):
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, preset="7"),
        headers={"HX-Request": "true", "HX-Target": "dashboard"},
    )
    html = response.content.decode()
    assert html.startswith('<div id="dashboard"') and "<html" not in html
    assert "dashboard-chart-data" in html
    assert response["HX-Push-Url"].endswith("?start=2026-09-24&end=2026-09-30")


# --- bad dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-01", "end": "2026-09-30"}, "From: The start date is not a valid date"),
        ({"start": "2026-09-01", "end": "yesterday"}, "To: The end date is not a valid date"),
        ({"start": "2026-09-10", "end": "2026-09-01"}, "To: The end date is before the start"),
        ({"start": "2020-01-01", "end": "2026-09-01"}, "To: The range is longer than two years"),
        ({"start": "0001-01-01", "end": "0001-01-31"}, "From: The start date is before 2000-01-01"),
        ({"preset": "365"}, "Preset: Unknown preset; choose 7, 30, 90 days or this month."),
    ],
)
def test_bad_dates_get_a_message_naming_the_field(
    client, demo_manager, engagement_a, september_a, params, message
):
    client = as_member(client, demo_manager)
    response = client.get(dashboard_url(engagement_a, **params))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html.replace("&#x27;", "'")
    assert "dashboard-chart-data" not in html
    response = client.get(
        dashboard_url(engagement_a, **params),
        headers={"HX-Request": "true", "HX-Target": "dashboard"},
    )
    assert response.status_code == 200  # htmx swaps only 2xx: the errors replace the figures
    assert message in response.content.decode().replace("&#x27;", "'")
    assert "HX-Push-Url" not in response


def test_two_years_exactly_is_allowed(client, demo_manager, engagement_a, september_a):
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, start="2024-10-01", end="2026-09-30")
    )
    assert response.status_code == 200
    assert response.context["range"].days == 730


# --- who sees what ----------------------------------------------------------------------------


def test_the_brand_owner_sees_the_own_brands_dashboard_only(
    client, brand_a_owner, engagement_a, engagement_b, september_a
):
    client = as_member(client, brand_a_owner)
    assert client.get(dashboard_url(engagement_a)).status_code == 200
    assert client.get(dashboard_url(engagement_b)).status_code == 404
    assert client.post(dashboard_url(engagement_a)).status_code == 405


def test_the_engagement_page_links_to_the_dashboard_for_the_brand_too(
    client, brand_a_owner, engagement_a
):
    response = as_member(client, brand_a_owner).get(
        f"/{engagement_a.agency.slug}/engagements/{engagement_a.pk}/"
    )
    assert dashboard_url(engagement_a) in response.content.decode()
    assert "/overview/" not in response.content.decode()  # the overview is staff-only


def touch(engagement) -> None:
    with agency_scope(engagement.agency_id):
        Engagement.objects.filter(pk=engagement.pk).update(updated_at=timezone.now())


def test_the_dashboard_asks_the_same_number_of_queries_whatever_the_history(
    client, push, demo_manager, engagement_a, store_a
):
    client = as_member(client, demo_manager)
    url = dashboard_url(engagement_a)

    def queries() -> tuple[int, int]:
        touch(engagement_a)  # a new data version: nothing of it is cached yet
        with CaptureQueriesContext(connection) as cold:
            assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as warm:
            assert client.get(url).status_code == 200
        return len(cold), len(warm)

    push(store_a, "store_day", store_days(day(1), day(30)))
    short = queries()
    push(store_a, "store_day", store_days(datetime.date(2025, 9, 1), day(30)))
    assert queries() == short
    cold, warm = short
    assert cold == 18
    # Served from the cache: the session, user, membership, engagement, data version and the
    # layout's two (notifications); none of the figures' or alerts' queries.
    assert warm == 7


def test_new_data_is_shown_at_once_despite_the_cache(
    client, push, demo_manager, engagement_a, store_a, make_alert
):
    client = as_member(client, demo_manager)
    push(store_a, "store_day", store_days(day(1), day(30)))
    before = client.get(dashboard_url(engagement_a, start="2026-09-01", end="2026-09-30"))
    push(store_a, "store_day", [{"date": day(30).isoformat(), "visitors": 777777}])
    with agency_scope(engagement_a.agency_id):
        Alert.objects.filter(engagement=engagement_a).delete()
    alert = make_alert(
        engagement_a,
        rule="cs_reply_slow",
        date=day(30),
        evidence={"date": day(30).isoformat(), **SLOW_REPLY},
    )
    after = client.get(dashboard_url(engagement_a, start="2026-09-01", end="2026-09-30"))
    assert summary_value(after, "visitors") != summary_value(before, "visitors")
    assert f'id="alert-{alert.pk}"' in after.content.decode()
    with agency_scope(engagement_a.agency_id):
        EngagementTarget.objects.create(
            engagement=engagement_a,
            metric="visitors",
            comparison=">=",
            value=Decimal("1000"),
            period="month",
            by_month=9,
        )
    assert [card["metric"] for card in client.get(dashboard_url(engagement_a)).context["kpis"]] == [
        "visitors"
    ]


def test_numbers_follow_the_language(client, demo_manager, engagement_a, september_a):
    with translation.override("zh-hans"):
        assert formatting.format_money(Decimal("1234567.005")) == "¥1,234,567.01"
        assert formatting.format_percent(Decimal("0.123456")) == "12.35%"
        assert formatting.format_value("roi", None) == "—"
        assert formatting.format_value("visitors", 1234567) == "1,234,567"
    with translation.override("en"):
        assert formatting.format_change(Decimal("0.125")) == "+12.50%"
        assert formatting.format_change(Decimal("-0.5")) == "-50.00%"


# --- alerts -----------------------------------------------------------------------------------

SLOW_REPLY = {"cs_avg_first_reply": "45.50", "cs_sessions": "120", "sla_seconds": "30"}


@pytest.fixture
def alerts_a(make_alert, engagement_a, demo_manager):
    """An open warning, an open critical (older) and one acknowledged with a note; only these
    (the rules already raised their own alerts on the pushed data: a clean slate first)."""
    with agency_scope(engagement_a.agency_id):
        Alert.objects.filter(engagement=engagement_a).delete()
    warning = make_alert(
        engagement_a,
        rule="cs_reply_slow",
        cause="evening",
        date=day(29),
        evidence={"date": day(29).isoformat(), **SLOW_REPLY},
    )
    critical = make_alert(
        engagement_a,
        rule="cs_reply_slow",
        cause="night",
        date=day(20),
        severity=AlertSeverity.CRITICAL,
        evidence={"date": day(20).isoformat(), **SLOW_REPLY},
    )
    done = make_alert(
        engagement_a,
        rule="cs_reply_slow",
        cause="morning",
        date=day(25),
        evidence={"date": day(25).isoformat(), **SLOW_REPLY},
    )
    with agency_scope(engagement_a.agency_id):
        from execution.alerts import alert_acknowledge

        alert_acknowledge(actor=demo_manager, alert=done, note="SECRET-ACK-NOTE: agents rostered")
    return warning, critical, done


def test_alerts_show_open_ones_first_in_the_readers_language(
    client, demo_manager, engagement_a, september_a, alerts_a
):
    from execution.metrics.rules import finding_text

    warning, critical, done = alerts_a
    response = as_member(client, demo_manager).get(dashboard_url(engagement_a))
    items = response.context["alerts"]
    assert [item.alert.pk for item in items] == [critical.pk, warning.pk, done.pk]
    html = response.content.decode()
    message, action = finding_text("cs_reply_slow", warning.evidence)
    assert message in html.replace("&#x27;", "'") and action in html.replace("&#x27;", "'")
    assert "SECRET-ACK-NOTE" in html  # staff read the note
    assert html.count('class="acknowledge"') == 2  # the open ones can be acknowledged
    with translation.override("zh-hans"):
        zh_message, _zh_action = finding_text("cs_reply_slow", warning.evidence)
    client.post("/accounts/language/", {"language": "zh-hans"})
    demo_manager.user.refresh_from_db()
    response = client.get(dashboard_url(engagement_a))
    assert zh_message in response.content.decode().replace("&#x27;", "'")


def test_acknowledged_alerts_outside_the_range_are_left_out_but_open_ones_stay(
    client, demo_manager, engagement_a, september_a, alerts_a
):
    warning, critical, _done = alerts_a
    response = as_member(client, demo_manager).get(
        dashboard_url(engagement_a, start="2026-09-28", end="2026-09-30")
    )
    assert [item.alert.pk for item in response.context["alerts"]] == [critical.pk, warning.pk]


def test_the_brand_reads_alerts_but_not_the_staff_note_and_cannot_acknowledge(
    client, brand_a_owner, engagement_a, september_a, alerts_a
):
    warning, _critical, done = alerts_a
    client = as_member(client, brand_a_owner)
    html = client.get(dashboard_url(engagement_a)).content.decode()
    assert f'id="alert-{done.pk}"' in html and "Acknowledged" in html
    assert "SECRET-ACK-NOTE" not in html
    assert "Max Manager" not in html  # nor who acknowledged it
    assert 'class="acknowledge"' not in html
    url = f"/demo/alerts/{warning.pk}/acknowledge/"
    assert client.post(url, {"note": "done"}).status_code == 404
    warning.refresh_from_db()
    assert warning.is_open


def test_staff_acknowledge_with_a_note_in_place(
    client, demo_operator, make_alert, engagement_a, september_a, alerts_a
):
    warning, critical, done = alerts_a
    earlier = make_alert(  # the same condition the day before: closed with the later one
        engagement_a,
        rule="cs_reply_slow",
        cause="evening",
        date=day(28),
        evidence={"date": day(28).isoformat(), **SLOW_REPLY},
    )
    client = as_member(client, demo_operator)
    url = f"/demo/alerts/{warning.pk}/acknowledge/"
    assert client.get(url).status_code == 405
    htmx = {"HX-Request": "true", "HX-Target": "alerts"}
    the_range = {"start": "2026-09-01", "end": "2026-09-30"}

    response = client.post(url, {"note": "   ", **the_range}, headers=htmx)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="alerts"')
    assert html.count('class="errors"') == 1 and "Note: " in html
    warning.refresh_from_db()
    assert warning.is_open

    response = client.post(url, {"note": "Two more agents at night", **the_range}, headers=htmx)
    html = response.content.decode()
    assert html.startswith('<section id="alerts"') and "Two more agents at night" in html
    items = response.context["alerts"]
    assert [item.alert.pk for item in items if item.is_open] == [critical.pk]
    assert {item.alert.pk for item in items} == {critical.pk, warning.pk, earlier.pk, done.pk}
    assert html.count('class="acknowledge"') == 1  # only the critical one is still open
    warning.refresh_from_db()
    assert not warning.is_open and warning.acknowledged_by == demo_operator.user
    assert warning.note == "Two more agents at night"


def test_a_plain_acknowledge_returns_to_the_alerts(
    client, demo_manager, engagement_a, september_a, alerts_a
):
    warning, _critical, _done = alerts_a
    client = as_member(client, demo_manager)
    url = f"/demo/alerts/{warning.pk}/acknowledge/"
    response = client.post(url, {"note": "", "start": "2026-09-10", "end": "2026-09-30"})
    assert response.status_code == 302
    assert response["Location"].endswith("/dashboard/?start=2026-09-10&end=2026-09-30#alerts")
    warning.refresh_from_db()
    assert warning.is_open
    response = client.post(url, {"note": "Checked"}, follow=True)
    assert "Alert acknowledged." in response.content.decode()
    warning.refresh_from_db()
    assert warning.note == "Checked"


# --- the dashboard served from the cache ------------------------------------------------------


def test_a_brand_reader_after_staff_on_the_same_range_gets_no_staff_rendering(
    client, demo_manager, brand_a_owner, engagement_a, september_a, alerts_a
):
    url = dashboard_url(engagement_a, start="2026-09-01", end="2026-09-30")
    htmx = {"HX-Request": "true", "HX-Target": "dashboard"}
    staff = as_member(client, demo_manager).get(url)
    assert "SECRET-ACK-NOTE" in staff.content.decode()
    assert 'class="acknowledge"' in staff.content.decode()
    for _ in range(2):  # the first rendering for the brand, then the brand's from the cache
        for response in (
            as_member(client, brand_a_owner).get(url),
            client.get(url, headers=htmx),
        ):
            assert response.status_code == 200
            html = response.content.decode()
            assert "SECRET-ACK-NOTE" not in html and "Max Manager" not in html
            assert 'class="acknowledge"' not in html
            assert "SECRET-MARGIN-NOTE" not in html
            assert chart_data(response) == chart_data(staff)  # the same figures
    # And the staff rendering stays the staff's once the brand's is cached too.
    html = as_member(client, demo_manager).get(url, headers=htmx).content.decode()
    assert "SECRET-ACK-NOTE" in html and 'class="acknowledge"' in html


def test_the_cached_dashboard_carries_each_readers_own_csrf_token(
    demo_manager, demo_operator, engagement_a, september_a, alerts_a
):
    from django.test import Client

    from reporting.views.dashboards import CSRF_PLACEHOLDER

    warning, _critical, _done = alerts_a
    url = dashboard_url(engagement_a)
    as_member(Client(), demo_manager).get(url)  # rendered and cached for staff
    client = as_member(Client(enforce_csrf_checks=True), demo_operator)
    with CaptureQueriesContext(connection) as served:
        html = client.get(url).content.decode()
    assert len(served) == 7  # from the cache: no query of the figures or the alerts
    assert CSRF_PLACEHOLDER not in html
    acknowledge_url = f"/demo/alerts/{warning.pk}/acknowledge/"
    form = re.search(rf'<form [^>]*action="{acknowledge_url}".*?</form>', html, re.S)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)
    response = client.post(acknowledge_url, {"csrfmiddlewaretoken": token, "note": "Seen"})
    assert response.status_code == 302  # the CSRF check passed with the token on the page
    warning.refresh_from_db()
    assert not warning.is_open and warning.acknowledged_by == demo_operator.user


def test_a_cached_dashboard_follows_the_readers_language(
    client, demo_manager, engagement_a, september_a
):
    client = as_member(client, demo_manager)
    url = dashboard_url(engagement_a)
    english = client.get(url).content.decode()
    assert "Ad campaigns" in english
    demo_manager.user.language = "zh-hans"
    demo_manager.user.save(update_fields=["language"])
    chinese = client.get(url).content.decode()
    assert "Ad campaigns" not in chinese
    with translation.override("zh-hans"):
        assert translation.gettext("Ad campaigns") in chinese


# --- the agency overview ----------------------------------------------------------------------


@pytest.fixture
def today():
    from django.utils import timezone

    return timezone.localdate()


def overview(client, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return client.get(f"/demo/overview/?{query}")


def titles(response) -> list[str]:
    return [row.engagement.title for row in response.context["rows"]]


@pytest.fixture
def agency_world(
    push,
    today,
    make_engagement,
    make_store,
    brand_a,
    store_a,
    store_b,
    engagement_a,
    engagement_b,
    demo_manager,
    demo_admin,
    make_alert,
):
    """A: fresh data, GMV target far off pace (at risk). B: fresh data, on pace, an open
    warning (watch). C: stale data, no target (watch). D: on track. E: paused (not listed)."""
    from execution.metrics.pacing import plan_month_of

    def fresh(store, gmv="1000.00"):
        push(
            store,
            "store_day",
            [
                {
                    "date": (today - datetime.timedelta(days=n)).isoformat(),
                    "visitors": 100,
                    "paying_buyers": 5,
                    "gmv": gmv,
                }
                for n in range(1, 6)
            ],
        )

    def target(engagement, value):
        with agency_scope(engagement.agency_id):
            EngagementTarget.objects.create(
                engagement=engagement,
                metric="gmv",
                comparison=">=",
                value=Decimal(value),
                period="month",
                by_month=plan_month_of(engagement.start_date, today - datetime.timedelta(days=1)),
            )

    store_c, store_d = make_store(brand_a, name="C store"), make_store(brand_a, name="D store")
    fresh(store_a)
    fresh(store_b)
    fresh(store_d)
    push(
        store_c,
        "store_day",
        [{"date": (today - datetime.timedelta(days=9)).isoformat(), "visitors": 5}],
    )
    target(engagement_a, "100000000")
    target(engagement_b, "1")
    make_alert(engagement_b, rule="cs_reply_slow", date=today, evidence=SLOW_REPLY)
    c = make_engagement(store_c, demo_admin, title="Charlie stale", stage=Stage.TRAFFIC)
    d = make_engagement(store_d, demo_manager, title="Delta fine")
    make_engagement(store_d, demo_manager, title="Echo paused", status=EngagementStatus.PAUSED)
    return {"a": engagement_a, "b": engagement_b, "c": c, "d": d}


def test_the_overview_shows_each_active_engagements_health(client, demo_manager, agency_world):
    response = overview(as_member(client, demo_manager))
    assert response.status_code == 200
    rows = {row.engagement.title: row for row in response.context["rows"]}
    assert set(rows) == {"Brand A growth", "Brand B launch", "Charlie stale", "Delta fine"}
    a, b, c, d = (
        rows[t] for t in ("Brand A growth", "Brand B launch", "Charlie stale", "Delta fine")
    )
    assert (a.health, a.off_pace, a.on_pace, a.open_alerts) == ("at_risk", 1, 0, 0)
    assert (b.health, b.on_pace, b.open_alerts, b.worst_severity) == ("watch", 1, 1, "warning")
    assert (c.health, c.stale, c.paces) == ("watch", True, [])
    assert (d.health, d.stale) == ("on_track", False)
    # Worst first by default.
    assert titles(response)[0] == "Brand A growth" and titles(response)[-1] == "Delta fine"
    html = response.content.decode()
    assert "stale" in html and "1 off pace" in html and "At risk" in html


def test_an_open_critical_alert_puts_an_engagement_at_risk(
    client, demo_manager, agency_world, make_alert, today
):
    make_alert(
        agency_world["d"],
        rule="cs_reply_slow",
        date=today,
        severity=AlertSeverity.CRITICAL,
        evidence=SLOW_REPLY,
    )
    rows = {
        r.engagement.title: r for r in overview(as_member(client, demo_manager)).context["rows"]
    }
    assert rows["Delta fine"].health == "at_risk"
    assert rows["Delta fine"].worst_severity == "critical"


def test_overdue_setup_items_are_flagged_on_the_overview(client, demo_manager, agency_world, today):
    from execution.models import SetupItem, SetupItemStatus, SetupSection

    engagement = agency_world["d"]
    with agency_scope(engagement.agency_id):
        for title, due, status in (
            ("营业执照", today - datetime.timedelta(days=1), SetupItemStatus.IN_PROGRESS),
            ("首页", today - datetime.timedelta(days=3), SetupItemStatus.TODO),
            ("详情页", today - datetime.timedelta(days=3), SetupItemStatus.DONE),  # closed
            ("类目映射", today, SetupItemStatus.TODO),  # due today: not yet overdue
        ):
            SetupItem.objects.create(
                engagement=engagement,
                section=SetupSection.VISUAL,
                title=title,
                due_date=due,
                status=status,
            )
    response = overview(as_member(client, demo_manager))
    rows = {row.engagement.title: row for row in response.context["rows"]}
    # Two overdue items put an otherwise fine engagement on watch, with a link to them.
    assert (rows["Delta fine"].overdue_setup, rows["Delta fine"].health) == (2, "watch")
    assert rows["Brand B launch"].overdue_setup == 0
    html = response.content.decode()
    assert "2 setup items overdue" in html
    assert f"/engagements/{engagement.pk}/setup/?overdue=1" in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["Brand A growth", "Brand B launch", "Charlie stale", "Delta fine"]),
        ("-title", ["Delta fine", "Charlie stale", "Brand B launch", "Brand A growth"]),
        ("-alerts", ["Brand B launch", "Brand A growth", "Charlie stale", "Delta fine"]),
        ("alerts", ["Brand A growth", "Charlie stale", "Delta fine", "Brand B launch"]),
        ("last_data", ["Charlie stale", "Brand A growth", "Brand B launch", "Delta fine"]),
        ("brand", ["Brand A growth", "Charlie stale", "Delta fine", "Brand B launch"]),
    ],
)
def test_the_overview_sorts(client, demo_manager, agency_world, sort, expected):
    response = overview(as_member(client, demo_manager), sort=sort)
    assert titles(response) == expected


def test_an_unknown_overview_sort_falls_back_to_health(client, demo_manager, agency_world):
    response = overview(as_member(client, demo_manager), sort="engagement__title")
    assert titles(response)[0] == "Brand A growth"
    assert "sorted by health instead" in response.content.decode()


def test_the_overview_filters_by_manager_health_and_stage(
    client, demo_manager, demo_admin, agency_world
):
    client = as_member(client, demo_manager)
    assert titles(overview(client, manager=demo_admin.pk)) == ["Charlie stale"]
    assert titles(overview(client, health="watch", sort="title")) == [
        "Brand B launch",
        "Charlie stale",
    ]
    assert titles(overview(client, stage="traffic")) == ["Charlie stale"]
    response = overview(client, health="purple")
    assert response.status_code == 400
    assert "Health: Unknown health" in response.content.decode()


def test_the_overview_filter_swaps_only_the_table(client, demo_manager, agency_world):
    response = as_member(client, demo_manager).get(
        "/demo/overview/?sort=title", headers={"HX-Request": "true", "HX-Target": "overview-table"}
    )
    html = response.content.decode()
    assert html.startswith('<div id="overview-table"') and "<html" not in html
    assert 'value="title" form="overview-filters"' in html  # the filter form keeps the order


def test_the_overview_is_staff_only_and_in_the_staff_menu(
    client, brand_a_owner, demo_operator, agency_world
):
    assert overview(as_member(client, brand_a_owner)).status_code == 404
    response = as_member(client, demo_operator).get("/demo/")
    assert 'href="/demo/overview/"' in response.content.decode()


def test_the_overview_asks_a_fixed_number_of_queries_for_engagements_without_targets(
    client, demo_manager, make_engagement, make_store, brand_a, make_alert, today
):
    client = as_member(client, demo_manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert overview(client).status_code == 200
        return len(captured)

    for n in range(2):
        engagement = make_engagement(make_store(brand_a), demo_manager, title=f"E{n}")
        make_alert(engagement, rule="cs_reply_slow", date=today, evidence=SLOW_REPLY)
    few = count()
    for n in range(2, 8):
        engagement = make_engagement(make_store(brand_a), demo_manager, title=f"E{n}")
        make_alert(engagement, rule="cs_reply_slow", date=today, evidence=SLOW_REPLY)
    assert count() == few
