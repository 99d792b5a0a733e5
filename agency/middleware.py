"""Request entry points of tenancy and language."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils import timezone, translation

from agency.selectors import membership_brand_ids, membership_for_request
from agency.tenancy import TenantScope, activate_scope, deactivate_scope


class TenantMiddleware:
    """Sets the tenant scope for every page under `/<agency_slug>/`: the one place pages get it.

    An anonymous visitor is sent to the login page; a user who is not an active member gets 404,
    the same answer as for an agency that does not exist. On success the request carries
    `request.agency` and `request.membership`, the agency's time zone is active, and the
    `agency_slug` URL argument is consumed here so views receive only their own arguments. The
    scope never outlives the request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.agency = None
        request.membership = None
        try:
            return self.get_response(request)
        finally:
            token = getattr(request, "_tenant_scope_token", None)
            if token is not None:
                deactivate_scope(token)
                timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if "agency_slug" not in view_kwargs:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for_request(request.user, view_kwargs.pop("agency_slug"))
        if membership is None:
            raise Http404
        brand_ids = membership_brand_ids(membership) if membership.is_brand_member else None
        request._tenant_scope_token = activate_scope(
            TenantScope(agency_id=membership.agency_id, brand_ids=brand_ids)
        )
        request.agency = membership.agency
        request.membership = membership
        timezone.activate(zoneinfo.ZoneInfo(membership.agency.time_zone))
        if not request.user.language:
            # No personal choice yet: the agency's default language.
            translation.activate(membership.agency.default_language)
            request.LANGUAGE_CODE = translation.get_language()
        return None


class UserLanguageMiddleware:
    """A logged-in user's own language choice wins over the browser's and the cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if user is not None and user.is_authenticated and user.language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                user.language,
                samesite="Lax",
                max_age=365 * 24 * 3600,
            )
        return response
