"""PDF downloads of the reports (namespace `reporting`, under /<agency_slug>/), one per kind,
each beside the HTML page it mirrors."""

from django.urls import path

from reporting.views import pdf as views

urlpatterns = [
    path(
        "engagements/<int:engagement_id>/diagnosis/report/<int:report_id>/pdf/",
        views.diagnosis_pdf,
        name="diagnosis_pdf",
    ),
    path("proposals/versions/<int:version_id>/pdf/", views.proposal_pdf, name="proposal_pdf"),
    path("briefs/<int:brief_id>/pdf/", views.brief_pdf, name="brief_pdf"),
    path("reviews/<int:review_id>/pdf/", views.review_pdf, name="review_pdf"),
    path("full-reviews/<int:full_review_id>/pdf/", views.full_review_pdf, name="full_review_pdf"),
    path("plans/<int:plan_id>/pdf/", views.plan_pdf, name="plan_pdf"),
]
