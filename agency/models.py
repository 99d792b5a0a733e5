"""The tenant (Agency), the people (User, Membership) and the clients (Brand, Store)."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agency.tenancy import (
    AgencyOwnedModel,
    TenantBaseManager,
    TenantManager,
    TenantQuerySet,
    cross_tenant,
)

# First path segments that belong to the portal itself, so no agency can take them as its slug.
RESERVED_SLUGS = frozenset(
    {"admin", "accounts", "api", "healthz", "i18n", "media", "static", "account", "login"}
)

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # followed by six hexadecimal digits.")
)


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


def validate_agency_slug(value: str) -> None:
    from django.core.exceptions import ValidationError

    if value in RESERVED_SLUGS:
        raise ValidationError(_("“%(slug)s” is reserved by the portal."), params={"slug": value})


def agency_logo_path(agency: Agency, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
    return f"agency-logos/{agency.pk}/logo.{extension}"


class Agency(models.Model):
    """The tenant: a service company running Tmall stores for its brands.

    Its settings brand the portal for its clients (logo, primary colour), set the local time zone
    that dates in reports use, the default language of new users, and the hour daily briefs go out.
    """

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("address"), max_length=50, unique=True, validators=[validate_agency_slug]
    )
    logo = models.ImageField(_("logo"), upload_to=agency_logo_path, blank=True)
    primary_color = models.CharField(
        _("primary colour"), max_length=7, default="#c81623", validators=[colour_validator]
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", choices=TIME_ZONE_CHOICES
    )
    default_language = models.CharField(
        _("default language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    brief_hour = models.PositiveSmallIntegerField(
        _("daily brief hour"),
        default=9,
        validators=[MinValueValidator(0), MaxValueValidator(23)],
        help_text=_("Local hour (0 to 23) at which the daily briefs are sent."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, email: str) -> User:
        """Sign-in ignores the case of the address, as people type it."""
        return self.get(email__iexact=email.strip())

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an e-mail address. What they may do lives on their memberships;
    `is_staff` and `is_superuser` concern only the Django admin of the portal's operators."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=Language.choices,
        blank=True,
        help_text=_("Empty: the agency's default language."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("admin site access"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        # One address, one person, however it was typed: stored lower-case, so the unique index
        # is case-insensitive in effect and sign-in (get_by_natural_key) finds exactly one user.
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # Deleting a person removes their memberships in every agency: Django's cascade SQL
        # carries no scope, so it runs across tenants (agency/rls.py).
        with cross_tenant():
            return super().delete(*args, **kwargs)


class Role(models.TextChoices):
    ADMIN = "admin", _("Agency admin")
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    OPERATOR = "operator", _("Operator")
    ANALYST = "analyst", _("Analyst")
    BRAND_OWNER = "brand_owner", _("Brand owner")
    BRAND_VIEWER = "brand_viewer", _("Brand viewer")


STAFF_ROLES = frozenset({Role.ADMIN, Role.ACCOUNT_MANAGER, Role.OPERATOR, Role.ANALYST})
BRAND_ROLES = frozenset({Role.BRAND_OWNER, Role.BRAND_VIEWER})


class Brand(AgencyOwnedModel):
    """A client of the agency: the company that owns the products and the Tmall store(s)."""

    name = models.CharField(_("name"), max_length=200)
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    internal_notes = models.TextField(_("internal notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_brand_path = "pk"

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="brand_unique_name_per_agency")
        ]

    def __str__(self) -> str:
        return self.name


class StoreSituation(models.TextChoices):
    NEW = "new", _("New store to open on Tmall")
    EXISTING = "existing", _("Existing Tmall store")


class Store(AgencyOwnedModel):
    """A Tmall store of a brand: the unit that metrics and engagements hang on."""

    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="stores", verbose_name=_("brand")
    )
    name = models.CharField(_("store name"), max_length=200)
    shop_id = models.CharField(
        _("Tmall shop id"),
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^\d+$", _("A Tmall shop id is digits only."))],
        help_text=_("Empty until a new store is opened."),
    )
    url = models.URLField(_("store URL"), blank=True)
    connector = models.CharField(
        _("data connector"),
        max_length=40,
        blank=True,
        help_text=_("Pulls daily figures automatically (the demo simulator: “demo”)."),
    )
    situation = models.CharField(
        _("situation"),
        max_length=10,
        choices=StoreSituation.choices,
        default=StoreSituation.EXISTING,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parent = "brand"
    tenant_brand_path = "brand"

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["brand__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "shop_id"],
                condition=~models.Q(shop_id=""),
                name="store_unique_shop_id_per_agency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand.name} · {self.name}"


class Membership(AgencyOwnedModel):
    """A user's place in one agency: a staff role, or a brand role bound to some brands.

    Deactivating a membership locks the user out of this agency only (a person can work for
    several agencies). `invitation_sent_at` records the last set-password e-mail.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    brands = models.ManyToManyField(
        Brand,
        through="MembershipBrand",
        related_name="brand_members",
        blank=True,
        verbose_name=_("brands"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    invitation_sent_at = models.DateTimeField(_("invitation sent"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user__full_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return self.user.display_name

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_brand_member(self) -> bool:
        return self.role in BRAND_ROLES


class MembershipBrand(AgencyOwnedModel):
    """Binds a brand user's membership to one brand it may see."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")

    tenant_parent = "membership"
    tenant_brand_path = "brand"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "membership", "brand"], name="membership_brand_unique"
            )
        ]


class ApiScope(models.TextChoices):
    """What an API token may do. Brands and stores are readable with any scope."""

    ENGAGEMENTS_READ = "engagements:read", _("Read engagements")
    METRICS_READ = "metrics:read", _("Read metrics and ingestion runs")
    METRICS_WRITE = "metrics:write", _("Push metrics and upload exports")
    REPORTS_READ = "reports:read", _("Read briefs, reviews and proposals")


class ApiToken(AgencyOwnedModel):
    """A bearer token for integrations, tied to one agency and optionally to one brand.

    Only the SHA-256 of the secret is stored (the secret is shown once, at creation); `prefix`
    is the first characters of the secret, kept so people can tell their tokens apart. A token
    stops working when it expires or is revoked; neither can be undone.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    brand = models.ForeignKey(
        Brand,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("brand"),
        help_text=_("Leave empty for every brand of the agency."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "key_hash"], name="api_token_unique_hash")
        ]
        # Authentication looks a token up by its hash alone, before any agency is known.
        indexes = [models.Index(fields=["key_hash"], name="api_token_hash")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Notification(AgencyOwnedModel):
    """An in-app notice to one member (a proposal was sent, approved, sent back, ...).

    `brand` is the brand the notice concerns, if any: the tenant scope shows a brand user only
    notices about their brands, and the selector only their own; agency-level notices (no brand)
    reach staff only.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    tenant_brand_path = "brand"

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agency", "user", "read_at"], name="notification_unread")]


class AuditAction(models.TextChoices):
    """What an audit event records. The codes are stored: add new ones, never rename."""

    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    LOCKOUT = "lockout", _("Sign-in locked after repeated failures")
    LOGOUT = "logout", _("Signed out")
    PROPOSAL_APPROVED = "proposal_approved", _("Proposal approved")
    PROPOSAL_CHANGES_REQUESTED = "proposal_changes_requested", _("Proposal changes requested")
    STAGE_MOVED = "stage_moved", _("Engagement stage moved")
    MEMBER_ADDED = "member_added", _("Member added")
    MEMBER_ROLE_CHANGED = "member_role_changed", _("Member's role changed")
    MEMBER_BRANDS_CHANGED = "member_brands_changed", _("Member's brands changed")
    MEMBER_DEACTIVATED = "member_deactivated", _("Member deactivated")
    MEMBER_REACTIVATED = "member_reactivated", _("Member reactivated")
    INVITATION_RESENT = "invitation_resent", _("Set-password link sent again")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    EXPORT_DOWNLOADED = "export_downloaded", _("Engagement data exported")
    AUDIT_LOG_EXPORTED = "audit_log_exported", _("Audit log exported")


class AuditTarget(models.TextChoices):
    """The kind of object an audit event concerns (its id and name are kept beside it)."""

    USER = "user", _("Account")
    MEMBER = "member", _("Member")
    ENGAGEMENT = "engagement", _("Engagement")
    PROPOSAL_VERSION = "proposal_version", _("Proposal version")
    API_TOKEN = "api_token", _("API token")
    AUDIT_LOG = "audit_log", _("Audit log")


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or delete an audit event: a bug, never a user action."""


class AuditEventQuerySet(TenantQuerySet):
    """Audit events in bulk: no update, no delete (see AuditEvent)."""

    def update(self, **kwargs):
        # The one change allowed: the actor's account was deleted, and ON DELETE SET NULL
        # (Django's collector, through the base manager) forgets the link; actor_label stays.
        if kwargs.keys() == {"actor"} and kwargs["actor"] is None:
            return super().update(**kwargs)
        raise AuditLogIsAppendOnly("Audit events cannot be updated.")

    def delete(self):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    def _raw_delete(self, using):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")


class AuditEventManager(TenantManager.from_queryset(AuditEventQuerySet)):
    pass


class AuditEventBaseManager(TenantBaseManager.from_queryset(AuditEventQuerySet)):
    pass


class AuditEvent(AgencyOwnedModel):
    """One line of the agency's audit log: who did what, when, from which IP and browser.

    Written only by `agency.audit.audit_record`, from the service where the event happens (and
    from the sign-in signals). Append-only: `save()` refuses an existing row, `delete()` and the
    queryset's `update()`/`delete()` raise, and on PostgreSQL a trigger (migration 0005)
    refuses UPDATE and DELETE of the table whatever the client. The one change allowed is the
    actor's link becoming NULL when that account is deleted; `actor_label` (the e-mail address
    at the time) keeps who it was. Agencies are never deleted in the product, so the agency
    link PROTECTs instead of cascading (a cascade would only meet the trigger). `detail` says
    what changed (old and new role, stages, a token's name and scopes), never a secret.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", editable=False)
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who"), max_length=254, blank=True)
    action = models.CharField(_("event type"), max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(
        _("object"), max_length=30, choices=AuditTarget.choices, blank=True
    )
    target_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    target = models.CharField(_("object name"), max_length=300, blank=True)
    detail = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = AuditEventManager()
    rows_in_hand = AuditEventBaseManager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agency", "-created_at"], name="audit_event_recent")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.actor_label}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding or kwargs.get("update_fields") is not None:
            raise AuditLogIsAppendOnly("Audit events cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    @property
    def actor_name(self) -> str:
        """The actor as people know them now, or as recorded if the account is gone."""
        if self.actor is not None:
            return self.actor.display_name
        return self.actor_label
