"""Pages of the daily brief (namespace `reporting`, under /<agency_slug>/)."""

from django.urls import path

from reporting.views import briefs as views

_engagement = "engagements/<int:engagement_id>/briefs/"

urlpatterns = [
    path(_engagement, views.brief_list, name="brief_list"),
    path(f"{_engagement}preview/", views.brief_preview, name="brief_preview"),
    path(f"{_engagement}settings/", views.brief_settings, name="brief_settings"),
    path(
        f"{_engagement}settings/test/",
        views.brief_settings_test_view,
        name="brief_settings_test",
    ),
    path("briefs/<int:brief_id>/", views.brief_detail, name="brief_detail"),
]
