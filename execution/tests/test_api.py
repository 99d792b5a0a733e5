"""The metrics and ingestion endpoints as an integration sees them: metrics out (exactly what
`manage.py metrics_query` prints, with ETag and Last-Modified), metrics in (a JSON push or an
export file, each a run to poll), and the runs themselves."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test.client import MULTIPART_CONTENT
from django.utils import timezone
from django.utils.http import http_date

from agency.models import ApiScope, ApiToken
from agency.tenancy import agency_scope
from execution.models import IngestionRun, StoreDayAdFact, StoreDayFact

SAMPLES = settings.BASE_DIR.parent / "shared" / "samples"
RUNS = "/api/v1/ingestion-runs/"
FIRST_DAY = datetime.date(2026, 8, 20)
READ, WRITE = ApiScope.METRICS_READ.value, ApiScope.METRICS_WRITE.value


def metrics_url(store) -> str:
    return f"/api/v1/stores/{store.pk}/metrics/"


def upload_url(store) -> str:
    return f"/api/v1/stores/{store.pk}/ingestion-runs/"


def store_day(date: datetime.date, n: int) -> dict:
    return {
        "date": date.isoformat(),
        "visitors": 1000 + 37 * n,
        "page_views": 3000 + 101 * n,
        "paying_buyers": 30 + n % 7,
        "paid_orders": 33 + n % 5,
        "paid_units": 40 + n % 9,
        "new_buyers": 20 + n % 4,
        "repeat_buyers": 10 + n % 3,
        "bounced_visitors": 400 + n,
        "gmv": f"{5000 + 13.37 * n:.2f}",
        "refund_amount": f"{100 + 1.11 * n:.2f}",
    }


def ad_day(date: datetime.date, n: int, campaign: str) -> dict:
    return {
        "date": date.isoformat(),
        "ad_tool": "zhitongche",
        "campaign": campaign,
        "impressions": 20000 + 211 * n,
        "clicks": 600 + 7 * n,
        "ad_orders": 12 + n % 6,
        "ad_spend": f"{800 + 3.33 * n:.2f}",
        "ad_gmv": f"{2400 + 17.71 * n:.2f}",
    }


@pytest.fixture
def loaded_store(push, store_a, store_b):
    """Store A with 45 days of store figures (2026-08-20 to 2026-10-03) and ads on most of them;
    store B with figures of its own that must never leak into A's."""
    days = [FIRST_DAY + datetime.timedelta(days=n) for n in range(45)]
    push(store_a, "store_day", [store_day(date, n) for n, date in enumerate(days)])
    ads = [ad_day(date, n, campaign) for n, date in enumerate(days[3:]) for campaign in "XY"]
    push(store_a, "store_day_ad", ads)
    push(store_b, "store_day", [store_day(date, 500 + n) for n, date in enumerate(days)])
    return store_a


def command_output(store, **options) -> list[dict]:
    out = io.StringIO()
    arguments = ["--store", str(store.pk)]
    for name, value in options.items():
        arguments += [f"--{name}", value]
    call_command("metrics_query", *arguments, stdout=out)
    return json.loads(out.getvalue())


def token_named(name: str) -> ApiToken:
    return ApiToken.objects.unscoped().get(name=name)


def facts(model, store) -> list:
    with agency_scope(store.agency_id):
        return list(model.objects.filter(store=store).order_by("date"))


@pytest.fixture
def reader(make_token, demo_agency):
    return make_token(demo_agency, scopes=[READ], name="BI dashboard")


@pytest.fixture
def writer(make_token, demo_agency):
    return make_token(demo_agency, scopes=[READ, WRITE], name="ERP nightly")


# Metrics out ---------------------------------------------------------------------------------


@pytest.mark.parametrize("grain", ["day", "week", "month", "total"])
@pytest.mark.parametrize(
    ("start", "end", "metrics"),
    [
        ("2026-08-20", "2026-10-03", ""),
        ("2026-08-27", "2026-09-30", "gmv,conversion_rate,aov,roi,cpm,refund_rate,ad_orders"),
        ("2026-08-01", "2026-08-22", "visitors,ctr,cac"),  # ads start on 08-23
    ],
)
def test_metrics_are_exactly_what_the_command_prints(
    api, reader, loaded_store, grain, start, end, metrics
):
    params = {"start": start, "end": end, "grain": grain, "metrics": metrics}
    response = api.get(reader, metrics_url(loaded_store), **params)
    assert response.status_code == 200, response.content
    printed = command_output(loaded_store, **params)
    assert printed  # the comparison is over real rows
    assert response.json() == printed


def test_metrics_default_to_days_and_every_metric(api, reader, loaded_store):
    response = api.get(reader, metrics_url(loaded_store), start="2026-09-01", end="2026-09-02")
    rows = response.json()
    assert rows == command_output(loaded_store, start="2026-09-01", end="2026-09-02", grain="day")
    assert [row["period_start"] for row in rows] == ["2026-09-01", "2026-09-02"]
    assert rows[0]["visitors"] == store_day(datetime.date(2026, 9, 1), 12)["visitors"]
    assert rows[0]["gmv"] == store_day(datetime.date(2026, 9, 1), 12)["gmv"]


def test_a_range_without_data_is_an_empty_list(api, reader, loaded_store):
    response = api.get(reader, metrics_url(loaded_store), start="2025-01-01", end="2025-01-31")
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-09-01", "end": "2026-09-30", "metrics": "gmv,gmv_per_moon"}, "metrics"),
        ({"start": "2026-09-30", "end": "2026-09-01"}, "end"),
        ({"start": "2026-09-01", "end": "2026-09-30", "grain": "hour"}, "grain"),
        ({"end": "2026-09-30"}, "start"),
        ({"start": "2026-09-01"}, "end"),
        ({"start": "2026-09-31", "end": "2026-10-30"}, "start"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "end"),  # over five years
        ({"start": "1999-12-31", "end": "2000-01-02"}, "start"),
    ],
)
def test_bad_metric_parameters_are_a_400_naming_the_field(api, reader, loaded_store, params, field):
    response = api.get(reader, metrics_url(loaded_store), **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["details"]) == [field]


def test_an_unknown_metric_is_named_in_the_message(api, reader, loaded_store):
    response = api.get(
        reader, metrics_url(loaded_store), start="2026-09-01", end="2026-09-30", metrics="gmv,nope"
    )
    assert response.json()["error"]["details"]["metrics"] == ["Unknown metric(s): nope."]


def test_the_widest_range_allowed_is_answered(api, reader, loaded_store):
    start = datetime.date(2022, 1, 1)
    end = start + datetime.timedelta(days=5 * 366 - 1)
    response = api.get(
        reader, metrics_url(loaded_store), start=start, end=end, grain="total", metrics="visitors"
    )
    assert response.status_code == 200
    assert response.json()[0]["visitors"] == sum(
        store_day(FIRST_DAY, n)["visitors"] for n in range(45)
    )


def test_metrics_of_another_agency_s_store_are_not_found(api, reader, rival_store):
    response = api.get(reader, metrics_url(rival_store), start="2026-09-01", end="2026-09-30")
    assert response.status_code == 404


def test_a_brand_restricted_token_reads_only_its_brand_s_stores(
    api, make_token, demo_agency, brand_a, loaded_store, store_b
):
    secret = make_token(demo_agency, scopes=[READ], brand=brand_a)
    params = {"start": "2026-09-01", "end": "2026-09-30", "grain": "total"}
    assert api.get(secret, metrics_url(loaded_store), **params).status_code == 200
    assert api.get(secret, metrics_url(store_b), **params).status_code == 404


# Conditional requests ------------------------------------------------------------------------

SEPTEMBER = {"start": "2026-09-01", "end": "2026-09-30", "grain": "week"}


def last_success(store) -> IngestionRun:
    return (
        IngestionRun.objects.unscoped()
        .filter(store=store, status=IngestionRun.Status.SUCCEEDED)
        .latest("finished_at")
    )


def test_metrics_carry_an_etag_and_the_last_ingestion_as_last_modified(api, reader, loaded_store):
    response = api.get(reader, metrics_url(loaded_store), **SEPTEMBER)
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and len(response["ETag"]) > 10
    finished_at = last_success(loaded_store).finished_at
    assert response["Last-Modified"] == http_date(int(finished_at.timestamp()))
    again = api.get(reader, metrics_url(loaded_store), **SEPTEMBER)
    assert again["ETag"] == response["ETag"]
    other = api.get(reader, metrics_url(loaded_store), **{**SEPTEMBER, "grain": "month"})
    assert other["ETag"] != response["ETag"]


def test_a_current_copy_gets_304_by_etag_or_by_date(api, reader, loaded_store):
    url = metrics_url(loaded_store)
    first = api.get(reader, url, **SEPTEMBER)
    by_etag = api.get(reader, url, headers={"If-None-Match": first["ETag"]}, **SEPTEMBER)
    assert by_etag.status_code == 304 and by_etag.content == b""
    assert by_etag["ETag"] == first["ETag"]
    by_date = api.get(
        reader, url, headers={"If-Modified-Since": first["Last-Modified"]}, **SEPTEMBER
    )
    assert by_date.status_code == 304 and by_date.content == b""
    finished_at = last_success(loaded_store).finished_at
    earlier = http_date(int(finished_at.timestamp()) - 3600)
    stale = api.get(reader, url, headers={"If-Modified-Since": earlier}, **SEPTEMBER)
    assert stale.status_code == 200 and stale.json() == first.json()
    other = api.get(reader, url, headers={"If-None-Match": '"somethingelse"'}, **SEPTEMBER)
    assert other.status_code == 200


def test_new_data_changes_the_etag_and_the_last_modified(api, reader, loaded_store, push):
    url = metrics_url(loaded_store)
    # The earlier runs finished an hour ago (Last-Modified counts whole seconds).
    IngestionRun.objects.unscoped().update(finished_at=timezone.now() - datetime.timedelta(hours=1))
    before = api.get(reader, url, **SEPTEMBER)
    push(loaded_store, "store_day", [{"date": "2026-09-10", "visitors": 1, "gmv": "1.00"}])
    after = api.get(reader, url, headers={"If-None-Match": before["ETag"]}, **SEPTEMBER)
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert after.json() != before.json()
    assert after["Last-Modified"] != before["Last-Modified"]
    by_date = api.get(
        reader, url, headers={"If-Modified-Since": before["Last-Modified"]}, **SEPTEMBER
    )
    assert by_date.status_code == 200 and by_date.json() == after.json()


def test_a_failed_run_changes_neither_the_data_nor_the_last_modified(
    api, reader, loaded_store, push
):
    url = metrics_url(loaded_store)
    before = api.get(reader, url, **SEPTEMBER)
    failed = push(loaded_store, "store_day", [{"date": "2026-09-10", "visitors": "many"}])
    assert failed.status == IngestionRun.Status.FAILED
    after = api.get(reader, url, headers={"If-None-Match": before["ETag"]}, **SEPTEMBER)
    assert after.status_code == 304
    assert after["Last-Modified"] == before["Last-Modified"]


def test_a_store_without_runs_has_an_etag_but_no_last_modified(api, reader, store_a):
    response = api.get(reader, metrics_url(store_a), **SEPTEMBER)
    assert response.status_code == 200 and response.json() == []
    assert "ETag" in response and "Last-Modified" not in response


# Metrics in: the JSON push -------------------------------------------------------------------


@pytest.fixture
def post_run(api, django_capture_on_commit_callbacks):
    """POST to the API and let the queued run's task run (eagerly) once the request commits."""

    def post(secret, url, data, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(secret, url, data, **kwargs)

    return post


def test_a_push_is_accepted_processed_and_linked_to_its_token(
    api, post_run, writer, store_a, demo_agency
):
    rows = [store_day(datetime.date(2026, 9, 1), 0), store_day(datetime.date(2026, 9, 2), 1)]
    response = post_run(writer, metrics_url(store_a), {"grain": "store_day", "rows": rows})
    assert response.status_code == 202, response.content
    queued = response.json()
    assert (queued["status"], queued["source"], queued["store"]) == ("queued", "push", store_a.pk)
    assert queued["created_by"] == "token ERP nightly"
    assert response["Location"].endswith(f"{RUNS}{queued['id']}/")
    run = api.get(writer, response["Location"])
    assert run.status_code == 200
    body = run.json()
    assert body["status"] == "succeeded"
    assert (body["rows_read"], body["rows_written"], body["errors_total"]) == (2, 2, 0)
    assert body["date_range"] == ["2026-09-01", "2026-09-02"]
    assert body["errors"] == [] and body["created_by"] == "token ERP nightly"
    stored = IngestionRun.objects.unscoped().get(pk=queued["id"])
    assert stored.api_token == token_named("ERP nightly") and stored.created_by is None
    written = facts(StoreDayFact, store_a)
    assert [(f.date.isoformat(), f.visitors, f.gmv, f.run_id) for f in written] == [
        (row["date"], row["visitors"], Decimal(row["gmv"]), stored.pk) for row in rows
    ]


def test_pushed_ads_are_read_back_through_the_metrics_endpoint(api, post_run, writer, store_a):
    rows = [ad_day(datetime.date(2026, 9, 1), 0, "X"), ad_day(datetime.date(2026, 9, 1), 1, "Y")]
    response = post_run(writer, metrics_url(store_a), {"grain": "store_day_ad", "rows": rows})
    assert response.status_code == 202
    assert len(facts(StoreDayAdFact, store_a)) == 2
    [total] = api.get(
        writer,
        metrics_url(store_a),
        start="2026-09-01",
        end="2026-09-01",
        grain="total",
        metrics="ad_spend,clicks",
    ).json()
    assert total["ad_spend"] == "1603.33" and total["clicks"] == 1207


def test_an_invalid_row_fails_the_run_with_its_errors_and_writes_nothing(
    api, post_run, writer, store_a
):
    rows = [
        store_day(datetime.date(2026, 9, 1), 0),
        {**store_day(datetime.date(2026, 9, 2), 1), "visitors": "abc"},
    ]
    response = post_run(writer, metrics_url(store_a), {"grain": "store_day", "rows": rows})
    assert response.status_code == 202
    body = api.get(writer, response["Location"]).json()
    assert body["status"] == "failed"
    assert body["errors_total"] == 1 and body["rows_written"] == 0
    assert body["errors"] == [
        {"row": 2, "column": "visitors", "value": "abc", "message": "not a whole number"}
    ]
    assert "nothing was written" in body["message"]
    assert facts(StoreDayFact, store_a) == []


def test_a_push_needs_the_metrics_write_scope(api, reader, store_a):
    response = api.post(
        reader,
        metrics_url(store_a),
        {"grain": "store_day", "rows": [store_day(datetime.date(2026, 9, 1), 0)]},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_scope"
    assert response.json()["error"]["details"] == {"required_scope": "metrics:write"}
    assert IngestionRun.objects.unscoped().count() == 0


def test_a_write_only_token_pushes_but_does_not_read(
    api, post_run, make_token, demo_agency, store_a
):
    secret = make_token(demo_agency, scopes=[WRITE])
    response = post_run(
        secret,
        metrics_url(store_a),
        {"grain": "store_day", "rows": [store_day(datetime.date(2026, 9, 1), 0)]},
    )
    assert response.status_code == 202
    refused = api.get(secret, metrics_url(store_a), start="2026-09-01", end="2026-09-01")
    assert refused.status_code == 403
    assert refused.json()["error"]["details"] == {"required_scope": "metrics:read"}
    assert api.get(secret, response["Location"]).status_code == 403


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"grain": "store_week", "rows": [{"date": "2026-09-01"}]}, "grain"),
        ({"rows": [{"date": "2026-09-01"}]}, "grain"),
        ({"grain": "store_day", "rows": []}, "rows"),
        ({"grain": "store_day", "rows": "2026-09-01,12"}, "rows"),
        ({"grain": "store_day", "rows": [["2026-09-01", 12]]}, "rows"),
    ],
)
def test_a_malformed_push_is_a_400_naming_the_field_and_queues_nothing(
    api, writer, store_a, payload, field
):
    response = api.post(writer, metrics_url(store_a), payload)
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]
    assert IngestionRun.objects.unscoped().count() == 0


def test_a_brand_restricted_token_pushes_only_to_its_brand_s_stores(
    api, post_run, make_token, demo_agency, brand_a, store_a, store_b
):
    secret = make_token(demo_agency, scopes=[WRITE], brand=brand_a)
    push = {"grain": "store_day", "rows": [store_day(datetime.date(2026, 9, 1), 0)]}
    assert post_run(secret, metrics_url(store_a), push).status_code == 202
    assert post_run(secret, metrics_url(store_b), push).status_code == 404
    assert list(IngestionRun.objects.unscoped().values_list("store_id", flat=True)) == [store_a.pk]
    assert facts(StoreDayFact, store_b) == []


def test_a_push_to_another_agency_s_store_is_not_found(api, writer, rival_store):
    response = api.post(
        writer,
        metrics_url(rival_store),
        {"grain": "store_day", "rows": [store_day(datetime.date(2026, 9, 1), 0)]},
    )
    assert response.status_code == 404
    assert IngestionRun.objects.unscoped().count() == 0


# Metrics in: export files --------------------------------------------------------------------


def sample(name: str) -> bytes:
    assert (SAMPLES / "expected.json").is_file(), f"The shared samples are missing from {SAMPLES}."
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("store_overview_2026-09_utf8bom.csv", "store_overview"),
        ("store_overview_2026-09-01_14_titled.xlsx", "store_overview"),
        ("zhitongche_2026-09_gbk.csv", "zhitongche"),
    ],
)
def test_an_uploaded_sample_gives_its_expected_totals(api, post_run, writer, store_a, name, kind):
    expected = json.loads((SAMPLES / "expected.json").read_text())[name]
    response = post_run(
        writer,
        upload_url(store_a),
        {"file": SimpleUploadedFile(name, sample(name))},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 202, response.content
    queued = response.json()
    assert (queued["status"], queued["source"], queued["filename"]) == ("queued", "upload", name)
    assert queued["size"] == len(sample(name)) and queued["created_by"] == "token ERP nightly"
    run = api.get(writer, response["Location"]).json()
    assert run["status"] == "succeeded", run["errors"]
    assert run["kind"] == kind
    assert run["rows_written"] == expected.get("days", expected.get("rows"))
    start, end = run["date_range"]
    [total] = api.get(
        writer,
        metrics_url(store_a),
        start=start,
        end=end,
        grain="total",
        metrics=",".join(expected["totals"]),
    ).json()
    assert {metric: total[metric] for metric in expected["totals"]} == expected["totals"]
    stored = IngestionRun.objects.unscoped().get(pk=run["id"])
    assert stored.api_token == token_named("ERP nightly")


def test_the_report_kind_may_be_given(api, post_run, writer, store_a):
    name = "store_overview_2026-09_utf8bom.csv"
    response = post_run(
        writer,
        upload_url(store_a),
        {"file": SimpleUploadedFile(name, sample(name)), "kind": "store_overview"},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 202
    assert api.get(writer, response["Location"]).json()["status"] == "succeeded"
    assert IngestionRun.objects.unscoped().get().kind_override is True


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"file": SimpleUploadedFile("notes.txt", b"2026-09-01,12\n")}, "file"),
        ({"file": SimpleUploadedFile("store_overview.pdf", b"%PDF-1.4")}, "file"),
        ({}, "file"),
        (
            {"file": SimpleUploadedFile("overview.csv", b"a,b\n1,2\n"), "kind": "tiktok"},
            "kind",
        ),
    ],
)
def test_a_bad_upload_is_a_400_naming_the_field_and_writes_nothing(
    api, post_run, writer, store_a, data, field
):
    response = post_run(writer, upload_url(store_a), data, content_type=MULTIPART_CONTENT)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["details"]) == [field]
    assert IngestionRun.objects.unscoped().count() == 0
    assert facts(StoreDayFact, store_a) == []


def test_an_upload_over_the_size_limit_is_refused_naming_the_file(api, writer, store_a, settings):
    settings.INGEST_MAX_UPLOAD_MB = 0
    response = api.post(
        writer,
        upload_url(store_a),
        {"file": SimpleUploadedFile("overview.csv", b"a,b\n1,2\n")},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 400
    [message] = response.json()["error"]["details"]["file"]
    assert "overview.csv" in message and "the limit is 0 MB" in message
    assert IngestionRun.objects.unscoped().count() == 0


def test_a_txt_file_is_refused_with_its_name(api, writer, store_a):
    response = api.post(
        writer,
        upload_url(store_a),
        {"file": SimpleUploadedFile("notes.txt", b"hello")},
        content_type=MULTIPART_CONTENT,
    )
    assert response.json()["error"]["details"]["file"] == [
        "“notes.txt” is not a CSV, XLSX, XLS or ZIP export."
    ]


def test_an_upload_needs_the_metrics_write_scope(api, reader, store_a):
    name = "zhitongche_2026-09_gbk.csv"
    response = api.post(
        reader,
        upload_url(store_a),
        {"file": SimpleUploadedFile(name, sample(name))},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"required_scope": "metrics:write"}
    assert IngestionRun.objects.unscoped().count() == 0


def test_an_upload_file_with_bad_rows_fails_its_run_naming_row_column_and_value(
    api, post_run, writer, store_a
):
    content = "统计日期,访客数,支付金额\n2026-09-01,12,5.00\n2026-09-02,abc,1\n".encode()
    response = post_run(
        writer,
        upload_url(store_a),
        {"file": SimpleUploadedFile("overview.csv", content)},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 202
    body = api.get(writer, response["Location"]).json()
    assert body["status"] == "failed"
    assert [(e["row"], e["column"], e["value"]) for e in body["errors"]] == [(3, "访客数", "abc")]
    assert facts(StoreDayFact, store_a) == []


# The runs ------------------------------------------------------------------------------------


@pytest.fixture
def runs(push, store_a, store_b, rival_store):
    """A success and a failure on store A, a success on store B, and a run of the rival."""
    good_a = push(store_a, "store_day", [store_day(datetime.date(2026, 9, 1), 0)])
    bad_a = push(
        store_a,
        "store_day",
        [store_day(datetime.date(2026, 9, 2), 1), {"date": "2026-13-01", "visitors": 1}],
    )
    good_b = push(store_b, "store_day", [store_day(datetime.date(2026, 9, 1), 2)])
    rival = push(rival_store, "store_day", [store_day(datetime.date(2026, 9, 1), 3)])
    assert [r.status for r in (good_a, bad_a, good_b, rival)] == [
        "succeeded",
        "failed",
        "succeeded",
        "succeeded",
    ]
    return good_a, bad_a, good_b, rival


def run_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_runs_list_holds_the_agency_s_runs_newest_first(api, reader, runs):
    good_a, bad_a, good_b, _rival = runs
    response = api.get(reader, RUNS)
    assert run_ids(response) == [good_b.pk, bad_a.pk, good_a.pk]
    listed = response.json()["results"][0]
    assert "errors" not in listed
    assert listed["created_by"] == good_b.created_by.email
    assert (listed["status"], listed["rows_loaded"]) == ("succeeded", None)


def test_the_runs_list_filters_by_store_and_status(api, reader, runs, store_a, store_b):
    good_a, bad_a, good_b, rival = runs
    assert run_ids(api.get(reader, RUNS, store=store_a.pk)) == [bad_a.pk, good_a.pk]
    assert run_ids(api.get(reader, RUNS, store=store_b.pk)) == [good_b.pk]
    assert run_ids(api.get(reader, RUNS, status="failed")) == [bad_a.pk]
    assert run_ids(api.get(reader, RUNS, status="succeeded", store=store_a.pk)) == [good_a.pk]
    assert run_ids(api.get(reader, RUNS, status="queued")) == []
    assert run_ids(api.get(reader, RUNS, store=rival.store_id)) == []
    assert run_ids(api.get(reader, RUNS, source="push")) == [good_b.pk, bad_a.pk, good_a.pk]


@pytest.mark.parametrize(
    ("params", "field"), [({"status": "done"}, "status"), ({"store": "x"}, "store")]
)
def test_a_bad_runs_filter_is_a_400_naming_it(api, reader, runs, params, field):
    response = api.get(reader, RUNS, **params)
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]


def test_a_failed_run_is_retrieved_with_its_row_errors(api, reader, runs, store_a):
    _good_a, bad_a, _good_b, _rival = runs
    response = api.get(reader, f"{RUNS}{bad_a.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["store"], body["status"]) == (bad_a.pk, store_a.pk, "failed")
    assert body["errors"] == [
        {"row": 2, "column": "date", "value": "2026-13-01", "message": "not a date"}
    ]
    assert body["errors_total"] == 1 and "nothing was written" in body["message"]


def test_a_run_of_another_agency_is_not_found(api, reader, runs):
    *_ours, rival = runs
    response = api.get(reader, f"{RUNS}{rival.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_brand_restricted_token_sees_only_its_brand_s_runs(
    api, make_token, demo_agency, brand_a, runs
):
    good_a, bad_a, good_b, _rival = runs
    secret = make_token(demo_agency, scopes=[READ], brand=brand_a)
    assert run_ids(api.get(secret, RUNS)) == [bad_a.pk, good_a.pk]
    assert api.get(secret, f"{RUNS}{good_b.pk}/").status_code == 404


def test_runs_need_the_metrics_read_scope(api, make_token, demo_agency, runs):
    good_a, *_rest = runs
    secret = make_token(demo_agency, scopes=[ApiScope.ENGAGEMENTS_READ])
    for url in (RUNS, f"{RUNS}{good_a.pk}/"):
        response = api.get(secret, url)
        assert response.status_code == 403
        assert response.json()["error"]["details"] == {"required_scope": "metrics:read"}


@pytest.mark.parametrize("ordering", ["finished_at", "-finished_at", "created_at"])
def test_paging_runs_by_a_time_gives_every_run_once_unfinished_ones_too(
    api, reader, store_a, ordering
):
    """Queued runs have no finished_at; paging by it must still list them (and each run once)."""
    now = timezone.now()
    with agency_scope(store_a.agency_id):
        created = [
            IngestionRun.objects.create(
                store=store_a,
                source=IngestionRun.Source.PUSH,
                status=IngestionRun.Status.SUCCEEDED if n % 2 else IngestionRun.Status.QUEUED,
                finished_at=now - datetime.timedelta(hours=n) if n % 2 else None,
            ).pk
            for n in range(6)
        ]
        IngestionRun.objects.update(created_at=now)
    response = api.get(reader, RUNS, page_size=2, ordering=ordering)
    seen = run_ids(response)
    while response.json()["next"]:
        response = api.get(reader, response.json()["next"])
        seen += run_ids(response)
    assert sorted(seen) == sorted(created)


def test_a_blank_grain_is_refused_naming_it_not_read_as_the_default(api, make_token, store_a):
    response = api.get(
        make_token(store_a.agency),
        f"/api/v1/stores/{store_a.pk}/metrics/",
        start="2026-10-01",
        end="2026-10-31",
        grain="",
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == {"grain"}
