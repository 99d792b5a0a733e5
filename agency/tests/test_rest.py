"""The API's frame: who may call (bearer tokens and the browser session), token scopes, the one
error format, the per-token throttle; and the token services and `create_api_token` command."""

import datetime
import hashlib
import io
import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import timezone

from agency.api import BrandViewSet
from agency.models import ApiScope, ApiToken, Membership, Role
from agency.services import api_token_create, api_token_revoke, api_token_touch
from agency.tenancy import agency_scope
from execution.models import IngestionRun

BRANDS, STORES = "/api/v1/brands/", "/api/v1/stores/"


def token_of(secret: str) -> ApiToken:
    return ApiToken.objects.unscoped().get(key_hash=hashlib.sha256(secret.encode()).hexdigest())


def error_of(response, status: int) -> dict:
    """The error of a response, after checking its status and the one error shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"] and set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def brand_names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


# Bearer tokens -------------------------------------------------------------------------------


def test_no_authorization_header_is_a_401_that_asks_for_a_bearer_token(client, brand_a):
    response = client.get(BRANDS)
    error = error_of(response, 401)
    assert error["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer tp_not-a-real-token", "Unknown API token."),
        ("Bearer ", "The Authorization header must be “Bearer <token>”."),
        ("Bearer two words", "The Authorization header must be “Bearer <token>”."),
    ],
)
def test_a_bad_bearer_header_is_a_401(client, make_token, demo_agency, header, message):
    make_token(demo_agency)
    response = client.get(BRANDS, headers={"Authorization": header})
    error = error_of(response, 401)
    assert (error["code"], error["message"]) == ("authentication_failed", message)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_the_bearer_keyword_is_case_insensitive(client, make_token, demo_agency, brand_a):
    secret = make_token(demo_agency)
    response = client.get(BRANDS, headers={"Authorization": f"bearer {secret}"})
    assert brand_names(response) == ["Brand A"]


def test_a_revoked_token_is_refused(api, make_token, demo_agency, demo_admin, brand_a):
    secret = make_token(demo_agency)
    assert api.get(secret, BRANDS).status_code == 200
    with agency_scope(demo_agency):
        api_token_revoke(actor=demo_admin, token=token_of(secret))
    error = error_of(api.get(secret, BRANDS), 401)
    assert error["message"] == "This API token has been revoked."


def test_an_expired_token_is_refused(api, make_token, demo_agency, brand_a):
    secret = make_token(demo_agency, expires_days=1)
    assert api.get(secret, BRANDS).status_code == 200
    ApiToken.objects.unscoped().filter(pk=token_of(secret).pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    error = error_of(api.get(secret, BRANDS), 401)
    assert (error["code"], error["message"]) == (
        "authentication_failed",
        "This API token has expired.",
    )


def test_use_is_recorded_at_most_once_a_minute(api, make_token, demo_agency, brand_a):
    secret = make_token(demo_agency)
    assert token_of(secret).last_used_at is None
    before = timezone.now()
    api.get(secret, BRANDS)
    first_use = token_of(secret).last_used_at
    assert first_use is not None and first_use >= before
    api.get(secret, BRANDS)
    assert token_of(secret).last_used_at == first_use
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    ApiToken.objects.unscoped().filter(pk=token_of(secret).pk).update(last_used_at=long_ago)
    api.get(secret, BRANDS)
    assert token_of(secret).last_used_at > first_use


def test_a_token_acts_in_its_own_agency_only(
    api, make_token, demo_agency, rival_agency, brand_a, rival_brand
):
    assert brand_names(api.get(make_token(rival_agency), BRANDS)) == ["Rival Brand"]
    assert brand_names(api.get(make_token(demo_agency), BRANDS)) == ["Brand A"]


def test_a_token_ignores_x_agency_and_stays_in_its_agency(
    api, make_token, demo_agency, rival_agency, brand_a, rival_brand
):
    secret = make_token(demo_agency)
    assert brand_names(api.get(secret, BRANDS, headers={"X-Agency": "rival"})) == ["Brand A"]


# The browser session -------------------------------------------------------------------------


def test_a_member_of_one_agency_uses_the_session_without_naming_it(
    client_for, demo_manager, brand_a, rival_brand
):
    client = client_for(demo_manager)
    assert brand_names(client.get(BRANDS)) == ["Brand A"]
    assert brand_names(client.get(BRANDS, headers={"X-Agency": "demo"})) == ["Brand A"]


def test_a_member_of_several_agencies_names_one_in_x_agency(
    client_for, demo_manager, make_member, rival_agency, brand_a, rival_brand
):
    make_member(rival_agency, Role.ANALYST, user=demo_manager.user)
    client = client_for(demo_manager)
    error = error_of(client.get(BRANDS), 400)
    assert error["code"] == "agency_required"
    assert list(error["details"]) == ["X-Agency"]
    assert brand_names(client.get(BRANDS, headers={"X-Agency": "rival"})) == ["Rival Brand"]
    assert brand_names(client.get(BRANDS, headers={"X-Agency": "demo"})) == ["Brand A"]


def test_x_agency_naming_an_agency_one_is_not_a_member_of_is_a_404(
    client_for, demo_manager, rival_agency, rival_brand
):
    client = client_for(demo_manager)
    error = error_of(client.get(BRANDS, headers={"X-Agency": "rival"}), 404)
    assert error["code"] == "not_found"
    error_of(client.get(BRANDS, headers={"X-Agency": "no-such-agency"}), 404)


def test_a_deactivated_membership_no_longer_reaches_the_api(client_for, demo_manager, brand_a):
    client = client_for(demo_manager)
    Membership.objects.unscoped().filter(pk=demo_manager.pk).update(is_active=False)
    error_of(client.get(BRANDS, headers={"X-Agency": "demo"}), 404)
    assert client.get(BRANDS).status_code in {400, 403, 404}


def test_a_brand_user_session_sees_only_its_brands(
    client_for, brand_a_owner, brand_a, brand_b, store_a, store_b
):
    client = client_for(brand_a_owner)
    assert brand_names(client.get(BRANDS)) == ["Brand A"]
    assert [row["id"] for row in client.get(STORES).json()["results"]] == [store_a.pk]
    error_of(client.get(f"{STORES}{store_b.pk}/"), 404)


def test_a_session_has_the_scopes_of_the_member_s_role(
    client_for, brand_a_owner, demo_operator, store_a
):
    """Brand users read metrics but never push them; staff who ingest may."""
    url = f"/api/v1/stores/{store_a.pk}/metrics/"
    push = {"grain": "store_day", "rows": [{"date": "2026-09-01", "visitors": 1}]}
    client = client_for(brand_a_owner)
    assert client.get(url, {"start": "2026-09-01", "end": "2026-09-02"}).status_code == 200
    error = error_of(client.post(url, push, content_type="application/json"), 403)
    assert error["code"] == "missing_scope"
    assert error["details"] == {"required_scope": "metrics:write"}
    client = client_for(demo_operator)
    assert client.post(url, push, content_type="application/json").status_code == 202


# Scopes --------------------------------------------------------------------------------------


def test_a_missing_scope_is_a_403_naming_the_scope_on_an_object_the_token_may_see(
    api, make_token, demo_agency, engagement_a, store_a
):
    secret = make_token(demo_agency, scopes=[ApiScope.METRICS_READ])
    error = error_of(api.get(secret, f"/api/v1/engagements/{engagement_a.pk}/"), 403)
    assert error["code"] == "missing_scope"
    assert error["details"] == {"required_scope": "engagements:read"}
    assert "engagements:read" in error["message"]
    error = error_of(api.get(secret, "/api/v1/engagements/"), 403)
    assert error["details"] == {"required_scope": "engagements:read"}
    reader = make_token(demo_agency, scopes=[ApiScope.ENGAGEMENTS_READ])
    assert api.get(reader, f"/api/v1/engagements/{engagement_a.pk}/").status_code == 200


def test_an_object_outside_the_token_s_reach_is_a_404_before_any_403(
    api, make_token, demo_agency, rival_engagement, rival_store
):
    secret = make_token(demo_agency, scopes=[ApiScope.METRICS_READ])
    error_of(api.get(secret, f"/api/v1/engagements/{rival_engagement.pk}/"), 404)
    url = f"/api/v1/stores/{rival_store.pk}/metrics/"
    error_of(api.post(secret, url, {"grain": "store_day", "rows": [{"date": "2026-09-01"}]}), 404)


# The error format ----------------------------------------------------------------------------


def test_a_400_names_each_bad_field(api, make_token, demo_agency, store_a):
    url = f"/api/v1/stores/{store_a.pk}/metrics/"
    error = error_of(api.get(make_token(demo_agency), url, end="2026-09-01", grain="hour"), 400)
    assert error["code"] == "invalid"
    assert error["message"] == "The request has invalid fields; see details."
    assert set(error["details"]) == {"start", "grain"}
    assert all(isinstance(messages, list) for messages in error["details"].values())


def test_a_malformed_json_body_is_a_400_in_the_same_format(api, make_token, demo_agency, store_a):
    url = f"/api/v1/stores/{store_a.pk}/metrics/"
    response = api.post(make_token(demo_agency), url, "{not json")
    assert error_of(response, 400)["code"] == "parse_error"


def test_a_body_of_an_unsupported_type_is_a_415(api, make_token, demo_agency, store_a):
    url = f"/api/v1/stores/{store_a.pk}/metrics/"
    response = api.post(make_token(demo_agency), url, "grain=store_day", content_type="text/plain")
    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_404s_look_alike_for_missing_and_foreign_objects(api, make_token, demo_agency, rival_store):
    secret = make_token(demo_agency)
    foreign = error_of(api.get(secret, f"{STORES}{rival_store.pk}/"), 404)
    missing = error_of(api.get(secret, f"{STORES}{rival_store.pk + 1000}/"), 404)
    assert foreign == missing
    assert foreign["code"] == "not_found" and foreign["details"] == {}


def test_a_method_the_endpoint_does_not_offer_is_a_405(
    api, client, make_token, demo_agency, brand_a
):
    secret = make_token(demo_agency)
    error = error_of(api.post(secret, BRANDS, {"name": "New"}), 405)
    assert error["code"] == "method_not_allowed"
    bearer = {"Authorization": f"Bearer {secret}"}
    error = error_of(client.delete(f"{BRANDS}{brand_a.pk}/", headers=bearer), 405)
    assert error["code"] == "method_not_allowed" and "DELETE" in error["message"]


@pytest.mark.parametrize(
    "url", ["/api/v1/nothing-here/", "/api/v1/brands/abc/", "/api/v2/brands/", "/api/"]
)
def test_an_unknown_api_address_is_a_404_in_the_api_format(api, make_token, demo_agency, url):
    error = error_of(api.get(make_token(demo_agency), url), 404)
    assert error == {
        "code": "not_found",
        "message": "No API endpoint at this address.",
        "details": {},
    }


def test_a_body_over_the_request_limit_is_a_413(api, make_token, demo_agency, store_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    rows = [{"date": "2026-09-01", "visitors": 1, "gmv": "1.00"}] * 100
    url = f"/api/v1/stores/{store_a.pk}/metrics/"
    response = api.post(make_token(demo_agency), url, {"grain": "store_day", "rows": rows})
    assert error_of(response, 413)["code"] == "too_large"
    assert IngestionRun.objects.unscoped().count() == 0


def test_an_unexpected_failure_is_a_500_in_the_same_format(
    api, make_token, demo_agency, brand_a, monkeypatch
):
    def broken(view):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(BrandViewSet, "get_queryset", broken)
    error = error_of(api.get(make_token(demo_agency), BRANDS), 500)
    assert error["code"] == "server_error"
    assert "on fire" not in error["message"]


# CSRF ----------------------------------------------------------------------------------------


def test_a_bearer_token_needs_no_csrf_token_to_write(make_token, demo_agency, store_a):
    """Integrations have no cookies and no CSRF token; the browser's session does."""
    client = Client(enforce_csrf_checks=True)
    bearer = {"Authorization": f"Bearer {make_token(demo_agency)}"}
    url = f"/api/v1/stores/{store_a.pk}/metrics/"
    push = {"grain": "store_day", "rows": [{"date": "2026-09-01", "visitors": 1}]}
    response = client.post(url, push, content_type="application/json", headers=bearer)
    assert response.status_code == 202
    response = client.post(
        "/api/v1/nothing/", push, content_type="application/json", headers=bearer
    )
    assert error_of(response, 404)["code"] == "not_found"


def test_a_session_write_without_the_csrf_token_is_refused(demo_operator, store_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_operator.user)
    url = f"/api/v1/stores/{store_a.pk}/metrics/"
    push = {"grain": "store_day", "rows": [{"date": "2026-09-01", "visitors": 1}]}
    response = client.post(url, push, content_type="application/json")
    error = error_of(response, 403)
    assert error["code"] == "permission_denied" and "CSRF" in error["message"]
    assert IngestionRun.objects.unscoped().count() == 0


# Throttling ----------------------------------------------------------------------------------


@pytest.fixture
def throttled_tokens(make_token, demo_agency, brand_a):
    """Two tokens with a clean throttle history (the cache is Redis, shared between runs)."""
    secrets = [make_token(demo_agency, name="first"), make_token(demo_agency, name="second")]
    keys = [f"throttle_api_token-{token_of(secret).pk}" for secret in secrets]
    cache.delete_many(keys)
    yield secrets
    cache.delete_many(keys)


@override_settings(API_THROTTLE_RATE="3/minute")
def test_each_token_has_its_own_budget_and_429_says_when_to_retry(api, throttled_tokens):
    first, second = throttled_tokens
    assert [api.get(first, BRANDS).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(first, BRANDS)
    error = error_of(response, 429)
    assert error["code"] == "throttled"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert error["details"] == {"retry_after_seconds": retry_after}
    assert api.get(second, BRANDS).status_code == 200


@pytest.fixture
def throttled_session(client_for, demo_manager, brand_a):
    key = f"throttle_api_user-{demo_manager.user.pk}"
    cache.delete(key)
    yield client_for(demo_manager)
    cache.delete(key)


@override_settings(API_THROTTLE_RATE="3/minute")
def test_a_session_user_has_a_budget_of_its_own(api, throttled_session, throttled_tokens):
    first, _second = throttled_tokens
    assert [throttled_session.get(BRANDS).status_code for _ in range(3)] == [200, 200, 200]
    response = throttled_session.get(BRANDS)
    assert error_of(response, 429)["code"] == "throttled" and int(response["Retry-After"]) > 0
    assert api.get(first, BRANDS).status_code == 200


# Token services ------------------------------------------------------------------------------


def test_a_token_is_created_with_its_secret_shown_once_and_stored_hashed(
    demo_agency, demo_admin, brand_a
):
    with agency_scope(demo_agency):
        token, secret = api_token_create(
            actor=demo_admin,
            agency=demo_agency,
            name="  ERP nightly ",
            scopes=["metrics:write", "metrics:read", "metrics:read"],
            brand=brand_a,
            expires_days=30,
        )
    token.refresh_from_db()
    assert secret.startswith("tp_") and len(secret) > 40
    assert token.name == "ERP nightly" and token.prefix == secret[:9]
    assert token.scopes == ["metrics:read", "metrics:write"]
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.created_by == demo_admin.user and token.brand == brand_a
    expected_expiry = timezone.now() + datetime.timedelta(days=30)
    assert abs(token.expires_at - expected_expiry) < datetime.timedelta(minutes=1)
    assert secret not in stored_token_rows()


def stored_token_rows() -> str:
    """Every column of every stored token, as text."""
    return repr(list(ApiToken.objects.unscoped().values()))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"scopes": ["metrics:read", "metrics:delete"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"expires_days": 0}, "expires_days"),
        ({"expires_days": 3651}, "expires_days"),
    ],
)
def test_a_token_with_bad_fields_is_refused_naming_the_field(
    demo_agency, demo_admin, changes, field
):
    fields = {"name": "ERP", "scopes": ["metrics:read"], **changes}
    with agency_scope(demo_agency), pytest.raises(ValidationError) as refused:
        api_token_create(actor=demo_admin, agency=demo_agency, **fields)
    assert list(refused.value.message_dict) == [field]
    assert ApiToken.objects.unscoped().count() == 0


def test_a_token_cannot_be_bound_to_another_agency_s_brand(demo_agency, demo_admin, rival_brand):
    with agency_scope(demo_agency), pytest.raises(ValidationError) as refused:
        api_token_create(
            actor=demo_admin,
            agency=demo_agency,
            name="ERP",
            scopes=["metrics:read"],
            brand=rival_brand,
        )
    assert list(refused.value.message_dict) == ["brand"]


def test_only_admins_create_and_revoke_tokens(demo_agency, demo_admin, demo_manager):
    with agency_scope(demo_agency):
        with pytest.raises(PermissionDenied):
            api_token_create(
                actor=demo_manager, agency=demo_agency, name="x", scopes=["metrics:read"]
            )
        token, _secret = api_token_create(
            actor=demo_admin, agency=demo_agency, name="x", scopes=["metrics:read"]
        )
        with pytest.raises(PermissionDenied):
            api_token_revoke(actor=demo_manager, token=token)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_twice_keeps_the_first_revocation(
    make_member, demo_agency, demo_admin, make_token
):
    other_admin = make_member(demo_agency, Role.ADMIN)
    token = token_of(make_token(demo_agency))
    with agency_scope(demo_agency):
        api_token_revoke(actor=demo_admin, token=token)
        first = ApiToken.objects.get(pk=token.pk).revoked_at
        api_token_revoke(actor=other_admin, token=ApiToken.objects.get(pk=token.pk))
    token.refresh_from_db()
    assert token.revoked_at == first and token.revoked_by == demo_admin.user
    assert not token.is_usable()


def test_touch_writes_only_when_the_last_use_is_over_a_minute_old(make_token, demo_agency):
    token = token_of(make_token(demo_agency))
    api_token_touch(token=token)
    first = token_of_pk(token.pk).last_used_at
    assert first is not None
    api_token_touch(token=token_of_pk(token.pk))
    assert token_of_pk(token.pk).last_used_at == first


def token_of_pk(pk: int) -> ApiToken:
    return ApiToken.objects.unscoped().get(pk=pk)


# The create_api_token command ----------------------------------------------------------------


def create_api_token(*arguments: str) -> list[str]:
    out = io.StringIO()
    call_command("create_api_token", *arguments, stdout=out)
    return out.getvalue().rstrip("\n").splitlines()


def test_the_command_prints_the_token_alone_on_its_last_line_and_it_works(
    api, demo_agency, brand_a, brand_b
):
    lines = create_api_token(
        "--agency", "demo", "--name", "ERP nightly", "--scopes", "metrics:read, metrics:write"
    )
    secret = lines[-1]
    assert re.fullmatch(r"tp_[A-Za-z0-9_-]{40,}", secret)
    assert len(lines) >= 2 and secret not in "\n".join(lines[:-1])
    token = token_of(secret)
    assert (token.agency, token.name, token.brand) == (demo_agency, "ERP nightly", None)
    assert token.scopes == ["metrics:read", "metrics:write"] and token.created_by is None
    assert secret not in stored_token_rows()
    assert brand_names(api.get(secret, BRANDS)) == ["Brand A", "Brand B"]


def test_the_command_binds_a_token_to_a_brand_with_an_expiry(api, demo_agency, brand_a, brand_b):
    secret = create_api_token(
        "--agency",
        "demo",
        "--name",
        "Brand A feed",
        "--scopes",
        "engagements:read",
        "--brand",
        str(brand_a.pk),
        "--expires-days",
        "7",
    )[-1]
    token = token_of(secret)
    assert token.brand == brand_a and token.expires_at is not None
    assert brand_names(api.get(secret, BRANDS)) == ["Brand A"]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--agency", "nope", "--scopes", "metrics:read"], "No agency with slug 'nope'"),
        (["--agency", "demo", "--scopes", "metrics:read,metrics:delete"], "metrics:delete"),
        (["--agency", "demo", "--scopes", " , "], "scopes"),
        (["--agency", "demo", "--scopes", "metrics:read", "--expires-days", "0"], "expires_days"),
    ],
)
def test_the_command_names_what_is_wrong(demo_agency, arguments, problem):
    with pytest.raises(CommandError) as refused:
        create_api_token("--name", "ERP", *arguments)
    assert problem in str(refused.value)
    assert ApiToken.objects.unscoped().count() == 0


def test_the_command_refuses_a_brand_of_another_agency(demo_agency, rival_brand):
    with pytest.raises(CommandError) as refused:
        create_api_token(
            "--agency",
            "demo",
            "--name",
            "x",
            "--scopes",
            "metrics:read",
            "--brand",
            str(rival_brand.pk),
        )
    assert str(refused.value) == f"Agency 'demo' has no brand with id {rival_brand.pk}."
    assert ApiToken.objects.unscoped().count() == 0
