"""The REST API's frame: who is calling, the tenant scope, scopes, errors, pages and throttling.

Every endpoint under /api/v1/ derives from `TenantAPIView` or `TenantViewSet`, the one place the
API sets the tenant scope (as `TenantMiddleware` does for pages): the caller is authenticated
(a bearer token, or the browser session), the scope is set from the token's agency and brand (or
the member's), the objects named in the URL are looked up inside that scope (404 alike for
missing and foreign), and only then is the endpoint's required token scope checked (403). The
scope never outlives the request.

Every error, whatever raised it, leaves as `{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q
from django.http import Http404, JsonResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.utils.urls import replace_query_param
from rest_framework.viewsets import GenericViewSet

from agency.models import Agency, ApiScope, ApiToken, Membership
from agency.selectors import api_token_for_secret, membership_brand_ids, membership_for_request
from agency.tenancy import TenantScope, activate_scope, deactivate_scope

logger = logging.getLogger(__name__)

AGENCY_HEADER = "X-Agency"


class MissingScope(exceptions.PermissionDenied):
    default_code = "missing_scope"

    def __init__(self, scope: str):
        super().__init__(
            _("This token lacks the scope “%(scope)s”.") % {"scope": scope}, "missing_scope"
        )
        self.scope = scope


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


class TokenPrincipal:
    """The request's user when a token authenticates: a token acts for its agency, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = id = None

    def __init__(self, token: ApiToken):
        self.token = token

    def __str__(self) -> str:
        return f"token {self.token.prefix}"


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`. A header without a valid, live token is refused (401);
    no header at all lets the session authentication try."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        keyword, _space, secret = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        secret = secret.strip()
        if not secret or " " in secret:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header must be “Bearer <token>”.")
            )
        token = api_token_for_secret(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown API token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API token has been revoked."))
        if not token.is_usable():
            raise exceptions.AuthenticationFailed(_("This API token has expired."))
        from agency.services import api_token_touch

        api_token_touch(token=token)
        return TokenPrincipal(token), token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "agency.rest.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token created by an agency admin (Settings → API tokens) or "
            "by `manage.py create_api_token`.",
        }


@dataclass(frozen=True)
class ApiCaller:
    """Who is calling: the agency, the brands (None: all), the scopes, and the token or member."""

    agency: Agency
    scopes: frozenset[str]
    brand_ids: frozenset[int] | None
    token: ApiToken | None = None
    membership: Membership | None = None


def _session_scopes(membership: Membership) -> frozenset[str]:
    """A member's session reads what their pages show; staff may also write (the services check
    each write against the member's role, as for the pages)."""
    if membership.is_staff_member:
        return frozenset(ApiScope.values)
    return frozenset(
        {ApiScope.ENGAGEMENTS_READ.value, ApiScope.METRICS_READ.value, ApiScope.REPORTS_READ.value}
    )


def api_caller_resolve(request) -> ApiCaller:
    """The caller of an authenticated request; a session user names the agency in `X-Agency`
    (or has only one). Not a member of that agency: 404, as for pages."""
    if isinstance(request.auth, ApiToken):
        token = request.auth
        return ApiCaller(
            agency=token.agency,
            scopes=frozenset(token.scopes),
            brand_ids=frozenset({token.brand_id}) if token.brand_id else None,
            token=token,
        )
    from agency.selectors import memberships_of_user

    slug = request.headers.get(AGENCY_HEADER, "").strip()
    if slug:
        membership = membership_for_request(request.user, slug)
        if membership is None:
            raise Http404
    else:
        memberships = list(memberships_of_user(request.user)[:2])
        if not memberships:
            raise Http404  # a member of no agency sees nothing, as on the pages
        if len(memberships) != 1:
            raise exceptions.ValidationError(
                {AGENCY_HEADER: [_("Name the agency (its slug) in the X-Agency header.")]},
                code="agency_required",
            )
        membership = memberships[0]
    brand_ids = membership_brand_ids(membership) if membership.is_brand_member else None
    return ApiCaller(
        agency=membership.agency,
        scopes=_session_scopes(membership),
        brand_ids=brand_ids,
        membership=membership,
    )


class ApiCallerThrottle(SimpleRateThrottle):
    """One budget per token (per user for the session), shared by every endpoint."""

    scope = "api"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiCursorPagination(CursorPagination):
    """Keyset pages: stable under concurrent writes, and exact over any ordering. The ordering
    (the `ordering` parameter, or the view's default) is completed by the primary key so that it
    is unique, and a cursor holds the whole sort key of the row it continues from; NULLs sort
    last. DRF's own cursor keeps only the first field and an offset, which repeats or drops rows
    when many share a value and loses those whose value is NULL.

    `page_size` goes up to 200 (a larger one is capped); one that is not a whole number from 1 up
    is refused (400), not silently replaced by the default."""

    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = (
        "Rows per page, from 1; at most 200 are sent (a larger value is capped). Default 50."
    )
    max_page_size = 200
    ordering = "-pk"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("Give a whole number from 1 up.")]}
            )
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.keys = _sort_keys(self.get_ordering(request, queryset, view))
        cursor = self._cursor_decode(request)
        backwards = cursor is not None and cursor[1]
        if cursor is not None:
            queryset = queryset.filter(_rows_beyond(self.keys, cursor[0], backwards))
        rows = list(queryset.order_by(*_order_by(self.keys, backwards))[: self.page_size + 1])
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if backwards:
            self.page.reverse()
        # Coming back from a later page, that page is still there; and vice versa.
        self.has_next = more if not backwards else True
        self.has_previous = cursor is not None if not backwards else more
        return self.page

    def get_next_link(self) -> str | None:
        if not (self.has_next and self.page):
            return None
        return self._cursor_link(self.page[-1], backwards=False)

    def get_previous_link(self) -> str | None:
        if not (self.has_previous and self.page):
            return None
        return self._cursor_link(self.page[0], backwards=True)

    def _cursor_link(self, row, *, backwards: bool) -> str:
        position = [_cursor_value(getattr(row, field)) for field, _descending in self.keys]
        payload = json.dumps({"p": position, "r": backwards}, separators=(",", ":"))
        encoded = urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def _cursor_decode(self, request) -> tuple[list, bool] | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            payload = json.loads(urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            position, backwards = payload["p"], payload["r"]
        except (ValueError, TypeError, KeyError):
            raise self._invalid_cursor() from None
        if not (
            isinstance(position, list)
            and len(position) == len(self.keys)
            and isinstance(backwards, bool)
            and all(value is None or isinstance(value, str | int) for value in position)
        ):
            raise self._invalid_cursor()  # or made for another ordering
        return position, backwards

    def _invalid_cursor(self) -> exceptions.ValidationError:
        """A cursor is input the client sent back: a bad one is a 400 naming it, not a 404."""
        return exceptions.ValidationError(
            {self.cursor_query_param: [_("This is not a cursor from this list's links.")]}
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "default": self.page_size,
                }
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = (
                    "Opaque: only a value from this list's `next` or `previous` link, with the "
                    "same ordering. Anything else is a 400 naming `cursor`."
                )
        return parameters


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A list filter naming an object by id: a whole number (anything else is a 400 naming the
    filter), and an id the caller cannot see simply matches nothing."""

    field_class = forms.IntegerField


def _sort_keys(ordering) -> list[tuple[str, bool]]:
    """(field, descending) pairs of an ordering, completed by the primary key."""
    keys = [(term.lstrip("-"), term.startswith("-")) for term in ordering]
    keys = [("pk" if field == "id" else field, descending) for field, descending in keys]
    if not any(field == "pk" for field, _descending in keys):
        keys.append(("pk", keys[-1][1] if keys else False))
    return keys


def _order_by(keys, backwards: bool) -> list:
    """The page order: NULLs last going forwards, so first going backwards."""
    nulls = {"nulls_first": True} if backwards else {"nulls_last": True}
    return [
        F(field).desc(**nulls) if descending != backwards else F(field).asc(**nulls)
        for field, descending in keys
    ]


NOTHING = Q(pk__in=[])


def _rows_beyond(keys, position, backwards: bool) -> Q:
    """The rows after `position` in the page order: beyond it in the first key, or equal there
    and beyond it in the next, and so on."""
    beyond, equal = NOTHING, Q()
    for (field, descending), value in zip(keys, position, strict=True):
        beyond |= equal & _beyond_value(
            field, value, ascending=descending == backwards, nulls_after=not backwards
        )
        equal &= Q(**{f"{field}__isnull": True}) if value is None else Q(**{field: value})
    return beyond


def _beyond_value(field: str, value, *, ascending: bool, nulls_after: bool) -> Q:
    """The rows beyond `value` in one key, in the page's direction for it."""
    if value is None:
        return NOTHING if nulls_after else Q(**{f"{field}__isnull": False})
    beyond = Q(**{f"{field}__{'gt' if ascending else 'lt'}": value})
    return beyond | Q(**{f"{field}__isnull": True}) if nulls_after else beyond


def _cursor_value(value):
    """A sort key value as JSON holds it; the database reads it back in the field's type."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):  # datetimes too
        return value.isoformat()
    return value


class ApiFilterBackend(DjangoFilterBackend):
    """The FilterSets the pages use, read strictly: a filter sent without a value is refused
    (400 naming it), where a page's form reads a blank as "no filter". A client that sends
    `store=` has lost its value; answering with every row would hide that. Text filters (a
    name, a search) may be empty."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            blank = {
                name: [_("Give a value, or leave the parameter out.")]
                for name, query_filter in filterset_class.base_filters.items()
                if not isinstance(query_filter, django_filters.CharFilter)
                and request.query_params.get(name, "x").strip() == ""
            }
            if blank:
                raise exceptions.ValidationError(blank)
        return super().filter_queryset(request, queryset, view)


class ApiOrderingFilter(OrderingFilter):
    """`ordering`: one or more of the view's `ordering_fields`, each optionally prefixed with
    `-`, joined by commas. An unknown one is refused (400 naming `ordering`), not ignored, and
    the schema lists the choices."""

    def choices(self, view) -> list[str]:
        fields = getattr(view, "ordering_fields", None) or []
        return [ordering for field in fields for ordering in (field, f"-{field}")]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param, "")
        if not raw.strip():
            return self.get_default_ordering(view)
        terms = [term.strip() for term in raw.split(",")]
        choices = self.choices(view)
        unknown = [term for term in terms if term not in choices]
        if unknown:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        _("Unknown ordering: %(terms)s. Use %(choices)s.")
                        % {
                            "terms": ", ".join(term or "“”" for term in unknown),
                            "choices": ", ".join(choices),
                        }
                    ]
                }
            )
        return terms

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by these fields, joined by commas; `-` sorts descending.",
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": self.choices(view)},
                },
                "style": "form",
                "explode": False,
            }
        ]


class TenantAPIMixin:
    """The one base of every API view: authentication, tenant scope, URL objects, token scope.

    Subclasses declare `required_scope` (a scope, a {method: scope} mapping, or None for "any
    scope") and, for URL objects other than the viewset's own, `url_objects_resolve()`.
    """

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ApiCallerThrottle]
    filter_backends = [ApiFilterBackend, ApiOrderingFilter]
    pagination_class = ApiCursorPagination
    required_scope: str | dict[str, str] | None = None
    caller: ApiCaller

    def dispatch(self, request, *args, **kwargs):
        self._scope_token = None
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if self._scope_token is not None:
                deactivate_scope(self._scope_token)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticates, IsAuthenticated, throttles
        self.caller = api_caller_resolve(request)
        self._scope_token = activate_scope(
            TenantScope(agency_id=self.caller.agency.pk, brand_ids=self.caller.brand_ids)
        )
        self.url_objects_resolve()
        self.scope_check(request)
        self.query_check(request)

    def url_objects_resolve(self) -> None:
        """Look up the objects the URL names (404 before any 403). A detail route's own object
        is fetched here once and kept for `get_object()`."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        if lookup in self.kwargs:
            self._object = super().get_object()

    def get_object(self):
        if getattr(self, "_object", None) is None:
            self._object = super().get_object()
        return self._object

    def scope_check(self, request) -> None:
        required = self.required_scope
        if isinstance(required, dict):
            required = required.get(request.method, required.get("*"))
        if required is not None and required not in self.caller.scopes:
            raise MissingScope(required)

    def query_check(self, request) -> None:
        """Every parameter of the API takes one value: one given twice is refused (400), not
        silently read as its last value."""
        repeated = {
            name: [_("Give this parameter once.")]
            for name, values in request.query_params.lists()
            if len(values) > 1
        }
        if repeated:
            raise exceptions.ValidationError(repeated)

    @property
    def actor(self) -> Membership | None:
        return self.caller.membership


class TenantAPIView(TenantAPIMixin, GenericAPIView):
    pass


class TenantViewSet(TenantAPIMixin, GenericViewSet):
    pass


def object_lookup(getter, **kwargs):
    """Run a `<entity>_get_for` getter, turning its 404 into the API's."""
    try:
        return getter(**kwargs)
    except Http404 as error:
        raise exceptions.NotFound() from error


def report_response(request, payload, *, last_modified=None) -> Response:
    """A report's response with ETag and Last-Modified; 304 when the client's copy is current."""
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    timestamp = int(last_modified.timestamp()) if last_modified else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=timestamp)
    headers = {"ETag": etag}
    if timestamp is not None:
        headers["Last-Modified"] = http_date(timestamp)
    if not_modified is not None and not_modified.status_code == status.HTTP_304_NOT_MODIFIED:
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(payload, headers=headers)


# Errors --------------------------------------------------------------------------------------

ERROR_MESSAGES = {
    "invalid": gettext_lazy("The request has invalid fields; see details."),
    "agency_required": gettext_lazy("Name the agency (its slug) in the X-Agency header."),
}


def _error_code(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        codes = exc.get_codes()
        if isinstance(codes, dict) and any(
            code == "agency_required" for value in codes.values() for code in value
        ):
            return "agency_required"
        return "invalid"
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _details(exc: exceptions.APIException):
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list):
            return {"non_field_errors": [str(item) for item in detail]}
        return json.loads(json.dumps(detail, default=str))
    if isinstance(exc, MissingScope):
        return {"required_scope": exc.scope}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        return {"retry_after_seconds": int(exc.wait + 0.999)}
    return {}


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": str(message), "details": details or {}}}


def api_exception_handler(exc, context):
    """Every error in the one format. Django's own exceptions from services map to their API
    counterparts; anything unexpected is logged and answered as a 500 in the same format."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if not isinstance(exc, exceptions.APIException):
        logger.exception("API error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body("server_error", _("Something went wrong on our side; it has been logged.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code = _error_code(exc)
    if isinstance(exc, exceptions.ValidationError):
        message = ERROR_MESSAGES[code]
    else:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait + 0.999))
    return Response(
        error_body(code, message, _details(exc)), status=exc.status_code, headers=headers
    )


@csrf_exempt  # a 404 changes nothing; CSRF's HTML 403 would break the API's error format
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer in the API's format, not with an HTML page."""
    return JsonResponse(error_body("not_found", _("No API endpoint at this address.")), status=404)


def api_server_error(request, *args, **kwargs):
    return JsonResponse(
        error_body("server_error", _("Something went wrong on our side; it has been logged.")),
        status=500,
    )


# The schema ------------------------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API has this shape.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "example": "not_found"},
                "message": {"type": "string", "example": "Not found."},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}
ERROR_RESPONSES = {
    "400": "Invalid input: `details` names each field and what is wrong with it.",
    "401": "No token, or an unknown, revoked or expired one.",
    "403": "The token lacks the scope this operation needs (`details.required_scope`).",
    "404": "No such object, or not one this token may see: the two are answered alike.",
    "429": "Too many requests for this token; `Retry-After` says when to try again.",
}
WRITE_ERROR_RESPONSES = {
    "413": "The body is larger than the API accepts.",
    "415": "The body's content type is not one this operation accepts.",
}


def schema_add_error_responses(result, generator, request, public):
    """drf-spectacular hook: the error shape as a component, and every operation's error
    responses, so clients (and schemathesis) know each status an operation can answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            errors = dict(ERROR_RESPONSES)
            if method in {"post", "put", "patch"}:
                errors.update(WRITE_ERROR_RESPONSES)
            for code, description in errors.items():
                responses.setdefault(code, {"description": description, "content": reference})
    return result
