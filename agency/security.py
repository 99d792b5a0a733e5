"""Who is at the other end of a request: the client's IP behind the deployment's proxies, and the
username a login attempt counts against. Used by the login lockout (django-axes) and by every
record of evidence (a proposal's approval)."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address. Behind `TRUSTED_PROXY_COUNT` reverse proxies, each of which appends
    the address it received from to X-Forwarded-For, the client is the entry that many places from
    the right: anything further left was written by the client and proves nothing. Without
    proxies (or with a header too short to hold them), the socket's peer address."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def login_username(request, credentials) -> str:
    """The lockout counts failures per e-mail address as the portal matches it (any case), so
    typing “Owner@Brand-A.test” does not start a fresh count."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return raw.strip().lower()
