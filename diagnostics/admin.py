from django.contrib import admin

from agency.admin import AcrossAgenciesAdmin
from diagnostics.models import Competitor, DiagnosisIntake, DiagnosisReport, Persona


@admin.register(DiagnosisIntake)
class DiagnosisIntakeAdmin(AcrossAgenciesAdmin):
    list_display = ["engagement", "goal", "budget_min", "budget_max", "updated_at", "agency"]
    list_filter = ["agency", "goal"]


@admin.register(Competitor)
class CompetitorAdmin(AcrossAgenciesAdmin):
    list_display = ["name", "engagement", "monthly_sales", "agency"]
    list_filter = ["agency"]
    search_fields = ["name"]


@admin.register(Persona)
class PersonaAdmin(AcrossAgenciesAdmin):
    list_display = ["name", "engagement", "agency"]
    list_filter = ["agency"]


@admin.register(DiagnosisReport)
class DiagnosisReportAdmin(AcrossAgenciesAdmin):
    list_display = ["title", "engagement", "number", "status", "published_at", "agency"]
    list_filter = ["agency", "status"]
