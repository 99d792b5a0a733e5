from django.urls import path

from diagnostics import views

app_name = "diagnostics"

_base = "engagements/<int:engagement_id>/diagnosis/"

urlpatterns = [
    path(_base, views.diagnosis_page, name="page"),
    path(f"{_base}intake/", views.intake_edit, name="intake"),
    path(f"{_base}competitors/new/", views.competitor_create, name="competitor_create"),
    path(
        f"{_base}competitors/<int:competitor_id>/",
        views.competitor_edit,
        name="competitor_edit",
    ),
    path(
        f"{_base}competitors/<int:competitor_id>/delete/",
        views.competitor_delete,
        name="competitor_delete",
    ),
    path(f"{_base}personas/new/", views.persona_create, name="persona_create"),
    path(f"{_base}personas/<int:persona_id>/", views.persona_edit, name="persona_edit"),
    path(
        f"{_base}personas/<int:persona_id>/delete/",
        views.persona_delete,
        name="persona_delete",
    ),
    path(f"{_base}months/", views.month_enter, name="month_enter"),
    path(f"{_base}report/", views.report_page, name="report"),
    path(f"{_base}report/generate/", views.report_generate, name="report_generate"),
    path(f"{_base}report/new-draft/", views.report_new_draft, name="report_new_draft"),
    path(f"{_base}report/<int:report_id>/", views.report_version, name="report_version"),
    path(f"{_base}report/<int:report_id>/edit/", views.report_edit, name="report_edit"),
    path(f"{_base}report/<int:report_id>/publish/", views.report_publish, name="report_publish"),
    path(f"{_base}report/<int:report_id>/discard/", views.report_discard, name="report_discard"),
]
