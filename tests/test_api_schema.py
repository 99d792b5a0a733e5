"""The REST API against its own OpenAPI schema.

Schemathesis reads /api/schema/ from a live server (real PostgreSQL, Celery eager) and sends what
the schema allows, and what it forbids, to every operation with a token holding every scope; all
its checks must pass: no 5xx, every response (status, headers, body) as the schema says, valid
input accepted and invalid input refused. The world has real objects and the schema given to
schemathesis names their ids as examples, so the success paths run too, not only the 404s.

The schema itself must document every operation (a description and an example) and validate; the
Swagger UI must load only this server's static files (the portal runs where CDNs are blocked).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import time
import zipfile
from collections import Counter
from collections.abc import Callable

import jsonschema
import pytest
import requests
import schemathesis
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from schemathesis import Case
from schemathesis.core.file_samples import file_extension
from schemathesis.engine import events
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.transport.serialization import Binary

from agency.selectors import api_token_for_secret
from agency.tenancy import agency_scope
from execution.api import METRICS_MAX_DAYS
from execution.metrics.ingestion import ingestion_push
from execution.models import IngestionRun

# Enough to find what a change breaks in one run of the suite, few enough to keep it near a minute.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
# A fixed seed keeps the suite deterministic; set SCHEMATHESIS_SEED to explore other inputs.
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261127"))


def _store_day(day: datetime.date, visitors: int) -> dict:
    return {
        "date": day.isoformat(),
        "visitors": visitors,
        "page_views": visitors * 3,
        "paying_buyers": visitors // 30,
        "paid_orders": visitors // 28,
        "paid_units": visitors // 25,
        "gmv": f"{visitors * 3.75:.2f}",
    }


@pytest.fixture
def api_world(
    transactional_db,
    demo_agency,
    brand_a,
    store_a,
    store_b,
    engagement_a,
    engagement_b,
    make_token,
    make_proposal,
    demo_manager,
    make_brief,
    make_review,
):
    """The demo agency as an integration sees it: two brands and stores, two engagements, a
    month of store figures (the schema's example month), a failed run with row errors, an
    issued brief and a published review."""
    secret = make_token(demo_agency)
    token = api_token_for_secret(secret)
    october = [datetime.date(2026, 10, day) for day in range(1, 32)]
    with agency_scope(demo_agency):
        # Celery runs eagerly: each run is processed when its transaction commits.
        ingestion_push(
            actor=None,
            store=store_a,
            grain="store_day",
            rows=[_store_day(day, 10_000 + 97 * day.day) for day in october],
            api_token=token,
        )
        ingestion_push(
            actor=None,
            store=store_a,
            grain="store_day",
            rows=[{"date": "2026-11-01", "visitors": "many"}],
            api_token=token,
        )
        runs = list(IngestionRun.objects.filter(store=store_a).order_by("pk"))
    assert [run.status for run in runs] == ["succeeded", "failed"]
    proposal, _version = make_proposal(engagement_a, demo_manager, send=True)
    brief = make_brief(engagement_a, date=datetime.date(2026, 10, 31))
    return {
        "brief_date": brief.date.isoformat(),
        "review": make_review(engagement_a).pk,
        "proposal": proposal.pk,
        "secret": secret,
        "brand": brand_a.pk,
        "store": store_a.pk,
        "engagement": engagement_a.pk,
        "run": runs[-1].pk,
    }


def _path_examples(world: dict) -> dict[str, dict[str, int | str]]:
    """The real id each path parameter takes in the examples phase, by path prefix."""
    return {
        "/api/v1/brands/{id}/": {"id": world["brand"]},
        "/api/v1/stores/{id}/": {"id": world["store"]},
        "/api/v1/engagements/{id}/": {"id": world["engagement"]},
        "/api/v1/proposals/{id}/": {"id": world["proposal"]},
        "/api/v1/ingestion-runs/{id}/": {"id": world["run"]},
        "/api/v1/stores/{store_id}/": {"store_id": world["store"]},
        "/api/v1/engagements/{engagement_id}/briefs/": {
            "engagement_id": world["engagement"],
            "date": world["brief_date"],
        },
        "/api/v1/reviews/{id}/": {"id": world["review"]},
    }


def _with_real_ids(raw_schema: dict, world: dict) -> dict:
    """The served schema with this world's ids as path parameter examples (the served examples
    are illustrative ids that exist in no test database)."""
    examples = _path_examples(world)
    for path, operations in raw_schema["paths"].items():
        values = next((ids for prefix, ids in examples.items() if path.startswith(prefix)), {})
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in values:
                    parameter["example"] = values[parameter["name"]]
    return raw_schema


def _error_fields(response) -> set[str]:
    try:
        return set(response.json()["error"]["details"])
    except (ValueError, KeyError, TypeError):
        return set()


def _metrics_range_refused(case) -> bool:
    """`end` before `start`, or too far after it: a rule between two parameters."""
    try:
        start = datetime.date.fromisoformat(case.query["start"])
        end = datetime.date.fromisoformat(case.query["end"])
    except (KeyError, TypeError, ValueError):
        return False
    return end < start or (end - start).days >= METRICS_MAX_DAYS


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(name) or _holds_nul(item) for name, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


def _fields_holding_nul(case) -> set[str]:
    """The query parameters and body fields of a request that hold a NUL character."""
    parts = {**(case.query or {}), **(case.body if isinstance(case.body, dict) else {})}
    return {name for name, value in parts.items() if _holds_nul(value)}


UPLOAD = "POST /api/v1/stores/{store_id}/ingestion-runs/"


def _sent_as_zip(case) -> bool:
    file = case.body.get("file") if isinstance(case.body, dict) else None
    data = file.data if isinstance(file, Binary) else file
    return isinstance(data, bytes) and file_extension(data) == "zip"


# The rules OpenAPI cannot state, each documented in its operation's description (and, for every
# list, that a cursor comes only from the list's own links). A schema-valid
# request that breaks one is refused with a 400 naming the field, and only such a refusal is not
# counted as "valid data rejected"; a 400 naming any other field still fails the test.
UNSTATABLE_RULES: dict[str, Callable[[Case], set[str]]] = {
    # A brand or manager id the token cannot see is refused as a filter, not ignored.
    "GET /api/v1/engagements/": lambda case: {"brand", "manager"},
    # The file's name must be an export's; schemathesis names it after its format.
    UPLOAD: lambda case: set() if _sent_as_zip(case) else {"file"},
    # `end` not before `start`, and at most METRICS_MAX_DAYS after it.
    "GET /api/v1/stores/{store_id}/metrics/": lambda case: (
        {"end"} if _metrics_range_refused(case) else set()
    ),
}


def filter_failure(context, failure, case, response) -> bool:
    """schemathesis hook: keep every failure but the refusals `UNSTATABLE_RULES` explains, and
    the refusal of a NUL character (PostgreSQL stores none; the API's description says so)."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return True
    fields = _error_fields(response)
    rule = UNSTATABLE_RULES.get(case.operation.label)
    excused = _fields_holding_nul(case) | (rule(case) if rule else set())
    if case.query and "cursor" in case.query:
        excused |= {"cursor"}  # only the list's own links carry a cursor (said in the schema)
    return not (fields and fields <= excused)


def _tally_statuses(event, statuses: dict[str, Counter]) -> None:
    """Count each operation's response statuses (to show the success paths ran)."""
    if not isinstance(event, events.ScenarioFinished):
        return
    for case_id, interaction in event.recorder.interactions.items():
        node = event.recorder.cases.get(case_id)
        if node is not None and interaction.response is not None:
            label = node.value.operation.label
            statuses.setdefault(label, Counter())[interaction.response.status_code] += 1


def _export_zip() -> bytes:
    """A 生意参谋 store overview export in a ZIP: schemathesis names a file part after the format
    its bytes start with, so this one arrives as `file.zip`, an accepted export."""
    csv = "统计日期,访客数,支付金额\n2026-10-02,10,100.00\n".encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("store_overview.csv", csv)
    return buffer.getvalue()


EXPORT_ZIP = _export_zip()


def map_case(context, case):
    """schemathesis hook: a schema-valid upload carries a real export (random bytes are refused
    by name, which would leave the upload's success path untested)."""
    if (
        case.operation.label == UPLOAD
        and case.meta is not None
        and case.meta.generation.mode.is_positive
        and isinstance(case.body, dict)
        and isinstance(case.body.get("file"), Binary)
    ):
        # One file for another, in place: assigning `case.body` makes schemathesis re-validate
        # it, and it counts any body holding bytes as invalid.
        case.body["file"] = Binary(EXPORT_ZIP)
    return case


def _failures(event) -> list[str]:
    if isinstance(event, events.NonFatalError):
        return [f"[error] {event.label}: {event.info.format()}"]
    if not isinstance(event, events.ScenarioFinished):
        return []
    found = []
    for checks in event.recorder.checks.values():
        for check in checks:
            if check.failure_info is not None:
                failure = check.failure_info.failure
                found.append(
                    f"[{check.name}] {event.recorder.label}: {failure.title}\n"
                    f"    {failure.message}\n    {check.failure_info.code_sample}"
                )
    return found


@pytest.mark.django_db(transaction=True)
def test_api_conforms_to_its_schema(api_world, live_server):
    raw_schema = requests.get(f"{live_server.url}/api/schema/?format=json", timeout=30).json()
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": live_server.url,
            "auth": {"openapi": {"bearerAuth": {"bearer": api_world["secret"]}}},
            "checks": {"enabled": True},
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
            "cache": {"enabled": False},
            # The metrics dates are a `format: date` with a `pattern` for their years: valid
            # ones are generated by filtering, more slowly than hypothesis likes.
            "suppress-health-check": ["filter_too_much"],
            "request-timeout": 30,
        }
    )
    schema = schemathesis.openapi.from_dict(_with_real_ids(raw_schema, api_world), config=config)
    schema.hook(filter_failure)
    schema.hook(map_case)

    started = time.monotonic()
    failures: list[str] = []
    statuses: dict[str, Counter] = {}
    for event in schemathesis.engine.from_schema(schema).execute():
        failures.extend(_failures(event))
        _tally_statuses(event, statuses)
        if isinstance(event, events.FatalError):
            raise event.exception
    elapsed = time.monotonic() - started

    deduplicated = sorted(set(failures))
    assert not deduplicated, (
        f"{len(deduplicated)} schemathesis failures in {elapsed:.0f} s:\n\n"
        + "\n\n".join(deduplicated)
    )
    operations = {result.ok().label for result in schema.get_all_operations()}
    summary = "\n".join(f"{label}: {dict(statuses.get(label, {}))}" for label in sorted(operations))
    without_success = [
        label
        for label in operations
        if not any(200 <= status < 300 for status in statuses.get(label, {}))
    ]
    assert not without_success, f"operations never answered 2xx:\n{summary}"
    print(f"schemathesis: {elapsed:.0f} s\n{summary}")


# What the run found, pinned ---------------------------------------------------------------------


@pytest.fixture
def secret(make_token, demo_agency):
    return make_token(demo_agency)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=0", "page_size"),
        ("page_size=ten", "page_size"),
        ("page_size=5&page_size=6", "page_size"),  # a repeated parameter is not "the last one"
        ("brand=", "brand"),  # a blank id filter is not "no filter"
        ("brand=1.5", "brand"),
        ("ordering=shop_id", "ordering"),  # an unknown ordering is not ignored
        ("ordering=name,", "ordering"),
        ("name=a%00b", "name"),
    ],
)
def test_a_parameter_the_schema_forbids_is_a_400_naming_it(api, secret, store_a, query, field):
    response = api.get(secret, f"/api/v1/stores/?{query}")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["details"]) == [field]


def test_a_parameter_the_schema_allows_is_answered(api, secret, store_a, store_b):
    response = api.get(secret, "/api/v1/stores/?page_size=500&ordering=-name,id&brand=999999")
    assert response.status_code == 200 and response.json()["results"] == []
    response = api.get(secret, "/api/v1/stores/?ordering=-name,id")
    assert [row["id"] for row in response.json()["results"]] == [store_b.pk, store_a.pk]


@pytest.mark.parametrize("text", ["bad\x00name", "lone \ud800 surrogate"])
def test_a_push_of_text_nothing_can_store_is_a_400_not_a_500(api, secret, store_a, text):
    for row in ({"date": "2026-10-01", text: 1}, {"date": "2026-10-01", "product_title": text}):
        response = api.post(
            secret,
            f"/api/v1/stores/{store_a.pk}/metrics/",
            json.dumps({"grain": "store_day", "rows": [row]}),
        )
        assert response.status_code == 400, response.content
        assert list(response.json()["error"]["details"]) == ["rows"]
    with agency_scope(store_a.agency_id):
        assert not IngestionRun.objects.exists()


def test_a_push_is_json_only(api, secret, store_a):
    response = api.post(
        secret,
        f"/api/v1/stores/{store_a.pk}/metrics/",
        "grain=store_day&rows=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_metrics_are_documented_as_the_one_list_they_are(api, secret, store_a):
    operation = SchemaGenerator().get_schema(request=None, public=True)["paths"][
        "/api/v1/stores/{store_id}/metrics/"
    ]["get"]
    ok = operation["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["type"] == "array"
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert not {"cursor", "page_size"} & names
    response = api.get(
        secret, f"/api/v1/stores/{store_a.pk}/metrics/", start="2026-10-01", end="2026-10-31"
    )
    assert response.status_code == 200 and response.json() == []


def test_a_post_to_no_endpoint_is_a_json_404_not_a_csrf_page(api, secret):
    response = api.post(secret, "/api/v1/stores/abc/metrics/", {})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# The schema as documentation -----------------------------------------------------------------

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def openapi_schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def _examples(content: dict) -> list:
    """Every example value of a request body or response, by media type."""
    found = []
    for media in content.values():
        if "example" in media:
            found.append((media["schema"], media["example"]))
        found.extend(
            (media["schema"], item["value"]) for item in media.get("examples", {}).values()
        )
    return found


def _as_json_schema(value):
    """OpenAPI 3.0's `nullable` as JSON Schema says it, for validating examples."""
    if isinstance(value, list):
        return [_as_json_schema(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {key: _as_json_schema(item) for key, item in value.items()}
    if converted.pop("nullable", False):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_the_schema_validates_without_warnings(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn`, as CI runs it."""
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/stores/{store_id}/metrics/" in target.read_text()


def test_every_operation_is_described_with_an_example(openapi_schema):
    validate_schema(openapi_schema)
    undocumented = []
    for label, operation in _operations(openapi_schema):
        if not operation.get("description", "").strip():
            undocumented.append(f"{label}: no description")
        request = operation.get("requestBody", {}).get("content", {})
        responses = [response.get("content", {}) for response in operation["responses"].values()]
        if not _examples(request) and not any(_examples(content) for content in responses):
            undocumented.append(f"{label}: no request or response example")
    assert not undocumented, "\n".join(undocumented)
    assert list(_operations(openapi_schema)), "the schema has no operation"


def test_every_example_matches_its_schema(openapi_schema):
    """An example a client copies must be one the API would accept or send."""
    components = _as_json_schema(openapi_schema["components"])
    wrong = []
    for label, operation in _operations(openapi_schema):
        contents = [operation.get("requestBody", {}).get("content", {})]
        contents += [response.get("content", {}) for response in operation["responses"].values()]
        for content in contents:
            for schema, example in _examples(content):
                validator = jsonschema.Draft7Validator(
                    {**_as_json_schema(schema), "components": components}
                )
                wrong += [f"{label}: {error.message}" for error in validator.iter_errors(example)]
    assert not wrong, "\n".join(wrong)


# Swagger UI ------------------------------------------------------------------------------------

ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)\"""")


@pytest.mark.django_db(transaction=True)
def test_the_api_docs_load_only_this_server_s_static_files(live_server):
    page = requests.get(f"{live_server.url}/api/docs/", timeout=30)
    assert page.status_code == 200
    assets = ASSET.findall(page.text)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert any(asset.endswith("swagger-ui.css") for asset in assets)
    remote = [asset for asset in assets if re.match(r"^(?:[a-z]+:)?//", asset)]
    assert not remote, f"assets from another host: {remote}"
    # Swagger UI's default validator badge would call validator.swagger.io.
    assert '"validatorUrl": null' in page.text
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} is not found"
        served = requests.get(f"{live_server.url}{asset}", timeout=30)
        assert served.status_code == 200 and served.content, asset
