"""The brand owner opens the engagement dashboard in real Chromium: the charts render from the
portal's own static files, the range changes in place (htmx, no full reload), and the console
shows no error."""

import datetime
import os
from urllib.parse import parse_qs, urlparse

import pytest

from agency.models import Role
from agency.tenancy import agency_scope
from conftest import PASSWORD
from execution.metrics.ingestion import ingestion_push

# See tests/test_browser.py: Playwright's sync API beside Django's ORM in one test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAST_DAY = datetime.date(2026, 9, 30)
CHARTS = 7  # six trends and the source mix


def days(count: int):
    return [LAST_DAY - datetime.timedelta(days=n) for n in range(count)]


def push(store, operator, grain, rows):
    # Outside a test transaction the run's task is queued on commit, i.e. at once (eager).
    with agency_scope(store.agency_id):
        run = ingestion_push(actor=operator, store=store, grain=grain, rows=rows)
        run.refresh_from_db()
    assert run.status == "succeeded", run.errors


@pytest.fixture
def store_a_with_data(store_a, make_member, demo_agency):
    operator = make_member(demo_agency, Role.OPERATOR)
    dates = days(120)
    push(
        store_a,
        operator,
        "store_day",
        [
            {
                "date": day.isoformat(),
                "visitors": 1000 + 10 * n,
                "paying_buyers": 20 + n % 7,
                "gmv": f"{3000 + 25 * n}.00",
            }
            for n, day in enumerate(dates)
        ],
    )
    push(
        store_a,
        operator,
        "store_day_source",
        [
            {"date": day.isoformat(), "source": source, "visitors": visitors}
            for day in dates
            for source, visitors in (("手淘搜索", 500), ("直通车", 300), ("<b>直播</b>", 200))
        ],
    )
    push(
        store_a,
        operator,
        "store_day_ad",
        [
            {
                "date": day.isoformat(),
                "ad_tool": "zhitongche",
                "campaign": campaign,
                "impressions": 1000,
                "clicks": clicks,
                "ad_spend": spend,
                "ad_gmv": gmv,
                "ad_orders": 2,
            }
            for day in dates
            for campaign, clicks, spend, gmv in (
                ("Plan A", 50, "100.00", "300.00"),
                ("Plan B", 20, "40.00", "400.00"),
            )
        ],
    )
    push(
        store_a,
        operator,
        "store_day_product",
        [
            {
                "date": day.isoformat(),
                "item_id": str(700 + item),
                "item_name": f"商品 {item}",
                "visitors": 20 + item,
                "paying_buyers": item % 5,
                "gmv": f"{item * 30}.00",
            }
            for day in dates
            for item in range(15)
        ],
    )
    return store_a


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/demo/")


def charts_ready(page) -> None:
    page.wait_for_function(f"document.querySelectorAll('[data-chart] canvas').length === {CHARTS}")


def chart_instances(page) -> int:
    return page.evaluate(
        "Array.from(document.querySelectorAll('[data-chart]'))"
        ".filter(el => window.echarts.getInstanceByDom(el) !== undefined).length"
    )


def test_the_brand_owner_sees_the_charts_and_changes_the_range_in_place(
    page, live_server, brand_a_owner, demo_manager, engagement_a, store_a_with_data, make_alert
):
    from execution.alerts import alert_acknowledge
    from execution.metrics.rules import finding_text

    evidence = {"date": "2026-09-29", "cs_avg_first_reply": "52.00", "cs_sessions": "80"}
    evidence["sla_seconds"] = "30"
    open_alert = make_alert(engagement_a, rule="cs_reply_slow", date=LAST_DAY, evidence=evidence)
    done = make_alert(engagement_a, rule="cs_reply_slow", cause="night", evidence=evidence)
    with agency_scope(engagement_a.agency_id):
        alert_acknowledge(actor=demo_manager, alert=done, note="STAFF-ONLY-NOTE")
    message, action = finding_text("cs_reply_slow", open_alert.evidence)
    sign_in(page, live_server, brand_a_owner.user.email)
    page.goto(f"{live_server.url}/demo/engagements/{engagement_a.pk}/")
    errors, foreign = [], []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if not request.url.startswith(live_server.url) and not request.url.startswith("data:")
            else None
        ),
    )
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(f"{live_server.url}/demo/engagements/{engagement_a.pk}/dashboard/")

    charts_ready(page)
    assert page.locator("[data-chart]").count() == CHARTS
    assert chart_instances(page) == CHARTS
    assert page.locator("#dashboard-range input[name=start]").input_value() == "2026-09-01"
    assert page.locator("#dashboard-range input[name=end]").input_value() == "2026-09-30"
    alert = page.locator(f"#alert-{open_alert.pk}")
    assert message in alert.inner_text() and action in alert.inner_text()
    assert page.locator(f"#alert-{done.pk}").count() == 1
    assert page.get_by_text("STAFF-ONLY-NOTE").count() == 0
    assert page.locator("form.acknowledge").count() == 0

    # A preset: the dashboard is swapped by htmx, the address follows, the page stays.
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("button", name="Last 7 days").click()
    page.wait_for_function(
        "document.querySelector('#dashboard-range input[name=start]').value === '2026-09-24'"
    )
    charts_ready(page)
    assert chart_instances(page) == CHARTS
    assert page.evaluate("window.__notReloaded") is True
    assert parse_qs(urlparse(page.url).query) == {"start": ["2026-09-24"], "end": ["2026-09-30"]}
    assert (
        page.evaluate(
            "JSON.parse(document.getElementById('dashboard-chart-data').textContent)"
            ".trends.dates.length"
        )
        == 7
    )

    # Back: the previous range comes back with live charts.
    page.go_back()
    page.wait_for_function(
        "document.querySelector('#dashboard-range input[name=start]').value === '2026-09-01'"
    )
    charts_ready(page)
    assert chart_instances(page) == CHARTS
    assert page.evaluate(
        "Array.from(document.querySelectorAll('[data-chart]'))"
        ".every(el => el.querySelectorAll('canvas').length === 1)"
    )
    page.go_forward()
    page.wait_for_function(
        "document.querySelector('#dashboard-range input[name=start]').value === '2026-09-24'"
    )
    charts_ready(page)
    assert chart_instances(page) == CHARTS

    # Typing a date: the change event asks for the new range.
    page.fill("#dashboard-range input[name=start]", "2026-08-01")
    page.locator("#dashboard-range input[name=start]").dispatch_event("change")
    page.wait_for_function("location.search.includes('start=2026-08-01')")
    charts_ready(page)
    assert page.evaluate("window.__notReloaded") is True

    # Sorting the campaigns by ROI swaps the table only.
    first = page.locator("#campaigns tbody tr").first
    assert "Plan A" in first.inner_text()  # most spend first
    page.locator("#campaigns th a", has_text="ROI").click()
    page.wait_for_function(
        "document.querySelector('#campaigns tbody tr').innerText.includes('Plan B')"
    )
    assert page.evaluate("window.__notReloaded") is True
    assert chart_instances(page) == CHARTS

    # A bad range: a message naming the field, no error in the console.
    page.fill("#dashboard-range input[name=end]", "2026-07-01")
    page.locator("#dashboard-range input[name=end]").dispatch_event("change")
    page.wait_for_selector("#dashboard-range .errors >> text=The end date is before the start")
    assert page.evaluate("window.__notReloaded") is True

    assert errors == []
    assert foreign == []
