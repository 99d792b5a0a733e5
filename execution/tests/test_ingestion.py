"""Runs from rows (the JSON push path; files share the same writer): all or nothing, replacement
of what earlier runs wrote, ad tools that add up, errors that name the row, field and value."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agency.tenancy import agency_scope
from execution.metrics.ingestion import ingestion_push
from execution.models import IngestionRun, StoreDayAdFact, StoreDayFact

D1, D2 = datetime.date(2026, 9, 1), datetime.date(2026, 9, 2)


def day(date, visitors, gmv, **more):
    return {"date": date.isoformat(), "visitors": visitors, "gmv": gmv, **more}


def ad(date, tool, campaign, spend, gmv, **more):
    return {
        "date": date.isoformat(),
        "ad_tool": tool,
        "campaign": campaign,
        "ad_spend": spend,
        "ad_gmv": gmv,
        **more,
    }


def facts(model, store):
    with agency_scope(store.agency_id):
        return list(model.objects.filter(store=store).order_by("date", "pk"))


def test_a_push_writes_facts_that_know_their_run(push, store_a, demo_manager):
    run = push(
        store_a, "store_day", [day(D1, 100, "1,234.50"), day(D2, 200, 99)], actor=demo_manager
    )
    assert run.status == IngestionRun.Status.SUCCEEDED
    assert (run.rows_read, run.rows_written, run.date_start, run.date_end) == (2, 2, D1, D2)
    rows = facts(StoreDayFact, store_a)
    assert [(r.date, r.visitors, r.gmv, r.run_id) for r in rows] == [
        (D1, 100, Decimal("1234.50"), run.pk),
        (D2, 200, Decimal("99.00"), run.pk),
    ]
    assert rows[0].paying_buyers is None  # not sent: no value, never 0


def test_the_same_rows_twice_give_the_same_facts_and_a_correction_corrects(push, store_a):
    push(store_a, "store_day", [day(D1, 100, 10), day(D2, 200, 20)])
    push(store_a, "store_day", [day(D1, 100, 10), day(D2, 200, 20)])
    assert len(facts(StoreDayFact, store_a)) == 2
    corrected = push(store_a, "store_day", [day(D2, 250, 25)])
    rows = facts(StoreDayFact, store_a)
    assert [(r.date, r.visitors) for r in rows] == [(D1, 100), (D2, 250)]
    assert rows[1].run_id == corrected.pk


def test_an_ad_report_replaces_only_its_own_tool(push, store_a):
    push(
        store_a,
        "store_day_ad",
        [
            ad(D1, "zhitongche", "核心词", "100.00", "300.00"),
            ad(D1, "wanxiangtai", "拉新", "50.00", "200.00", item_id="123"),
        ],
    )
    # Late orders arrive: the 直通车 figures of the day change; 万相台 must stay.
    push(store_a, "store_day_ad", [ad(D1, "zhitongche", "核心词", "100.00", "360.00")])
    rows = facts(StoreDayAdFact, store_a)
    assert sorted((r.ad_tool, r.ad_gmv) for r in rows) == [
        ("wanxiangtai", Decimal("200.00")),
        ("zhitongche", Decimal("360.00")),
    ]


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        ({"visitors": "12a"}, "visitors", "12a", "not a whole number"),
        ({"visitors": -3}, "visitors", "-3", "negative count"),
        ({"gmv": "abc"}, "gmv", "abc", "not a number"),
        ({"gmv": "1.005"}, "gmv", "1.005", "more than two decimal places"),
        ({"date": "2026-13-01"}, "date", "2026-13-01", "not a date"),
    ],
)
def test_a_bad_row_fails_the_run_and_nothing_is_written(push, store_a, row, column, value, message):
    push(store_a, "store_day", [day(D1, 1, 1)])
    good = day(D2, 5, 5)
    run = push(store_a, "store_day", [day(D1, 2, 2), {**good, **row}])
    assert run.status == IngestionRun.Status.FAILED
    assert run.errors == [{"row": 2, "column": column, "value": value, "message": message}]
    assert "nothing was written" in run.message
    assert [(r.date, r.visitors) for r in facts(StoreDayFact, store_a)] == [(D1, 1)]


def test_a_duplicate_key_fails_the_run(push, store_a):
    run = push(store_a, "store_day", [day(D1, 1, 1), day(D2, 1, 1), day(D1, 2, 2)])
    assert run.status == IngestionRun.Status.FAILED
    assert run.errors[0]["row"] == 3 and "duplicate" in run.errors[0]["message"]
    assert facts(StoreDayFact, store_a) == []


def test_unknown_fields_are_listed_not_refused(push, store_a):
    run = push(store_a, "store_day", [day(D1, 1, 1, 直播间人数=5)])
    assert run.status == IngestionRun.Status.SUCCEEDED
    assert run.unknown_columns == ["直播间人数"]


def test_a_push_is_checked_before_it_is_queued(store_a, demo_manager, brand_a_owner):
    with agency_scope(store_a.agency_id):
        with pytest.raises(ValidationError):
            ingestion_push(actor=demo_manager, store=store_a, grain="store_week", rows=[])
        with pytest.raises(PermissionDenied):
            ingestion_push(actor=brand_a_owner, store=store_a, grain="store_day", rows=[])


def test_a_finished_run_is_never_processed_twice(push, store_a):
    from execution.tasks import ingest_run

    run = push(store_a, "store_day", [day(D1, 1, 1)])
    ingest_run.delay(store_a.agency_id, run.pk)  # a redelivered task
    with agency_scope(store_a.agency_id):
        assert IngestionRun.objects.get(pk=run.pk).finished_at == run.finished_at
    assert len(facts(StoreDayFact, store_a)) == 1


def test_runs_and_facts_stay_in_their_agency(push, store_a, rival_store, rival_agency):
    push(store_a, "store_day", [day(D1, 100, 10)])
    push(rival_store, "store_day", [day(D1, 7, 7)])
    with agency_scope(rival_agency):
        assert [f.visitors for f in StoreDayFact.objects.all()] == [7]
        assert IngestionRun.objects.count() == 1


def test_a_value_the_database_would_refuse_fails_the_run_cleanly(push, store_a):
    run = push(store_a, "store_day", [day(D1, 1, "10000000000000.00")])
    assert run.status == IngestionRun.Status.FAILED
    assert run.errors[0]["message"] == "too large for an amount"
    run = push(store_a, "store_day", [day(D1, 2**63, 1)])
    assert run.errors[0]["message"] == "too large for a count"


def test_an_unexpected_problem_never_leaves_a_run_running(push, store_a, monkeypatch):
    from execution.metrics import ingestion

    def broken(*args, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(ingestion, "facts_replace", broken)
    run = push(store_a, "store_day", [day(D1, 1, 1)])
    assert run.status == IngestionRun.Status.FAILED
    assert "ZeroDivisionError" in run.message and run.finished_at is not None


def test_a_run_left_running_by_a_killed_worker_is_processed_when_redelivered(store_a, demo_manager):
    from execution.tasks import ingest_run

    with agency_scope(store_a.agency_id):
        run = ingestion_push(
            actor=demo_manager, store=store_a, grain="store_day", rows=[day(D1, 4, 4)]
        )
        # The worker died after marking the run running; its transaction was rolled back.
        IngestionRun.objects.filter(pk=run.pk).update(status=IngestionRun.Status.RUNNING)
    ingest_run.delay(store_a.agency_id, run.pk)
    with agency_scope(store_a.agency_id):
        assert IngestionRun.objects.get(pk=run.pk).status == IngestionRun.Status.SUCCEEDED
    assert [f.visitors for f in facts(StoreDayFact, store_a)] == [4]


def test_every_key_but_an_ad_rows_product_is_required(push, store_a):
    run = push(store_a, "store_day_product", [{"date": "2026-09-01", "visitors": 1}])
    assert run.status == IngestionRun.Status.FAILED
    assert run.errors == [{"row": 1, "column": "item_id", "value": "", "message": "missing"}]
    run = push(store_a, "store_day_ad", [ad(D1, "zhitongche", "核心词", 1, 1)])
    assert run.status == IngestionRun.Status.SUCCEEDED


def test_a_push_with_nul_and_lone_surrogates_fails_cleanly_and_records_why(push, store_a):
    """PostgreSQL cannot store NUL or unpaired surrogates even in the run's own error list; the
    run escapes them, so it fails with its reasons instead of staying "running"."""
    row = {**day(D1, "1\x002", 5), "odd\ud800column": "x"}
    run = push(store_a, "store_day", [row])
    assert run.status == IngestionRun.Status.FAILED and run.finished_at is not None
    assert run.errors[0]["value"] == "1\\x002" and run.errors[0]["column"] == "visitors"
    assert run.unknown_columns == ["odd\\ud800column"]
    assert facts(StoreDayFact, store_a) == []
