"""Pages of the tenancy app: sign-in, agency chooser, language, people, brands and stores,
agency settings, the audit log, and the health check. Tenant pages receive `request.agency` and
`request.membership` from TenantMiddleware; every object is fetched through a scoped getter."""

from __future__ import annotations

import functools
import mimetypes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from agency import audit, notifications, permissions, selectors, services
from agency.forms import (
    AgencySettingsForm,
    ApiTokenForm,
    AuditFilterForm,
    BrandForm,
    InviteForm,
    LanguageForm,
    MembershipForm,
    StoreForm,
)


def apply_validation_error(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form it came from."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


def form_save(form, save):
    """The form → service step every write page shares: a valid form goes to its service
    (`save()`, which reads `form.cleaned_data`); the service's ValidationError goes onto the
    form. Returns what the service returned, or None when the form or the service refused (the
    page then shows the form again)."""
    if not form.is_valid():
        return None
    try:
        return save()
    except ValidationError as error:
        apply_validation_error(form, error)
        return None


def post_only(request):
    """For POST-only actions, called after the object's lookup, so a stranger's object is a 404
    and only its own member learns that the method is wrong (405)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return None


# --- health ---------------------------------------------------------------------------------


@never_cache
def healthz(request):
    """Database and broker status for load balancers and docker compose; 503 when one is down."""
    from django.conf import settings

    report = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
    except Exception as error:
        report["database"] = f"error: {error.__class__.__name__}"
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        report["broker"] = "eager"
    else:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
            report["broker"] = "ok"
        except Exception as error:
            report["broker"] = f"error: {error.__class__.__name__}"
    healthy = all(value in {"ok", "eager"} for value in report.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **report}, status=200 if healthy else 503
    )


# --- account --------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "account/login.html"
    redirect_authenticated_user = True


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The one-time link of an invitation (and of "forgot password")."""

    template_name = "account/password_set.html"
    success_url = reverse_lazy("password_set_done")


@login_required
def home(request):
    """Where login lands: straight into the only agency, or a choice between several."""
    memberships = list(selectors.memberships_of_user(request.user))
    if len(memberships) == 1:
        return redirect("engagements:list", agency_slug=memberships[0].agency.slug)
    return render(request, "account/choose_agency.html", {"memberships": memberships})


@require_POST
def set_language(request):
    """Switch the interface language; remembered on the user (and in a cookie for visitors)."""
    form = LanguageForm(request.POST)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
        from django.conf import settings

        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", max_age=365 * 24 * 3600
        )
    return response


# --- agency branding ------------------------------------------------------------------------


def agency_logo(request):
    """The agency's logo, served through the tenant check rather than from a public folder."""
    logo = request.agency.logo
    if not logo:
        raise Http404
    content_type = mimetypes.guess_type(logo.name)[0] or "application/octet-stream"
    response = FileResponse(logo.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@permissions.permission_required(permissions.can_edit_agency_settings)
def agency_settings(request):
    agency = request.agency
    form = AgencySettingsForm(request.POST or None, request.FILES or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        try:
            services.agency_update_settings(
                actor=request.membership, agency=agency, **form.cleaned_data
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("agency_settings", agency_slug=agency.slug)
    return render(request, "agency/settings.html", {"form": form})


def login_locked(request, original_response, credentials):
    """django-axes' answer to a locked (e-mail, IP) pair: 429 and when to try again, in the
    visitor's language; the set-password link still works (it proves the mailbox instead)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "account/locked.html", {"lockout_minutes": minutes}, status=429)


# --- API tokens -----------------------------------------------------------------------------


@never_cache
@permissions.permission_required(permissions.can_manage_api_tokens)
def api_token_list(request):
    """The agency's tokens, and the form for a new one. A new token's secret is shown on the
    page that answers the form, once; it is never stored."""
    brands = selectors.brand_list(agency=request.agency)
    form = ApiTokenForm(request.POST or None, brands=brands)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = services.api_token_create(
                actor=request.membership,
                agency=request.agency,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                brand=form.cleaned_data["brand"],
                expires_days=form.cleaned_data["expires_days"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            form = ApiTokenForm(brands=brands)
    tokens = selectors.api_token_list(agency=request.agency)
    return render(
        request,
        "agency/api_tokens.html",
        {"form": form, "tokens": tokens, "created": created, "secret": secret},
    )


@permissions.permission_required(permissions.can_manage_api_tokens)
def api_token_revoke(request, token_id: int):
    token = selectors.api_token_get_for(agency=request.agency, token_id=token_id)
    if request.method != "POST":  # after the lookup: a stranger's object is a 404, not a 405
        return HttpResponseNotAllowed(["POST"])
    services.api_token_revoke(actor=request.membership, token=token)
    messages.success(request, _("“%(name)s” was revoked; it no longer works.") % {"name": token})
    return redirect("api_token_list", agency_slug=request.agency.slug)


# --- audit log ------------------------------------------------------------------------------


def audit_log_admins_only(view):
    """The audit log shows every member's sign-ins and addresses: anyone but an agency admin
    (other staff included, unlike the 403 of other admin pages) gets 404, as if it did not
    exist."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not audit.can_read_audit_log(request.membership):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _audit_log_filtered(request):
    """The filter form of the query string, and the events it selects (all when invalid)."""
    form = AuditFilterForm(
        request.GET or None, members=selectors.membership_list(agency=request.agency)
    )
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit.audit_event_list(
        agency=request.agency,
        action=filters.get("action") or "",
        member=filters.get("member"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    return form, filters, events


@never_cache
@audit_log_admins_only
def audit_log(request):
    """Settings → Audit log: the agency's events, newest first, 50 a page, filtered."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    form, _filters, events = _audit_log_filtered(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    rows = [(event, audit.detail_lines(event.detail)) for event in page]
    return render(request, "agency/audit_log.html", {"form": form, "page": page, "rows": rows})


@never_cache
@audit_log_admins_only
def audit_log_export(request):
    """The filtered events as CSV; the export itself is recorded in the log."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    form, filters, events = _audit_log_filtered(request)
    if form.is_bound and not form.is_valid():
        return redirect(
            f"{reverse('audit_log', args=[request.agency.slug])}?{request.GET.urlencode()}"
        )
    member = filters.get("member")
    recorded_filters = {
        "action": filters.get("action") or "",
        "member": member.user.email if member is not None else "",
        "date_from": filters.get("date_from"),
        "date_to": filters.get("date_to"),
    }
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="audit-log-{request.agency.slug}-{day}.csv"'
    )
    audit.audit_log_write_csv(
        actor=request.membership, events=events, filters=recorded_filters, destination=response
    )
    return response


# --- people ---------------------------------------------------------------------------------


@permissions.permission_required(permissions.can_manage_users)
def member_list(request):
    members = selectors.membership_list(agency=request.agency)
    return render(request, "agency/member_list.html", {"members": members})


@permissions.permission_required(permissions.can_manage_users)
def member_invite(request, kind: str):
    if kind not in {InviteForm.KIND_STAFF, InviteForm.KIND_BRAND}:
        raise Http404
    brands = selectors.brand_list(agency=request.agency)
    form = InviteForm(request.POST or None, kind=kind, brands=brands)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_invite(
                actor=request.membership,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                role=form.cleaned_data["role"],
                brands=form.cleaned_data.get("brands") or [],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                _("%(email)s was added; a link to set the password is on its way.")
                % {"email": membership.user.email},
            )
            return redirect("member_list", agency_slug=request.agency.slug)
    return render(request, "agency/member_invite.html", {"form": form, "kind": kind})


@permissions.permission_required(permissions.can_manage_users)
def member_edit(request, membership_id: int):
    member = selectors.membership_get_for(agency=request.agency, membership_id=membership_id)
    brands = selectors.brand_list(agency=request.agency)
    initial = {"role": member.role, "brands": list(member.brands.all())}
    form = MembershipForm(request.POST or None, membership=member, brands=brands, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                actor=request.membership,
                membership=member,
                role=form.cleaned_data["role"],
                brands=form.cleaned_data.get("brands") or [],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("member_list", agency_slug=request.agency.slug)
    return render(request, "agency/member_edit.html", {"form": form, "member": member})


@permissions.permission_required(permissions.can_manage_users)
def member_set_active(request, membership_id: int):
    member = selectors.membership_get_for(agency=request.agency, membership_id=membership_id)
    if request.method != "POST":  # after the lookup: a stranger's object is a 404, not a 405
        return HttpResponseNotAllowed(["POST"])
    active = request.POST.get("active") == "1"
    try:
        services.membership_set_active(actor=request.membership, membership=member, active=active)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if active:
            messages.success(request, _("%(name)s can sign in again.") % {"name": member})
        else:
            messages.success(request, _("%(name)s was deactivated.") % {"name": member})
    return redirect("member_list", agency_slug=request.agency.slug)


@permissions.permission_required(permissions.can_manage_users)
def member_resend_invitation(request, membership_id: int):
    member = selectors.membership_get_for(agency=request.agency, membership_id=membership_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.membership_send_invitation(actor=request.membership, membership=member)
    messages.success(request, _("A new link was sent to %(email)s.") % {"email": member.user.email})
    return redirect("member_list", agency_slug=request.agency.slug)


# --- brands and stores ----------------------------------------------------------------------


@permissions.staff_required
def brand_list(request):
    search = request.GET.get("q", "").strip()
    brands = selectors.brand_list(agency=request.agency, search=search)
    template = "agency/_brand_rows.html" if request.htmx else "agency/brand_list.html"
    return render(request, template, {"brands": brands, "search": search})


@permissions.permission_required(permissions.can_manage_brands)
def brand_create(request):
    form = BrandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            brand = services.brand_create(actor=request.membership, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("brand_detail", agency_slug=request.agency.slug, brand_id=brand.pk)
    return render(request, "agency/brand_form.html", {"form": form})


@permissions.staff_required
def brand_detail(request, brand_id: int):
    brand = selectors.brand_get_for(agency=request.agency, brand_id=brand_id)
    return render(request, "agency/brand_detail.html", {"brand": brand})


@permissions.permission_required(permissions.can_manage_brands)
def brand_edit(request, brand_id: int):
    brand = selectors.brand_get_for(agency=request.agency, brand_id=brand_id)
    form = BrandForm(request.POST or None, instance=brand)
    if request.method == "POST" and form.is_valid():
        try:
            services.brand_update(actor=request.membership, brand=brand, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("brand_detail", agency_slug=request.agency.slug, brand_id=brand.pk)
    return render(request, "agency/brand_form.html", {"form": form, "brand": brand})


@permissions.permission_required(permissions.can_manage_brands)
def store_create(request, brand_id: int):
    brand = selectors.brand_get_for(agency=request.agency, brand_id=brand_id)
    form = StoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.store_create(actor=request.membership, brand=brand, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("brand_detail", agency_slug=request.agency.slug, brand_id=brand.pk)
    return render(request, "agency/store_form.html", {"form": form, "brand": brand})


@permissions.permission_required(permissions.can_manage_brands)
def store_edit(request, store_id: int):
    store = selectors.store_get_for(agency=request.agency, store_id=store_id)
    form = StoreForm(request.POST or None, instance=store)
    if request.method == "POST" and form.is_valid():
        try:
            services.store_update(actor=request.membership, store=store, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect(
                "brand_detail", agency_slug=request.agency.slug, brand_id=store.brand_id
            )
    return render(
        request, "agency/store_form.html", {"form": form, "brand": store.brand, "store": store}
    )


# --- notifications --------------------------------------------------------------------------


def notification_list(request):
    """The member's own notifications, newest first (unread ones marked)."""
    own = notifications.notification_list(user=request.user)
    page = Paginator(own, 50).get_page(request.GET.get("page"))
    return render(request, "agency/notification_list.html", {"page": page})


def notifications_read(request):
    """Mark every notification of the member read."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    notifications.notifications_mark_read(user=request.user)
    return redirect("notification_list", agency_slug=request.agency.slug)
