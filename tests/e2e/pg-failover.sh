# pg-failover.sh - two `slipway serve` on one PostgreSQL store, on two state
# directories (as on two machines; docs/records.md "PostgreSQL", docs/serve.md):
# one holds the lease and drives; it is killed (SIGKILL) mid-rollout; the
# standby takes the lease once it expires, adopts the instances and HAProxy,
# and finishes the deployment (an abort recorded after the kill); every
# transition and every notification of the deployment is recorded exactly once.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/pg.sh"
need_haproxy
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  echo "1..0 # SKIP PostgreSQL 15 is not installed (tools/deps.sh test)"; exit 0
fi
pg_start || { echo "not ok 1 - PostgreSQL starts"; echo "1..1"; exit 1; }
"$PG_BIN/createdb" -h "$PGSOCK" -U "$PG_USER" --locale=C slipway
export SLIPWAY_STORE=$(pg_url slipway)
pgq() { pg_sql slipway "$1"; }
wait_pg() { # SQL WANT [SECONDS]
  local i
  for i in $(seq 1 $(( ${3:-60} * 10 ))); do [ "$(pgq "$1")" = "$2" ] && return 0; sleep 0.1; done
  return 1
}
holder_pid() { pgq "SELECT pid FROM controller_lease WHERE expires_ms > (extract(epoch FROM now()) * 1000)::bigint"; }

make_project api 1 "analysis: {steps: [{weight: 50, hold: 10m}]}"
make_release api v1
make_release api v2
mkdir -p "$T/a" "$T/b"
SLIPWAY_STATE_DIR="$T/a" "$SLIPWAY" serve --lease 5 --listen "127.0.0.1:$(free_port)" >"$T/a.out" 2>&1 &
a=$!
wait_pg "SELECT count(*) FROM controller_lease WHERE pid = $a" 1 30
ok $? "the first serve holds the lease"
SLIPWAY_STATE_DIR="$T/b" "$SLIPWAY" serve --lease 5 --listen "127.0.0.1:$(free_port)" >"$T/b.out" 2>&1 &
b=$!
stop_b() { kill -TERM "$b" 2>/dev/null; wait "$b" 2>/dev/null; }
at_exit stop_b
sleep 1
is "$(holder_pid)" "$a" "the second one stands by"

export SLIPWAY_STATE_DIR="$T/b"
run_slipway deploy api v1 --time-scale 60
is "$rc" 0 "deploy records v1"
wait_pg "SELECT state FROM deployments WHERE version = 'v1'" monitoring
ok $? "the leader brings v1 to monitoring"
run_slipway promote 1
wait_pg "SELECT state FROM deployments WHERE version = 'v1'" succeeded
ok $? "v1 succeeded"
run_slipway deploy api v2 --time-scale 60
wait_pg "SELECT step FROM deployments WHERE version = 'v2'" 1
ok $? "v2 at its first step (50%)"

kill -KILL "$a"
wait "$a" 2>/dev/null
run_slipway abort 2
is "$rc" 0 "an abort recorded while nobody leads"
wait_pg "SELECT pid FROM controller_lease" "$b" 30
ok $? "the standby takes the lease once it expires"
wait_pg "SELECT state FROM deployments WHERE version = 'v2'" rolled_back 60
ok $? "and finishes the deployment: v2 rolled back"
like "$(cat "$T/b.out")" "driving deployment #2 of api v2" "the standby says it took the deployment over"
is "$(count_versions 10 "http://127.0.0.1:$PORT/")" "v1 10" "HAProxy sends everything to v1"

# exactly once: no transition and no notification twice
is "$(pgq "SELECT count(*) FROM (SELECT deployment_id, from_state, to_state, step, reason FROM transitions
           GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1) AS twice")" 0 "no transition recorded twice"
is "$(pgq "SELECT to_state FROM transitions WHERE deployment_id = 2 AND to_state IN ('rolling_back', 'rolled_back')
           ORDER BY id" | tr '\n' ,)" "rolling_back,rolled_back," "the rollback once"
is "$(pgq "SELECT kind || ' ' || deployment_id || ' ' || count(*) FROM notify_messages GROUP BY kind, deployment_id
           ORDER BY deployment_id, kind" | tr '\n' ,)" "complete 1 1,followup 1 1,starting 1 1,rollback 2 1,starting 2 1," \
  "each notification once"
is "$(pgq "SELECT count(*) FROM intents WHERE applied_ms IS NULL")" 0 "every intent applied"
is "$(pgq "SELECT count(*) FROM intents WHERE deployment_id = 2 AND kind = 'abort'")" 1 "the abort once"
run_slipway audit --verify
is "$rc" 0 "the audit chain holds"
stop_b
run_slipway down api
done_testing
