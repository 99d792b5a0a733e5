"""Step 5, conversion and user operations: offers, customer service, orders and RFM tiers."""

from django.urls import path

from . import views

app_name = "conversion"

_BASE = "engagements/<int:engagement_id>/conversion/"

urlpatterns = [
    path(f"{_BASE}offers/", views.offer_list, name="offer_list"),
    path(f"{_BASE}offers/new/", views.offer_create, name="offer_create"),
    path(f"{_BASE}offers/<int:conversion_offer_id>/", views.offer_detail, name="offer_detail"),
    path(f"{_BASE}offers/<int:conversion_offer_id>/edit/", views.offer_edit, name="offer_edit"),
    path(
        f"{_BASE}offers/<int:conversion_offer_id>/delete/",
        views.offer_delete,
        name="offer_delete",
    ),
    path(f"{_BASE}service/", views.service, name="service"),
    path(f"{_BASE}tiers/", views.tiers, name="tiers"),
    path(f"{_BASE}tiers/import/", views.order_import, name="order_import"),
    path(
        f"{_BASE}tiers/imports/<int:conversion_import_id>/",
        views.order_import_detail,
        name="order_import_detail",
    ),
    path(
        f"{_BASE}tiers/strategies/<slug:conversion_tier>/",
        views.tier_strategy,
        name="tier_strategy",
    ),
    path(f"{_BASE}tiers/recompute/", views.tiers_recompute, name="tiers_recompute"),
]
