"""Writes of the tenancy app: users and memberships, brands and stores, agency settings."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from typing import Literal

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from agency import permissions
from agency.audit import audit_record
from agency.models import (
    BRAND_ROLES,
    STAFF_ROLES,
    Agency,
    ApiScope,
    ApiToken,
    AuditAction,
    AuditTarget,
    Brand,
    Membership,
    MembershipBrand,
    Role,
    Store,
    StoreSituation,
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
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, full_name=full_name.strip())
    elif Membership.objects.unscoped().filter(agency_id=actor.agency_id, user=user).exists():
        raise ValidationError({"email": _("This person is already a member of the agency.")})
    membership = Membership.objects.create(agency_id=actor.agency_id, user=user, role=role)
    _set_membership_brands(membership, brands)
    _queue_invitation(membership)
    _audit_member(
        actor=actor,
        membership=membership,
        action=AuditAction.MEMBER_ADDED,
        detail={"email": user.email, "role": role, "brands": _brand_names(brands)},
    )
    return membership


def _queue_invitation(membership: Membership) -> None:
    from agency.tasks import send_invitation

    agency_id, membership_id = membership.agency_id, membership.pk
    transaction.on_commit(lambda: send_invitation.delay(agency_id, membership_id))


def membership_send_invitation(*, actor: Membership, membership: Membership) -> None:
    """Send the set-password link again (queued once the transaction commits)."""
    _require(permissions.can_manage_users(actor))
    _queue_invitation(membership)
    _audit_member(
        actor=actor,
        membership=membership,
        action=AuditAction.INVITATION_RESENT,
        detail={"email": membership.user.email},
    )


def _brand_names(brands: Iterable[Brand]) -> list[str]:
    return sorted(brand.name for brand in brands)


def _audit_member(*, actor: Membership, membership: Membership, action: str, detail: dict) -> None:
    audit_record(
        agency=membership.agency_id,
        action=action,
        actor=actor,
        target_type=AuditTarget.MEMBER,
        target_id=membership.pk,
        target=membership.user.email,
        detail=detail,
    )


def membership_invitation_deliver(*, membership: Membership) -> bool:
    """E-mail the one-time set-password link in the member's language and stamp when it went
    out. Called by the `send_invitation` task; a deactivated member gets nothing (False)."""
    if not membership.is_active:
        return False
    agency, user = membership.agency, membership.user
    with translation.override(user.language or agency.default_language):
        context = {
            "agency": agency,
            "user": user,
            "link": settings.SITE_URL + set_password_path(user),
        }
        subject = render_to_string("emails/invitation_subject.txt", context).strip()
        body = render_to_string("emails/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    membership.invitation_sent_at = timezone.now()
    membership.save(update_fields=["invitation_sent_at"])
    return True


def _manages_open_engagements(membership: Membership) -> bool:
    return membership.managed_engagements.exclude(status="ended").exists()


@transaction.atomic
def membership_update(
    *, actor: Membership, membership: Membership, role: str, brands: Iterable[Brand] = ()
) -> Membership:
    """Change a member's role (and a brand user's brands). Staff stay staff and brand users stay
    brand users; an account manager of open engagements keeps a role that may manage them."""
    _require(permissions.can_manage_users(actor))
    brands = list(brands)
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if (role in STAFF_ROLES) != membership.is_staff_member:
        raise ValidationError(
            {"role": _("Staff cannot become brand users or the other way round.")}
        )
    _validate_role_and_brands(role=role, brands=brands)
    if membership.pk == actor.pk and role != Role.ADMIN:
        raise ValidationError({"role": _("You cannot take away your own admin role.")})
    if role not in permissions.MANAGER_ROLES and _manages_open_engagements(membership):
        raise ValidationError(
            {"role": _("This person manages open engagements; hand them to someone else first.")}
        )
    old_role, old_brands = membership.role, _brand_names(membership.brands.all())
    membership.role = role
    membership.save(update_fields=["role"])
    _set_membership_brands(membership, brands)
    new_brands = _brand_names(brands)
    changes = {}
    if old_role != role:
        changes["role"] = {"old": old_role, "new": role}
    if old_brands != new_brands:
        changes["brands"] = {"old": old_brands, "new": new_brands}
    if changes:
        _audit_member(
            actor=actor,
            membership=membership,
            action=(
                AuditAction.MEMBER_ROLE_CHANGED
                if "role" in changes
                else AuditAction.MEMBER_BRANDS_CHANGED
            ),
            detail=changes,
        )
    return membership


@transaction.atomic
def membership_set_active(*, actor: Membership, membership: Membership, active: bool) -> Membership:
    """Deactivate (or reactivate) a member: a deactivated member gets 404 on the whole agency."""
    _require(permissions.can_manage_users(actor))
    if not active:
        if membership.pk == actor.pk:
            raise ValidationError(_("You cannot deactivate yourself."))
        if _manages_open_engagements(membership):
            raise ValidationError(
                _("This person manages open engagements; hand them to someone else first.")
            )
    changed = membership.is_active != active
    membership.is_active = active
    membership.save(update_fields=["is_active"])
    if changed:
        _audit_member(
            actor=actor,
            membership=membership,
            action=AuditAction.MEMBER_REACTIVATED if active else AuditAction.MEMBER_DEACTIVATED,
            detail={"role": membership.role},
        )
    return membership


def _check_brand_name_free(*, name: str, brand: Brand | None = None) -> None:
    others = Brand.objects.filter(name__iexact=name)
    if brand is not None:
        others = others.exclude(pk=brand.pk)
    if others.exists():
        raise ValidationError({"name": _("A brand with this name already exists.")})


def brand_create(
    *,
    actor: Membership,
    name: str,
    contact_name: str = "",
    contact_email: str = "",
    internal_notes: str = "",
) -> Brand:
    """Add a client brand to the actor's agency; names are unique within the agency."""
    _require(permissions.can_manage_brands(actor))
    name = name.strip()
    _check_brand_name_free(name=name)
    brand = Brand(
        agency_id=actor.agency_id,
        name=name,
        contact_name=contact_name,
        contact_email=contact_email,
        internal_notes=internal_notes,
    )
    brand.full_clean(exclude=["agency"])
    brand.save()
    return brand


def brand_update(
    *,
    actor: Membership,
    brand: Brand,
    name: str,
    contact_name: str = "",
    contact_email: str = "",
    internal_notes: str = "",
) -> Brand:
    _require(permissions.can_manage_brands(actor))
    name = name.strip()
    _check_brand_name_free(name=name, brand=brand)
    brand.name, brand.contact_name, brand.contact_email = name, contact_name, contact_email
    brand.internal_notes = internal_notes
    brand.full_clean(exclude=["agency"])
    brand.save()
    return brand


def _store_save(store: Store) -> Store:
    store.full_clean(exclude=["agency"])
    if store.shop_id and Store.objects.filter(shop_id=store.shop_id).exclude(pk=store.pk).exists():
        raise ValidationError({"shop_id": _("Another store already has this shop id.")})
    store.save()
    return store


def store_create(
    *,
    actor: Membership,
    brand: Brand,
    name: str,
    situation: str = StoreSituation.EXISTING,
    shop_id: str = "",
    url: str = "",
) -> Store:
    """Add a Tmall store to a brand: an existing store, or a new one to open (shop id later)."""
    _require(permissions.can_manage_brands(actor))
    return _store_save(
        Store(
            agency_id=actor.agency_id,
            brand=brand,
            name=name.strip(),
            situation=situation,
            shop_id=shop_id.strip(),
            url=url,
        )
    )


def store_update(
    *,
    actor: Membership,
    store: Store,
    name: str,
    situation: str = StoreSituation.EXISTING,
    shop_id: str = "",
    url: str = "",
) -> Store:
    _require(permissions.can_manage_brands(actor))
    store.name, store.situation, store.shop_id, store.url = (
        name.strip(),
        situation,
        shop_id.strip(),
        url,
    )
    return _store_save(store)


def agency_update_settings(
    *,
    actor: Membership,
    agency: Agency,
    name: str,
    primary_color: str,
    time_zone: str,
    default_language: str,
    brief_hour: int,
    logo: UploadedFile | Literal[False] | None = None,
) -> Agency:
    """Change the agency's settings. `logo`: a new file, False to remove it, None to keep it."""
    _require(permissions.can_edit_agency_settings(actor))
    agency.name, agency.primary_color, agency.time_zone = name.strip(), primary_color, time_zone
    agency.default_language, agency.brief_hour = default_language, brief_hour
    agency.full_clean(exclude=["logo", "slug"])
    if logo is False and agency.logo:
        agency.logo.delete(save=False)
    elif logo:
        agency.logo = logo
    agency.save()
    return agency


def user_set_language(*, user: User, language: str) -> User:
    if language not in {code for code, _label in User._meta.get_field("language").choices}:
        raise ValidationError({"language": _("Unknown language.")})
    user.language = language
    user.save(update_fields=["language"])
    return user


API_TOKEN_PREFIX = "tp_"  # noqa: S105 - a label, not a secret
API_TOKEN_MAX_DAYS = 3650


def api_token_hash(secret: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is as strong as a slow password hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    actor: Membership | None,
    agency: Agency,
    name: str,
    scopes: Iterable[str],
    brand: Brand | None = None,
    expires_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and never shown again.

    `actor` is None only for the `create_api_token` command (an operator on the server).
    """
    if actor is not None:
        _require(permissions.can_manage_api_tokens(actor))
    errors = {}
    name = name.strip()
    if not name:
        errors["name"] = _("Give the token a name.")
    scopes = sorted(set(scopes))
    unknown = [scope for scope in scopes if scope not in ApiScope.values]
    if unknown:
        errors["scopes"] = _("Unknown scope(s): %(scopes)s. Known: %(known)s.") % {
            "scopes": ", ".join(unknown),
            "known": ", ".join(ApiScope.values),
        }
    elif not scopes:
        errors["scopes"] = _("Choose at least one scope.")
    if brand is not None and brand.agency_id != agency.pk:
        errors["brand"] = _("Unknown brand.")
    if expires_days is not None and not 1 <= expires_days <= API_TOKEN_MAX_DAYS:
        errors["expires_days"] = _("Expiry must be between 1 and %(max)s days.") % {
            "max": API_TOKEN_MAX_DAYS
        }
    if errors:
        raise ValidationError(errors)
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        agency=agency,
        name=name,
        prefix=secret[: len(API_TOKEN_PREFIX) + 6],
        key_hash=api_token_hash(secret),
        scopes=scopes,
        brand=brand,
        expires_at=(
            timezone.now() + datetime.timedelta(days=expires_days) if expires_days else None
        ),
        created_by=actor.user if actor else None,
    )
    audit_record(
        agency=agency,
        action=AuditAction.TOKEN_CREATED,
        actor=actor,
        target_type=AuditTarget.API_TOKEN,
        target_id=token.pk,
        target=token.name,
        # The prefix is what the token list shows; the secret is never recorded.
        detail={
            "prefix": token.prefix,
            "scopes": scopes,
            "brand": brand.name if brand is not None else "",
            "expires_at": token.expires_at,
        },
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Membership, token: ApiToken) -> ApiToken:
    """Revoke a token for good; revoking twice keeps the first time (and the first record)."""
    _require(permissions.can_manage_api_tokens(actor))
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by = timezone.now(), actor.user
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            agency=token.agency_id,
            action=AuditAction.TOKEN_REVOKED,
            actor=actor,
            target_type=AuditTarget.API_TOKEN,
            target_id=token.pk,
            target=token.name,
            detail={"prefix": token.prefix},
        )
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record use, at most once a minute, so a busy integration does not write on every call."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.unscoped().filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
