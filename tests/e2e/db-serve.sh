# db-serve.sh - database migrations beside `slipway serve`, and the type's
# monitoring period after a migration (docs/databases.md "Beside slipway
# serve", "Monitoring"), on a real PostgreSQL 15, real sqitch and the demo
# service behind a real HAProxy:
#   - a migration recorded while a controller runs waits at the gate; the
#     controller says, once, that `db migrate` runs it, and never reports a
#     missing service file 'db.app';
#   - `slipway abort ID` of a pending migration ends it failed with nothing
#     run, applied by the controller (over the local socket) and in-process;
#   - run again once approved, `db migrate --with-release api=v2` migrates,
#     switches api to v2 and watches the services for the monitoring period
#     (the type's hour at --time-scale 3600: one second) under traffic: passes;
#   - the same with a release that answers 500 to part of its requests: the
#     monitoring sees the errors and rolls back: sqitch's registry at the
#     previous change, api back on v2, v3 stopped.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/pg.sh"
need_haproxy
need_pg
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP runs as root (the controller's uid records intents over the socket)"; exit 0; }
pg_start || { echo "not ok 1 - PostgreSQL starts"; exit 1; }
pg_sql postgres "CREATE DATABASE app_prod" && pg_sql postgres "CREATE DATABASE app_staging"
ok $? "production and staging databases created"
export SLIPWAY_POLICY="$SLIPWAY_SRC/examples/lab-policy.yaml"

make_project api 1
make_release api v1 0
make_release api v2 0
make_release api v3 50
run_slipway start api v1
is "$rc" 0 "start api v1"
url="http://127.0.0.1:$PORT/api/items"
mkdir -p "$T/proj/databases"
cp -r "$SLIPWAY_SRC/examples/db" "$T/proj/db"
export APP_PROD_URL APP_STAGING_URL
APP_PROD_URL=$(pg_url app_prod) APP_STAGING_URL=$(pg_url app_staging)
cat >"$T/proj/databases/app.yaml" <<'YAML'
project: db
services: [api]
traffic: read-only
targets:
  production: {url_env: APP_PROD_URL}
  staging: {url_env: APP_STAGING_URL}
YAML
reg() { pg_sql app_prod "SELECT change FROM sqitch.changes WHERE project = 'slipway_demo' ORDER BY committed_at DESC LIMIT 1" 2>/dev/null; }
version() { curl -s "$url" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])' 2>/dev/null; }
approve() { # approve ID: the engineering manager and the DBA of the lab policy, in-process
  SLIPWAY_USER=carol "$SLIPWAY" approve "$1" --role engineering-manager >/dev/null 2>&1
  SLIPWAY_USER=erin "$SLIPWAY" approve "$1" --role dba >/dev/null 2>&1
}
LOAD_PID=""
load_start() { ( while :; do curl -s -o /dev/null "$url"; sleep 0.02; done ) & LOAD_PID=$!; }
load_stop() { [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null; LOAD_PID=""; }
at_exit load_stop

export SLIPWAY_USER=bob
for step in "backup app" "rehearse app --to items"; do
  run_slipway db $step
  is "$rc" 0 "db $step"
done

# ---- a controller runs
unset SLIPWAY_USER
"$SLIPWAY" serve --lease 3 >"$T/serve.log" 2>&1 &
SERVE_PID=$!
SERVE_RC=""
stop_serve() { # sets SERVE_RC: its exit status (ASan reports leaks through it)
  [ -n "$SERVE_PID" ] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_RC=$?; SERVE_PID=""
}
at_exit stop_serve
# the lease line can come after the socket line (a loaded machine, ASan): wait for it, at most 30 s
for _ in $(seq 1 300); do grep -q "holding the controller lease" "$T/serve.log" && break; sleep 0.1; done
like "$(cat "$T/serve.log")" "holding the controller lease" "serve holds the lease"

SLIPWAY_USER=bob run_slipway db migrate app --to items --time-scale 3600
is "$rc" 4 "a migration recorded beside serve waits for its approvals (exit 4)"
id1=$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")
ok "$([ -n "$id1" ]; echo $?)" "recorded as a pending deployment of db.app"
for _ in $(seq 1 50); do grep -q "migration #$id1" "$T/serve.log" && break; sleep 0.1; done
like "$(cat "$T/serve.log")" "db.app/production: migration #$id1 to 'items' waits at the gate; slipway serve does not run database migrations .*run 'slipway db migrate app --to items --env production'" "serve says db migrate runs it"
unlike "$(cat "$T/serve.log")" "cannot drive it now|service file" "serve does not look for a service file 'db.app'"
is "$(grep -c "migration #$id1 to 'items' waits" "$T/serve.log")" 1 "said once"

# ---- abort of the pending migration, applied by the controller
run_slipway abort "$id1"
is "$rc" 0 "abort it over the local socket"
like "$out" "by the controller" "recorded by the controller"
wait_sql "SELECT state FROM deployments WHERE id = $id1" failed
is "$(store_sql "SELECT state FROM deployments WHERE id = $id1")" failed "the controller ends it: failed"
like "$(store_sql "SELECT reason FROM deployments WHERE id = $id1")" "aborted by .* while waiting at the gate: nothing ran" "aborted, nothing ran"
is "$(store_sql "SELECT applied_ms IS NOT NULL, result FROM intents WHERE deployment_id = $id1")" "1 aborted by root" "the intent is applied"
is "$(store_sql "SELECT step FROM db_migrations WHERE deployment_id = $id1")" failed "the migration's record says so"
is "$(reg)" "" "sqitch never ran: the registry is empty"
like "$(cat "$T/serve.log")" "migration #$id1: aborted by" "serve's log says it"

# ---- once approved, db migrate runs it (in its own process) with the release that goes with it;
# the monitoring period passes under traffic
SLIPWAY_USER=bob run_slipway db migrate app --to items --time-scale 3600 --with-release api=v2
is "$rc" 4 "a new migration waits for its approvals"
id2=$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")
approve "$id2"
load_start
SLIPWAY_USER=bob run_slipway db migrate app --to items -o json
load_stop
is "$rc" 0 "migrate to items, api switched to v2, monitored"
is "$(json_get "$out" 'd["state"]')" succeeded "succeeded"
like "$(json_get "$out" 'd["reason"]')" "monitored: the monitoring period passed without an error \([1-9][0-9]* requests" "monitored under traffic without an error"
is "$(reg)" items "sqitch's registry at items"
is "$(version)" v2 "api serves v2"
is "$(store_sql "SELECT COUNT(*) FROM transitions WHERE deployment_id = $id2 AND to_state = 'monitoring'")" 1 "the record has the monitoring period"
is "$(store_sql "SELECT app_service, app_version, app_previous FROM db_migrations WHERE deployment_id = $id2")" "api v2 v1" "the release and the one it replaced are recorded"
is "$(store_sql "SELECT version, from_version, state, type FROM deployments WHERE service = 'api' ORDER BY id DESC LIMIT 1")" "v2 v1 succeeded database-migration" "the switch is a deployment of api in its history"
rel=$(store_sql "SELECT id FROM deployments WHERE service = 'api' ORDER BY id DESC LIMIT 1")
is "$(store_sql "SELECT group_concat(to_state, ' ') FROM (SELECT to_state FROM transitions WHERE deployment_id = $rel ORDER BY id)")" \
  "pending progressing monitoring succeeded" "the switch's deployment has transitions of its own"
is "$(store_sql "SELECT COUNT(*) FROM transitions a JOIN transitions b ON b.deployment_id = a.deployment_id AND b.id = a.id + 1 WHERE a.deployment_id = $rel AND b.at_ms < a.at_ms")" 0 "in the order they happened"
like "$(store_sql "SELECT reason FROM transitions WHERE deployment_id = $rel AND to_state = 'monitoring'")" "v2 has all the traffic" "monitoring from the moment v2 had all the traffic"
run_slipway instances api
unlike "$out" "v1" "v1's instance is stopped after the monitoring"

# ---- monitoring catches errors: v3 answers 500 to half its requests
SLIPWAY_USER=bob run_slipway db backup app
is "$rc" 0 "a backup at items"
SLIPWAY_USER=bob run_slipway db rehearse app --to items_price
is "$rc" 0 "rehearse items_price"
SLIPWAY_USER=bob run_slipway db migrate app --to items_price --time-scale 360 --with-release api=v3
is "$rc" 4 "waits for its approvals"
id3=$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")
approve "$id3"
load_start
SLIPWAY_USER=bob run_slipway db migrate app --to items_price -o json
load_stop
is "$rc" 1 "errors during monitoring: exit 1"
is "$(json_get "$out" 'd["state"]')" rolled_back "rolled back"
is "$(json_get "$out" 'd["failed_step"]')" monitor "at step monitor"
like "$(json_get "$out" 'd["reason"]')" "[1-9][0-9]* errors? \(HTTP 5xx\) in [0-9]+ requests? of the services during monitoring" "the errors are named"
like "$(json_get "$out" 'd["reason"]')" "sqitch reverted to 'items' and verified; api back to v2" "database reverted, then api back to v2"
is "$(reg)" items "sqitch's registry back at items"
is "$(pg_sql app_prod "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'price_cents'")" 0 "the new column is gone"
is "$(version)" v2 "api serves v2 again"
is "$(store_sql "SELECT version, from_version, state FROM deployments WHERE service = 'api' ORDER BY id DESC LIMIT 1")" "v3 v2 rolled_back" "api's history has v3 rolled back"
rel=$(store_sql "SELECT id FROM deployments WHERE service = 'api' ORDER BY id DESC LIMIT 1")
is "$(store_sql "SELECT group_concat(to_state, ' ') FROM (SELECT to_state FROM transitions WHERE deployment_id = $rel ORDER BY id)")" \
  "pending progressing monitoring rolling_back rolled_back" "v3's deployment: switched, monitored, rolled back"
like "$(store_sql "SELECT reason FROM transitions WHERE deployment_id = $rel AND to_state = 'rolling_back'")" "errors? \(HTTP 5xx\).*api back to v2" "its rollback names why"
run_slipway instances api
unlike "$out" "v3" "v3's instance is stopped"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")" 200 "traffic normal after the rollback"

# ---- without a controller: abort of a pending migration is applied by the abort itself
stop_serve
is "$SERVE_RC" 0 "serve stops cleanly (exit 0)"
SLIPWAY_USER=bob run_slipway db migrate app --to items_price --time-scale 3600
is "$rc" 4 "a migration waits for its approvals"
id4=$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")
SLIPWAY_USER=carol run_slipway abort "$id4"
is "$rc" 0 "abort in-process"
like "$out" "migration $id4 \(db.app items_price\): failed: aborted by carol while waiting at the gate: nothing ran" "applied at once"
is "$(store_sql "SELECT state FROM deployments WHERE id = $id4")" failed "the record says failed"
is "$(reg)" items "nothing ran"
SLIPWAY_USER=bob run_slipway db migrate app --to items_price
is "$rc" 4 "migrate again: a new migration (the aborted one is over)"
unlike "$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")" "^$id4\$" "not the aborted one"
done_testing
