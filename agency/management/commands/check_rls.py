"""`python manage.py check_rls`: every tenant table has row-level security enabled and forced
with the tenant policy, and the role the portal connects as cannot get around it (no superuser,
no BYPASSRLS, owns no table). Prints each problem; exits 1 when it finds any."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from agency.rls import POLICY, tenant_tables


def rls_problems() -> list[str]:
    """What is wrong, one line each; [] when the database keeps tenants apart."""
    if connection.vendor != "postgresql":
        return [f"The database is {connection.vendor}: row-level security needs PostgreSQL."]
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND c.relname = ANY(%s)",
            [POLICY, tenant_tables()],
        )
        found = {row[0]: row[1:] for row in cursor.fetchall()}
        for table in tenant_tables():
            if table not in found:
                problems.append(f"{table}: table missing (run migrate)")
                continue
            enabled, forced, has_policy = found[table]
            if not enabled:
                problems.append(f"{table}: row-level security not enabled")
            if not forced:
                problems.append(f"{table}: row-level security not forced")
            if not has_policy:
                problems.append(f"{table}: no {POLICY} policy")
        cursor.execute(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
            "FROM pg_roles WHERE rolname = current_user"
        )
        role, superuser, bypass, createrole, createdb = cursor.fetchone()
        for flag, label in (
            (superuser, "is a superuser"),
            (bypass, "has BYPASSRLS"),
            (createrole, "has CREATEROLE"),
            (createdb, "has CREATEDB"),
        ):
            if flag:
                problems.append(f"app role {role}: {label}")
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND pg_get_userbyid(c.relowner) = current_user"
        )
        owned = cursor.fetchone()[0]
        if owned:
            problems.append(
                f"app role {role}: owns {owned} tables (an owner may turn its policies off)"
            )
    return problems


class Command(BaseCommand):
    help = "Check that every tenant table has row-level security and the app role cannot bypass it."

    def handle(self, *args, **options):
        problems = rls_problems()
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} row-level security problem(s).", returncode=1)
        self.stdout.write(
            f"Row-level security: {len(tenant_tables())} tenant tables enabled, forced, with "
            "their policy; the app role cannot bypass it."
        )
