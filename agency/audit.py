"""The agency's audit log: who did what, when, from which IP and browser (issue 9).

Writes: `audit_record`, called by the service where each event happens (proposals: approval and
change request; engagements: stage moves; agency: members, invitations, API tokens; reporting:
exports) and by the sign-in signals below. The row is written inside the service's transaction,
so an action that rolls back leaves no trace, and one that commits always leaves one.

Where the IP and browser come from: a service has no request, so the request's origin is kept
for it. `request_started` reads it from the WSGI environ (or ASGI scope) into a context
variable, resolved exactly as django-axes resolves the client IP (`AXES_CLIENT_IP_CALLABLE`:
`agency.security.client_ip`, which honours `TRUSTED_PROXY_COUNT`); `request_finished` clears
it. A service may pass `request`, or `ip` and `user_agent` it already holds (the approval keeps
its own evidence); outside a request (Celery worker, management command) both are empty.

Sign-ins are not tenant events: a person may work for several agencies. `user_logged_in`,
`user_logged_out`, `user_login_failed` and axes' `user_locked_out` record one event in every
agency where the account has an active membership. A failed sign-in or a lockout for an e-mail
address the portal does not know records nothing: no agency owns it (axes keeps its own record
of the attempt). A lockout is recorded once per locked (e-mail, IP) pair and cool-off, however
often the locked pair keeps trying (each try is still a failed sign-in).

Reads: `audit_event_list` (the filtered log of one agency, newest first) and
`audit_log_write_csv` (the filtered log as CSV, itself recorded). Only agency admins read the
log (`can_read_audit_log`).
"""

from __future__ import annotations

import contextvars
import csv
import datetime
import ipaddress
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import IO, Any

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agency.models import (
    Agency,
    AuditAction,
    AuditEvent,
    AuditTarget,
    Membership,
    Role,
    User,
)
from agency.security import login_username
from agency.spreadsheets import spreadsheet_text
from agency.tenancy import agency_scope

USER_AGENT_LENGTH = AuditEvent._meta.get_field("user_agent").max_length
TARGET_LENGTH = AuditEvent._meta.get_field("target").max_length
TEXT_DETAIL_LENGTH = 500  # a comment or a reason in `detail` is cut here; the full text stays


def can_read_audit_log(membership: Membership) -> bool:
    """Agency admins only: the log shows every member's sign-ins and IP addresses."""
    return membership.role == Role.ADMIN


# --- where a request comes from -------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    ip: str | None
    user_agent: str


NO_ORIGIN = Origin(ip=None, user_agent="")

_request_origin: contextvars.ContextVar[Origin | None] = contextvars.ContextVar(
    "audit_request_origin", default=None
)


def _valid_ip(value: str | None) -> str | None:
    """An address the database's inet column accepts, or None (a garbled header stores none)."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def origin_of(request) -> Origin:
    """The client's IP (as django-axes resolves it, behind the configured proxies) and browser."""
    meta = getattr(request, "META", {}) or {}
    return Origin(
        ip=_valid_ip(get_client_ip_address(request)),
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:USER_AGENT_LENGTH],
    )


def _meta_of_asgi_scope(scope: dict) -> dict[str, str]:
    meta = {"REMOTE_ADDR": (scope.get("client") or ("",))[0] or ""}
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").upper().replace("-", "_")
        meta[f"HTTP_{key}"] = value.decode("latin-1")
    return meta


@receiver(request_started, dispatch_uid="agency.audit.remember_origin")
def _remember_origin(sender, environ=None, scope=None, **kwargs) -> None:
    if environ is not None:
        meta = environ
    elif scope is not None and scope.get("type") == "http":
        meta = _meta_of_asgi_scope(scope)
    else:
        meta = {}
    _request_origin.set(origin_of(SimpleNamespace(META=meta)))


@receiver(request_finished, dispatch_uid="agency.audit.forget_origin")
def _forget_origin(sender, **kwargs) -> None:
    _request_origin.set(None)


def current_origin() -> Origin:
    """The origin of the request being served, or no origin outside a request."""
    return _request_origin.get() or NO_ORIGIN


# --- writing --------------------------------------------------------------------------------


def _actor_user(actor: Membership | User | None) -> User | None:
    if isinstance(actor, Membership):
        return actor.user
    return actor


def audit_record(
    *,
    agency: Agency | int,
    action: str,
    actor: Membership | User | None = None,
    request=None,
    target: str = "",
    target_type: str = "",
    target_id: int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> AuditEvent:
    """Append one event to the agency's audit log and return it.

    `actor` is who did it (a membership or a user; None for the system or the command line).
    The origin is `ip`/`user_agent` when given, else `request`'s, else the request being served
    (see the module's docstring). `detail` is what changed, as JSON; never put a secret in it.
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    if target_type and target_type not in AuditTarget.values:
        raise ValueError(f"Unknown audit target type {target_type!r}.")
    origin = origin_of(request) if request is not None else current_origin()
    user = _actor_user(actor)
    agency_id = agency if isinstance(agency, int) else agency.pk
    # Through JSON and back, so what is stored is what will be read (dates become text).
    detail = json.loads(json.dumps(detail or {}, cls=DjangoJSONEncoder))
    event = AuditEvent(
        agency_id=agency_id,
        actor=user,
        actor_label=user.email if user is not None else "",
        action=action,
        target_type=target_type,
        target_id=target_id,
        target=str(target or "")[:TARGET_LENGTH],
        detail=detail,
        ip=_valid_ip(ip) if ip is not None else origin.ip,
        user_agent=(user_agent if user_agent is not None else origin.user_agent)[
            :USER_AGENT_LENGTH
        ],
    )
    event.save()
    return event


def short_text(text: str) -> str:
    """A comment or reason as `detail` keeps it."""
    text = (text or "").strip()
    return text if len(text) <= TEXT_DETAIL_LENGTH else text[: TEXT_DETAIL_LENGTH - 1] + "…"


# --- sign-in events -------------------------------------------------------------------------


def _active_agency_ids(user: User) -> list[int]:
    """Every agency where the account has an active membership (across tenants: a person's own
    memberships, hence unscoped)."""
    return list(
        Membership.objects.unscoped()
        .filter(user=user, is_active=True)
        .order_by("agency_id")
        .values_list("agency_id", flat=True)
    )


def _record_in_each_agency(*, user: User, action: str, **fields) -> list[AuditEvent]:
    events = []
    for agency_id in _active_agency_ids(user):
        with agency_scope(agency_id):
            events.append(audit_record(agency=agency_id, action=action, actor=user, **fields))
    return events


def _user_for_address(email: str) -> User | None:
    if not email:
        return None
    return User.objects.filter(email__iexact=email).first()


@receiver(user_logged_in, dispatch_uid="agency.audit.login")
def _record_login(sender, request, user, **kwargs) -> None:
    _record_in_each_agency(user=user, action=AuditAction.LOGIN, request=request)


@receiver(user_logged_out, dispatch_uid="agency.audit.logout")
def _record_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        _record_in_each_agency(user=user, action=AuditAction.LOGOUT, request=request)


@receiver(user_login_failed, dispatch_uid="agency.audit.login_failed")
def _record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """A wrong password (or a try while locked out) for an account the portal knows. An unknown
    address belongs to no agency and records nothing."""
    email = login_username(request, credentials) if request is not None else ""
    if not email:
        email = str((credentials or {}).get("username", "")).strip().lower()
    user = _user_for_address(email)
    if user is None:
        return
    _record_in_each_agency(
        user=user,
        action=AuditAction.LOGIN_FAILED,
        request=request,
        detail={
            "email": email,
            # Set by axes, whose receiver runs first: this try met (or caused) a lockout.
            "locked_out": bool(getattr(request, "axes_locked_out", False)),
        },
    )


@receiver(user_locked_out, dispatch_uid="agency.audit.lockout")
def _record_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """Axes locked an (e-mail, IP) pair. Axes says so again on every try while locked; the log
    keeps one lockout per pair and cool-off (the tries show as failed sign-ins)."""
    email = (username or "").strip().lower()
    user = _user_for_address(email)
    if user is None:
        return
    ip = _valid_ip(ip_address)
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    for agency_id in _active_agency_ids(user):
        with agency_scope(agency_id):
            if AuditEvent.objects.filter(
                action=AuditAction.LOCKOUT, actor_label=email, ip=ip, created_at__gte=since
            ).exists():
                continue
            audit_record(
                agency=agency_id,
                action=AuditAction.LOCKOUT,
                actor=user,
                request=request,
                ip=ip,
                detail={
                    "email": email,
                    "failure_limit": settings.AXES_FAILURE_LIMIT,
                    "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
                },
            )


# --- reading --------------------------------------------------------------------------------


def audit_event_list(
    *,
    agency: Agency,
    action: str = "",
    member: Membership | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEvent]:
    """The agency's events, newest first, filtered by event, member and local dates (the
    agency's time zone is active in its pages)."""
    events = AuditEvent.objects.filter(agency=agency).select_related("actor")
    if action:
        events = events.filter(action=action)
    if member is not None:
        events = events.filter(actor_id=member.user_id)
    if date_from is not None:
        events = events.filter(created_at__date__gte=date_from)
    if date_to is not None:
        events = events.filter(created_at__date__lte=date_to)
    return events.order_by("-created_at", "-pk")


DETAIL_LABELS = {
    "brand": gettext_lazy("Brand"),
    "brands": gettext_lazy("Brands"),
    "comment": gettext_lazy("Comment"),
    "content_hash": gettext_lazy("Content hash"),
    "email": gettext_lazy("E-mail address"),
    "engagement": gettext_lazy("Engagement"),
    "expires_at": gettext_lazy("Expires"),
    "failure_limit": gettext_lazy("Failures allowed"),
    "file_format": gettext_lazy("Format"),
    "filename": gettext_lazy("File name"),
    "filters": gettext_lazy("Filters"),
    "locked_out": gettext_lazy("Locked out"),
    "lockout_minutes": gettext_lazy("Lockout (minutes)"),
    "name": gettext_lazy("Name"),
    "prefix": gettext_lazy("Token"),
    "reason": gettext_lazy("Reason"),
    "role": gettext_lazy("Role"),
    "rows": gettext_lazy("Rows"),
    "scopes": gettext_lazy("Scopes"),
    "signed_name": gettext_lazy("Signed name"),
    "audience": gettext_lazy("Audience"),
    "stage": gettext_lazy("Stage"),
    "version": gettext_lazy("Version"),
}


def _detail_value(key: str, value: Any) -> str:
    if isinstance(value, dict) and value.keys() == {"old", "new"}:
        return f"{_detail_value(key, value['old'])} → {_detail_value(key, value['new'])}"
    if isinstance(value, dict):
        return ", ".join(f"{name}={_detail_value(name, item)}" for name, item in value.items())
    if isinstance(value, list):
        return ", ".join(_detail_value(key, item) for item in value) or "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "role" and value in Role.values:
        return str(Role(value).label)
    return "–" if value in (None, "") else str(value)


def detail_lines(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """`detail` as (label, value) pairs for people to read."""
    return [
        (str(DETAIL_LABELS.get(key, key)), _detail_value(key, value))
        for key, value in (detail or {}).items()
        if not key.endswith("_id")
    ]


def _row(event: AuditEvent) -> list:
    local = timezone.localtime(event.created_at)
    return [
        spreadsheet_text(local.isoformat(timespec="seconds")),
        spreadsheet_text(event.get_action_display()),
        spreadsheet_text(event.action),
        spreadsheet_text(event.actor_name),
        spreadsheet_text(event.actor_label),
        spreadsheet_text(event.get_target_type_display() if event.target_type else ""),
        event.target_id if event.target_id is not None else "",
        spreadsheet_text(event.target),
        spreadsheet_text(
            json.dumps(event.detail, ensure_ascii=False, sort_keys=True) if event.detail else ""
        ),
        spreadsheet_text(event.ip),
        spreadsheet_text(event.user_agent),
    ]


def audit_log_write_csv(
    *,
    actor: Membership,
    events: QuerySet[AuditEvent],
    filters: dict[str, Any],
    destination: IO[str],
) -> int:
    """Write `events` as CSV (UTF-8 with a BOM, so Excel opens Chinese text; every text cell
    through `spreadsheet_text`, so none runs as a formula) and record the export itself, with
    its filters and row count. Returns the number of rows."""
    if not can_read_audit_log(actor):
        raise PermissionDenied
    destination.write("\ufeff")
    writer = csv.writer(destination)
    writer.writerow(
        [
            _("Time"),
            _("Event type"),
            _("Event code"),
            _("Done by"),
            _("Account at the time"),
            _("Object"),
            _("Object id"),
            _("Object name"),
            _("Details"),
            _("IP address"),
            _("Browser"),
        ]
    )
    rows = 0
    for event in events.iterator(chunk_size=2000):
        writer.writerow(_row(event))
        rows += 1
    audit_record(
        agency=actor.agency_id,
        action=AuditAction.AUDIT_LOG_EXPORTED,
        actor=actor,
        target_type=AuditTarget.AUDIT_LOG,
        detail={"filters": {key: value for key, value in filters.items() if value}, "rows": rows},
    )
    return rows
