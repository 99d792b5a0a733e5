from django.urls import path

from engagements import views

app_name = "engagements"

urlpatterns = [
    path("", views.engagement_list, name="list"),
    path("engagements/new/", views.engagement_create, name="create"),
    path("engagements/<int:engagement_id>/", views.engagement_detail, name="detail"),
    path("engagements/<int:engagement_id>/edit/", views.engagement_edit, name="edit"),
    path("engagements/<int:engagement_id>/move/", views.engagement_move, name="move"),
]
