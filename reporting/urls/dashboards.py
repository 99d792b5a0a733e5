"""The dashboards: the engagement dashboard, acknowledging an alert, the agency overview."""

from django.urls import path

from reporting.views import dashboards as views

urlpatterns = [
    path(
        "engagements/<int:engagement_id>/dashboard/",
        views.engagement_dashboard,
        name="dashboard",
    ),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("overview/", views.agency_overview, name="overview"),
]
