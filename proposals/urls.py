from django.urls import path

from proposals import views

app_name = "proposals"

urlpatterns = [
    path(
        "engagements/<int:engagement_id>/proposals/new/",
        views.proposal_create,
        name="create",
    ),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="detail"),
    path("proposals/<int:proposal_id>/revise/", views.proposal_new_version, name="revise"),
    path("proposals/<int:proposal_id>/diff/", views.proposal_diff, name="diff"),
    path("proposals/<int:proposal_id>/comments/", views.proposal_comments, name="comments"),
    path("proposals/versions/<int:version_id>/", views.version_detail, name="version"),
    path(
        "proposals/versions/<int:version_id>/document/",
        views.version_document,
        name="document",
    ),
    path("proposals/versions/<int:version_id>/edit/", views.version_edit, name="edit"),
    path("proposals/versions/<int:version_id>/planner/", views.version_planner, name="planner"),
    path("proposals/versions/<int:version_id>/send/", views.version_send, name="send"),
    path("proposals/versions/<int:version_id>/approve/", views.version_approve, name="approve"),
    path(
        "proposals/versions/<int:version_id>/request-changes/",
        views.version_request_changes,
        name="request_changes",
    ),
    path(
        "proposals/versions/<int:version_id>/<slug:section>/add/",
        views.version_row_add,
        name="row_add",
    ),
    path(
        "proposals/versions/<int:version_id>/<slug:section>/<int:row_id>/delete/",
        views.version_row_delete,
        name="row_delete",
    ),
]
