"""The Django admin, for the portal's operators (superusers) only. It works across agencies, so
its querysets are the explicit `.unscoped()` escape hatch of the tenant managers."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.utils.translation import gettext_lazy as _

from agency.models import Agency, Brand, Membership, MembershipBrand, Store, User
from agency.tenancy import TenantManager


def _unscoped(model):
    manager = model._default_manager
    return manager.unscoped() if isinstance(manager, TenantManager) else manager.all()


class ReadOnlyAcrossAgencies:
    """Tenant rows in the admin: every agency's, for superusers, read-only.

    Tenant rows are written only through the portal's services, which hold the business rules
    (gates, roles, agency consistency); the admin is for looking across agencies. Agencies and
    users stay editable (their own admins), and `create_agency` onboards an agency.
    """

    def get_queryset(self, request):
        return _unscoped(self.model)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AcrossAgenciesAdmin(ReadOnlyAcrossAgencies, admin.ModelAdmin):
    # The read-only form still builds its fields once; Django 6's URL default, adopted now.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_superuser", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    list_filter = ["is_active", "is_superuser"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "default_language", "brief_hour"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Brand)
class BrandAdmin(AcrossAgenciesAdmin):
    list_display = ["name", "agency"]
    list_filter = ["agency"]
    search_fields = ["name"]


@admin.register(Store)
class StoreAdmin(AcrossAgenciesAdmin):
    list_display = ["name", "brand", "shop_id", "situation", "agency"]
    list_filter = ["agency", "situation"]
    search_fields = ["name", "shop_id"]


class MembershipBrandInline(ReadOnlyAcrossAgencies, admin.TabularInline):
    model = MembershipBrand
    extra = 0


@admin.register(Membership)
class MembershipAdmin(AcrossAgenciesAdmin):
    list_display = ["user", "agency", "role", "is_active"]
    list_filter = ["agency", "role", "is_active"]
    search_fields = ["user__email", "user__full_name"]
    inlines = [MembershipBrandInline]
