"""Pages of the weekly and monthly reviews (周报 / 月报)."""

from django.urls import path

from reporting.views import reviews as views

urlpatterns = [
    path("engagements/<int:engagement_id>/reviews/", views.review_list, name="review_list"),
    path("reviews/<int:review_id>/", views.review_detail, name="review_detail"),
    path("reviews/<int:review_id>/preview/", views.review_preview, name="review_preview"),
    path("reviews/<int:review_id>/publish/", views.review_publish, name="review_publish"),
    path("reviews/<int:review_id>/refresh/", views.review_refresh, name="review_refresh"),
    path("reviews/<int:review_id>/actions/", views.review_action_add, name="review_action_add"),
    path("actions/<int:action_id>/", views.action_update, name="action_update"),
]
