"""Cross-tenant isolation over every operation of the API's OpenAPI schema.

The operations are read from the generated schema, and each must have an entry in `MATRIX`
saying which Brand A object fills its path and which token scope it needs; an operation without
one fails `test_every_operation_of_the_schema_is_in_the_matrix`, so a new endpoint cannot skip
the check. For every operation:

- the demo agency's token with every scope is served (no 401/403/404, no 5xx);
- a token of another agency, a token restricted to Brand B, and the session of a rival member or
  of a Brand B owner get 404 for Brand A's objects, and lists show them none of Brand A's rows;
- a demo-agency token that lacks exactly the operation's scope gets 403 `missing_scope`;
- no token, a revoked token and an expired token get 401;
- nothing is written by a refused POST.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from agency.models import ApiScope, ApiToken
from agency.tenancy import agency_scope
from execution.models import IngestionRun

ALL_SCOPES = list(ApiScope.values)
CSV = "统计日期,访客数,支付金额\n2026-11-01,10,100.00\n".encode()


@dataclass(frozen=True)
class Case:
    """How to call one operation on Brand A's objects."""

    path_object: str | None  # the world's object whose id fills the path's one parameter
    scope: str | None  # the token scope it needs; None: any scope
    query: dict = field(default_factory=dict)
    body: Callable[[], dict] | None = None
    multipart: bool = False
    path_values: dict = field(default_factory=dict)  # further path parameters: {"{date}": ...}


MATRIX: dict[tuple[str, str], Case] = {
    ("get", "/api/v1/brands/"): Case(None, None),
    ("get", "/api/v1/brands/{id}/"): Case("brand", None),
    ("get", "/api/v1/stores/"): Case(None, None),
    ("get", "/api/v1/stores/{id}/"): Case("store", None),
    ("get", "/api/v1/engagements/"): Case(None, ApiScope.ENGAGEMENTS_READ),
    ("get", "/api/v1/engagements/{id}/"): Case("engagement", ApiScope.ENGAGEMENTS_READ),
    ("get", "/api/v1/proposals/"): Case(None, ApiScope.REPORTS_READ),
    ("get", "/api/v1/proposals/{id}/"): Case("proposal", ApiScope.REPORTS_READ),
    ("get", "/api/v1/ingestion-runs/"): Case(None, ApiScope.METRICS_READ),
    ("get", "/api/v1/ingestion-runs/{id}/"): Case("run", ApiScope.METRICS_READ),
    ("get", "/api/v1/stores/{store_id}/metrics/"): Case(
        "store",
        ApiScope.METRICS_READ,
        query={"start": "2026-11-01", "end": "2026-11-30", "grain": "month"},
    ),
    ("post", "/api/v1/stores/{store_id}/metrics/"): Case(
        "store",
        ApiScope.METRICS_WRITE,
        body=lambda: {"grain": "store_day", "rows": [{"date": "2026-11-02", "visitors": 3}]},
    ),
    ("post", "/api/v1/stores/{store_id}/ingestion-runs/"): Case(
        "store",
        ApiScope.METRICS_WRITE,
        body=lambda: {"file": SimpleUploadedFile("overview.csv", CSV, "text/csv")},
        multipart=True,
    ),
    ("get", "/api/v1/briefs/"): Case(None, ApiScope.REPORTS_READ),
    ("get", "/api/v1/engagements/{engagement_id}/briefs/{date}/"): Case(
        "engagement", ApiScope.REPORTS_READ, path_values={"{date}": "2026-09-01"}
    ),
    ("get", "/api/v1/engagements/{engagement_id}/briefs/{date}/rendered/"): Case(
        "engagement", ApiScope.REPORTS_READ, path_values={"{date}": "2026-09-01"}
    ),
    ("get", "/api/v1/reviews/"): Case(None, ApiScope.REPORTS_READ),
    ("get", "/api/v1/reviews/{id}/"): Case("review", ApiScope.REPORTS_READ),
}


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_operation_of_the_schema_is_in_the_matrix():
    assert schema_operations() == set(MATRIX)


@pytest.fixture
def objects(brand_a, store_a, engagement_a, make_proposal, demo_manager, make_brief, make_review):
    with agency_scope(store_a.agency_id):
        run = IngestionRun.objects.create(
            store=store_a, source=IngestionRun.Source.PUSH, grain="store_day", filename="p.json"
        )
    proposal, _version = make_proposal(engagement_a, demo_manager, send=True)
    return {
        "brand": brand_a,
        "store": store_a,
        "engagement": engagement_a,
        "run": run,
        "proposal": proposal,
        "brief": make_brief(engagement_a, date=datetime.date(2026, 9, 1)),
        "review": make_review(engagement_a),
    }


def call(client: Client, method: str, path: str, case: Case, objects, headers):
    url = path
    for parameter, value in case.path_values.items():
        url = url.replace(parameter, value)
    if case.path_object:
        parameter = url[url.index("{") : url.index("}") + 1]
        url = url.replace(parameter, str(objects[case.path_object].pk))
    if method == "get":
        return client.get(url, case.query, headers=headers)
    body = case.body() if case.body else {}
    if case.multipart:
        return client.post(url, body, headers=headers)
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


# Which of the world's objects each list shows (ids are compared within one table only).
LIST_OBJECTS = {
    "/api/v1/brands/": "brand",
    "/api/v1/stores/": "store",
    "/api/v1/engagements/": "engagement",
    "/api/v1/ingestion-runs/": "run",
    "/api/v1/proposals/": "proposal",
    "/api/v1/briefs/": "brief",
    "/api/v1/reviews/": "review",
}


def brand_a_ids(response, objects, path) -> set[int]:
    """Ids of Brand A's objects that a list response shows."""
    own = {objects[LIST_OBJECTS[path]].pk}
    return {row["id"] for row in response.json()["results"]} & own


@pytest.fixture
def callers(make_token, demo_agency, rival_agency, brand_b, rival_manager, brand_b_owner):
    def session(membership, agency_slug=None):
        client = Client(enforce_csrf_checks=False)
        client.force_login(membership.user)
        return client, ({"X-Agency": agency_slug} if agency_slug else {})

    return {
        "rival token": (Client(), bearer(make_token(rival_agency))),
        "brand B token": (Client(), bearer(make_token(demo_agency, brand=brand_b))),
        "rival session": session(rival_manager),
        "rival session asking for the demo agency": session(rival_manager, demo_agency.slug),
        "brand B session": session(brand_b_owner, demo_agency.slug),
    }


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_the_owner_token_is_served(method, path, objects, make_token, demo_agency):
    response = call(
        Client(), method, path, MATRIX[method, path], objects, bearer(make_token(demo_agency))
    )
    assert response.status_code in {200, 202}, response.content
    if path in LIST_OBJECTS:  # so that "the others see none of them" means something
        assert brand_a_ids(response, objects, path), path


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_other_agencies_and_other_brands_see_nothing_of_brand_a(
    method, path, objects, callers, store_a
):
    case = MATRIX[method, path]
    with agency_scope(store_a.agency_id):
        runs_before = IngestionRun.objects.count()
    for name, (client, headers) in callers.items():
        response = call(client, method, path, case, objects, headers)
        if case.path_object:
            assert response.status_code == 404, f"{name}: {response.status_code}"
            assert response.json()["error"]["code"] == "not_found", name
        else:
            assert response.status_code in {200, 404}, f"{name}: {response.status_code}"
            if response.status_code == 200:
                assert brand_a_ids(response, objects, path) == set(), name
    with agency_scope(store_a.agency_id):
        assert IngestionRun.objects.count() == runs_before


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_a_token_without_the_scope_gets_403(method, path, objects, make_token, demo_agency):
    case = MATRIX[method, path]
    if case.scope is None:
        # Any one scope reads brands and stores.
        for scope in ALL_SCOPES:
            secret = make_token(demo_agency, scopes=[scope])
            response = call(Client(), method, path, case, objects, bearer(secret))
            assert response.status_code == 200, scope
        return
    secret = make_token(demo_agency, scopes=[s for s in ALL_SCOPES if s != case.scope])
    response = call(Client(), method, path, case, objects, bearer(secret))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "missing_scope",
        "message": f"This token lacks the scope “{case.scope}”.",
        "details": {"required_scope": str(case.scope)},
    }


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_no_revoked_or_expired_token_gets_in(method, path, objects, make_token, demo_agency):
    case = MATRIX[method, path]
    revoked, expired = make_token(demo_agency), make_token(demo_agency, expires_days=1)
    with agency_scope(demo_agency):
        tokens = ApiToken.objects.order_by("-pk")
        tokens.filter(pk=tokens[1].pk).update(revoked_at=timezone.now())
        tokens.filter(pk=tokens[0].pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    for headers in ({}, bearer(revoked), bearer(expired), bearer("tp_not-a-token")):
        response = call(Client(), method, path, case, objects, headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
