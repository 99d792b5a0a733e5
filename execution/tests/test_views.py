"""The data pages: upload an export, follow its run, download its errors; and every shared
sample through the whole pipeline (command line, real PostgreSQL) against expected.json."""

import csv
import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from agency.tenancy import agency_scope
from execution.metrics.query import metrics_query
from execution.models import IngestionRun

SAMPLES = settings.BASE_DIR.parent / "shared" / "samples"


def samples_folder() -> Path:
    assert (SAMPLES / "expected.json").is_file(), (
        f"The shared samples are missing: expected them in {SAMPLES} (shared/ beside the clone)."
    )
    return SAMPLES


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks):
    """POST a file to a store's data page; the queued task runs (eagerly) after commit."""

    def post(store, name, content, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/demo/stores/{store.pk}/data/",
                {"file": SimpleUploadedFile(name, content), **data},
            )

    return post


def test_staff_upload_an_export_and_see_its_run(client, upload, demo_operator, store_a):
    client.force_login(demo_operator.user)
    content = (samples_folder() / "zhitongche_2026-09_gbk.csv").read_bytes()
    response = upload(store_a, "zhitongche_2026-09_gbk.csv", content)
    assert response.status_code == 302
    page = client.get(response["Location"])
    run = page.context["run"]
    assert run.status == IngestionRun.Status.SUCCEEDED
    assert (run.kind, run.rows_written, run.rows_skipped) == ("zhitongche", 60, 1)
    assert run.created_by == demo_operator.user and len(run.checksum) == 64
    listing = client.get(f"/demo/stores/{store_a.pk}/data/").content.decode()
    assert "zhitongche_2026-09_gbk.csv" in listing


def test_a_failed_run_shows_and_exports_its_errors_safely(client, upload, demo_manager, store_a):
    client.force_login(demo_manager.user)
    content = "统计日期,访客数,支付金额\n2026-09-01,12,=HYPERLINK(1)\n2026-09-02,-3,1\n".encode()
    response = upload(store_a, "overview.csv", content)
    run_page = client.get(response["Location"])
    run = run_page.context["run"]
    assert run.status == IngestionRun.Status.FAILED
    assert "=HYPERLINK(1)" in run_page.content.decode()  # shown as text, escaped
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/demo/data/runs/{run.pk}/errors.csv").content.decode("utf-8-sig")
            )
        )
    )
    assert rows[0] == ["row", "column", "value", "message"]
    assert rows[1][:3] == ["2", "支付金额", "'=HYPERLINK(1)"]  # never a live formula
    assert rows[2][:3] == ["3", "访客数", "'-3"]


def test_htmx_polls_a_running_run_and_stops_when_it_finishes(client, demo_manager, store_a):
    with agency_scope(store_a.agency_id):
        run = IngestionRun.objects.create(store=store_a, source="upload", filename="x.csv")
    client.force_login(demo_manager.user)
    body = client.get(f"/demo/data/runs/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<section id="run-status"') and 'hx-trigger="every 1s"' in body
    IngestionRun.objects.unscoped().filter(pk=run.pk).update(status="succeeded")
    body = client.get(f"/demo/data/runs/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in body


def test_uploads_are_refused_by_type_and_size_with_the_file_named(
    client, upload, demo_manager, store_a, settings
):
    client.force_login(demo_manager.user)
    response = upload(store_a, "photo.png", b"\x89PNG....")
    assert "“photo.png” is not a CSV, XLSX, XLS or ZIP export." in response.content.decode()
    settings.INGEST_MAX_UPLOAD_MB = 0
    response = upload(store_a, "big.csv", b"a,b\n1,2\n")
    assert "“big.csv” is" in response.content.decode() and "the limit is 0 MB" in (
        response.content.decode()
    )
    assert IngestionRun.objects.unscoped().count() == 0


def test_brand_users_do_not_reach_the_data_pages(client, brand_a_owner, store_a):
    client.force_login(brand_a_owner.user)
    assert client.get(f"/demo/stores/{store_a.pk}/data/").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "store_overview_2026-09_utf8bom.csv",
        "store_overview_2026-09-01_14_titled.xlsx",
        "zhitongche_2026-09_gbk.csv",
    ],
)
def test_every_shared_sample_gives_its_expected_totals(name, store_a, capsys):
    expected = json.loads((samples_folder() / "expected.json").read_text())[name]
    call_command("ingest_metrics", str(samples_folder() / name), "--store", str(store_a.pk))
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "succeeded" and summary["errors"] == []
    start, end = summary["date_range"]
    with agency_scope(store_a.agency_id):
        [total] = metrics_query(
            store_ids=[store_a.pk],
            start=datetime.date.fromisoformat(start),
            end=datetime.date.fromisoformat(end),
            grain="total",
            metrics=list(expected["totals"]),
        )
    for metric, value in expected["totals"].items():
        want = Decimal(value) if isinstance(value, str) else value
        assert total[metric] == want, metric
    assert summary["rows_written"] == expected.get("days", expected.get("rows"))


def test_the_command_fails_with_status_1_and_the_errors(tmp_path, store_a, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("统计日期,访客数,支付金额\n2026-09-01,abc,1\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        call_command("ingest_metrics", str(bad), "--store", str(store_a.pk))
    assert exit_info.value.code == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "failed"
    assert summary["errors"][0]["row"] == 2 and summary["errors"][0]["column"] == "访客数"
    assert summary["errors"][0]["value"] == "abc"


def ingest_file(path, store, capsys, kind=None):
    arguments = [str(path), "--store", str(store.pk)] + (["--kind", kind] if kind else [])
    call_command("ingest_metrics", *arguments)
    return json.loads(capsys.readouterr().out)


def test_the_same_file_twice_changes_nothing_and_a_corrected_file_corrects(
    tmp_path, store_a, capsys
):
    from execution.models import StoreDayFact

    sample = samples_folder() / "store_overview_2026-09_utf8bom.csv"
    first = ingest_file(sample, store_a, capsys)
    with agency_scope(store_a.agency_id):
        before = sorted(StoreDayFact.objects.values_list("date", "visitors", "gmv"))
    second = ingest_file(sample, store_a, capsys)
    with agency_scope(store_a.agency_id):
        after = sorted(StoreDayFact.objects.values_list("date", "visitors", "gmv", "run_id"))
    assert [row[:3] for row in after] == before and len(after) == 30
    assert {row[3] for row in after} == {second["run"]} != {first["run"]}

    corrected = tmp_path / "overview_fix.csv"
    corrected.write_text("统计日期,访客数,支付金额\n2026-09-02,7,8.00\n", encoding="utf-8")
    ingest_file(corrected, store_a, capsys)
    with agency_scope(store_a.agency_id):
        fixed = StoreDayFact.objects.get(date=datetime.date(2026, 9, 2))
        assert (fixed.visitors, fixed.gmv, fixed.paying_buyers) == (7, Decimal("8.00"), None)
        assert StoreDayFact.objects.count() == 30


def test_zhitongche_and_wanxiangtai_files_of_one_day_add_up(tmp_path, store_a, capsys):
    zhitongche = tmp_path / "直通车_报表.csv"
    zhitongche.write_text(
        "日期,计划名称,展现量,点击量,花费(元),总成交金额,总成交笔数\n"
        "2026-09-01,核心词,1000,50,100.00,400.00,4\n",
        encoding="gb18030",
    )
    wanxiangtai = tmp_path / "万相台_商品报表.csv"
    wanxiangtai.write_text(
        "日期,计划名称,商品ID,商品名称,展现量,点击量,消耗,成交金额,成交笔数\n"
        "2026-09-01,拉新,600000000001,好物,3000,30,50.00,100.00,1\n",
        encoding="utf-8",
    )
    assert ingest_file(zhitongche, store_a, capsys)["kind"] == "zhitongche"
    assert ingest_file(wanxiangtai, store_a, capsys)["kind"] == "wanxiangtai"
    ingest_file(zhitongche, store_a, capsys)  # re-ingesting one tool leaves the other
    with agency_scope(store_a.agency_id):
        [day] = metrics_query(
            store_ids=[store_a.pk],
            start=datetime.date(2026, 9, 1),
            end=datetime.date(2026, 9, 1),
            grain="day",
            metrics=["ad_spend", "ad_gmv", "roi"],
        )
    assert (day["ad_spend"], day["ad_gmv"], day["roi"]) == (
        Decimal("150.00"),
        Decimal("500.00"),
        Decimal("3.333333"),
    )


def test_row_errors_are_written_in_the_uploaders_language(client, upload, demo_manager, store_a):
    demo_manager.user.language = "zh-hans"
    demo_manager.user.save()
    client.force_login(demo_manager.user)
    response = upload(
        store_a, "overview.csv", "统计日期,访客数,支付金额\n2026-09-01,abc,1\n".encode()
    )
    run = client.get(response["Location"]).context["run"]
    assert run.errors[0]["message"] != "not a number"
    assert any("\u4e00" <= character <= "\u9fff" for character in run.errors[0]["message"])
    assert "未写入任何数据" in run.message


def test_a_refused_file_still_answers_in_json(tmp_path, store_a, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        call_command("ingest_metrics", str(text), "--store", str(store_a.pk))
    assert exit_info.value.code == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["run"] is None and summary["status"] == "failed"
    assert summary["errors"][0]["row"] is None
    assert "notes.txt" in summary["errors"][0]["message"]
    assert set(summary) == {
        "run",
        "status",
        "kind",
        "rows_read",
        "rows_written",
        "rows_skipped",
        "date_range",
        "unknown_columns",
        "errors",
    }


def test_a_corrected_ad_report_clears_a_day_it_no_longer_has(tmp_path, store_a, capsys):
    from execution.models import StoreDayAdFact

    header = "日期,计划名称,展现量,点击量,花费(元),总成交金额,总成交笔数\n"
    first = tmp_path / "直通车_1.csv"
    first.write_text(
        header + "2026-09-01,核心词,10,1,1.00,2.00,1\n2026-09-02,核心词,10,1,1.00,2.00,1\n"
        "2026-09-03,核心词,10,1,1.00,2.00,1\n",
        encoding="utf-8",
    )
    corrected = tmp_path / "直通车_2.csv"  # the plan was paused on the 2nd: no row that day
    corrected.write_text(
        header + "2026-09-01,核心词,10,1,1.00,3.00,1\n2026-09-03,核心词,10,1,1.00,3.00,1\n",
        encoding="utf-8",
    )
    ingest_file(first, store_a, capsys)
    ingest_file(corrected, store_a, capsys)
    with agency_scope(store_a.agency_id):
        days = sorted(StoreDayAdFact.objects.values_list("date", "ad_gmv"))
    assert days == [
        (datetime.date(2026, 9, 1), Decimal("3.00")),
        (datetime.date(2026, 9, 3), Decimal("3.00")),
    ]


def test_a_running_run_shows_the_rows_loaded_so_far(client, demo_manager, store_a):
    from execution.metrics.ingestion import progress_set

    with agency_scope(store_a.agency_id):
        run = IngestionRun.objects.create(
            store=store_a, source="upload", filename="big.csv", status="running"
        )
    progress_set(run.pk, 150000)  # written by the worker, read here through the shared cache
    client.force_login(demo_manager.user)
    body = client.get(f"/demo/data/runs/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "150000 rows loaded so far" in body


def test_a_run_reports_its_progress_while_it_loads(push, store_a, monkeypatch):
    from execution.metrics import ingestion

    reported = []
    monkeypatch.setattr(ingestion, "progress_set", lambda run_id, rows: reported.append(rows))
    run = push(store_a, "store_day", [{"date": "2026-09-01", "visitors": 1}])
    assert reported == [1] and run.rows_written == 1
