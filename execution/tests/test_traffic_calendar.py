"""The platform event calendar: a month rendered server-side (events spanning months, a bad month
named), editing by admins and account managers only, and the usual events seeded once."""

import datetime
import html

import pytest
from django.core.exceptions import ValidationError

from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from execution.models import EventKind, PlatformEvent
from execution.traffic.calendar import SPRING_FESTIVAL, month_grid, month_parse, usual_events
from execution.traffic.services import platform_events_seed_usual


def events_of(agency):
    with agency_scope(agency):
        return list(PlatformEvent.objects.filter(agency=agency).order_by("start_date", "name"))


def test_a_month_grid_clips_an_event_that_spans_months(make_event, demo_agency):
    event = make_event(
        demo_agency, start_date=datetime.date(2026, 10, 20), end_date=datetime.date(2026, 11, 11)
    )
    one_day = make_event(
        demo_agency,
        name="双12",
        kind=EventKind.DOUBLE_12,
        start_date=datetime.date(2026, 12, 12),
        end_date=datetime.date(2026, 12, 12),
    )
    grid = month_grid(
        first=datetime.date(2026, 11, 1),
        events=[event, one_day],
        campaigns=[],
        today=datetime.date(2026, 11, 5),
    )
    assert len(grid.days) == 30 and grid.days[4].today and grid.days[0].weekend  # 11-01 is a Sunday
    [row] = grid.event_rows  # 双12 is not in November
    bar, rest = row.cells
    assert (bar.span, bar.continues_before, bar.continues_after) == (11, True, False)
    assert rest.span == 19 and rest.item is None
    october = month_grid(
        first=datetime.date(2026, 10, 1),
        events=[event],
        campaigns=[],
        today=datetime.date(2026, 11, 5),
    )
    before, bar = october.event_rows[0].cells
    assert (before.span, bar.span, bar.continues_after) == (19, 12, True)
    assert (october.previous, october.next) == (
        datetime.date(2026, 9, 1),
        datetime.date(2026, 11, 1),
    )


def test_the_calendar_page_renders_the_month(client_for, brand_a_owner, make_event, demo_agency):
    make_event(
        demo_agency,
        name="双11 2026 预售",
        start_date=datetime.date(2026, 10, 20),
        end_date=datetime.date(2026, 11, 11),
    )
    make_event(
        demo_agency,
        name="双12 2026",
        kind=EventKind.DOUBLE_12,
        start_date=datetime.date(2026, 12, 12),
        end_date=datetime.date(2026, 12, 12),
    )
    response = client_for(brand_a_owner).get("/demo/calendar/?month=2026-11")
    assert response.status_code == 200
    text = response.content.decode()
    assert "双11 2026 预售" in text and "双12 2026" not in text.split("<table")[1]
    assert 'colspan="11"' in text and 'colspan="19"' in text
    assert "?month=2026-10" in text and "?month=2026-12" in text
    assert "continues from the previous month" in text
    # Brand users read the calendar but are offered no editing.
    assert "New event" not in text and "Add the usual events" not in text


@pytest.mark.parametrize("value", ["2026-13", "November", "2026-11-01", "99999-01"])
def test_a_bad_month_is_named(client_for, demo_manager, value):
    response = client_for(demo_manager).get("/demo/calendar/", {"month": value})
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert f"“{value}” is not a month: use the form YYYY-MM" in text
    with pytest.raises(ValidationError):
        month_parse(value, today=datetime.date(2026, 11, 27))


def test_the_engagement_calendar_shows_its_campaigns_over_the_events(
    client_for,
    demo_manager,
    make_engagement,
    store_a,
    store_b,
    make_campaign,
    make_event,
    demo_agency,
):
    engagement = make_engagement(store_a, demo_manager, stage=Stage.TRAFFIC)
    other = make_engagement(store_b, demo_manager, stage=Stage.TRAFFIC)
    make_event(demo_agency, name="双11 2026")
    make_campaign(
        engagement,
        name="双11 直播 预热",
        start_date=datetime.date(2026, 10, 25),
        end_date=datetime.date(2026, 11, 3),
    )
    make_campaign(
        other,
        name="OTHER-ENGAGEMENT",
        start_date=datetime.date(2026, 11, 1),
        end_date=datetime.date(2026, 11, 3),
    )
    response = client_for(demo_manager).get(
        f"/demo/engagements/{engagement.pk}/traffic/calendar/?month=2026-11"
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "双11 2026" in text and "双11 直播 预热" in text and "OTHER-ENGAGEMENT" not in text
    # The agency calendar holds every engagement's campaigns, for staff.
    agency_page = client_for(demo_manager).get("/demo/calendar/?month=2026-11").content.decode()
    assert "双11 直播 预热" in agency_page and "OTHER-ENGAGEMENT" in agency_page


def event_post(**overrides):
    data = {
        "name": "聚划算 品牌团",
        "kind": EventKind.JUHUASUAN,
        "start_date": "2026-12-01",
        "end_date": "2026-12-03",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_managers_create_edit_and_delete_events(client_for, demo_manager, demo_admin, demo_agency):
    client = client_for(demo_manager)
    response = client.post("/demo/calendar/events/new/", event_post())
    assert response.status_code == 302 and response["Location"].endswith("?month=2026-12")
    [event] = events_of(demo_agency)
    response = client_for(demo_admin).post(
        f"/demo/calendar/events/{event.pk}/edit/", event_post(end_date="2026-12-05")
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.end_date == datetime.date(2026, 12, 5)
    assert client.post(f"/demo/calendar/events/{event.pk}/delete/").status_code == 302
    assert events_of(demo_agency) == []


def test_a_bad_event_is_named_and_not_written(client_for, demo_manager, demo_agency):
    response = client_for(demo_manager).post(
        "/demo/calendar/events/new/", event_post(start_date="2026-12-10", end_date="2026-12-01")
    )
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors["end_date"])
    assert "2026-12-01" in errors and "2026-12-10" in errors
    assert events_of(demo_agency) == []


def test_operators_get_403_and_brand_users_404_on_event_editing(
    client_for, demo_operator, brand_a_owner, make_event, demo_agency
):
    event = make_event(demo_agency)
    for member, status in ((demo_operator, 403), (brand_a_owner, 404)):
        client = client_for(member)
        assert client.get("/demo/calendar/events/new/").status_code == status
        assert client.post("/demo/calendar/events/new/", event_post()).status_code == status
        assert (
            client.post(f"/demo/calendar/events/{event.pk}/edit/", event_post()).status_code
            == status
        )
        assert client.post(f"/demo/calendar/events/{event.pk}/delete/").status_code == status
        assert client.post("/demo/calendar/events/usual/", {"year": 2026}).status_code == status
        assert client.get("/demo/calendar/").status_code == 200  # reading is for everyone
    assert [e.pk for e in events_of(demo_agency)] == [event.pk]
    assert events_of(demo_agency)[0].name == event.name


def test_the_usual_events_are_seeded_once(client_for, demo_manager, demo_agency):
    client = client_for(demo_manager)
    response = client.post("/demo/calendar/events/usual/", {"year": 2027})
    assert response.status_code == 302
    events = events_of(demo_agency)
    by_kind = {event.kind: event for event in events}
    assert set(by_kind) == {
        EventKind.NIANHUO,
        EventKind.WOMENS_DAY,
        EventKind.MID_YEAR,
        EventKind.NINE_NINE,
        EventKind.DOUBLE_11,
        EventKind.DOUBLE_12,
    }
    assert (by_kind[EventKind.MID_YEAR].start_date, by_kind[EventKind.MID_YEAR].end_date) == (
        datetime.date(2027, 5, 20),
        datetime.date(2027, 6, 18),
    )
    assert by_kind[EventKind.DOUBLE_11].start_date == datetime.date(2027, 10, 20)
    assert by_kind[EventKind.DOUBLE_12].end_date == datetime.date(2027, 12, 12)
    # 年货节 ends about a week before the Spring Festival of 2027 (02-06).
    assert by_kind[EventKind.NIANHUO].end_date < SPRING_FESTIVAL[2027]
    assert by_kind[EventKind.NIANHUO].start_date.year == 2027

    # The agency moves 618 a little; a second click adds nothing, and keeps the edit.
    with agency_scope(demo_agency):
        PlatformEvent.objects.filter(pk=by_kind[EventKind.MID_YEAR].pk).update(
            start_date=datetime.date(2027, 5, 28)
        )
    page = client.post("/demo/calendar/events/usual/", {"year": 2027}, follow=True)
    assert "already in the calendar" in page.content.decode()
    again = events_of(demo_agency)
    assert len(again) == 6
    assert {e.kind: e for e in again}[EventKind.MID_YEAR].start_date == datetime.date(2027, 5, 28)


def test_a_year_beyond_the_spring_festival_table_gets_no_nianhuo(demo_manager, demo_agency):
    events, notes = usual_events(2031)
    assert EventKind.NIANHUO not in {event.kind for event in events}
    assert "2031" in notes[0]
    with agency_scope(demo_agency):
        created, notes = platform_events_seed_usual(
            actor=demo_manager, agency=demo_agency, year=2031
        )
    assert len(created) == 5 and notes
    with agency_scope(demo_agency), pytest.raises(ValidationError):
        platform_events_seed_usual(actor=demo_manager, agency=demo_agency, year=1800)
