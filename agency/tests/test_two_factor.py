"""Two-factor sign-in (agency/two_factor.py, django-otp TOTP): agency admins must set up an
authenticator app before they reach anything; anyone who has one gives its code after the
password; wrong codes are throttled and a code works once; bearer tokens are untouched.

Every test signs in through the real login page: `force_login` (conftest) stands for a finished
sign-in, the code included, so it would skip exactly what is tested here."""

import base64
import re
import time

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from agency.models import Role
from conftest import PASSWORD, totp_code, totp_device_for
from tests.isolation import enumerate_routes

LOGIN, SET_UP, VERIFY = "/accounts/login/", "/accounts/two-factor/", "/accounts/two-factor/verify/"
BRANDS = "/api/v1/brands/"
WRONG_CODE_MESSAGE = "That code is not right."
THROTTLED_MESSAGE = "Too many wrong codes in a row."


def sign_in(email: str) -> Client:
    """The password step, through the login page, from a client of its own."""
    client = Client(REMOTE_ADDR="203.0.113.20")
    response = client.post(LOGIN, {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def let_the_throttle_pass(device: TOTPDevice) -> None:
    """As if the wait after the last wrong code were over (django-otp compares timestamps)."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timezone.timedelta(days=1)
    )


def code_now(device: TOTPDevice) -> str:
    """The code an app shows at this moment, not adjusted for codes already spent."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def wrong_code(device: TOTPDevice) -> str:
    """Six digits that are none of the codes the device accepts now."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    accepted = set()
    for offset in (-1, 0, 1):
        totp.time = time.time() + offset * device.step
        accepted.add(f"{totp.token():06d}")
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def page_url(route) -> str:
    values = {"agency_slug": "demo", "kind": "brand"}
    return route.url({name: values.get(name, "1") for name in route.arguments})


def enrol(client: Client, user) -> TOTPDevice:
    """Set up an authenticator app through the page: read the secret it shows, type its code."""
    page = client.get(SET_UP).content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)[1].replace(" ", "")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    response = client.post(SET_UP, {"code": code_now(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


# --- agency admins must set up an app -----------------------------------------------------------


def test_an_admin_without_an_app_is_sent_to_set_up_from_every_page(
    demo_admin, engagement_a, brand_a
):
    client = sign_in(demo_admin.user.email)
    open_pages = {"two_factor", "logout", "set_language"}  # tested below
    routes = [route for route in enumerate_routes() if route.name not in open_pages]
    urls = [page_url(route) for route in routes] + ["/admin/", "/admin/agency/user/", "/nowhere/"]
    held_back = []
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            if response.status_code != 302 or not response["Location"].startswith(SET_UP):
                held_back.append(f"{method.__name__.upper()} {url}: {response.status_code}")
    assert held_back == []
    assert len(urls) > 50  # every page of the portal, not a hand-picked few
    # Where the admin asked to go is kept for after the set-up.
    assert client.get("/demo/brands/")["Location"] == f"{SET_UP}?next=%2Fdemo%2Fbrands%2F"
    page = client.get(SET_UP)
    assert page.status_code == 200
    assert "Agency admins must sign in with a code" in page.content.decode()
    assert client.get("/static/css/portal.css").status_code != 302


def test_the_set_up_page_draws_the_qr_code_itself_and_shows_the_secret(demo_admin):
    client = sign_in(demo_admin.user.email)
    page = client.get(SET_UP).content.decode()
    device = TOTPDevice.objects.get(user=demo_admin.user)
    assert not device.confirmed
    qr = page[page.index('data-testid="totp-qr"') :]
    assert qr.index("<svg") < qr.index("</svg>")
    assert "<path" in qr[: qr.index("</svg>")]
    # Nothing is fetched to draw it: no image, script or style from anywhere.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    shown = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)[1]
    assert shown.replace(" ", "") == secret
    # Reloading shows the same secret (the same device), so a scan made before still counts.
    assert shown in client.get(SET_UP).content.decode()
    assert TOTPDevice.objects.filter(user=demo_admin.user).count() == 1


def test_set_up_needs_a_right_code_and_then_every_page_opens(demo_admin, engagement_a):
    client = sign_in(demo_admin.user.email)
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=demo_admin.user)
    response = client.post(SET_UP, {"code": wrong_code(device), "next": "/demo/brands/"})
    assert response.status_code == 200 and WRONG_CODE_MESSAGE in response.content.decode()
    assert not TOTPDevice.objects.filter(user=demo_admin.user, confirmed=True).exists()
    assert client.get("/demo/").status_code == 302  # still held back
    let_the_throttle_pass(device)

    response = client.post(SET_UP, {"code": code_now(device), "next": "/demo/brands/"})
    assert response.status_code == 302 and response["Location"] == "/demo/brands/"
    assert TOTPDevice.objects.get(user=demo_admin.user).confirmed
    # The session that proved the code is verified: no second code for it.
    assert client.get("/demo/").status_code == 200
    assert client.get(f"/demo/engagements/{engagement_a.pk}/").status_code == 200
    # The secret is shown only while setting up.
    page = client.get(SET_UP).content.decode()
    assert 'data-testid="two-factor-on"' in page and "totp-secret" not in page


def test_after_set_up_each_sign_in_asks_for_the_code(demo_admin):
    device = enrol(sign_in(demo_admin.user.email), demo_admin.user)
    client = sign_in(demo_admin.user.email)
    session_key = client.session.session_key
    response = client.get("/demo/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.get(SET_UP)["Location"].startswith(VERIFY)  # no second app on a password
    assert client.get(VERIFY).status_code == 200

    response = client.post(VERIFY, {"code": wrong_code(device), "next": "/demo/"})
    assert response.status_code == 200 and WRONG_CODE_MESSAGE in response.content.decode()
    assert client.get("/demo/").status_code == 302
    let_the_throttle_pass(device)

    response = client.post(VERIFY, {"code": totp_code(device), "next": "/demo/"})
    assert response.status_code == 302 and response["Location"] == "/demo/"
    assert client.get("/demo/").status_code == 200
    assert client.session.session_key != session_key  # a new session for the verified sign-in


def test_a_code_works_once(demo_admin):
    device = totp_device_for(demo_admin.user)
    first = sign_in(demo_admin.user.email)
    code = totp_code(device)
    assert first.post(VERIFY, {"code": code})["Location"] == "/"
    second = sign_in(demo_admin.user.email)
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200 and WRONG_CODE_MESSAGE in response.content.decode()
    assert second.get("/demo/").status_code == 302


def test_the_next_address_must_be_the_portals_own(demo_admin):
    device = totp_device_for(demo_admin.user)
    client = sign_in(demo_admin.user.email)
    response = client.post(VERIFY, {"code": totp_code(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


# --- throttling -----------------------------------------------------------------------------


def test_wrong_codes_are_throttled_and_the_wait_doubles(demo_admin):
    device = totp_device_for(demo_admin.user)
    assert device.get_throttle_factor() == 1 and device.throttling_enabled
    client = sign_in(demo_admin.user.email)
    for _ in range(3):
        let_the_throttle_pass(device)
        client.post(VERIFY, {"code": wrong_code(device)})
    device.refresh_from_db()
    assert device.throttling_failure_count == 3
    allowed, details = device.verify_is_allowed()
    assert not allowed
    assert (details["locked_until"] - device.throttling_failure_timestamp).total_seconds() == 4

    # While throttled even the right code is not looked at.
    response = client.post(VERIFY, {"code": code_now(device)})
    assert response.status_code == 200 and THROTTLED_MESSAGE in response.content.decode()
    assert client.get("/demo/").status_code == 302

    let_the_throttle_pass(device)
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    assert client.get("/demo/").status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_codes_that_are_not_six_digits_count_as_wrong(demo_admin):
    device = totp_device_for(demo_admin.user)
    client = sign_in(demo_admin.user.email)
    response = client.post(VERIFY, {"code": "12345a"})
    assert WRONG_CODE_MESSAGE in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_a_code_may_be_typed_with_a_space(demo_admin):
    device = totp_device_for(demo_admin.user)
    client = sign_in(demo_admin.user.email)
    code = totp_code(device)
    client.post(VERIFY, {"code": f"{code[:3]} {code[3:]}"})
    assert client.get("/demo/").status_code == 200


# --- everyone else: optional ------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["demo_operator", "brand_a_owner"])
def test_without_an_app_other_users_sign_in_with_the_password_alone(request, fixture):
    member = request.getfixturevalue(fixture)
    client = sign_in(member.user.email)
    assert client.get("/demo/").status_code == 200
    page = client.get(SET_UP)
    assert page.status_code == 200
    assert "Optional" in page.content.decode()
    assert "Agency admins must" not in page.content.decode()


def test_an_operator_who_set_up_an_app_must_give_its_code(demo_operator):
    device = enrol(sign_in(demo_operator.user.email), demo_operator.user)
    client = sign_in(demo_operator.user.email)
    assert client.get("/demo/")["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": totp_code(device)})
    assert client.get("/demo/").status_code == 200


def test_removing_the_app_needs_a_current_code(demo_operator):
    client = sign_in(demo_operator.user.email)
    device = enrol(client, demo_operator.user)
    let_the_throttle_pass(device)
    response = client.post(SET_UP, {"code": wrong_code(device)})
    assert WRONG_CODE_MESSAGE in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()
    let_the_throttle_pass(device)
    response = client.post(SET_UP, {"code": totp_code(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=demo_operator.user).exists()
    # Back to the password alone.
    assert sign_in(demo_operator.user.email).get("/demo/").status_code == 200


def test_an_admin_who_removes_the_app_must_set_up_another(demo_admin):
    client = sign_in(demo_admin.user.email)
    device = enrol(client, demo_admin.user)
    client.post(SET_UP, {"code": totp_code(device)})
    assert not TOTPDevice.objects.filter(user=demo_admin.user, confirmed=True).exists()
    assert client.get("/demo/")["Location"].startswith(SET_UP)


def test_becoming_an_admin_makes_the_app_required(demo_manager):
    client = sign_in(demo_manager.user.email)
    assert client.get("/demo/").status_code == 200
    type(demo_manager).objects.unscoped().filter(pk=demo_manager.pk).update(role=Role.ADMIN)
    assert client.get("/demo/")["Location"].startswith(SET_UP)


def test_signing_out_and_switching_language_stay_open(demo_admin):
    client = sign_in(demo_admin.user.email)
    response = client.post("/accounts/language/", {"language": "zh-hans", "next": SET_UP})
    assert response.status_code == 302 and response["Location"] == SET_UP
    page = client.get(SET_UP)
    assert page.status_code == 200 and page.headers["Content-Language"] == "zh-hans"
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/demo/")["Location"].startswith(LOGIN)


def test_htmx_requests_are_told_where_to_go(demo_admin):
    client = sign_in(demo_admin.user.email)
    response = client.get("/demo/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"].startswith(SET_UP)


# --- the API ----------------------------------------------------------------------------------


def test_bearer_tokens_are_untouched(api, make_token, demo_agency, demo_admin, brand_a):
    secret = make_token(demo_agency)
    response = api.get(secret, BRANDS)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Brand A"]
    # Even from a browser whose session still owes its code, the token decides.
    totp_device_for(demo_admin.user)
    client = sign_in(demo_admin.user.email)
    response = client.get(BRANDS, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_a_session_that_owes_its_code_is_anonymous_to_the_api(demo_admin, brand_a):
    device = totp_device_for(demo_admin.user)
    client = sign_in(demo_admin.user.email)
    response = client.get(BRANDS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    client.post(VERIFY, {"code": totp_code(device)})
    response = client.get(BRANDS)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Brand A"]


def test_an_admin_without_an_app_cannot_use_the_api_by_session(demo_admin, brand_a):
    client = sign_in(demo_admin.user.email)
    assert client.get(BRANDS).status_code == 401


def test_an_operator_without_an_app_uses_the_api_by_session(demo_operator, brand_a):
    client = sign_in(demo_operator.user.email)
    assert client.get(BRANDS).status_code == 200


# --- the tests' own shortcut ------------------------------------------------------------------


def test_force_login_stands_for_a_finished_sign_in(client, demo_admin):
    client.force_login(demo_admin.user)
    assert client.get("/demo/").status_code == 200
    assert TOTPDevice.objects.get(user=demo_admin.user).confirmed


def test_the_check_costs_no_query_of_its_own(demo_operator):
    """Whether a code is owed is read with the user (UserBackend), in the same statement: a
    request of a user without an app pays nothing for two-factor sign-in."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = sign_in(demo_operator.user.email)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/demo/").status_code == 200
    statements = [query["sql"] for query in captured]
    asking = [sql for sql in statements if "otp_totp_totpdevice" in sql]
    # The one statement is the user's own load (under row-level security, behind its set_config).
    assert len(asking) == 1 and 'AS "two_factor_is_admin" FROM "agency_user"' in asking[0]
