# tests/e2e/lib/pg.sh - a throw-away PostgreSQL 15 cluster for end-to-end
# tests (sourced after tests/cli/lib.sh, which provides $T and at_exit).
#
#   need_pg                 skip the whole test without PostgreSQL 15 and sqitch
#   pg_start                initdb into $T/pg, start it listening on a unix
#                           socket in $T/pg/sock only (no TCP); sets PGSOCK
#   pg_url DBNAME           the libpq URL of DBNAME on that cluster
#   pg_sql DBNAME SQL       run SQL with psql, unaligned, tuples only
#   pg_stop                 stop it (registered with at_exit by pg_start)
# The cluster runs as the 'postgres' system user when the test runs as root
# (initdb refuses root); the socket directory is then made reachable for it.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=postgres

need_pg() {
  if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
    echo "1..0 # SKIP PostgreSQL 15 is not installed (tools/deps.sh test)"; exit 0
  fi
  if ! command -v sqitch >/dev/null 2>&1; then
    echo "1..0 # SKIP sqitch is not installed (tools/deps.sh test)"; exit 0
  fi
}

_pg_as() { # run a command as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

pg_start() {
  PGDIR="$T/pg"
  PGSOCK="$PGDIR/sock"
  mkdir -p "$PGDIR/data" "$PGSOCK"
  if [ "$(id -u)" = 0 ]; then
    chmod 755 "$T"; chown -R "$PG_USER" "$PGDIR"
  else
    PG_USER=$(id -un)
  fi
  _pg_as "$PG_BIN/initdb" -D "$PGDIR/data" -U "$PG_USER" --auth=trust -E UTF8 --locale=C >"$T/pg-initdb.log" 2>&1 ||
    { cat "$T/pg-initdb.log"; return 1; }
  # no TCP at all: listen_addresses is empty; the socket lives in the test's directory
  _pg_as "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 \
    -o "-c listen_addresses='' -c unix_socket_directories='$PGSOCK' -c fsync=off" start >/dev/null ||
    { cat "$PGDIR/server.log"; return 1; }
  at_exit pg_stop
  export PGHOST="$PGSOCK" PGUSER="$PG_USER"
}

pg_stop() {
  [ -n "${PGDIR:-}" ] && [ -f "$PGDIR/data/postmaster.pid" ] &&
    _pg_as "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1
  return 0
}

pg_url() { # DBNAME
  local sock
  sock=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PGSOCK")
  echo "postgresql://$PG_USER@$sock/$1"
}

pg_sql() { # DBNAME SQL
  "$PG_BIN/psql" -X -q -At -h "$PGSOCK" -U "$PG_USER" -d "$1" -c "$2"
}
