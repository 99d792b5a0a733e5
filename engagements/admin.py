from django.contrib import admin

from agency.admin import AcrossAgenciesAdmin
from engagements.models import Engagement, EngagementTransition


@admin.register(Engagement)
class EngagementAdmin(AcrossAgenciesAdmin):
    list_display = ["title", "store", "stage", "status", "account_manager", "start_date", "agency"]
    list_filter = ["agency", "stage", "status"]
    search_fields = ["title", "store__name", "store__brand__name"]
    readonly_fields = ["stage"]  # moves go through engagement_move_stage, with their log


@admin.register(EngagementTransition)
class EngagementTransitionAdmin(AcrossAgenciesAdmin):
    list_display = ["engagement", "from_stage", "to_stage", "actor", "created_at"]
    list_filter = ["agency", "to_stage"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
