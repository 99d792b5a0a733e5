"""Pages of the full review (全面效果复盘, step 7) and the long-term plan (长期合作建议, step 8)."""

from django.urls import path

from reporting.views import full_review as views

urlpatterns = [
    path(
        "engagements/<int:engagement_id>/full-reviews/",
        views.full_review_list,
        name="full_review_list",
    ),
    path("full-reviews/<int:full_review_id>/", views.full_review_detail, name="full_review_detail"),
    path(
        "full-reviews/<int:full_review_id>/preview/",
        views.full_review_preview,
        name="full_review_preview",
    ),
    path(
        "full-reviews/<int:full_review_id>/refresh/",
        views.full_review_refresh,
        name="full_review_refresh",
    ),
    path(
        "full-reviews/<int:full_review_id>/publish/",
        views.full_review_publish,
        name="full_review_publish",
    ),
    path(
        "full-reviews/<int:full_review_id>/findings/",
        views.finding_add,
        name="full_review_finding_add",
    ),
    path(
        "full-review-findings/<int:finding_id>/delete/",
        views.finding_delete,
        name="full_review_finding_delete",
    ),
    path(
        "full-reviews/<int:full_review_id>/actions/",
        views.action_add,
        name="full_review_action_add",
    ),
    path(
        "full-review-actions/<int:full_action_id>/",
        views.action_update,
        name="full_review_action_update",
    ),
    path("full-reviews/<int:full_review_id>/plan/", views.plan_create, name="plan_create"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/preview/", views.plan_preview, name="plan_preview"),
    path("plans/<int:plan_id>/publish/", views.plan_publish, name="plan_publish"),
    path(
        "plans/<int:plan_id>/recommendations/",
        views.recommendation_add,
        name="recommendation_add",
    ),
    path(
        "recommendations/<int:recommendation_id>/",
        views.recommendation_update,
        name="recommendation_update",
    ),
    path(
        "recommendations/<int:recommendation_id>/delete/",
        views.recommendation_delete,
        name="recommendation_delete",
    ),
    path(
        "plans/<int:plan_id>/next-proposal/",
        views.plan_next_proposal,
        name="plan_next_proposal",
    ),
]
