"""Settings, the demo loader and the onboarding command, as an operator meets them."""

import base64
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from agency.models import Agency, Membership, User
from agency.tenancy import agency_scope
from engagements.models import Engagement


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def test_production_refuses_the_development_secret_key():
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="agency.settings.production",
        SECRET_KEY="",
        BUYER_ID_HASH_KEY="b" * 32,
    )
    assert result.returncode != 0
    assert "production refuses the development key" in result.stderr


def test_production_refuses_to_start_without_a_buyer_id_hash_key():
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="agency.settings.production",
        SECRET_KEY="k" * 50,
        BUYER_ID_HASH_KEY="",
    )
    assert result.returncode != 0
    assert "Set BUYER_ID_HASH_KEY" in result.stderr


def test_production_starts_with_a_real_key():
    result = run_python(
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        DJANGO_SETTINGS_MODULE="agency.settings.production",
        SECRET_KEY="k" * 50,
        BUYER_ID_HASH_KEY="b" * 32,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


PRODUCTION_BEHIND_TLS = {
    "DJANGO_SETTINGS_MODULE": "agency.settings.production",
    "SECRET_KEY": "vS7!pQ2@xL9#mN4$bR6%tY8^wZ1&cK3*jH5(dF0)gE_uA7+iO4=eW2~rT6-yU8",
    "BUYER_ID_HASH_KEY": "Jq8vR2mT5xW9zB3nC6fH1kL4pS7dG0aE",
    "SITE_URL": "https://portal.example.com",
    "ALLOWED_HOSTS": "portal.example.com",
    "DEBUG": "",
}


def test_production_settings_pass_the_deploy_check_with_no_warning():
    """`manage.py check --deploy` as an operator runs it behind TLS: HSTS, the HTTPS redirect,
    secure cookies, password validators, a real key. Any warning fails the test."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={
            # The browser tests' async-unsafe switch (set in this process) is not a deployment's.
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            **PRODUCTION_BEHIND_TLS,
        },
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_behind_tls_turns_on_what_the_deploy_check_does_not_see():
    """`check --deploy` says nothing about password validators, the login lockout or the
    second factor; these are on in production too, in the order they need."""
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(len(s.AUTH_PASSWORD_VALIDATORS), s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_HTTPONLY); "
        "m = s.MIDDLEWARE; print(m.index('django.contrib.auth.middleware.AuthenticationMiddleware')"
        " < m.index('django_otp.middleware.OTPMiddleware')"
        " < m.index('agency.two_factor.TwoFactorMiddleware'), m[-1]); "
        "print(s.AUTHENTICATION_BACKENDS[0], s.OTP_TOTP_THROTTLE_FACTOR)",
        **PRODUCTION_BEHIND_TLS,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "4", "True", "True", "True", "31536000", "True",
        "True", "axes.middleware.AxesMiddleware",
        "axes.backends.AxesStandaloneBackend", "1",
    ]  # fmt: skip


def test_the_embedded_default_needs_no_environment():
    clean = {key: "" for key in ["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"]}
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG, s.TIME_ZONE)",
        DJANGO_SETTINGS_MODULE="agency.settings.dev",
        **clean,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "True", "Asia/Shanghai"]


def test_seed_demo_is_idempotent_and_logs_in(db, settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (Agency.objects.count(), User.objects.count(), Engagement.objects.unscoped().count())
    call_command("seed_demo")
    assert (
        Agency.objects.count(),
        User.objects.count(),
        Engagement.objects.unscoped().count(),
    ) == counts
    assert {a.slug for a in Agency.objects.all()} == {"demo", "rival"}
    for email in [
        "manager@demo.test",
        "owner@brand-a.test",
        "owner@brand-b.test",
        "manager@rival.test",
    ]:
        # Through the sign-in page, as people do (the lockout backend needs the request).
        response = client.post("/accounts/login/", {"username": email, "password": "demo12345"})
        assert response.status_code == 302, email
    # The demo's agency admins have the authenticator app of the documented secret (one each,
    # not one per run): any TOTP app set up with it gives the code the second step asks for.
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert TOTPDevice.objects.filter(confirmed=True).count() == 2
    for email in ["admin@demo.test", "manager@rival.test"]:
        admin = Client()
        admin.post("/accounts/login/", {"username": email, "password": "demo12345"})
        assert admin.get("/")["Location"].startswith("/accounts/two-factor/verify/")
        code = totp(base64.b32decode("DEMOADMINTOTPSECRETDEMOADMINTOTP"))
        admin.post("/accounts/two-factor/verify/", {"code": f"{code:06d}"})
        landing = admin.get("/")  # straight into the admin's agency, no code asked again
        assert landing.status_code == 302 and not landing.url.startswith("/accounts/"), email
        assert admin.get(landing.url).status_code == 200, email
    demo = Agency.objects.get(slug="demo")
    with agency_scope(demo):
        assert len({e.stage for e in Engagement.objects.all()}) >= 3
        assert set(Engagement.objects.values_list("store__brand__name", flat=True)) == {
            "Brand A",
            "Brand B",
        }
        # One draft full review (not duplicated by the second run), with its proposed findings.
        from reporting.models import FullReview

        review = FullReview.objects.get()
        assert review.findings.exists() and review.actions.count() == 1


def test_seed_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Agency.objects.exists()


def test_create_agency_onboards_an_agency_and_its_admin(db, capsys):
    call_command("create_agency", slug="acme", name="Acme", admin_email="Boss@Acme.cn")
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert "/accounts/password/set/" in link
    agency = Agency.objects.get(slug="acme")
    with agency_scope(agency):
        assert Membership.objects.get().user.email == "boss@acme.cn"
    with pytest.raises(CommandError, match="reserved"):
        call_command("create_agency", slug="admin", name="X", admin_email="x@x.test")
