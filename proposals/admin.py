from django.contrib import admin

from agency.admin import AcrossAgenciesAdmin
from proposals.models import Approval, Proposal, ProposalVersion


@admin.register(Proposal)
class ProposalAdmin(AcrossAgenciesAdmin):
    list_display = ["title", "engagement", "created_at", "agency"]
    list_filter = ["agency"]
    search_fields = ["title", "engagement__title"]


@admin.register(ProposalVersion)
class ProposalVersionAdmin(AcrossAgenciesAdmin):
    list_display = ["proposal", "number", "status", "sent_at", "agency"]
    list_filter = ["agency", "status"]


@admin.register(Approval)
class ApprovalAdmin(AcrossAgenciesAdmin):
    list_display = ["version", "user", "signed_name", "approved_at", "ip", "agency"]
    list_filter = ["agency"]
