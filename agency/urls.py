"""The root URLconf. Tenant pages live under /<agency_slug>/ (TenantMiddleware resolves it);
everything else is account plumbing, the health check and the Django admin."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from agency import rest, views
from agency.forms import PasswordForgotForm

account_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path(
        "password/forgot/",
        auth_views.PasswordResetView.as_view(
            form_class=PasswordForgotForm,
            template_name="account/password_forgot.html",
            email_template_name="emails/password_forgot.txt",
            subject_template_name="emails/password_forgot_subject.txt",
            extra_email_context={"site_url": settings.SITE_URL},
        ),
        name="password_reset",
    ),
    path(
        "password/forgot/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="account/password_forgot_sent.html"),
        name="password_reset_done",
    ),
    path("password/set/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password_set"),
    path(
        "password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="account/password_set_done.html"
        ),
        name="password_set_done",
    ),
]

tenant_patterns = [
    path("", include("engagements.urls")),
    path("", include("execution.urls")),
    path("", include("diagnostics.urls")),
    path("", include("proposals.urls")),
    path("", include("reporting.urls")),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("settings/", views.agency_settings, name="agency_settings"),
    path("logo/", views.agency_logo, name="agency_logo"),
    path("settings/api-tokens/", views.api_token_list, name="api_token_list"),
    path(
        "settings/api-tokens/<int:token_id>/revoke/",
        views.api_token_revoke,
        name="api_token_revoke",
    ),
    path("settings/audit/", views.audit_log, name="audit_log"),
    path("settings/audit/export/", views.audit_log_export, name="audit_log_export"),
    path("people/", views.member_list, name="member_list"),
    path("people/new/<slug:kind>/", views.member_invite, name="member_invite"),
    path("people/<int:membership_id>/", views.member_edit, name="member_edit"),
    path("people/<int:membership_id>/active/", views.member_set_active, name="member_set_active"),
    path(
        "people/<int:membership_id>/invite/",
        views.member_resend_invitation,
        name="member_resend_invitation",
    ),
    path("brands/", views.brand_list, name="brand_list"),
    path("brands/new/", views.brand_create, name="brand_create"),
    path("brands/<int:brand_id>/", views.brand_detail, name="brand_detail"),
    path("brands/<int:brand_id>/edit/", views.brand_edit, name="brand_edit"),
    path("brands/<int:brand_id>/stores/new/", views.store_create, name="store_create"),
    path("stores/<int:store_id>/edit/", views.store_edit, name="store_edit"),
]

# The REST API: each app's endpoints live in its api.py; agency/rest.py is their common frame.
api_patterns = [
    path("v1/", include("agency.api")),
    path("v1/", include("engagements.api")),
    path("v1/", include("execution.api")),
    path("v1/", include("proposals.api")),
    path("v1/", include("reporting.api")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^", rest.api_not_found, name="not_found"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/", include((api_patterns, "api"))),
    path("admin/", admin.site.urls),
    path("accounts/", include(account_patterns)),
    path("accounts/", include("agency.urls_two_factor")),
    path("", views.home, name="home"),
    path("<slug:agency_slug>/", include(tenant_patterns)),
]
