"""Reads of the tenancy app. Each runs inside the request's tenant scope (TenantMiddleware);
getters raise the same 404 for "missing" and "not yours"."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from agency.models import STAFF_ROLES, Agency, ApiToken, Brand, Membership, Role, Store


def memberships_of_user(user) -> QuerySet[Membership]:
    """Every active membership of a user, across agencies: the agency chooser's list.
    Reads across tenants on purpose (a user's own memberships), hence unscoped."""
    return (
        Membership.objects.unscoped()
        .filter(user=user, is_active=True)
        .select_related("agency")
        .order_by("agency__name")
    )


def membership_for_request(user, agency_slug: str) -> Membership | None:
    """The user's active membership in the agency of the URL, or None (the caller answers 404)."""
    return (
        Membership.objects.unscoped()
        .filter(user=user, agency__slug=agency_slug, is_active=True, user__is_active=True)
        .select_related("agency", "user")
        .first()
    )


def membership_brand_ids(membership: Membership) -> frozenset[int]:
    from agency.models import MembershipBrand

    return frozenset(
        MembershipBrand.objects.unscoped()
        .filter(membership=membership, agency_id=membership.agency_id)
        .values_list("brand_id", flat=True)
    )


def brand_list(*, agency: Agency, search: str = "") -> QuerySet[Brand]:
    brands = Brand.objects.filter(agency=agency)
    if search:
        brands = brands.filter(Q(name__icontains=search) | Q(stores__name__icontains=search))
    return brands.distinct().prefetch_related("stores")


def brand_get_for(*, agency: Agency, brand_id: int) -> Brand:
    brand = Brand.objects.filter(agency=agency, pk=brand_id).first()
    if brand is None:
        raise Http404
    return brand


def store_list(*, agency: Agency) -> QuerySet[Store]:
    return Store.objects.filter(agency=agency).select_related("brand")


def store_get_for(*, agency: Agency, store_id: int) -> Store:
    store = Store.objects.filter(agency=agency, pk=store_id).select_related("brand").first()
    if store is None:
        raise Http404
    return store


def membership_list(*, agency: Agency) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(agency=agency)
        .select_related("user")
        .prefetch_related("brands")
        .order_by("-is_active", "role", "user__email")
    )


def membership_get_for(*, agency: Agency, membership_id: int) -> Membership:
    membership = (
        Membership.objects.filter(agency=agency, pk=membership_id).select_related("user").first()
    )
    if membership is None:
        raise Http404
    return membership


def staff_members(*, agency: Agency) -> QuerySet[Membership]:
    """Active staff, for account-manager and team choices."""
    return (
        Membership.objects.filter(agency=agency, is_active=True, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def account_manager_choices(*, agency: Agency) -> QuerySet[Membership]:
    """Active admins and account managers: the people who may manage an engagement."""
    return staff_members(agency=agency).filter(role__in=[Role.ADMIN, Role.ACCOUNT_MANAGER])


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The token a bearer secret belongs to, from any agency: authentication runs before a tenant
    is known (the token is what names it), hence unscoped."""
    from agency.services import api_token_hash

    return (
        ApiToken.objects.unscoped()
        .filter(key_hash=api_token_hash(secret))
        .select_related("agency")
        .first()
    )


def api_token_list(*, agency: Agency) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(agency=agency).select_related("brand", "created_by")


def api_token_get_for(*, agency: Agency, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(agency=agency, pk=token_id).first()
    if token is None:
        raise Http404
    return token
