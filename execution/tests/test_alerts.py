"""Stored alerts: raised once per engagement, rule, day and cause however often a day is
evaluated; acknowledged by staff with a note; raised by themselves when data arrives."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from agency.models import Role
from agency.tenancy import agency_scope
from engagements.models import EngagementStatus
from execution.alerts import (
    ALERT_LOOKBACK_DAYS,
    alert_acknowledge,
    alert_days_for_run,
    alerts_evaluate,
    alerts_open,
)
from execution.metrics.ingestion import ingestion_push
from execution.models import Alert, AlertSeverity
from execution.tasks import evaluate_alerts

D = datetime.date(2026, 6, 20)


def day(offset: int) -> datetime.date:
    return D + datetime.timedelta(days=offset)


def store_day(offset: int, reply_seconds: int = 2000, **values) -> dict:
    """A store day with 100 customer-service sessions: 2,000 s is a 20 s first reply (fine),
    4,500 s a 45 s one (cs_reply_slow)."""
    return {
        "date": day(offset).isoformat(),
        "visitors": 1000,
        "paying_buyers": 30,
        "gmv": "3000.00",
        "cs_sessions": 100,
        "cs_first_reply_seconds_sum": reply_seconds,
        **values,
    }


def losing_campaigns(*names, spend="100"):
    """Campaigns with an ROI of 0.5 over the 7 days to D (roi_below_target, critical)."""
    return [
        {
            "date": day(offset).isoformat(),
            "ad_tool": "zhitongche",
            "campaign": name,
            "impressions": 5000,
            "clicks": 100,
            "ad_spend": spend,
            "ad_gmv": str(int(spend) // 2),
        }
        for name in names
        for offset in range(-6, 1)
    ]


@pytest.fixture
def paused(make_engagement, store_a, demo_manager):
    """An engagement whose store's data raises nothing by itself: these tests evaluate."""
    return make_engagement(store_a, demo_manager, status=EngagementStatus.PAUSED)


def evaluate(engagement, date=D):
    with agency_scope(engagement.agency_id):
        return alerts_evaluate(engagement=engagement, date=date)


def stored(engagement):
    with agency_scope(engagement.agency_id):
        return list(Alert.objects.filter(engagement=engagement).order_by("date", "rule", "cause"))


# --- alerts_evaluate ---------------------------------------------------------------------------


def test_evaluate_stores_the_days_alerts_once(push, store_a, paused):
    push(store_a, "store_day", [store_day(offset) for offset in range(-7, 0)])
    push(store_a, "store_day", [store_day(0, reply_seconds=4500)])
    push(store_a, "store_day_ad", losing_campaigns("Losing"))
    first = evaluate(paused)
    assert [(a.rule, a.cause, a.severity) for a in first] == [
        ("roi_below_target", "zhitongche:Losing", AlertSeverity.CRITICAL),
        ("cs_reply_slow", "", AlertSeverity.WARNING),
    ]
    # Insights (best campaign, GMV against last week, ...) are not stored as alerts.
    assert all(alert.rule not in {"gmv_vs_last_week", "top_traffic_source"} for alert in first)
    assert first[1].evidence["cs_avg_first_reply"] == "45.00"
    second = evaluate(paused)
    assert [a.pk for a in second] == [a.pk for a in first]
    assert len(stored(paused)) == 2


def test_evaluating_again_after_a_data_change_raises_each_alert_once(push, store_a, paused):
    push(store_a, "store_day", [store_day(0, reply_seconds=4500)])
    [slow] = evaluate(paused)
    # A corrected file: replies even slower, and a campaign now loses money.
    push(store_a, "store_day", [store_day(0, reply_seconds=6000)])
    push(store_a, "store_day_ad", losing_campaigns("Losing"))
    alerts = evaluate(paused)
    assert sorted(a.rule for a in alerts) == ["cs_reply_slow", "roi_below_target"]
    assert len(stored(paused)) == 2
    slow.refresh_from_db()
    assert slow.evidence["cs_avg_first_reply"] == "45.00"  # the first evidence stays


def test_one_alert_per_cause(push, store_a, paused):
    push(store_a, "store_day_ad", losing_campaigns("Plan A", "Plan B"))
    alerts = evaluate(paused)
    assert [a.cause for a in alerts] == ["zhitongche:Plan A", "zhitongche:Plan B"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_raise_each_alert_once(make_engagement, store_a, demo_manager):
    engagement = make_engagement(store_a, demo_manager, status=EngagementStatus.PAUSED)
    operator = demo_manager
    with agency_scope(store_a.agency_id):
        # Straight through the service: in a transactional test on_commit runs at once.
        ingestion_push(
            actor=operator, store=store_a, grain="store_day_ad", rows=losing_campaigns("A", "B")
        )
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        try:
            with agency_scope(engagement.agency_id):
                barrier.wait()
                alerts_evaluate(engagement=engagement, date=D)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [a.cause for a in stored(engagement)] == ["zhitongche:A", "zhitongche:B"]


# --- alert_acknowledge -------------------------------------------------------------------------


@pytest.fixture
def alert(make_alert, engagement_a):
    return make_alert(
        engagement_a,
        rule="cs_reply_slow",
        date=D,
        evidence={
            "date": D.isoformat(),
            "cs_avg_first_reply": "45.00",
            "cs_sessions": 100,
            "sla_seconds": "30",
        },
    )


def acknowledge(actor, alert, note):
    with agency_scope(actor.agency_id):
        return alert_acknowledge(actor=actor, alert=alert, note=note)


def test_staff_acknowledge_with_a_note(demo_operator, alert):
    acknowledged = acknowledge(demo_operator, alert, "  Two more agents on the evening shift. ")
    assert acknowledged.acknowledged_at is not None
    assert acknowledged.acknowledged_by == demo_operator.user
    assert acknowledged.note == "Two more agents on the evening shift."
    assert not acknowledged.is_open


def test_acknowledging_twice_keeps_the_first(demo_operator, demo_manager, alert):
    first = acknowledge(demo_operator, alert, "Staffed up.")
    when = first.acknowledged_at
    again = acknowledge(demo_manager, alert, "Looked at it too.")
    assert (again.acknowledged_at, again.acknowledged_by, again.note) == (
        when,
        demo_operator.user,
        "Staffed up.",
    )


@pytest.mark.parametrize("note", ["", "   "])
def test_a_note_is_required(demo_operator, alert, note):
    with pytest.raises(ValidationError) as raised:
        acknowledge(demo_operator, alert, note)
    assert "note" in raised.value.message_dict
    alert.refresh_from_db()
    assert alert.is_open


def test_brand_users_cannot_acknowledge(brand_a_owner, brand_a_viewer, alert):
    for member in (brand_a_owner, brand_a_viewer):
        with pytest.raises(PermissionDenied):
            acknowledge(member, alert, "Seen.")
    alert.refresh_from_db()
    assert alert.is_open


def test_staff_of_another_agency_or_deactivated_cannot_acknowledge(
    rival_manager, make_member, demo_agency, alert
):
    with pytest.raises(PermissionDenied), agency_scope(rival_manager.agency_id):
        alert_acknowledge(actor=rival_manager, alert=alert, note="Not mine.")
    former = make_member(demo_agency, Role.OPERATOR)
    former.is_active = False
    with pytest.raises(PermissionDenied):
        acknowledge(former, alert, "Left the agency.")
    alert.refresh_from_db()
    assert alert.is_open


def test_acknowledging_closes_the_same_condition_on_earlier_days(
    make_alert, engagement_a, demo_operator
):
    earlier = make_alert(engagement_a, rule="cs_reply_slow", date=day(-2))
    other_cause = make_alert(engagement_a, rule="roi_below_target", date=day(-1), cause="x:A")
    latest = make_alert(engagement_a, rule="cs_reply_slow", date=day(-1))
    later = make_alert(engagement_a, rule="cs_reply_slow", date=D)
    acknowledge(demo_operator, latest, "Fixed the shift plan.")
    for one in (earlier, other_cause, latest, later):
        one.refresh_from_db()
    assert not earlier.is_open and earlier.note == "Fixed the shift plan."
    assert not latest.is_open
    assert other_cause.is_open and later.is_open


def test_open_alerts_most_severe_first(make_alert, engagement_a, engagement_b, demo_operator):
    info = make_alert(engagement_a, rule="metric_anomaly", date=D, severity="info")
    warning = make_alert(engagement_a, rule="cs_reply_slow", date=D)
    old_critical = make_alert(
        engagement_a, rule="roi_below_target", date=day(-3), severity="critical"
    )
    done = make_alert(engagement_a, rule="refund_rate_jump", date=D)
    make_alert(engagement_b, rule="cs_reply_slow", date=D)
    acknowledge(demo_operator, done, "Refunds were one return batch.")
    with agency_scope(engagement_a.agency_id):
        assert list(alerts_open(engagement=engagement_a)) == [old_critical, warning, info]


def test_a_stored_alert_reads_in_the_readers_language(alert):
    with translation.override("en"):
        assert alert.title == "Customer service replies slowly"
        assert alert.message.startswith("Customer service took 45.0 s on average")
        assert "quick replies" in alert.action


# --- Raised when data arrives ------------------------------------------------------------------


def test_ingesting_data_raises_the_alerts_of_the_touched_days(push, store_a, engagement_a):
    assert engagement_a.status == EngagementStatus.ACTIVE
    push(store_a, "store_day", [store_day(offset, reply_seconds=4500) for offset in (-1, 0)])
    alerts = stored(engagement_a)
    assert [(a.rule, a.date) for a in alerts] == [("cs_reply_slow", day(-1)), ("cs_reply_slow", D)]
    # The same file again: nothing new.
    push(store_a, "store_day", [store_day(offset, reply_seconds=4500) for offset in (-1, 0)])
    assert len(stored(engagement_a)) == 2


def test_a_backfill_raises_alerts_only_for_its_last_days(push, store_a, engagement_a):
    start = engagement_a.start_date  # 2026-01-01; data from the diagnosis baseline before it
    rows = [store_day(offset, reply_seconds=4500) for offset in range(-200, 1)]
    assert datetime.date.fromisoformat(rows[0]["date"]) < start
    push(store_a, "store_day", rows)
    dates = [alert.date for alert in stored(engagement_a) if alert.rule == "cs_reply_slow"]
    assert dates == [day(offset) for offset in range(1 - ALERT_LOOKBACK_DAYS, 1)]


def test_no_alerts_before_the_engagement_starts(push, store_a, make_engagement, demo_manager):
    engagement = make_engagement(store_a, demo_manager, start_date=day(-1))
    push(
        store_a, "store_day", [store_day(offset, reply_seconds=4500) for offset in (-3, -2, -1, 0)]
    )
    assert [a.date for a in stored(engagement)] == [day(-1), D]


def test_paused_and_ended_engagements_raise_nothing(push, store_a, paused, make_engagement):
    ended = make_engagement(
        store_a, paused.account_manager, status=EngagementStatus.ENDED, end_date=day(10)
    )
    push(store_a, "store_day", [store_day(0, reply_seconds=4500)])
    assert stored(paused) == [] and stored(ended) == []
    # The task itself refuses an engagement that is no longer active.
    assert evaluate_alerts(paused.agency_id, paused.pk, D.isoformat(), D.isoformat()) == 0


def test_other_agencies_are_not_touched(push, store_a, engagement_a, rival_engagement):
    push(store_a, "store_day", [store_day(0, reply_seconds=4500)])
    assert len(stored(engagement_a)) == 1
    assert stored(rival_engagement) == []


def test_alert_days_for_run():
    assert alert_days_for_run(day(-3), D) == (day(-3), D)
    assert alert_days_for_run(day(-700), D) == (day(-34), D)
