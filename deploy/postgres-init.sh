#!/usr/bin/env bash
# Runs once, when the postgres container creates its database (/docker-entrypoint-initdb.d).
# POSTGRES_USER (portal) owns the database and its tables: `migrate` connects as it
# (DATABASE_OWNER_URL). The portal itself connects as portal_app: no superuser, no BYPASSRLS,
# owns nothing, so PostgreSQL's row-level security applies to it (agency/rls.py); migrate grants
# it what it needs on every run.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE portal_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
  PASSWORD :'app_password';
SQL
