from django.contrib import admin

from agency.admin import AcrossAgenciesAdmin
from engagements.models import Engagement, EngagementTransition


@admin.register(Engagement)
class EngagementAdmin(AcrossAgenciesAdmin):
    list_display = ["title", "store", "stage", "status", "account_manager", "start_date", "agency"]
    list_filter = ["agency", "stage", "status"]
    search_fields = ["title", "store__name", "store__brand__name"]


@admin.register(EngagementTransition)
class EngagementTransitionAdmin(AcrossAgenciesAdmin):
    list_display = ["engagement", "from_stage", "to_stage", "actor", "created_at"]
    list_filter = ["agency", "to_stage"]
