#!/usr/bin/env bash
# tools/demo-db.sh - the second demo: the runbook's "Database Migration" on this
# machine for real (docs/databases.md): a throw-away PostgreSQL 15 on a unix
# socket, real sqitch, the demo service reading and writing the example
# database's `items` table behind a real HAProxy, under load from hey and a
# writer.
#
#   1. the first change ('items'): backup, rehearsal, the policy gate (the
#      engineering manager's and the DBA's approvals), migrate; the service
#      now answers with the table
#   2. the slow change ('items_price', a backfill of a few seconds) under
#      load: backup, rehearsal on a scratch copy of production (deploy,
#      verify, revert, verify), the estimate shown at the gate, the read-only
#      window (reads served and saying so, writes refused with the message),
#      sqitch deploy with its log, verify, traffic normal, the monitoring
#   3. a change that passes its rehearsal (staging has no rows) and fails half
#      way in production ('items_broken'): sqitch reverts it, the registry is
#      back at the previous change, the application served throughout
#   4. the records: `slipway history db.app`, the migration's transitions
# Needs PostgreSQL 15, sqitch and HAProxy: `tools/deps.sh db` installs them
# (Debian packages).  Exit 0 only if every read was answered 200, writes were
# refused only while read-only and with the message, items_price succeeded and
# items_broken was rolled back with the registry at items_price.
#   SLIPWAY_DEMO_KEEP=1   keep the work dir;  SLIPWAY_DEMO_DIR=DIR   work in DIR (kept)
set -u
cd "$(dirname "$0")/.." || exit 2
top=$PWD
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { echo "\$ $*"; }
tools/deps.sh db || { echo "demo-db: cannot install the Debian packages it needs (tools/deps.sh db)" >&2; exit 1; }
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$PG_BIN/initdb" ] || { echo "demo-db: PostgreSQL 15 is not installed ($PG_BIN/initdb)" >&2; exit 1; }
command -v sqitch >/dev/null 2>&1 || { echo "demo-db: sqitch is not installed" >&2; exit 1; }
build=${SLIPWAY_BUILD:-$top/build}
if [ ! -f "$build/build.ninja" ]; then meson setup "$build" >/dev/null || exit 1; fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }
B="$build/slipway"
if [ -n "${SLIPWAY_DEMO_DIR:-}" ]; then W=$SLIPWAY_DEMO_DIR; mkdir -p "$W"; export SLIPWAY_DEMO_KEEP=1
else W=$(mktemp -d /tmp/slipway-demo-db.XXXXXX); fi
export SLIPWAY_STATE_DIR="$W/state" SLIPWAY_PROJECT="$W/project"
export SLIPWAY_POLICY="$top/examples/lab-policy.yaml"
export USER="${USER:-$(id -un)}" SLIPWAY_USER=bob
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- PostgreSQL: initdb into the work directory, a unix socket only (no TCP)
pg_user=postgres
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }
sock="$W/pg/sock"
mkdir -p "$W/pg/data" "$sock"
if [ "$(id -u)" = 0 ]; then chmod 755 "$W"; chown -R "$pg_user" "$W/pg"; else pg_user=$(id -un); fi
as_pg test -w "$W/pg/data" ||
  { echo "demo-db: PostgreSQL runs as '$pg_user', who cannot reach $W/pg (a parent directory is not searchable)" >&2; exit 1; }
load="" writer="" pg_up=0
cleanup() {
  [ -n "$writer" ] && { touch "$W/stop-writes"; wait "$writer" 2>/dev/null; }
  [ -n "$load" ] && kill -INT "$load" 2>/dev/null && wait "$load" 2>/dev/null
  "$B" down api >/dev/null 2>&1
  [ "$pg_up" = 1 ] && as_pg "$PG_BIN/pg_ctl" -D "$W/pg/data" -m fast stop >/dev/null 2>&1
  if [ "${SLIPWAY_DEMO_KEEP:-0}" = 1 ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say "a throw-away PostgreSQL 15 in $W/pg (unix socket $sock, no TCP)"
as_pg "$PG_BIN/initdb" -D "$W/pg/data" -U "$pg_user" --auth=trust -E UTF8 --locale=C >"$W/pg-initdb.log" 2>&1 ||
  { cat "$W/pg-initdb.log"; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$W/pg/data" -l "$W/pg/server.log" -w -t 30 \
  -o "-c listen_addresses='' -c unix_socket_directories='$sock'" start >/dev/null || { cat "$W/pg/server.log"; exit 1; }
pg_up=1
psql_() { "$PG_BIN/psql" -X -q -At -h "$sock" -U "$pg_user" -d "$1" -c "$2"; }
psql_ postgres "CREATE DATABASE app_prod" && psql_ postgres "CREATE DATABASE app_staging" || exit 1
enc=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$sock")
export APP_PROD_URL="postgresql://$pg_user@$enc/app_prod" APP_STAGING_URL="postgresql://$pg_user@$enc/app_staging"
echo "production: database app_prod, staging: app_staging (their URLs in APP_PROD_URL, APP_STAGING_URL: never printed by slipway)"
reg() { psql_ app_prod "SELECT change FROM sqitch.changes WHERE project = 'slipway_demo' ORDER BY committed_at DESC LIMIT 1" 2>/dev/null; }

# ---- the project: the demo service with the production database, the example sqitch project
port=$(free_port)
url="http://127.0.0.1:$port/api/items"
mkdir -p "$W/project/services" "$W/project/releases/api/v1" "$W/project/databases"
echo 0 >"$W/project/releases/api/v1/error_rate"
cat >"$W/project/services/api.yaml" <<YAML
command: ["$build/examples/demo-service/demo-service", "--port", "{port}", "--version", "{version}", "--instance", "{instance}"]
env: {DEMO_DATABASE_URL: "$APP_PROD_URL"}
readiness: {path: /health, timeout: 1s, deadline: 20s}
stop: {grace: 3s, drain: 1s}
environments:
  production: {listen: "127.0.0.1:$port", instances: 2}
YAML
cp -r examples/db "$W/project/db"
msg="Migrating the items table: read-only for a minute"
dbfile() { # USING
  cat >"$W/project/databases/app.yaml" <<YAML
engine: pg
project: db
services: [api]
traffic: read-only
message: "$msg"
rehearsal: {env: staging, using: $1}
targets:
  production: {url_env: APP_PROD_URL}
  staging: {url_env: APP_STAGING_URL}
YAML
}
dbfile restore
say "the database file: databases/app.yaml"
cat "$W/project/databases/app.yaml"
show slipway start api v1
"$B" start api v1 || exit 1
show curl -s "$url"
curl -s -w '  -> HTTP %{http_code}\n' "$url"

# migrate CHANGE: record it (it waits at the gate), the EM and the DBA approve, run it again
migrate() {
  local id rc
  show slipway db migrate app --to "$1" --time-scale 3600
  "$B" db migrate app --to "$1" --time-scale 3600
  id=$("$B" history db.app -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(next((x["id"] for x in d["items"] if x["state"] == "pending"), ""))')
  [ -n "$id" ] || return 1
  show "SLIPWAY_USER=carol slipway approve $id --role engineering-manager"
  SLIPWAY_USER=carol "$B" approve "$id" --role engineering-manager | tail -1
  show "SLIPWAY_USER=erin slipway approve $id --role dba"
  SLIPWAY_USER=erin "$B" approve "$id" --role dba | tail -1
  show slipway db migrate app --to "$1"
  "$B" db migrate app --to "$1"
  rc=$?
  MIG_ID=$id
  return $rc
}

say "1. the first change, 'items': backup, rehearsal, the gate, migrate"
show slipway db backup app
"$B" db backup app || exit 1
show slipway db rehearse app --to items
"$B" db rehearse app --to items || exit 1
migrate items || { echo "demo-db: the migration to items failed"; exit 1; }
show curl -s "$url"
curl -s -w '  -> HTTP %{http_code}\n' "$url"

# ---- load: hey reads; a writer POSTs and reads in turn, logging each answer
load_start() { # TAG
  hey -z 600s -c 4 -q 25 "$url" >"$W/hey-$1.out" 2>&1 &
  load=$!
  : >"$W/writes-$1"; rm -f "$W/stop-writes"
  ( n=0
    while [ ! -f "$W/stop-writes" ]; do
      n=$((n + 1))
      c=$(curl -s -o "$W/w.body" -w '%{http_code}' -X POST "$url?name=$1-$n")
      echo "$c $(tr -d '\n' <"$W/w.body")" >>"$W/writes-$1"
      echo "READ $(curl -s "$url" | cut -c1-200)" >>"$W/writes-$1"
      sleep 0.05
    done ) &
  writer=$!
  echo "load: hey -z 600s -c 4 -q 25 $url (reads, up to 100 a second); a writer: POST $url?name=... then GET, in turn"
  sleep 1
}
# after the migration: until the writer has made a write that was served (at most 20 s), so the
# record shows writes served again after the window, however slow the loop runs on a loaded machine
writes_resume() { # TAG
  local n i
  n=$(wc -l <"$W/writes-$1")
  for i in $(seq 1 200); do
    tail -n +$((n + 1)) "$W/writes-$1" | grep -q '^201 ' && return 0
    sleep 0.1
  done
  return 1
}
load_stop() {
  touch "$W/stop-writes"; wait "$writer" 2>/dev/null; writer=""
  kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; load=""
}
hey_codes() { awk '/^Status code distribution:/ { s = 1; next } /^[^ \t]/ { s = 0 } s && /\[[0-9]+\]/ { gsub(/[][]/, "", $1); print $1, $2 }' "$1"; }
hey_errors() { awk '/^Error distribution:/ { e = 1; next } /^[^ \t]/ { e = 0 } e && /\[[0-9]+\]/ { gsub(/[][]/, "", $1); n += $1 } END { print n + 0 }' "$1"; }
# report TAG: what the load saw; sets bad=1 when a read failed or a write was refused outside read-only
bad=0
report() {
  local total non200 errs codes refused wrong
  total=$(hey_codes "$W/hey-$1.out" | awk '{ n += $2 } END { print n + 0 }')
  non200=$(hey_codes "$W/hey-$1.out" | awk '$1 != 200 { n += $2 } END { print n + 0 }')
  errs=$(hey_errors "$W/hey-$1.out")
  echo "reads (hey): $total answers, $non200 not 200, $errs without an answer"
  [ "$total" -gt 0 ] && [ "$non200" = 0 ] && [ "$errs" = 0 ] || bad=1
  codes=$(awk '$1 != "READ" { printf "%s ", $1 }' "$W/writes-$1")
  refused=$(grep -c '^405 ' "$W/writes-$1")
  wrong=$(grep '^405 ' "$W/writes-$1" | cut -d' ' -f2- | grep -cvx "$msg")
  echo "writes: $(echo "$codes" | wc -w) made, $(grep -c '^201 ' "$W/writes-$1") served (201), $refused refused (405), in this order: $(echo "$codes" | tr ' ' '\n' | grep . | uniq -c | awk '{ printf "%s x%s  ", $2, $1 }')"
  echo "$codes" | grep -Eq '^(201 )+(405 )*(201 )+$' && [ "$wrong" = 0 ] || { echo "demo-db: writes were refused outside one read-only window, or without the message"; bad=1; }
  if [ "$refused" -gt 0 ]; then
    echo "a refused write (HAProxy's answer, the database file's message):"
    echo "  $(grep -m1 '^405 ' "$W/writes-$1")"
    echo "a read meanwhile (the service, told by HAProxy's X-Slipway-Traffic header):"
    echo "  $(grep -m1 '"traffic":"read-only"' "$W/writes-$1" | cut -c6-)"
  fi
}

say "2. the slow change, 'items_price', read-only while it runs, under load"
show slipway db backup app
"$B" db backup app || exit 1
show slipway db rehearse app --to items_price
"$B" db rehearse app --to items_price || exit 1
load_start price
migrate items_price
price=$?
writes_resume price
load_stop
report price
echo "sqitch's registry in production: $(reg)"
show curl -s "$url"
curl -s -w '  -> HTTP %{http_code}\n' "$url" | cut -c1-300

say "3. a change that passes its rehearsal and fails in production, 'items_broken'"
echo "staging has the schema but no rows (sqitch deploy there, the rows deleted): the backfill divides nothing by zero there;"
echo "rehearse on staging's own database (rehearsal.using: target)"
dbfile target
show "SQITCH_TARGET=\$APP_STAGING_URL sqitch deploy --to items_price   # in db/"
( cd "$W/project/db" && SQITCH_TARGET=$APP_STAGING_URL sqitch deploy --to items_price >"$W/staging.log" 2>&1 ) &&
  psql_ app_staging "DELETE FROM items" || { cat "$W/staging.log"; exit 1; }
show slipway db backup app
"$B" db backup app || exit 1
show slipway db rehearse app --to items_broken
"$B" db rehearse app --to items_broken || exit 1
load_start broken
migrate items_broken
broken=$?
broken_id=$MIG_ID
writes_resume broken
load_stop
report broken
echo "sqitch's registry in production: $(reg)"
show curl -s -X POST "$url?name=after"
after=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url?name=after"); echo "  -> HTTP $after"

say "4. the records"
show slipway history db.app
"$B" history db.app
show slipway show "$broken_id"
"$B" show "$broken_id" | sed '/^comparison:/,$d' | cut -c1-220
echo "sqitch's log of each migration: $SLIPWAY_STATE_DIR/db/app/migrate-ID.log"

ok=0
[ "$price" = 0 ] && echo "items_price: migrated, verified, monitored" || { echo "demo-db: items_price did not succeed (exit $price)"; ok=1; }
[ "$broken" = 1 ] && [ "$(reg)" = items_price ] && echo "items_broken: failed half way, rolled back, sqitch's registry at items_price" ||
  { echo "demo-db: items_broken was not rolled back (exit $broken, registry at '$(reg)')"; ok=1; }
[ "$bad" = 0 ] && echo "the application: every read answered 200, writes refused only while read-only, with the message" || ok=1
[ "$after" = 201 ] && echo "writes served again" || { echo "demo-db: a write after the rollback answered $after"; ok=1; }
exit $ok
