"""Who receives an engagement's brief, and how it is sent: e-mail (HTML and plain text, in each
recipient's language) and an optional WeChat Work or DingTalk group robot (markdown, in the
agency's language, with DingTalk's optional HMAC-SHA256 signature).

A robot's reply counts only when it is a 2xx with `"errcode": 0` (both robots answer every call
that way, including refusals); anything else is a failed delivery whose reason is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q

from agency.models import BRAND_ROLES, Membership, MembershipBrand
from engagements.models import Engagement, EngagementTeamMember
from reporting.models import BriefSettings, WebhookKind

WEBHOOK_TIMEOUT_SECONDS = 10
REPLY_LIMIT_BYTES = 64 * 1024


class DeliveryError(Exception):
    """A delivery that did not go through; the message says why (it is stored on the row)."""


@dataclass(frozen=True)
class EmailRecipient:
    email: str
    language: str


def brief_settings_of(engagement: Engagement) -> BriefSettings:
    """The engagement's brief settings; the defaults (e-mail on, no robot) when none are saved."""
    found = BriefSettings.objects.filter(engagement=engagement).first()
    return found or BriefSettings(engagement=engagement, agency_id=engagement.agency_id)


def brief_email_recipients(engagement: Engagement) -> list[EmailRecipient]:
    """The account manager, the team, and the brand's active brand users (owners and viewers
    bound to the engagement's brand): active memberships of active users, each address once,
    each in their own language (else the agency's)."""
    default = engagement.agency.default_language
    team_ids = EngagementTeamMember.objects.filter(engagement=engagement).values("membership_id")
    brand_ids = MembershipBrand.objects.filter(brand_id=engagement.store.brand_id).values(
        "membership_id"
    )
    members = (
        Membership.objects.filter(is_active=True, user__is_active=True)
        .filter(
            Q(pk=engagement.account_manager_id)
            | Q(pk__in=team_ids)
            | Q(pk__in=brand_ids, role__in=BRAND_ROLES)
        )
        .select_related("user")
        .order_by("pk")
    )
    recipients, seen = [], set()
    for member in members:
        email = member.user.email.strip().lower()
        if not email or email in seen:
            continue
        seen.add(email)
        recipients.append(EmailRecipient(email=email, language=member.user.language or default))
    return recipients


def webhook_recipient_label(kind: str, url: str) -> str:
    """How a robot delivery names its recipient: the robot kind and host, never the URL (whose
    query string is the robot's key)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    return f"{kind}:{host}"


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """DingTalk's signature: `timestamp` (ms) and `sign` = Base64(HMAC-SHA256(secret,
    "timestamp\\nsecret")) as query parameters (URL-encoded)."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    sign = base64.b64encode(digest).decode("ascii")
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + separator + urllib.parse.urlencode({"timestamp": timestamp, "sign": sign})


def webhook_payload(kind: str, *, title: str, markdown: str) -> dict:
    if kind == WebhookKind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    return {"msgtype": "markdown", "markdown": {"content": markdown}}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A robot answers where it was asked; a redirect is a failure, not a second destination."""

    def redirect_request(self, *args, **kwargs):
        return None


def webhook_private_address(url: str, *, resolve: bool = True) -> str | None:
    """The first loopback, private, link-local, reserved or multicast address the URL's host is
    or resolves to, or None. A host that does not resolve finds nothing here (the post itself
    will fail). Unless `settings.WEBHOOK_ALLOW_PRIVATE_HOSTS`, such a host gets no webhook: a
    staff member must not be able to aim the portal at its own network."""
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return None
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return None
        try:
            infos = socket.getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            return str(address)
    return None


def webhook_post(
    *, kind: str, url: str, secret: str = "", title: str, markdown: str, timeout: float = 0
) -> None:
    """Post a markdown message to a group robot; raises DeliveryError unless it was accepted."""
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise DeliveryError("The webhook URL must start with http:// or https://.")
    private = webhook_private_address(url)
    if private is not None:
        raise DeliveryError(f"The webhook's host is a private address ({private}); not sent.")
    if kind == WebhookKind.DINGTALK and secret:
        url = dingtalk_signed_url(url, secret)
    body = json.dumps(webhook_payload(kind, title=title, markdown=markdown), ensure_ascii=False)
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above: http(s) only)
        url,
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout or WEBHOOK_TIMEOUT_SECONDS) as response:
            raw = response.read(REPLY_LIMIT_BYTES)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise DeliveryError(f"Could not reach the robot: {error.reason}") from error
    except (TimeoutError, OSError) as error:
        raise DeliveryError(f"Could not reach the robot: {error}") from error
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise DeliveryError(f"Unexpected reply (not JSON): {raw[:200]!r}") from error
    if not isinstance(reply, dict) or reply.get("errcode") != 0:
        errcode = reply.get("errcode") if isinstance(reply, dict) else None
        errmsg = reply.get("errmsg", "") if isinstance(reply, dict) else str(reply)[:200]
        raise DeliveryError(f"The robot refused the message: errcode {errcode} {errmsg}".strip())


def email_send(*, to: str, subject: str, text: str, html: str, connection=None) -> None:
    """One e-mail, plain text with an HTML alternative; SMTP errors raise DeliveryError."""
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [to], connection=connection
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except OSError as error:  # smtplib's errors are OSErrors
        raise DeliveryError(f"E-mail not accepted: {error}") from error
