"""PostgreSQL row-level security: the second line of tenancy, under the application's scoping.

Every tenant table (the table of every `AgencyOwnedModel`) has RLS enabled and FORCED, with one
policy, for reads and writes alike:

    agency_id = NULLIF(current_setting('app.agency_id', true), '')::bigint
    OR current_setting('app.all_agencies', true) = 'on'

The portal connects as a role that owns no table, is no superuser and has no BYPASSRLS;
`manage.py migrate` connects as the owner (DATABASE_OWNER_URL, see agency/management/commands/
migrate.py), and after every migrate `apply_policies` (re)creates the policies and the app role's
grants, so a new tenant table is covered the day it is created. `manage.py check_rls` reports any
table or role setting that breaks this.

How the tenant reaches the database: the scope the entry points already set (TenantMiddleware,
`tenant_task`, `agency_scope`: one place each) is carried by one execute wrapper installed on
every connection. Before a statement runs it makes sure the current transaction holds the
scope's agency (`set_config(..., true)`, i.e. SET LOCAL: it ends with its transaction, so a
pooled connection never carries it to the next user), by sending the set_config in the same
message as the statement (one transaction, no extra round trip) unless the open transaction
already holds it. With no scope, nothing is set and a tenant table shows no row.

The escape hatches are explicit and visible in the SQL: `Model.objects.unscoped()` (admin/ops and
tenancy plumbing) and the base manager used outside any scope (following a foreign key or
refreshing a row already in hand, as Django does) compile a `/* cross-tenant */` marker, and
only a statement carrying it runs with `app.all_agencies` on. Raw SQL carries no marker.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

from agency.tenancy import AgencyOwnedModel, crossing_tenants, current_scope

CROSS_TENANT_MARKER = "/* cross-tenant */"
POLICY = "tenant_isolation"
CONDITION = (
    "agency_id = NULLIF(current_setting('app.agency_id', true), '')::bigint "
    "OR current_setting('app.all_agencies', true) = 'on'"
)
_SET = "SELECT set_config('app.agency_id', %s, true), set_config('app.all_agencies', %s, true)"
_NOTHING = ("", "")
_IDLE = 0  # psycopg2.extensions.TRANSACTION_STATUS_IDLE: no transaction open yet


def _wanted(sql: str) -> tuple[str, str]:
    scope = current_scope()
    agency = "" if scope is None else str(scope.agency_id)
    return agency, "on" if crossing_tenants() or CROSS_TENANT_MARKER in sql else ""


def _apply(connection, wanted: tuple[str, str]) -> None:
    """SET LOCAL the tenant in the open transaction (a cursor of its own: the statement's may
    be a named server-side cursor, which runs one statement only)."""
    with connection.connection.cursor() as cursor:
        cursor.execute(_SET, wanted)
    connection.rls_applied = (wanted, tuple(connection.savepoint_ids))


def _applied(connection, wanted: tuple[str, str]) -> bool:
    """Whether the open transaction already holds `wanted`: set in this transaction (a new one
    starts idle) and in a savepoint that is still open (a rolled-back one undid it)."""
    applied = getattr(connection, "rls_applied", None)
    if applied is None or connection.connection.info.transaction_status == _IDLE:
        return wanted == _NOTHING
    value, savepoints = applied
    return value == wanted and tuple(connection.savepoint_ids)[: len(savepoints)] == savepoints


def _prefix(wanted: tuple[str, str]) -> str:
    """set_config as a statement sent with the query in one message: PostgreSQL runs a message's
    statements in one transaction, so the SET LOCAL holds for the query and no round trip is
    added. Literals, not parameters (a query without parameters may hold a bare %): the agency
    is digits and the flag "on" or empty."""
    agency, everyone = wanted
    if not agency.isdigit() and agency:
        raise ValueError(f"Not an agency id: {agency!r}")
    return (
        f"SELECT set_config('app.agency_id', '{agency}', true), "
        f"set_config('app.all_agencies', '{'on' if everyone else ''}', true); "
    )


def tenant_execute_wrapper(execute, sql, params, many, context):
    connection = context["connection"]
    wanted = _wanted(sql)
    autocommit = connection.get_autocommit()
    if autocommit and wanted == _NOTHING:
        return execute(sql, params, many, context)
    if not autocommit and _applied(connection, wanted):
        return execute(sql, params, many, context)
    if getattr(context["cursor"].cursor, "name", None):
        # A named (server-side) cursor declares one query: set the tenant on a cursor of its own.
        if autocommit:
            with transaction.atomic(using=connection.alias):
                _apply(connection, wanted)
                return execute(sql, params, many, context)
        _apply(connection, wanted)
        return execute(sql, params, many, context)
    result = execute(_prefix(wanted) + sql, params, many, context)
    if not autocommit:
        connection.rls_applied = (wanted, tuple(connection.savepoint_ids))
    return result


def ensure_tenant(connection) -> None:
    """For SQL sent past Django's cursor (psycopg2's COPY): make the open transaction hold the
    scope's tenant. Call inside `transaction.atomic()`."""
    if connection.vendor != "postgresql":
        return
    if connection.get_autocommit():
        raise RuntimeError("ensure_tenant needs an open transaction (transaction.atomic()).")
    connection.ensure_connection()
    wanted = _wanted("")
    if not _applied(connection, wanted):
        _apply(connection, wanted)


def _install(sender, connection, **kwargs) -> None:
    if (
        connection.vendor == "postgresql"
        and tenant_execute_wrapper not in connection.execute_wrappers
    ):
        connection.execute_wrappers.append(tenant_execute_wrapper)


# --- the policies ---------------------------------------------------------------------------


def tenant_tables() -> list[str]:
    from django.apps import apps

    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if issubclass(model, AgencyOwnedModel) and not model._meta.proxy
        }
    )


def apply_policies(using: str = "default") -> None:
    """Enable and force RLS with the tenant policy on every tenant table, and grant the app role
    (DATABASE_APP_ROLE) what the portal needs. Idempotent; run by every migrate, as the owner."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in tenant_tables():
            if table not in existing:
                continue
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {quote(table)} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {quote(table)}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {quote(table)} USING ({CONDITION}) "
                f"WITH CHECK ({CONDITION})"
            )
        role = settings.DATABASE_APP_ROLE
        if role and role != connection.settings_dict.get("USER"):
            cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quote(role)}")
            cursor.execute(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
                f"TO {quote(role)}"
            )
            cursor.execute(
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quote(role)}"
            )


def _after_migrate(sender, using="default", **kwargs) -> None:
    # post_migrate fires once per app: the agency app's signal does the work (idempotent).
    # It also fires after `flush` (the tests' transactional cleanup), run as the app role, which
    # may not alter tables: only the owner (re)applies the policies.
    if sender.name != "agency":
        return
    role = settings.DATABASE_APP_ROLE
    if role and connections[using].settings_dict.get("USER") == role:
        return
    apply_policies(using)


def connect_signals() -> None:
    connection_created.connect(_install, dispatch_uid="agency.rls.install")
    post_migrate.connect(_after_migrate, dispatch_uid="agency.rls.policies")
    for connection in connections.all(initialized_only=True):
        _install(None, connection)
