"""Customer service: days from the ingested facts or entered by staff (ingested wins), breaches of
the 30-second first-reply target, the range's average from summed parts, entering and
replacing a day, and bad input named."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agency.tenancy import agency_scope
from execution.conversion import services
from execution.conversion.selectors import CS_FIRST_REPLY_TARGET_SECONDS, service_summary
from execution.models import ServiceDay

D = datetime.date


def _enter(engagement, actor, **values):
    defaults = {
        "date": D(2026, 3, 2),
        "sessions": 10,
        "average_first_reply_seconds": Decimal(50),
        "inquiry_buyers": 8,
        "inquiry_paying_buyers": 2,
        "after_sales_requests": 1,
    }
    with agency_scope(engagement.agency_id):
        return services.service_day_enter(
            actor=actor, engagement=engagement, **{**defaults, **values}
        )


def test_an_entered_day_is_stored_as_summed_parts_and_replaced_when_entered_again(
    conversion_engagement, demo_manager
):
    _enter(
        conversion_engagement,
        demo_manager,
        sessions=40,
        average_first_reply_seconds=Decimal("12.5"),
    )
    day = _enter(
        conversion_engagement,
        demo_manager,
        sessions=40,
        average_first_reply_seconds=Decimal("22.25"),
    )
    with agency_scope(conversion_engagement.agency_id):
        assert ServiceDay.objects.count() == 1
    assert day.first_reply_seconds_sum == Decimal("890.00")
    assert day.sessions == 40


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"inquiry_buyers": 5, "inquiry_paying_buyers": 6}, "inquiry_paying_buyers", ["6", "5"]),
        ({"sessions": -1}, "sessions", ["-1", "negative"]),
        ({"average_first_reply_seconds": Decimal(-2)}, "average_first_reply_seconds", ["-2"]),
        ({"after_sales_requests": -4}, "after_sales_requests", ["-4"]),
        ({"date": D(2099, 1, 1)}, "date", ["2099-01-01", "future"]),
    ],
)
def test_bad_days_are_refused_with_the_field_and_value(
    conversion_engagement, demo_manager, values, field, words
):
    with pytest.raises(ValidationError) as caught:
        _enter(conversion_engagement, demo_manager, **values)
    message = " ".join(caught.value.message_dict[field])
    for word in words:
        assert word in message
    with agency_scope(conversion_engagement.agency_id):
        assert not ServiceDay.objects.exists()


def test_ingested_days_win_entered_days_fill_in_and_the_average_comes_from_sums(
    conversion_engagement, store_a, demo_manager, push
):
    push(
        store_a,
        "store_day",
        [
            {"date": "2026-03-01", "cs_sessions": 100, "cs_first_reply_seconds_sum": 2000},
            {"date": "2026-03-03", "cs_sessions": 50, "cs_first_reply_seconds_sum": 1600},
        ],
    )
    _enter(conversion_engagement, demo_manager, date=D(2026, 3, 2))  # 10 sessions at 50 s
    # Entered for an ingested day: its sessions and replies lose; its inquiries count.
    _enter(
        conversion_engagement,
        demo_manager,
        date=D(2026, 3, 3),
        sessions=999,
        average_first_reply_seconds=Decimal(1),
    )
    with agency_scope(store_a.agency_id):
        summary = service_summary(
            engagement=conversion_engagement, start=D(2026, 3, 1), end=D(2026, 3, 31)
        )
    days = {day.date: day for day in summary.days}
    assert [day.date for day in summary.days] == [D(2026, 3, 3), D(2026, 3, 2), D(2026, 3, 1)]
    assert (days[D(2026, 3, 1)].source, days[D(2026, 3, 1)].average_first_reply) == (
        "ingested",
        Decimal("20.00"),
    )
    assert (days[D(2026, 3, 2)].source, days[D(2026, 3, 2)].average_first_reply) == (
        "entered",
        Decimal("50.00"),
    )
    assert (days[D(2026, 3, 3)].source, days[D(2026, 3, 3)].average_first_reply) == (
        "both",
        Decimal("32.00"),
    )
    assert days[D(2026, 3, 3)].inquiry_conversion == Decimal("0.25")
    assert days[D(2026, 3, 1)].inquiry_conversion is None
    assert [day.date for day in summary.breach_days] == [D(2026, 3, 3), D(2026, 3, 2)]
    # (2000 + 500 + 1600) / (100 + 10 + 50), not the mean of 20, 50 and 32.
    assert summary.average_first_reply == Decimal("25.63")
    assert (summary.inquiry_buyers, summary.inquiry_paying_buyers) == (16, 4)
    assert CS_FIRST_REPLY_TARGET_SECONDS == 30


def test_the_page_shows_breaches_and_range_and_staff_enter_days(
    conversion_engagement, demo_manager, client_for
):
    today = services.agency_today(conversion_engagement.agency)
    _enter(conversion_engagement, demo_manager, date=today - datetime.timedelta(days=3))
    _enter(
        conversion_engagement,
        demo_manager,
        date=today - datetime.timedelta(days=2),
        average_first_reply_seconds=Decimal(20),
    )
    client = client_for(demo_manager)
    url = reverse(
        "conversion:service",
        kwargs={"agency_slug": "demo", "engagement_id": conversion_engagement.pk},
    )
    page = client.get(url).content.decode()
    assert 'id="breach-days">1<' in page
    assert "50.0 s" in page and "over target" in page
    response = client.post(
        url,
        {
            "date": today.isoformat(),
            "sessions": "20",
            "average_first_reply_seconds": "15",
            "inquiry_buyers": "4",
            "inquiry_paying_buyers": "9",
        },
    )
    assert response.status_code == 200
    assert "9 paying buyers is more than the 4 buyers who asked." in response.content.decode()
    # A count beyond the column's range is refused by the form, not a database error.
    response = client.post(
        url,
        {"date": today.isoformat(), "sessions": "99999999999", "average_first_reply_seconds": "15"},
    )
    assert response.status_code == 200
    assert "less than or equal to 2147483647" in response.content.decode()
    response = client.post(
        url, {"date": today.isoformat(), "sessions": "20", "average_first_reply_seconds": "15"}
    )
    assert response.status_code == 302
    with agency_scope(conversion_engagement.agency_id):
        assert ServiceDay.objects.get(date=today).first_reply_seconds_sum == Decimal("300.00")


def test_bad_range_dates_are_named(conversion_engagement, demo_manager, client_for):
    client = client_for(demo_manager)
    url = reverse(
        "conversion:service",
        kwargs={"agency_slug": "demo", "engagement_id": conversion_engagement.pk},
    )
    page = client.get(url, {"start": "2026-02-30", "end": "2026-03-01"}).content.decode()
    assert "“2026-02-30”" in page and "Enter a valid date" in page
    page = client.get(url, {"start": "2026-03-10", "end": "2026-03-01"}).content.decode()
    assert "The end date 2026-03-01 is before the start date 2026-03-10." in page
    page = client.get(url, {"start": "2024-01-01", "end": "2026-03-01"}).content.decode()
    assert "more than the 366 days" in page


def test_brand_users_read_the_service_page_but_cannot_enter(
    conversion_engagement, brand_a_owner, demo_manager, client_for
):
    _enter(
        conversion_engagement, demo_manager, date=datetime.date.today() - datetime.timedelta(days=1)
    )
    owner = client_for(brand_a_owner)
    url = reverse(
        "conversion:service",
        kwargs={"agency_slug": "demo", "engagement_id": conversion_engagement.pk},
    )
    page = owner.get(url)
    assert page.status_code == 200
    assert "Enter a day" not in page.content.decode()
    assert (
        owner.post(
            url, {"date": "2026-01-01", "sessions": "1", "average_first_reply_seconds": "1"}
        ).status_code
        == 405
    )
