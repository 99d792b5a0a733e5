"""Two-factor sign-in (TOTP, django-otp): who must use it, the device's life cycle, and the
middleware that holds a signed-in session back until its code is given.

Any user may add an authenticator app; an agency admin (an active membership with the admin role
in any agency) must. After the password, a user with a confirmed device reaches nothing but the
code page (and sign-out, the language switch, static files) until the code is right; an admin
without a device reaches nothing but the set-up page. Verification, its throttle (each wrong code
doubles the wait before the next is looked at) and the refusal to accept a code twice are
django-otp's `TOTPDevice.verify_token`; the session remembers the device that verified it
(`django_otp.login`), so OTPMiddleware's `request.user.is_verified()` answers the rest.

The REST API's bearer tokens carry no session and pass untouched; a session that still owes its
code is anonymous to the API (a password alone must not open /api/v1/ either). Whether a user has
an app or must have one is read with the user itself (`UserBackend`), so the check costs a
request no query.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from agency.models import Role
from agency.selectors import memberships_of_user

API_PREFIX = "/api/"
DEVICE_NAME = "Authenticator app"
CODE_PATTERN = re.compile(r"[0-9]{6}")


# --- who -------------------------------------------------------------------------------------


def user_is_agency_admin(user) -> bool:
    """An active admin membership in any agency: such a user must sign in with a code."""
    return memberships_of_user(user).filter(role=Role.ADMIN).exists()


def totp_device_confirmed_for(user) -> TOTPDevice | None:
    """The user's authenticator app, once its first code has proved it (None before)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


# --- the device's life cycle -----------------------------------------------------------------


def totp_enrolment_device(*, user) -> TOTPDevice:
    """The device being set up: unconfirmed, so it signs nobody in; the same one (and so the
    same QR code) on every visit until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_code_normalize(code: str) -> str:
    """What people type: “123 456” or “123-456” are the six digits."""
    return re.sub(r"[\s-]", "", code or "")


def totp_code_check(device: TOTPDevice, code: str) -> bool:
    """django-otp's verification of one device, under a row lock so that two requests cannot both
    spend the same code or both slip under the throttle. A code that is not six digits counts as
    a wrong one. django-otp compares the code as one small integer with each accepted window's
    (no digit-by-digit comparison whose time could tell how much of a guess was right), and the
    throttle makes timing useless anyway."""
    code = totp_code_normalize(code)
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        verified = locked.verify_token(code if CODE_PATTERN.fullmatch(code) else "x")
    device.refresh_from_db()
    return verified


def totp_is_throttled(device: TOTPDevice) -> bool:
    """After a wrong code django-otp ignores codes for 1, 2, 4, 8 … seconds."""
    allowed, _details = device.verify_is_allowed()
    return not allowed


@transaction.atomic
def totp_enrolment_confirm(*, user, device: TOTPDevice, code: str) -> bool:
    """Confirm the device being set up with a code from the app; only then does it count. Any
    other device of the user's is removed: one authenticator app per person."""
    if device.user_id != user.pk or device.confirmed:
        return False
    if not totp_code_check(device, code):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return True


@transaction.atomic
def totp_device_remove(*, user, device: TOTPDevice, code: str) -> bool:
    """Remove the authenticator app; a current code proves the remover holds it."""
    if device.user_id != user.pk or not totp_code_check(device, code):
        return False
    TOTPDevice.objects.filter(user=user).delete()
    return True


def totp_session_verify(request, device: TOTPDevice) -> None:
    """Mark the session as having passed the second step, under a new session key (what the
    password step left behind is not what the code step trusts)."""
    request.session.cycle_key()
    otp_login(request, device)


# --- what the set-up page shows --------------------------------------------------------------


def totp_secret_display(device: TOTPDevice) -> str:
    """The secret as authenticator apps ask for it when typed: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn here (no image service)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2
    )
    svg = image.to_string(encoding="unicode")
    return re.sub(
        r'^<svg width="[^"]*" height="[^"]*"',
        '<svg width="220" height="220" aria-hidden="true"',
        svg,
        count=1,
    )


# --- who, asked once per request --------------------------------------------------------------


class UserBackend(ModelBackend):
    """Django's ModelBackend, except that the user it loads for each signed-in request also
    answers, in the same query, the middleware's two questions: a confirmed authenticator app?
    an agency admin? Without it every request of every user would pay two more queries."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.annotate(
                two_factor_has_device=Exists(
                    TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
                ),
                two_factor_is_admin=Exists(
                    memberships_of_user(OuterRef("pk")).filter(role=Role.ADMIN)
                ),
            ).get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


# --- the middleware --------------------------------------------------------------------------


class TwoFactorMiddleware:
    """After AuthenticationMiddleware and django-otp's OTPMiddleware: a signed-in session that
    owes its code (a confirmed device, not yet verified) goes to the code page; an agency admin
    without a device goes to the set-up page. Everything else is untouched. Each path allows
    only its own page, sign-out, the language switch and static files."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        destination = self._destination(request)
        if destination is None:
            return self.get_response(request)
        if request.path.startswith(API_PREFIX):
            # A half-signed-in session is no session to the API; a bearer token is checked by
            # the API's own authentication, after this, and does not depend on the session.
            request.user = AnonymousUser()
            return self.get_response(request)
        if request.path in self._open_paths(destination) or request.path.startswith(
            settings.STATIC_URL
        ):
            return self.get_response(request)
        return self._redirect(request, destination)

    def _destination(self, request) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if user.is_verified():
            return None
        # Loaded with the user (UserBackend); asked here only for a user from elsewhere.
        has_device = getattr(user, "two_factor_has_device", None)
        if has_device is None:
            has_device = totp_device_confirmed_for(user) is not None
        if has_device:
            return "two_factor_verify"
        is_admin = getattr(user, "two_factor_is_admin", None)
        if is_admin is None:
            is_admin = user_is_agency_admin(user)
        return "two_factor" if is_admin else None

    @staticmethod
    def _open_paths(destination: str) -> set[str]:
        return {reverse(destination), reverse("logout"), reverse("set_language")}

    @staticmethod
    def _redirect(request, destination: str):
        target = reverse(destination)
        if request.method == "GET" and request.path != "/":
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request") == "true":
            from django_htmx.http import HttpResponseClientRedirect

            return HttpResponseClientRedirect(target)
        return HttpResponseRedirect(target)
