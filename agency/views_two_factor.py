"""The pages of two-factor sign-in: the account's authenticator-app page (set up, remove) and the
code step after the password. The rules (who must, the device's life cycle, the middleware) live
in agency/two_factor.py; these views only show them."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from agency.two_factor import (
    totp_code_check,
    totp_device_confirmed_for,
    totp_device_remove,
    totp_enrolment_confirm,
    totp_enrolment_device,
    totp_is_throttled,
    totp_qr_svg,
    totp_secret_display,
    totp_session_verify,
    user_is_agency_admin,
)


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Six-digit code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _next_url(request) -> str:
    """Where to go once the code is right: the page the user asked for, if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _refuse_code(form, *, throttled: bool) -> None:
    """The form's error for a refused code: wrong, or not even looked at because wrong codes
    came too fast (django-otp waits 1, 2, 4, 8 … seconds after each)."""
    if throttled:
        form.add_error(
            "code",
            _(
                "Too many wrong codes in a row. Wait a little and try again: each wrong code "
                "doubles the wait."
            ),
        )
    else:
        form.add_error(
            "code",
            _("That code is not right. Codes change every 30 seconds: type the one shown now."),
        )


@never_cache
@login_required
def two_factor(request):
    """The account's authenticator app: set it up (scan, then prove it with a code: only then
    does it count) or remove it (with a current code). Agency admins are sent here until they
    have one."""
    user = request.user
    next_url = _next_url(request)
    device = totp_device_confirmed_for(user)
    if device is not None and not user.is_verified():
        return redirect(reverse("two_factor_verify") + "?" + urlencode({"next": request.path}))
    form = TotpCodeForm(request.POST or None)
    context = {"form": form, "next": next_url, "required": user_is_agency_admin(user)}
    if device is not None:
        if request.method == "POST" and form.is_valid():
            throttled = totp_is_throttled(device)
            if totp_device_remove(user=user, device=device, code=form.cleaned_data["code"]):
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("two_factor")
            _refuse_code(form, throttled=throttled)
        return render(request, "agency/two_factor.html", {**context, "device": device})

    pending = totp_enrolment_device(user=user)
    if request.method == "POST" and form.is_valid():
        throttled = totp_is_throttled(pending)
        if totp_enrolment_confirm(user=user, device=pending, code=form.cleaned_data["code"]):
            totp_session_verify(request, pending)
            messages.success(
                request, _("Two-factor sign-in is on: each sign-in now asks for a code.")
            )
            return redirect(next_url or "two_factor")
        _refuse_code(form, throttled=throttled)
    return render(
        request,
        "agency/two_factor.html",
        {
            **context,
            "device": None,
            # Drawn by qrcode from our own otpauth:// address: paths only, no user text.
            "qr_svg": mark_safe(totp_qr_svg(pending)),
            "secret": totp_secret_display(pending),
        },
    )


@never_cache
def two_factor_verify(request):
    """The second step of sign-in: the code of the user's authenticator app."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    next_url = _next_url(request)
    device = totp_device_confirmed_for(request.user)
    if device is None or request.user.is_verified():
        return redirect(next_url or "home")
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttled = totp_is_throttled(device)
        if totp_code_check(device, form.cleaned_data["code"]):
            totp_session_verify(request, device)
            return redirect(next_url or "home")
        _refuse_code(form, throttled=throttled)
    return render(request, "agency/two_factor_verify.html", {"form": form, "next": next_url})
