"""Writes of the tenancy app: users and memberships, brands and stores, agency settings."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from agency import permissions
from agency.models import (
    BRAND_ROLES,
    STAFF_ROLES,
    Agency,
    Brand,
    Membership,
    MembershipBrand,
    Role,
    Store,
    User,
)


def set_password_path(user: User) -> str:
    """The one-time link path; the token stops working once the password changes."""
    from django.urls import reverse

    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password_set", kwargs={"uidb64": uidb64, "token": token})


def _require(check: bool) -> None:
    if not check:
        raise PermissionDenied


def _validate_role_and_brands(*, role: str, brands: list[Brand]) -> None:
    if role in BRAND_ROLES and not brands:
        raise ValidationError({"brands": _("A brand user needs at least one brand.")})
    if role in STAFF_ROLES and brands:
        raise ValidationError({"brands": _("Staff users are not bound to brands.")})


def _set_membership_brands(membership: Membership, brands: Iterable[Brand]) -> None:
    wanted = {brand.pk: brand for brand in brands}
    for brand in wanted.values():
        if brand.agency_id != membership.agency_id:
            raise ValidationError({"brands": _("Unknown brand.")})
    MembershipBrand.objects.filter(membership=membership).exclude(brand_id__in=wanted).delete()
    existing = set(
        MembershipBrand.objects.filter(membership=membership).values_list("brand_id", flat=True)
    )
    for brand_id, brand in wanted.items():
        if brand_id not in existing:
            MembershipBrand.objects.create(membership=membership, brand=brand)


@transaction.atomic
def membership_invite(
    *,
    actor: Membership,
    email: str,
    full_name: str,
    role: str,
    brands: Iterable[Brand] = (),
) -> Membership:
    """Add a person to the actor's agency and e-mail them a one-time set-password link.

    An e-mail address already known to the portal (a person working for two agencies) gets a
    new membership, not a second user.
    """
    _require(permissions.can_manage_users(actor))
    brands = list(brands)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    _validate_role_and_brands(role=role, brands=brands)
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, full_name=full_name.strip())
    elif Membership.objects.unscoped().filter(agency_id=actor.agency_id, user=user).exists():
        raise ValidationError({"email": _("This person is already a member of the agency.")})
    membership = Membership.objects.create(agency_id=actor.agency_id, user=user, role=role)
    _set_membership_brands(membership, brands)
    membership_send_invitation(actor=actor, membership=membership)
    return membership


def membership_send_invitation(*, actor: Membership, membership: Membership) -> None:
    """Queue the set-password e-mail once the transaction commits."""
    _require(permissions.can_manage_users(actor))
    from agency.tasks import send_invitation

    agency_id, membership_id = membership.agency_id, membership.pk
    transaction.on_commit(lambda: send_invitation.delay(agency_id, membership_id))


@transaction.atomic
def membership_update(
    *, actor: Membership, membership: Membership, role: str, brands: Iterable[Brand] = ()
) -> Membership:
    _require(permissions.can_manage_users(actor))
    brands = list(brands)
    _validate_role_and_brands(role=role, brands=brands)
    if membership.pk == actor.pk and role != Role.ADMIN:
        raise ValidationError({"role": _("You cannot take away your own admin role.")})
    membership.role = role
    membership.save(update_fields=["role"])
    _set_membership_brands(membership, brands)
    return membership


@transaction.atomic
def membership_set_active(*, actor: Membership, membership: Membership, active: bool) -> Membership:
    """Deactivate (or reactivate) a member: a deactivated member gets 404 on the whole agency."""
    _require(permissions.can_manage_users(actor))
    if not active:
        if membership.pk == actor.pk:
            raise ValidationError(_("You cannot deactivate yourself."))
        if membership.managed_engagements.filter(status="active").exists():
            raise ValidationError(
                _("This person manages active engagements; hand them to someone else first.")
            )
    membership.is_active = active
    membership.save(update_fields=["is_active"])
    return membership


def brand_create(
    *,
    actor: Membership,
    name: str,
    contact_name: str = "",
    contact_email: str = "",
    internal_notes: str = "",
) -> Brand:
    _require(permissions.can_manage_brands(actor))
    name = name.strip()
    if Brand.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A brand with this name already exists.")})
    return Brand.objects.create(
        agency_id=actor.agency_id,
        name=name,
        contact_name=contact_name,
        contact_email=contact_email,
        internal_notes=internal_notes,
    )


def brand_update(*, actor: Membership, brand: Brand, **fields) -> Brand:
    _require(permissions.can_manage_brands(actor))
    name = fields.get("name", brand.name).strip()
    if Brand.objects.filter(name__iexact=name).exclude(pk=brand.pk).exists():
        raise ValidationError({"name": _("A brand with this name already exists.")})
    for field, value in fields.items():
        setattr(brand, field, value)
    brand.name = name
    brand.full_clean()
    brand.save()
    return brand


def _validate_shop_id(store: Store) -> None:
    if store.shop_id and (
        Store.objects.filter(shop_id=store.shop_id).exclude(pk=store.pk).exists()
    ):
        raise ValidationError({"shop_id": _("Another store already has this shop id.")})


def store_create(*, actor: Membership, brand: Brand, **fields) -> Store:
    _require(permissions.can_manage_brands(actor))
    store = Store(agency_id=actor.agency_id, brand=brand, **fields)
    store.full_clean(exclude=["agency"])
    _validate_shop_id(store)
    store.save()
    return store


def store_update(*, actor: Membership, store: Store, **fields) -> Store:
    _require(permissions.can_manage_brands(actor))
    for field, value in fields.items():
        setattr(store, field, value)
    store.full_clean(exclude=["agency"])
    _validate_shop_id(store)
    store.save()
    return store


def agency_update_settings(*, actor: Membership, agency: Agency, **fields) -> Agency:
    _require(permissions.can_edit_agency_settings(actor))
    for field, value in fields.items():
        setattr(agency, field, value)
    agency.full_clean()
    agency.save()
    return agency


def user_set_language(*, user: User, language: str) -> User:
    if language not in {code for code, _label in User._meta.get_field("language").choices}:
        raise ValidationError({"language": _("Unknown language.")})
    user.language = language
    user.save(update_fields=["language"])
    return user
