"""The data handover page (数据交接)."""

from django.urls import path

from reporting.views import exports as views

urlpatterns = [
    path("engagements/<int:engagement_id>/handover/", views.handover, name="handover"),
]
