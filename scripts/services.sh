#!/usr/bin/env bash
# Start the PostgreSQL and Redis that the tests and benchmarks use, installing them with apt-get
# when missing (as root). Idempotent: what already runs is left alone. The last three lines printed
# are the DATABASE_URL, DATABASE_OWNER_URL and REDIS_URL to use; `make services` writes them to
# .services.env too.
#
# Two database roles (agency/rls.py): portal_owner creates the tables and their row-level security
# policies (migrate, the tests' database set-up); portal_app, which the portal and the tests
# connect as, is no superuser, has no BYPASSRLS and owns nothing.
#
# The PostgreSQL cluster is a throwaway one (trust auth on 127.0.0.1, fsync off): for tests only.
set -euo pipefail

PG_PORT="${PORTAL_PG_PORT:-54329}"
REDIS_PORT="${PORTAL_REDIS_PORT:-63799}"
PG_DIR="${PORTAL_PG_DIR:-/tmp/portal-pg-$PG_PORT}"
DB_NAME="portal"

log() { printf 'services: %s\n' "$*" >&2; }

apt_install() {
  if [ "$(id -u)" != "0" ]; then
    log "missing $*; install it (apt-get install $*) or run as root"; exit 1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; APT_UPDATED=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then apt_install postgresql; fi
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
PG_BIN="$(pg_bin)"

if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  if [ ! -s "$PG_DIR/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $PG_DIR"
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$PG_DIR"; RUN_AS=(su postgres -c); else RUN_AS=(bash -c); fi
    "${RUN_AS[@]}" "$PG_BIN/initdb -D $PG_DIR -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >&2
  else
    if [ "$(id -u)" = "0" ]; then RUN_AS=(su postgres -c); else RUN_AS=(bash -c); fi
  fi
  # A cluster killed hard (a stopped session, a crashed machine) leaves its postmaster.pid behind;
  # once no process holds it, it is stale and PostgreSQL may be started again.
  pid_file="$PG_DIR/postmaster.pid"
  if [ -f "$pid_file" ] && ! kill -0 "$(head -n 1 "$pid_file")" 2>/dev/null; then
    log "removing the stale $pid_file"; rm -f "$pid_file"
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  for attempt in 1 2 3; do
    if "${RUN_AS[@]}" "$PG_BIN/pg_ctl -D $PG_DIR -l $PG_DIR/server.log -w -t 60 start -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200'" >&2; then
      break
    fi
    [ "$attempt" = 3 ] && { tail -n 20 "$PG_DIR/server.log" >&2; exit 1; }
    log "PostgreSQL did not start (attempt $attempt); retrying"; sleep 3
    [ -f "$pid_file" ] && ! kill -0 "$(head -n 1 "$pid_file")" 2>/dev/null && rm -f "$pid_file"
  done
fi
if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $DB_NAME" >&2
fi

psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qc "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portal_owner') THEN
    CREATE ROLE portal_owner LOGIN NOSUPERUSER CREATEDB NOCREATEROLE BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portal_app') THEN
    CREATE ROLE portal_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END \$\$" >&2
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "ALTER DATABASE $DB_NAME OWNER TO portal_owner" >&2
# Tables an earlier set-up created as another role pass to the owner (migrate runs as the owner).
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DB_NAME" -v ON_ERROR_STOP=1 -qc "DO \$\$
DECLARE t record;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'portal_owner'
  LOOP EXECUTE format('ALTER TABLE public.%I OWNER TO portal_owner', t.tablename); END LOOP;
END \$\$" >&2

if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --pidfile "/tmp/portal-redis-$REDIS_PORT.pid" --logfile "/tmp/portal-redis-$REDIS_PORT.log"
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "DATABASE_URL=postgres://portal_app@127.0.0.1:$PG_PORT/$DB_NAME"
echo "DATABASE_OWNER_URL=postgres://portal_owner@127.0.0.1:$PG_PORT/$DB_NAME"
echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
