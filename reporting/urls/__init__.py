"""The reporting app's pages, one module per area (dashboards, briefs, reviews, PDFs)."""

from django.urls import include, path

app_name = "reporting"

urlpatterns = [
    path("", include("reporting.urls.dashboards")),
    path("", include("reporting.urls.briefs")),
    path("", include("reporting.urls.reviews")),
    path("", include("reporting.urls.full_review")),
    path("", include("reporting.urls.exports")),
    path("", include("reporting.urls.pdf")),
]
