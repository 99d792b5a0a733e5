"""URLs of store setup (step 3): the agency's checklist templates (admins) and each engagement's
checklist. Argument names carry the area's prefix (`setup_...`) so they never clash with the other
workspace areas in the isolation check."""

from django.urls import path

from execution.setup import views

app_name = "setup"

_templates = "settings/setup-templates/"
_template_items = f"{_templates}items/<int:setup_template_item_id>/"
_engagement = "engagements/<int:engagement_id>/setup/"
_item = f"{_engagement}items/<int:setup_item_id>/"
_evidence = f"{_engagement}evidence/<int:setup_evidence_id>/"

urlpatterns = [
    path(_templates, views.template_list, name="template_list"),
    path(f"{_templates}<int:setup_template_id>/", views.template_detail, name="template_detail"),
    path(
        f"{_templates}<int:setup_template_id>/items/",
        views.template_item_create,
        name="template_item_create",
    ),
    path(_template_items, views.template_item_edit, name="template_item_edit"),
    path(f"{_template_items}delete/", views.template_item_delete, name="template_item_delete"),
    path(f"{_template_items}move/", views.template_item_move, name="template_item_move"),
    path(_engagement, views.checklist, name="checklist"),
    path(f"{_engagement}create/", views.checklist_create, name="checklist_create"),
    path(f"{_engagement}items/new/", views.item_create, name="item_create"),
    path(_item, views.item_detail, name="item_detail"),
    path(f"{_item}status/", views.item_status, name="item_status"),
    path(f"{_item}decision/", views.item_decision, name="item_decision"),
    path(f"{_item}evidence/", views.evidence_add, name="evidence_add"),
    path(_evidence, views.evidence_download, name="evidence_download"),
    path(f"{_evidence}delete/", views.evidence_delete, name="evidence_delete"),
]
