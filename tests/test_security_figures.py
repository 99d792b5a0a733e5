"""The security figures (issue 9): what was tried against the portal, and what got through.

At the end of the module, whatever `-s` says, a block is written to the terminal (and to
`.pytest_cache/d/security/figures.txt`), each figure asserted by the test that measures it:

    cross_tenant_requests_tried      every URL pattern × (another agency's user, another brand's
                                     user, anonymous) × GET/POST × at least 2 foreign ids per URL
                                     argument, and every API operation × (another agency's token
                                     and user, another brand's token and user, no token) × 2
                                     sets of foreign ids
    cross_tenant_leaked              0
    hostile_uploads_tried            a 1 GiB ZIP bomb, the billion laughs, 100,000-entry ZIPs,
                                     wrong magic bytes, GBK behind a UTF-8 mark and a 60 MB CSV,
                                     through each entry point that takes that kind of file (the
                                     upload page and API, setup evidence, order imports, logos)
    hostile_uploads_accepted         0
    refusing_peak_rss_mb             the real Celery worker's pool processes (VmHWM) while they
                                     refused them; and the web process for what a request refuses
    export_formula_cells             0, in the data handover (XLSX and ZIP, brand and internal),
                                     a run's errors CSV and the audit log CSV, with hostile text
                                     in every free-text field the handover reads

Each test asserts its zeros, and a floor on what it tried (computed from the URL patterns, the
API schema, the files and the text fields), so that no figure can quietly shrink to nothing.
The cross-tenant requests reuse the isolation check itself (tests/isolation.py) and the API
matrix (tests/test_api_isolation.py); the uploads go through the real pages and API.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime
import io
import itertools
import os
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.test.client import FakePayload, encode_multipart
from django.urls import reverse
from openpyxl import load_workbook

from agency.models import ApiToken, User
from agency.spreadsheets import FORMULA_STARTS
from agency.tenancy import agency_scope
from execution.models import Campaign, IngestionRun, OrderImport, SetupEvidence
from execution.models.conversion import CustomerOrder
from reporting.exports import tables as export_tables
from reporting.exports.tables import Column, Table
from reporting.exports.writers import write_csv_zip, write_xlsx
from reporting.tests.test_exports import handover  # noqa: F401 - a fixture, used below
from tests import hostile_files as hostile
from tests.isolation import PUBLIC_URL_NAMES, check_isolation, enumerate_routes
from tests.test_api_isolation import (  # noqa: F401 - callers and objects are fixtures
    LIST_OBJECTS,
    MATRIX,
    bearer,
    call,
    callers,
    objects,
)
from tests.test_isolation import run_a, token_a, world  # noqa: F401 - fixtures

FIGURES: dict[str, object] = {}  # filled by the tests, printed when the module ends
NOTES: dict[str, str] = {}  # what a figure measures, printed after it
FIGURE_ORDER = (
    "cross_tenant_requests_tried",
    "cross_tenant_leaked",
    "cross_tenant_pages_tried",
    "cross_tenant_api_tried",
    "cross_tenant_min_foreign_ids_per_argument",
    "hostile_uploads_tried",
    "hostile_uploads_accepted",
    "refusing_peak_rss_mb",
    "refusing_peak_rss_in_request_mb",
    "export_formula_cells",
    "export_dangerous_csv_cells",
    "export_hostile_strings_planted",
    "export_hostile_strings_read_back",
)


@pytest.fixture(scope="module", autouse=True)
def figures_block(request):
    """Print the figures at the end of the module on the terminal (not captured by pytest, so
    `make test` shows them) and keep them in the pytest cache."""
    FIGURES.clear()
    NOTES.clear()
    yield
    lines = [
        f"{key}: {FIGURES[key]}" + (f"  ({NOTES[key]})" if key in NOTES else "")
        for key in FIGURE_ORDER
        if key in FIGURES
    ]
    path = request.config.cache.mkdir("security") / "figures.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line("")
            reporter.write_sep("-", "security figures")
            for line in lines:
                reporter.write_line(line)
            reporter.write_line(f"(also in {path})")


def _add(key: str, value: int) -> None:
    FIGURES[key] = int(FIGURES.get(key, 0)) + value


def _peak(key: str, megabytes: float, note: str) -> None:
    FIGURES[key] = max(float(FIGURES.get(key, 0)), round(megabytes, 1))
    NOTES[key] = note


# --- 1. cross-tenant requests ------------------------------------------------------------------


def _object_ids(values) -> bool:
    """Whether an argument's values are object ids (not a kind such as "targets")."""
    return bool(values) and all(isinstance(value, int) for value in values)


def _cross_tenant_figures(pages: int = 0, api: int = 0, leaked: int = 0) -> None:
    _add("cross_tenant_pages_tried", pages)
    _add("cross_tenant_api_tried", api)
    _add("cross_tenant_requests_tried", pages + api)
    _add("cross_tenant_leaked", leaked)


def test_cross_tenant_page_requests_leak_nothing(
    world,  # noqa: F811
    demo_agency,
    brand_a,
    store_a,
    demo_manager,
    brand_a_viewer,
    make_brand,
    make_store,
    make_engagement,
    make_proposal,
    make_token,
):
    """Every URL pattern, by the isolation check of tests/isolation.py, then a second round for
    the URL arguments that got one id only."""
    routes = [
        route for route in enumerate_routes() if route.name.split(":")[-1] not in PUBLIC_URL_NAMES
    ]
    failures = check_isolation(world)

    # The second round. The world's fixtures make a fresh object on most calls (so most
    # arguments have had several ids already); for the others: a second Brand A engagement with
    # its own sent proposal (for the pages whose objects are those), and a second object of
    # each other kind (for the pages that name one), their other objects as before.
    values = world.argument_values
    object_names = {name for name in world.url_arguments if _object_ids(values[name])}
    once = {name for name in object_names if len(values[name]) < 2}
    engagement = make_engagement(
        store_a, demo_manager, title="Brand A second", internal_notes="SECRET-MARGIN-NOTE"
    )
    proposal, version = make_proposal(engagement, demo_manager, send=True)
    with agency_scope(demo_agency):
        target_id = version.targets.first().pk
        run = IngestionRun.objects.create(
            store=store_a, source=IngestionRun.Source.PUSH, filename="second.json"
        )
    make_token(demo_agency, brand=brand_a, name="Brand A second")
    with agency_scope(demo_agency):
        token_id = ApiToken.objects.order_by("-pk").values_list("pk", flat=True)[0]
    brand_c, store = make_brand(demo_agency, "Brand C"), make_store(brand_a)
    in_engagement: dict[str, Callable[[], object]] = {
        "engagement_id": lambda: engagement.pk,
        "proposal_id": lambda: proposal.pk,
        "version_id": lambda: version.pk,
        "row_id": lambda: target_id,
    }
    elsewhere: dict[str, Callable[[], object]] = {
        "brand_id": lambda: brand_c.pk,  # a demo brand that is not Brand B's either
        "store_id": lambda: store.pk,
        "membership_id": lambda: brand_a_viewer.pk,
        "run_id": lambda: run.pk,
        "token_id": lambda: token_id,
    }

    def objects_of(route) -> set[str]:
        return {name for name in route.arguments if name in object_names}

    again = [route for route in routes if objects_of(route) & once]
    first = [route for route in again if objects_of(route) <= set(in_engagement)]
    second = [route for route in again if route not in first]
    for arguments, subset in ((in_engagement, first), (elsewhere, second)):
        round_two = {**world.url_arguments, **arguments}
        failures += check_isolation(dataclasses.replace(world, url_arguments=round_two), subset)

    ids = {name: values[name] for name in object_names}
    tried = sum(world.requests_tried.values())
    _cross_tenant_figures(pages=tried, leaked=len(failures))
    NOTES["cross_tenant_pages_tried"] = ", ".join(
        f"{who}: {count}" for who, count in sorted(world.requests_tried.items())
    )
    FIGURES["cross_tenant_min_foreign_ids_per_argument"] = min(len(v) for v in ids.values())

    assert failures == []
    # Floors: 2 methods × 3 foreign callers (another agency's user, another brand's user,
    # anonymous) per route checked; at least 2 ids for every URL argument naming an object.
    assert tried >= 2 * 3 * (len(routes) + len(again)) > 0
    assert {name: sorted(v) for name, v in ids.items() if len(v) < 2} == {}
    assert len(ids) >= 20  # the kinds of object the world maps today


def test_cross_tenant_api_requests_leak_nothing(
    objects,  # noqa: F811
    callers,  # noqa: F811
    demo_agency,
    store_a,
    demo_manager,
    make_brand,
    make_store,
    make_engagement,
    make_proposal,
    make_brief,
    make_review,
    make_token,
    brand_a,
):
    """Every operation of the API's schema (tests/test_api_isolation.py's matrix), on two sets
    of Brand A objects, by every foreign caller and by no token."""
    engagement = make_engagement(store_a, demo_manager, title="Brand A second")
    with agency_scope(demo_agency):
        run = IngestionRun.objects.create(
            store=store_a, source=IngestionRun.Source.PUSH, filename="second.json"
        )
    second_set = {
        "brand": make_brand(demo_agency, "Brand C"),  # foreign to Brand B's token too
        "store": make_store(brand_a),
        "engagement": engagement,
        "run": run,
        "proposal": make_proposal(engagement, demo_manager, send=True)[0],
        "brief": make_brief(engagement, date=datetime.date(2026, 9, 1)),
        "review": make_review(engagement),
    }
    owner = bearer(make_token(demo_agency))
    api_callers = {**callers, "no token": (Client(), {})}
    failures: list[str] = []
    tried = 0
    for (method, path), case in sorted(MATRIX.items()):
        for number, object_set in enumerate((objects, second_set), start=1):
            served = call(Client(), method, path, case, object_set, owner)  # so 404 = not yours
            assert served.status_code in {200, 202}, (path, number, served.content[:300])
            with agency_scope(demo_agency):
                runs_before = IngestionRun.objects.count()
            for name, (client, headers) in api_callers.items():
                response = call(client, method, path, case, object_set, headers)
                tried += 1
                label = f"{method.upper()} {path} (id set {number}) by {name}"
                if name == "no token":
                    if response.status_code != 401:
                        failures.append(f"{label}: {response.status_code}, not 401")
                elif case.path_object:
                    if response.status_code != 404:
                        failures.append(f"{label}: {response.status_code}, not 404")
                elif response.status_code == 200:
                    own = {objects[LIST_OBJECTS[path]].pk, second_set[LIST_OBJECTS[path]].pk}
                    shown = {row["id"] for row in response.json()["results"]} & own
                    if shown:
                        failures.append(f"{label}: listed Brand A's {sorted(shown)}")
                elif response.status_code != 404:
                    failures.append(f"{label}: {response.status_code}")
            with agency_scope(demo_agency):
                if IngestionRun.objects.count() != runs_before:
                    failures.append(f"{method.upper()} {path}: a refused call wrote a run")
    _cross_tenant_figures(api=tried, leaked=len(failures))

    assert failures == []
    assert tried == len(MATRIX) * 2 * len(api_callers) > 0


# --- 2. hostile uploads ------------------------------------------------------------------------

BIG = 60  # MB, over INGEST_MAX_UPLOAD_MB (50) and WORKSPACE_FILE_MAX_MB (25)
IN_REQUEST = (
    "the web process (the test's own), the most any request that refused a file itself (by "
    "size, as evidence, as an order export, as a logo) added to its RSS or allocated"
)


@dataclasses.dataclass
class Hostile:
    """One hostile file for one entry point: its name, its bytes, and what the refusal must
    say (a fragment of the message, which must also name the file)."""

    filename: str
    content: Callable[[], bytes]
    says: str
    names_file: bool = True  # the logo's error names its field, as Django's image check does

    def clear_in(self, message: str) -> bool:
        return self.says in message and (self.filename in message or not self.names_file)


METRICS_FILES = [
    Hostile("bomb.zip", lambda: hostile.zip_bomb(), "would expand to 1024 MB"),
    Hostile("bomb.xlsx", lambda: hostile.office_bomb("xlsx"), "would expand to 1024 MB"),
    Hostile("laughs.xlsx", lambda: hostile.billion_laughs_xlsx(), "declares XML entities"),
    Hostile(
        "laughs-strings.xlsx",
        lambda: hostile.billion_laughs_xlsx(part="strings"),
        "declares XML entities",
    ),
    Hostile("entries.zip", lambda: hostile.many_entries_zip(), "holds 100000 files"),
    Hostile("entries.xlsx", lambda: hostile.many_entries_zip(office=True), "holds 100000 files"),
    Hostile(
        "understated.zip",
        lambda: hostile.many_entries_zip(declared=1),
        "too long for the 1 accepted",
    ),
    Hostile("image.csv", hostile.png, "is not a CSV file: the file is a PNG image"),
    Hostile("program.xlsx", hostile.exe, "is not an Excel workbook (.xlsx)"),
    Hostile("gbk.csv", lambda: hostile.gbk_claiming_utf8(), "starts with the UTF-8 mark"),
    Hostile("big.csv", lambda: hostile.large_csv(BIG), "the limit is 50 MB"),
]
EVIDENCE_FILES = [
    Hostile("bomb.docx", lambda: hostile.office_bomb("docx"), "unpacks to"),
    Hostile("bomb.xlsx", lambda: hostile.office_bomb("xlsx"), "unpacks to"),
    Hostile("laughs.xlsx", lambda: hostile.billion_laughs_xlsx(), "declares a document type"),
    Hostile(
        "laughs-strings.xlsx",
        lambda: hostile.billion_laughs_xlsx(part="strings"),
        "declares a document type",
    ),
    Hostile("entries.xlsx", lambda: hostile.many_entries_zip(office=True), "holds 100000 files"),
    Hostile(
        "understated.docx",
        lambda: hostile.many_entries_zip(office=True, declared=3),
        "too long for the 2000 accepted",
    ),
    Hostile("program.pdf", hostile.exe, "is not an accepted kind of file"),
    Hostile("program.xlsx", hostile.exe, "is not an accepted kind of file"),
    Hostile("big.pdf", lambda: hostile.large_csv(BIG), "the limit is 25 MB"),
]
ORDER_FILES = [
    Hostile("bomb.zip", lambda: hostile.zip_bomb("订单.csv"), "would expand to 1024 MB"),
    Hostile("bomb.xlsx", lambda: hostile.office_bomb("xlsx"), "would expand to 1024 MB"),
    Hostile(
        "laughs.xlsx",
        lambda: hostile.billion_laughs_xlsx(hostile.ORDER_ROWS),
        "declares XML entities",
    ),
    Hostile("entries.zip", lambda: hostile.many_entries_zip(), "holds 100000 files"),
    Hostile("image.csv", hostile.png, "is not a CSV file: the file is a PNG image"),
    Hostile("program.xlsx", hostile.exe, "is not an Excel workbook (.xlsx)"),
    Hostile(
        "gbk.csv",
        lambda: hostile.gbk_claiming_utf8(hostile.GBK_ORDERS),
        "starts with the UTF-8 mark",
    ),
]
# Order exports may be up to ORDER_IMPORT_MAX_MB (100): a 60 MB one is no attack there.
LOGO_FILES = [
    Hostile("logo.png", hostile.exe, "Upload a valid image", names_file=False),
    Hostile("logo.png", lambda: hostile.zip_bomb("logo.png"), "Upload a valid image", False),
    Hostile("logo.png", lambda: hostile.large_csv(BIG), "Upload a valid image", False),
]


def _prepared_post(
    client: Client,
    url: str,
    file: Hostile,
    headers: dict | None = None,
    field: str = "file",
    **data,
):
    """A POST of one file whose body is built, and held as a socket would hold it, before it is
    sent: the memory measured while the portal refuses the file is then the portal's own, not
    the test client's encoding and copy of the body. Returns the function that sends it."""
    boundary = "SecurityFiguresBoundary"
    upload = SimpleUploadedFile(file.filename, file.content())
    body = encode_multipart(boundary, {**data, field: upload})
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": url,
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": FakePayload(body),
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return lambda: client.request(**environ)


def _fact_counts(store) -> dict[str, int]:
    facts = [
        model
        for model in apps.get_app_config("execution").get_models()
        if model.__name__.endswith("Fact")
    ]
    with agency_scope(store.agency_id):
        return {model.__name__: model.objects.filter(store=store).count() for model in facts}


def _proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/{pid}/status")


def _reset_peak(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (Linux: write 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class PeakGrowth:
    """The test process's peak memory over each `with` block (the request handled in it): the
    larger of its RSS high-water mark above its RSS before (VmHWM, reset first) and the peak of
    the Python allocations made in the block (tracemalloc; freed memory the process keeps would
    hide them from the RSS)."""

    def __init__(self):
        self.peaks_kb: list[int] = []

    def __enter__(self):
        _reset_peak(os.getpid())
        self.before = _proc_status_kb(os.getpid(), "VmRSS")
        tracemalloc.start()
        return self

    def __exit__(self, *exc_info):
        traced = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
        rss = _proc_status_kb(os.getpid(), "VmHWM") - self.before
        self.peaks_kb.append(max(rss, traced))


def _wait_for_runs(run_ids, agency_id, worker, timeout=120) -> dict[int, IngestionRun]:
    deadline = time.monotonic() + timeout
    while True:
        with agency_scope(agency_id):
            runs = {run.pk: run for run in IngestionRun.objects.filter(pk__in=run_ids)}
        if all(run.is_finished for run in runs.values()):
            return runs
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.terminate()
            log = worker.communicate(timeout=20)[0]
            pytest.fail(f"The worker did not finish the runs. Its log:\n{log[-3000:]}")
        time.sleep(0.2)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_hostile_report_files_are_refused_by_the_upload_page_the_api_and_the_worker(
    worker_queue, client_for, demo_manager, demo_agency, store_a, make_store, make_token
):
    """Through the upload page and the API's upload endpoint; files that pass the request's
    checks (size, name) are refused by the real Celery worker, whose pool processes' peak
    memory is read from /proc while they refuse them."""
    _queue, worker = worker_queue
    client = client_for(demo_manager)
    secret = make_token(demo_agency, scopes=["metrics:write"])

    def page_url(store):
        return f"/{demo_agency.slug}/stores/{store.pk}/data/"

    # Warm up: a good CSV and a good workbook, to another store, so that each pool process
    # has the parsers loaded before its memory is reset and measured.
    warm_store = make_store(store_a.brand)
    good = {
        "good.csv": "统计日期,访客数,支付金额,支付买家数\n2026-09-01,10,20.00,1\n".encode(),
        "good.xlsx": hostile.workbook_bytes(hostile.OVERVIEW_ROWS),
    }
    warm_ids = []
    for _round in range(2):
        for name, content in good.items():
            file = Hostile(name, lambda content=content: content, "")
            response = _prepared_post(client, page_url(warm_store), file)()
            assert response.status_code == 302, response.content[:500]
            warm_ids.append(int(response["Location"].rstrip("/").split("/")[-1]))
    warm = _wait_for_runs(warm_ids, demo_agency.pk, worker)
    assert {run.status for run in warm.values()} == {IngestionRun.Status.SUCCEEDED}
    pool = _children(worker.pid)
    assert pool, "no pool process under the worker"
    reset = all(_reset_peak(pid) for pid in pool)
    rss_before = {pid: _proc_status_kb(pid, "VmRSS") for pid in pool}

    with agency_scope(demo_agency):
        runs_before = set(IngestionRun.objects.filter(store=store_a).values_list("pk", flat=True))
    queued: dict[int, Hostile] = {}
    refused_at_request: list[tuple[Hostile, str]] = []
    tried = 0
    in_request = PeakGrowth()
    for entry_point in ("page", "api"):
        for file in METRICS_FILES:
            if entry_point == "page":
                send = _prepared_post(client, page_url(store_a), file)
            else:
                api_url = f"/api/v1/stores/{store_a.pk}/ingestion-runs/"
                send = _prepared_post(Client(), api_url, file, bearer(secret))
            with in_request:
                response = send()
            tried += 1
            if response.status_code in {302, 202}:
                run_id = (
                    int(response["Location"].rstrip("/").split("/")[-1])
                    if response.status_code == 302
                    else response.json()["id"]
                )
                queued[run_id] = file
            elif entry_point == "page":
                assert response.status_code == 200, (file.filename, response.status_code)
                refused_at_request.append((file, " ".join(response.context["form"].errors["file"])))
            else:
                assert response.status_code == 400, (file.filename, response.status_code)
                refused_at_request.append((file, response.content.decode()))
    runs = _wait_for_runs(list(queued), demo_agency.pk, worker)
    peak_kb = max(_proc_status_kb(pid, "VmHWM") for pid in pool)
    growth_kb = max(_proc_status_kb(pid, "VmHWM") - rss_before[pid] for pid in pool)

    accepted = [runs[pk].filename for pk in runs if runs[pk].status != IngestionRun.Status.FAILED]
    unclear = [
        (file.filename, runs[pk].message)
        for pk, file in queued.items()
        if not file.clear_in(runs[pk].message)
    ] + [
        (file.filename, message)
        for file, message in refused_at_request
        if not file.clear_in(message)
    ]
    with agency_scope(demo_agency):
        new_runs = set(IngestionRun.objects.filter(store=store_a).values_list("pk", flat=True))
    facts = _fact_counts(store_a)
    _add("hostile_uploads_tried", tried)
    _add("hostile_uploads_accepted", len(accepted) + sum(facts.values()))
    _peak(
        "refusing_peak_rss_mb",
        peak_kb / 1024,
        f"the real Celery worker's pool processes, VmHWM: {growth_kb / 1024:.1f} MB above their "
        "RSS before the hostile files"
        + ("" if reset else "; the peak could not be reset, the warm-up is included"),
    )
    _peak("refusing_peak_rss_in_request_mb", max(in_request.peaks_kb) / 1024, IN_REQUEST)

    assert accepted == []
    assert sum(facts.values()) == 0, facts
    assert unclear == []
    # A failed run keeps its upload, under MEDIA_ROOT, which no URL serves.
    stored = next(iter(runs.values())).file
    assert Path(stored.path).is_relative_to(Path(settings.MEDIA_ROOT))
    assert client.get(f"{settings.MEDIA_URL}{stored.name}").status_code == 404
    # Each file either never became a run (refused by the request) or became a failed one.
    assert new_runs - runs_before == set(queued)
    assert len(queued) + len(refused_at_request) == tried == 2 * len(METRICS_FILES)
    assert growth_kb < 32 * 1024, "refusing the files must not load them into memory"
    assert max(in_request.peaks_kb) < 32 * 1024


def _evidence_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT) / "workspace"
    return {str(path) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def test_hostile_files_are_refused_as_evidence_order_exports_and_logos(
    client_for,
    demo_manager,
    demo_admin,
    setup_engagement,
    conversion_engagement,
    make_setup_item,
):
    """The workspace's evidence upload (a setup item's file), the order import (user tiers) and
    the agency's logo check in the request itself: nothing is stored, no order written."""
    client = client_for(demo_manager)
    item = make_setup_item(setup_engagement)
    agency = setup_engagement.agency
    evidence_url = (
        f"/{agency.slug}/engagements/{setup_engagement.pk}/setup/items/{item.pk}/evidence/"
    )
    import_url = f"/{agency.slug}/engagements/{conversion_engagement.pk}/conversion/tiers/import/"
    files_before = _evidence_files()
    tried, accepted, unclear = 0, [], []
    in_request = PeakGrowth()

    for file in EVIDENCE_FILES:
        send = _prepared_post(client, evidence_url, file)
        with in_request:
            response = send()
        tried += 1
        if response.status_code != 400:
            accepted.append(("evidence", file.filename, response.status_code))
            continue
        message = " ".join(response.context["evidence_form"].errors.get("file", []))
        if not file.clear_in(message):
            unclear.append((file.filename, message))

    for file in ORDER_FILES:
        with agency_scope(agency):
            last = OrderImport.objects.aggregate(last=models.Max("pk"))["last"] or 0
        send = _prepared_post(client, import_url, file)
        with in_request:
            response = send()
        tried += 1
        with agency_scope(agency):
            records = list(OrderImport.objects.filter(pk__gt=last))
        if [record.status for record in records] != [OrderImport.Status.FAILED]:
            accepted.append(("orders", file.filename, response.status_code))
        elif not file.clear_in(records[0].message):
            unclear.append((file.filename, records[0].message))

    admin = Client()
    admin.force_login(demo_admin.user)
    settings_form = {
        "name": agency.name,
        "primary_color": agency.primary_color,
        "time_zone": agency.time_zone,
        "default_language": agency.default_language,
        "brief_hour": agency.brief_hour,
    }
    for file in LOGO_FILES:
        send = _prepared_post(
            admin, f"/{agency.slug}/settings/", file, None, "logo", **settings_form
        )
        with in_request:
            response = send()
        tried += 1
        agency.refresh_from_db()
        if response.status_code != 200 or agency.logo:
            accepted.append(("logo", file.filename, response.status_code))
            continue
        message = " ".join(response.context["form"].errors.get("logo", []))
        if not file.clear_in(message):
            unclear.append((file.filename, message))

    with agency_scope(agency):
        evidence_rows = SetupEvidence.objects.count()
        orders = CustomerOrder.objects.count()
    _add("hostile_uploads_tried", tried)
    _add("hostile_uploads_accepted", len(accepted) + evidence_rows + orders)
    _peak("refusing_peak_rss_in_request_mb", max(in_request.peaks_kb) / 1024, IN_REQUEST)

    assert accepted == [] and evidence_rows == 0 and orders == 0
    assert _evidence_files() == files_before  # no file stored
    assert unclear == []
    assert tried == len(EVIDENCE_FILES) + len(ORDER_FILES) + len(LOGO_FILES)
    assert max(in_request.peaks_kb) < 32 * 1024, "refusing a file must not load it into memory"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_logo_of_144_million_pixels_is_refused(demo_admin):
    agency = demo_admin.agency
    admin = Client()
    admin.force_login(demo_admin.user)
    bomb = Hostile("logo.png", hostile.png_pixel_bomb, "pixels", names_file=False)
    response = _prepared_post(
        admin,
        f"/{agency.slug}/settings/",
        bomb,
        None,
        "logo",
        name=agency.name,
        primary_color=agency.primary_color,
        time_zone=agency.time_zone,
        default_language=agency.default_language,
        brief_hour=agency.brief_hour,
    )()
    agency.refresh_from_db()
    assert response.status_code == 200 and not agency.logo


# --- 3. formula cells in exports -------------------------------------------------------------

HOSTILE_TEXT = (
    "=cmd|' /C calc'!A{n}",
    "+{n}+cmd",
    "-{n}+cmd",
    "@SUM(A{n})",
    "\t=A{n}",
    "\r=A{n}",
    '=HYPERLINK("http://x.test/{n}")',
)
NUL_TEXT = ("\0=1+1", "\0@SUM(A1)")  # fed to the writers: PostgreSQL text holds no NUL
DANGEROUS = FORMULA_STARTS  # = + - @ tab CR NUL


def _as_planted(value: str) -> str:
    """A cell read back as the text planted: without the guard's quote, with the NUL that XML
    and the CSV writer turn into U+FFFD."""
    return value.removeprefix("'").replace("\ufffd", "\0")


def _text_fields(model) -> list[models.Field]:
    """The free-text fields of a model: what a person (or an import) may type anything into."""
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and not field.unique
        and not field.primary_key
        and field.name not in {"password", "email", "language", "fingerprint"}
    ]


def _plant_hostile_text(agency_id) -> set[str]:
    """Put hostile text (numbered, so every value is distinct) into every free-text field of
    every row of every model the handover reads, and the full names of the people it names."""
    exported = [
        value
        for value in vars(export_tables).values()
        if isinstance(value, type) and issubclass(value, models.Model)
    ]
    exported += [User, Campaign._meta.get_field("event").related_model]
    numbers = itertools.count(1)
    planted = set()
    with agency_scope(agency_id):
        for model in exported:
            fields = _text_fields(model)
            for pk in model.objects.values_list("pk", flat=True):
                changes = {}
                for field in fields:
                    text = HOSTILE_TEXT[len(planted) % len(HOSTILE_TEXT)].format(n=next(numbers))
                    changes[field.name] = text[: field.max_length] if field.max_length else text
                    planted.add(changes[field.name])
                model.objects.filter(pk=pk).update(**changes)
    return planted


def _xlsx_cells(content: bytes):
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook:
        for row in sheet.iter_rows():
            yield from row


def _csv_cells(content: bytes):
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.endswith(".csv"):
                text = archive.read(name).decode("utf-8-sig")
                for row in csv.reader(io.StringIO(text, newline="")):
                    yield from row


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text[:1] in "-0123456789"


def test_no_export_holds_a_formula_cell(
    client_for,
    demo_manager,
    demo_admin,
    brand_a_owner,
    handover,  # noqa: F811
    store_a,
):
    """The data handover (XLSX and ZIP of CSV, internal and brand), a run's errors CSV and the
    audit log's CSV, after hostile text went into every text field that reaches them."""
    agency_id = handover.agency_id
    with agency_scope(agency_id):
        event_model = Campaign._meta.get_field("event").related_model
        event = event_model.objects.create(
            agency_id=agency_id,
            name="event",
            kind=event_model._meta.get_field("kind").choices[0][0],
            start_date=datetime.date(2026, 3, 1),
            end_date=datetime.date(2026, 3, 2),
        )
        Campaign.objects.filter(engagement=handover).update(event=event)
    planted = _plant_hostile_text(agency_id)
    with agency_scope(agency_id):
        run = IngestionRun.objects.create(
            store=store_a,
            source=IngestionRun.Source.UPLOAD,
            filename="=bad.csv",
            status=IngestionRun.Status.FAILED,
            errors=[
                {"row": n, "column": text, "value": text, "message": text}
                for n, text in enumerate(HOSTILE_TEXT)
            ],
            errors_total=len(HOSTILE_TEXT),
        )
    planted |= set(HOSTILE_TEXT)

    url = f"/{handover.agency.slug}/engagements/{handover.pk}/handover/"
    files = []
    for member, audience in ((demo_manager, "internal"), (brand_a_owner, "brand")):
        for file_format in ("xlsx", "zip"):
            response = client_for(member).post(
                url, {"file_format": file_format, "audience": audience}
            )
            assert response.status_code == 200, response.content[:300]
            files.append((file_format, b"".join(response.streaming_content)))
    slug = handover.agency.slug
    errors = client_for(demo_manager).get(f"/{slug}/data/runs/{run.pk}/errors.csv")
    assert errors.status_code == 200
    # The audit log (the handovers above are in it, under the poisoned names and titles).
    audit = client_for(demo_admin).get(reverse("audit_log_export", kwargs={"agency_slug": slug}))
    assert audit.status_code == 200
    plain_csv = [errors.content.decode("utf-8-sig"), audit.content.decode("utf-8-sig")]

    # The writers themselves, with NUL-leading text too (PostgreSQL text cannot hold a NUL).
    nul_table = Table(
        key="hostile",
        zh="文本",
        description="",
        columns=(Column("text", "文本"),),
        rows=lambda: iter([(text,) for text in NUL_TEXT]),
        count=lambda: len(NUL_TEXT),
    )
    planted |= set(NUL_TEXT)
    workbook, archive = io.BytesIO(), io.BytesIO()
    write_xlsx([nul_table], workbook)
    write_csv_zip([nul_table], archive, readme="")
    files += [("xlsx", workbook.getvalue()), ("zip", archive.getvalue())]

    formula_cells, dangerous, read_back = 0, [], set()
    for file_format, content in files:
        if file_format == "xlsx":
            for cell in _xlsx_cells(content):
                value = cell.value
                if cell.data_type == "f" or (isinstance(value, str) and value.startswith("=")):
                    formula_cells += 1
                if isinstance(value, str):
                    if value.startswith(DANGEROUS):
                        dangerous.append(value)
                    read_back.add(_as_planted(value).replace("\n", "\r"))
        else:
            for value in _csv_cells(content):
                if value.startswith(DANGEROUS) and not _is_number(value):
                    dangerous.append(value)
                read_back.add(_as_planted(value))
    rows = (csv.reader(io.StringIO(text, newline="")) for text in plain_csv)
    for value in itertools.chain.from_iterable(itertools.chain.from_iterable(rows)):
        if value.startswith(DANGEROUS) and not _is_number(value):
            dangerous.append(value)
        read_back.add(_as_planted(value))

    found = planted & read_back
    FIGURES["export_formula_cells"] = formula_cells
    FIGURES["export_dangerous_csv_cells"] = len(dangerous)
    FIGURES["export_hostile_strings_planted"] = len(planted)
    FIGURES["export_hostile_strings_read_back"] = len(found)

    assert formula_cells == 0
    assert dangerous == []
    # The hostile text did reach the files (prefixed): the zeros above are not for lack of it.
    assert len(found) >= 40, sorted(planted - read_back)[:20]
