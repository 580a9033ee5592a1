# pgstore.sh - the store on PostgreSQL (docs/records.md "PostgreSQL"): a
# throw-away PostgreSQL 15 (initdb in the test's directory, a unix socket
# there, no TCP; tests/e2e/lib/pg.sh) runs the statement layer's and the
# store modules' unit cases (build/tests/test_sql, the same as on SQLite, and
# every unit test that opens a store, with SLIPWAY_STORE pointing at it), and
# the slipway binary pointed at it: a first release and a rolled-back canary
# through a real HAProxy and real instances (deploy, promote, abort, status,
# show, history, log, dora), with no SQLite file written.  Skipped without
# PostgreSQL 15's server programs; the deployments without HAProxy.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/pg.sh"
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  echo "1..0 # SKIP PostgreSQL 15 is not installed (tools/deps.sh test)"; exit 0
fi
pg_start || { echo "not ok 1 - PostgreSQL starts"; echo "1..1"; exit 1; }
"$PG_BIN/createdb" -h "$PGSOCK" -U "$PG_USER" slipway_unit && "$PG_BIN/createdb" -h "$PGSOCK" -U "$PG_USER" slipway_cli
ok $? "two databases"

# the unit cases, on both backends; their TAP lines become this test's
out=$(SLIPWAY_TEST_PG_URL=$(pg_url slipway_unit) "$SLIPWAY_BUILD/tests/test_sql" 2>&1); rc=$?
is "$rc" 0 "test_sql passes on SQLite and PostgreSQL"
unlike "$out" '^not ok' "no case failed"
unlike "$out" 'SKIP' "the PostgreSQL cases ran"
like "$out" 'ok [0-9]+ - the audit chain.s head is the same on both backends' "the audit chain is the same on both"
printf '%s\n' "$out" | grep '^not ok' -A3 | sed 's/^/#   /'
is "$(pg_sql slipway_unit "SELECT module || ' ' || version FROM schema_version ORDER BY module" | tr '\n' ,)" \
  "approvals 1,audit 1,checklist 2,deployments 4,emergency 1,flags 2,followup 1,incidents 1,lease 1,local 3,metrics 2,notify 1,tokens 1," \
  "schema_version as psql sees it: every module of store_open_all()"

# the store modules' unit tests on PostgreSQL (store_open() follows SLIPWAY_STORE), one database each:
# deployments, transitions, intents, analysis results through real ticks and the lease fencing a tick's
# commit (test_controller, test_lease), the builtin metrics' receiver and queries (test_flag_metrics), the
# follow-ups (test_followup), the gate's checklists (test_gate), analysis results (test_query_analysis),
# judges (test_registry), the API's reads (test_api), the databases module (test_database), the records'
# modules: audit chain, approvals, emergencies, incidents, notifications, deployment reads (test_records_store)
for t in test_controller test_lease test_flag_metrics test_followup test_gate test_query_analysis test_registry \
         test_api test_database test_records_store; do
  "$PG_BIN/createdb" -h "$PGSOCK" -U "$PG_USER" "$t"
  out=$(SLIPWAY_STORE=$(pg_url "$t") "$SLIPWAY_BUILD/tests/$t" 2>&1); rc=$?
  is "$rc" 0 "$t passes on PostgreSQL"
  printf '%s\n' "$out" | grep '^not ok' -A3 | sed 's/^/#   /'
done

# the binary on PostgreSQL
export SLIPWAY_STORE=$(pg_url slipway_cli)
run_slipway status -o json
is "$rc" 0 "status on an empty PostgreSQL store"
is "$(json_get "$out" 'len(d["deployments"])')" 0 "nothing recorded yet"
is "$(pg_sql slipway_cli "SELECT count(*) FROM schema_version WHERE version = 0")" 0 "no module was half set up"
is "$(pg_sql slipway_cli "SELECT count(*) FROM schema_version WHERE module IN ('local', 'metrics', 'tokens', 'flags', 'followup')")" \
  5 "every module of store_open_all() has its tables"

if command -v haproxy >/dev/null 2>&1 && [ -x "$SLIPWAY_BUILD/examples/demo-service/demo-service" ]; then
  . "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
  pgq() { pg_sql slipway_cli "$1"; }
  wait_pg() { # SQL WANT: up to 60 s
    local i
    for i in $(seq 1 600); do [ "$(pgq "$1")" = "$2" ] && return 0; sleep 0.1; done
    return 1
  }
  make_project api 1 "analysis: {steps: [{weight: 50, hold: 10m}]}"
  make_release api v1
  make_release api v2
  "$SLIPWAY" deploy api v1 --time-scale 60 >"$T/v1.out" 2>&1 &
  ctl=$!
  wait_pg "SELECT state FROM deployments WHERE version = 'v1'" monitoring
  ok $? "deploy: the first release reaches monitoring (read with psql)"
  run_slipway promote 1
  is "$rc" 0 "promote"
  wait_pid "$ctl" 60
  is "$rc" 0 "v1 succeeded (deploy exits 0)"
  [ "$rc" = 0 ] || tail -5 "$T/v1.out" | sed 's/^/#   /'
  "$SLIPWAY" deploy api v2 --time-scale 60 >"$T/v2.out" 2>&1 &
  ctl=$!
  wait_pg "SELECT step FROM deployments WHERE version = 'v2'" 1
  ok $? "v2 reaches its first step (50%)"
  is "$(count_versions 20 "http://127.0.0.1:$PORT/" | awk '{print $1}' | tr '\n' ' ')" "v1 v2 " "HAProxy sends traffic to both"
  run_slipway abort 2
  is "$rc" 0 "abort"
  wait_pid "$ctl" 60
  is "$rc" 1 "v2 rolled back (deploy exits 1)"
  is "$(pgq "SELECT id || ' ' || state FROM deployments ORDER BY id" | tr '\n' ,)" "1 succeeded,2 rolled_back," \
    "the deployments as psql sees them"
  is "$(pgq "SELECT count(*) > 0 FROM transitions WHERE deployment_id = 2 AND to_state = 'rolled_back'")" t \
    "the rollback's transition"
  ok "$([ "$(pgq "SELECT coalesce(sum(requests), 0) FROM request_stats")" -ge 20 ]; echo $?)" \
    "HAProxy's request log reached the builtin metrics in PostgreSQL"
  run_slipway status -o json
  is "$rc" 0 "status"
  is "$(json_get "$out" '[(x["id"], x["state"]) for x in d["deployments"]]')" '[[2, "rolled_back"], [1, "succeeded"]]' \
    "status lists both"
  run_slipway show 2
  is "$rc" 0 "show"
  like "$out" "rolled back to v1: aborted by" "show says why"
  run_slipway history api -o json
  is "$rc" 0 "history"
  schema_ok "$out" DeploymentList "history -o json validates"
  is "$(json_get "$out" '[x["state"] for x in d["items"]]')" '["rolled_back", "succeeded"]' "history, newest first"
  run_slipway log
  like "$out" "api +v2" "log"
  run_slipway dora -o json
  is "$rc" 0 "dora"
  is "$(json_get "$out" '[d["deployments"]["finished"], d["deployments"]["succeeded"], d["deployments"]["rolled_back"]]')" \
    "[2, 1, 1]" "dora counts them"
  run_slipway audit --verify
  is "$rc" 0 "the audit chain holds"
  run_slipway down api
  is "$rc" 0 "down"

  # slipway serve on PostgreSQL (a database of its own): the controller takes the lease, drives a
  # deployment recorded by deploy, answers the API with a token kept in PostgreSQL, and stops on SIGTERM
  "$PG_BIN/createdb" -h "$PGSOCK" -U "$PG_USER" slipway_serve
  export SLIPWAY_STORE=$(pg_url slipway_serve)
  pgq() { pg_sql slipway_serve "$1"; }
  APORT=$(free_port)
  "$SLIPWAY" serve --listen "127.0.0.1:$APORT" >"$T/serve.out" 2>&1 &
  srv=$!
  for i in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/readyz")" = 200 ] && break; sleep 0.1
  done
  run_slipway serve --status -o json
  is "$(json_get "$out" 'd["held"]')" true "serve holds the lease of the PostgreSQL store"
  run_slipway token create --user ci --role deployer
  is "$rc" 0 "a token"
  tok=$(printf '%s\n' "$out" | grep -o 'swt_[0-9a-f]\{64\}' | head -1)
  run_slipway deploy api v1 --time-scale 60
  is "$rc" 0 "deploy records v1 and returns: serve drives it"
  wait_pg "SELECT state FROM deployments WHERE version = 'v1'" monitoring
  ok $? "serve brings v1 to monitoring"
  run_slipway promote 1
  wait_pg "SELECT state FROM deployments WHERE version = 'v1'" succeeded
  ok $? "and applies the promote"
  api=$(curl -s -H "Authorization: Bearer $tok" "http://127.0.0.1:$APORT/api/v1/deployments")
  is "$(json_get "$api" '[(x["id"], x["state"]) for x in d["items"]]')" '[[1, "succeeded"]]' "the API reads it"
  is "$(pgq "SELECT count(*) FROM notify_messages WHERE deployment_id = 1 AND kind = 'starting'")" 1 \
    "one 'starting' notification queued"
  kill -TERM "$srv"
  wait_pid "$srv" 30
  is "$rc" 0 "serve stops on SIGTERM"
  [ "$rc" = 0 ] || tail -5 "$T/serve.out" | sed 's/^/#   /'
  is "$(pgq "SELECT count(*) FROM controller_lease WHERE expires_ms > (extract(epoch FROM now()) * 1000)::bigint")" 0 \
    "and gives the lease up"
  run_slipway down api
else
  skip "the deployments on PostgreSQL" "haproxy or the demo service is missing"
fi
ok "$([ ! -e "$SLIPWAY_STATE_DIR/slipway.db" ]; echo $?)" "no SQLite store was written"
SLIPWAY_STORE="mysql://x" run_slipway status
is "$rc" 2 "a store URL of another kind is a configuration error"
like "$err" "SLIPWAY_STORE is neither empty nor a PostgreSQL URL" "saying what would be valid"
SLIPWAY_STORE="postgresql://$PG_USER@$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$T/nowhere")/x" \
  run_slipway status
is "$rc" 3 "an unreachable PostgreSQL is a store error"
like "$err" "cannot open store 'postgresql://" "naming the store"
done_testing
