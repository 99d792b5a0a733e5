"""Login lockout (django-axes): failures count per (e-mail, client IP) pair, so an attacker can
lock only their own attempts, never the user's; the client IP is read correctly behind proxies."""

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from agency.security import client_ip
from conftest import PASSWORD

LOGIN = "/accounts/login/"


def attempt(email, password, ip, forwarded=None):
    client = Client(REMOTE_ADDR=ip, **({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}))
    response = client.post(LOGIN, {"username": email, "password": password})
    return client, response


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


def test_failures_lock_the_pair_and_the_right_password_no_longer_helps(demo_manager, limit):
    email = demo_manager.user.email
    for _ in range(limit - 1):
        _client, response = attempt(email, "wrong", "203.0.113.5")
        assert response.status_code == 200  # the form again, with its error
    _client, response = attempt(email, "wrong", "203.0.113.5")
    assert response.status_code == 429
    _client, response = attempt(email, PASSWORD, "203.0.113.5")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in paused" in page and "15 minutes" in page
    assert reverse("password_reset") in page


def test_an_attacker_elsewhere_cannot_lock_the_user_out(demo_manager, limit):
    email = demo_manager.user.email
    for _ in range(limit):
        attempt(email, "wrong", "198.51.100.66")
    client, response = attempt(email, PASSWORD, "203.0.113.5")
    assert response.status_code == 302
    assert client.get("/demo/").status_code == 200


def test_changing_the_case_of_the_address_does_not_start_a_new_count(demo_manager, limit):
    email = demo_manager.user.email
    for number in range(limit):
        attempt(email.upper() if number % 2 else email, "wrong", "203.0.113.5")
    _client, response = attempt(email.title(), PASSWORD, "203.0.113.5")
    assert response.status_code == 429


def test_a_successful_login_resets_the_count(demo_manager, limit):
    email = demo_manager.user.email
    for _ in range(limit - 1):
        attempt(email, "wrong", "203.0.113.5")
    assert attempt(email, PASSWORD, "203.0.113.5")[1].status_code == 302
    for _ in range(limit - 1):
        attempt(email, "wrong", "203.0.113.5")
    assert attempt(email, PASSWORD, "203.0.113.5")[1].status_code == 302


def test_the_lockout_page_speaks_chinese(demo_manager, limit):
    email = demo_manager.user.email
    for _ in range(limit):
        attempt(email, "wrong", "203.0.113.9")
    client = Client(REMOTE_ADDR="203.0.113.9", HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post(LOGIN, {"username": email, "password": PASSWORD})
    assert response.status_code == 429 and "登录已暂停" in response.content.decode()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.2"),  # no proxy: the header is the client's own words
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a forged entry on the left is ignored
        (2, "198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (2, "198.51.100.7", "10.0.0.2"),  # shorter than the proxy chain: the peer address
    ],
)
def test_the_client_ip_behind_trusted_proxies(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


def test_behind_a_proxy_the_lockout_counts_the_real_client(demo_manager, limit):
    email = demo_manager.user.email
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for _ in range(limit):
            attempt(email, "wrong", "10.0.0.2", forwarded="203.0.113.5")
        # Another client through the same proxy is not locked out.
        assert attempt(email, PASSWORD, "10.0.0.2", forwarded="198.51.100.1")[1].status_code == 302
        assert attempt(email, PASSWORD, "10.0.0.2", forwarded="203.0.113.5")[1].status_code == 429


def test_without_a_proxy_a_forged_header_does_not_escape_the_lockout(demo_manager, limit):
    """With no trusted proxy (the default) X-Forwarded-For is the client's own words: a new
    address in it each time changes nothing, the socket's address counts."""
    email = demo_manager.user.email
    for number in range(limit):
        attempt(email, "wrong", "203.0.113.5", forwarded=f"198.51.100.{number}")
    response = attempt(email, PASSWORD, "203.0.113.5", forwarded="198.51.100.200")[1]
    assert response.status_code == 429


def test_behind_a_proxy_forged_entries_on_the_left_do_not_escape_the_lockout(demo_manager, limit):
    """The proxy appends the address it saw; whatever the client wrote before it is ignored."""
    email = demo_manager.user.email
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for number in range(limit):
            attempt(email, "wrong", "10.0.0.2", forwarded=f"198.51.100.{number}, 203.0.113.5")
        response = attempt(email, PASSWORD, "10.0.0.2", forwarded="198.51.100.99, 203.0.113.5")[1]
        assert response.status_code == 429


PRODUCTION_AXES = """
import django
django.setup()
from django.conf import settings
from django.test import RequestFactory
from axes.helpers import get_client_ip_address
request = RequestFactory().post(
    "/accounts/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
)
print(settings.AXES_LOCKOUT_PARAMETERS, settings.AXES_FAILURE_LIMIT,
      int(settings.AXES_COOLOFF_TIME.total_seconds()), get_client_ip_address(request))
"""


@pytest.mark.parametrize(
    ("proxies", "client"), [("", "10.0.0.2"), ("1", "198.51.100.7"), ("2", "6.6.6.6")]
)
def test_the_production_settings_lock_the_pair_and_read_the_proxy_header(proxies, client):
    """What django-axes itself resolves under agency.settings.production: the (e-mail, IP) pair,
    5 failures, 15 minutes, and the client's address from TRUSTED_PROXY_COUNT (django-ipware is
    not installed, and AXES_CLIENT_IP_CALLABLE would win over it anyway)."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agency.settings.production",
        "SECRET_KEY": "k" * 50,
        "BUYER_ID_HASH_KEY": "b" * 32,
        "TRUSTED_PROXY_COUNT": proxies,
        "LOGIN_FAILURE_LIMIT": "",
        "LOGIN_LOCKOUT_MINUTES": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_AXES],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        f"[['username', 'ip_address']] 5 900 {client}"
    )
