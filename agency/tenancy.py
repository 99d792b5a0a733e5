"""Tenant scoping: the one mechanism every view, form, task and command relies on.

The tenant (an agency) and, for brand users, the brands they may see form a `TenantScope` held in
a context variable. Entry points set it in exactly one place each: `TenantMiddleware` for pages,
`tenant_task` for Celery tasks, `agency_scope()` for management commands (and, later, one DRF base
class for the API). Tenant models use `TenantManager` as their default manager; it filters every
query by the scope and fails closed: a query built without a scope raises `TenantScopeMissing`
when it is compiled, whether it is evaluated, counted, updated, deleted or used as a subquery.
The escape hatch is `Model.objects.unscoped()`, for tenancy plumbing and admin/ops code only.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models

if TYPE_CHECKING:
    from agency.models import Agency


class TenantScopeMissing(RuntimeError):
    """A tenant model was queried with no agency in scope: a bug, never a user error."""


class TenantMismatch(RuntimeError):
    """A row was about to be written into another agency than the one in scope."""


@dataclass(frozen=True)
class TenantScope:
    """Who is looking: one agency, and for brand users the brands they are bound to."""

    agency_id: int
    brand_ids: frozenset[int] | None = None  # None: staff, every brand of the agency

    @property
    def is_brand_restricted(self) -> bool:
        return self.brand_ids is not None


_current_scope: contextvars.ContextVar[TenantScope | None] = contextvars.ContextVar(
    "tenant_scope", default=None
)


_crossing: contextvars.ContextVar[bool] = contextvars.ContextVar("cross_tenant", default=False)


@contextmanager
def cross_tenant() -> Iterator[None]:
    """Let every statement of the block reach every agency's rows in PostgreSQL too (agency/rls.py)
    — for ops code whose SQL Django writes itself, such as the cascade of deleting a user. Admin
    and ops code only, like `unscoped()`."""
    token = _crossing.set(True)
    try:
        yield
    finally:
        _crossing.reset(token)


def crossing_tenants() -> bool:
    return _crossing.get()


def current_scope() -> TenantScope | None:
    return _current_scope.get()


def activate_scope(scope: TenantScope | None) -> contextvars.Token:
    """Set the scope and return the token that `deactivate_scope` needs to restore the old one."""
    return _current_scope.set(scope)


def deactivate_scope(token: contextvars.Token) -> None:
    _current_scope.reset(token)


@contextmanager
def agency_scope(
    agency: Agency | int, brand_ids: Iterable[int] | None = None
) -> Iterator[TenantScope]:
    """Run a block inside one agency (and optionally only some of its brands)."""
    agency_id = agency if isinstance(agency, int) else agency.pk
    scope = TenantScope(
        agency_id=agency_id, brand_ids=None if brand_ids is None else frozenset(brand_ids)
    )
    token = activate_scope(scope)
    try:
        yield scope
    finally:
        deactivate_scope(token)


class _ScopeMissingCondition(models.Expression):
    """A WHERE condition that refuses to become SQL, so an unscoped query can never run."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, model_label: str):
        super().__init__()
        self.model_label = model_label

    def as_sql(self, compiler, connection):
        raise TenantScopeMissing(
            f"{self.model_label} was queried with no agency in scope. Set the scope at the entry "
            "point (TenantMiddleware, tenant_task, agency_scope) or, in admin/ops code only, "
            "use .unscoped()."
        )

    def get_group_by_cols(self):
        return []


class _CrossTenant(models.Expression):
    """A WHERE condition that is always true and, where a query may cross tenants, says so in
    its SQL: PostgreSQL's row-level security (agency/rls.py) lets only such a statement see
    every agency's rows. `always`: `unscoped()`, the explicit escape hatch; otherwise (the base
    manager) only while no scope is active, since inside a scope the database keeps to it."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, always: bool):
        super().__init__()
        self.always = always

    def as_sql(self, compiler, connection):
        crossing = self.always or current_scope() is None
        return ("/* cross-tenant */ TRUE" if crossing else "TRUE"), []

    def get_group_by_cols(self):
        return []


class TenantQuerySet(models.QuerySet):
    pass


class TenantBaseManager(models.Manager):
    """The base manager of tenant models (what Django uses to follow a foreign key, refresh a
    row or cascade a delete): unscoped in the application, as Django's plain one, and marked so
    that outside any scope the database lets it through; inside a scope the database keeps it
    to the scope's agency."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(_CrossTenant(always=False))


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of every tenant model: scoped to the current agency (and brands)."""

    def get_queryset(self) -> TenantQuerySet:
        queryset = super().get_queryset()
        scope = current_scope()
        if scope is None:
            return queryset.filter(_ScopeMissingCondition(self.model._meta.label))
        queryset = queryset.filter(agency_id=scope.agency_id)
        if scope.brand_ids is not None:
            brand_path = self.model.tenant_brand_path
            if brand_path is None and self.model.tenant_shared_with_brands:
                return queryset  # agency-level data meant for every member (the event calendar)
            if brand_path is None:
                # Agency-level rows are for staff; a brand user sees none of them.
                return queryset.none()
            queryset = queryset.filter(**{f"{brand_path}__in": scope.brand_ids})
        return queryset

    def unscoped(self) -> TenantQuerySet:
        """Every row of every agency. For tenancy plumbing and admin/ops code only."""
        return super().get_queryset().filter(_CrossTenant(always=True))


class AgencyOwnedModel(models.Model):
    """Base of every tenant-owned table: the row carries its agency itself, child rows included.

    `tenant_parent` names the foreign key whose agency a child row copies on save; every foreign
    key to another tenant row (the parent and any other) must point into the row's own agency,
    or the save raises `TenantMismatch`. `tenant_brand_path` is the lookup from this
    model to its brand (`"pk"` for Brand itself, `"store__brand"` for Engagement); a model without
    one is agency-level data that brand users never see through the default manager, unless
    `tenant_shared_with_brands` says it is meant for every member (the platform's event
    calendar).
    """

    agency = models.ForeignKey(
        "agency.Agency", on_delete=models.CASCADE, related_name="+", editable=False
    )

    tenant_parent: ClassVar[str | None] = None
    tenant_brand_path: ClassVar[str | None] = None
    tenant_shared_with_brands: ClassVar[bool] = False

    objects = TenantManager()
    # Forward foreign keys and deletion cascades use the base manager, not the scoped one:
    # following a relation from a row already in hand is not a tenant read.
    rows_in_hand = TenantBaseManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.tenant_parent and self.agency_id is None:
            parent = getattr(self, self.tenant_parent)
            if parent is not None:
                self.agency_id = parent.agency_id
        scope = current_scope()
        if scope is not None and self.agency_id is not None and self.agency_id != scope.agency_id:
            raise TenantMismatch(
                f"Refusing to write {self._meta.label} of agency {self.agency_id} while agency "
                f"{scope.agency_id} is in scope."
            )
        self._check_links_stay_in_agency()
        if scope is None and self.agency_id is not None:
            # Written outside any scope (plumbing, tests' fixtures): as the row's own agency,
            # which is what the database's row-level security checks a write against.
            with agency_scope(self.agency_id):
                super().save(*args, **kwargs)
            return
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        if current_scope() is None:
            with agency_scope(self.agency_id):
                return super().delete(*args, **kwargs)
        return super().delete(*args, **kwargs)

    def _check_links_stay_in_agency(self) -> None:
        """Every foreign key to another tenant row must point into this row's own agency."""
        for field in self._meta.concrete_fields:
            if not (
                isinstance(field, models.ForeignKey)
                and issubclass(field.related_model, AgencyOwnedModel)
            ):
                continue
            target_id = getattr(self, field.attname)
            if target_id is None:
                continue
            if field.is_cached(self):
                target_agency_id = getattr(self, field.name).agency_id
            else:
                target_agency_id = (
                    field.related_model._base_manager.filter(pk=target_id)
                    .values_list("agency_id", flat=True)
                    .first()
                )
            if target_agency_id != self.agency_id:
                raise TenantMismatch(
                    f"{self._meta.label} of agency {self.agency_id} cannot point through "
                    f"{field.name} to a row of agency {target_agency_id}."
                )


def _use_tenant_base_manager(sender, **kwargs) -> None:
    """Every tenant model's base manager is `rows_in_hand` (a Meta option its own Meta would not
    inherit from the abstract base's)."""
    if issubclass(sender, AgencyOwnedModel) and not sender._meta.base_manager_name:
        sender._meta.base_manager_name = "rows_in_hand"


models.signals.class_prepared.connect(_use_tenant_base_manager)


def tenant_task(**task_options: Any) -> Callable:
    """Declare a Celery task that runs inside one agency's scope.

    The task's first argument is the agency id; the wrapped function receives the Agency. Tasks
    take ids, never objects, and never trust a payload's agency beyond this one argument.
    """
    from celery import shared_task
    from django.db import OperationalError

    defaults = {
        "acks_late": True,
        # Network, SMTP (an OSError) and database outages are retried with backoff.
        "autoretry_for": (OSError, OperationalError),
        "retry_backoff": True,
        "max_retries": 5,
    }

    def decorator(function: Callable) -> Callable:
        @shared_task(
            name=f"{function.__module__}.{function.__name__}", **{**defaults, **task_options}
        )
        @functools.wraps(function)
        def task(agency_id: int, *args: Any, **kwargs: Any) -> Any:
            from agency.models import Agency

            agency = Agency.objects.get(pk=agency_id)
            with agency_scope(agency):
                return function(agency, *args, **kwargs)

        return task

    return decorator
