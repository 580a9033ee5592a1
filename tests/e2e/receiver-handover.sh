# receiver-handover.sh - the log receiver lives in whichever slipway took
# its lock first; when that one exits in the middle of another service's
# deployment, the deploying controller takes the receiver over within a
# second, and the deployment is judged on its metrics (it succeeds) instead
# of being rolled back as "canary 0 requests" (docs/services.md "Builtin
# metrics").  The first receiver here is `slipway metrics --receive`; a
# `deploy` of another service that ends behaves the same.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v hey >/dev/null 2>&1 || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }

DB="$SLIPWAY_STATE_DIR/slipway.db"
sql() { python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
try:
    for r in sqlite3.connect(sys.argv[1], timeout=5).execute(sys.argv[2]).fetchall():
        print(" ".join(str(x) for x in r))
except Exception:
    pass
PY
}
# one step of 50% for 10 minutes, then monitoring for 30: at x30, 20 s and 60 s;
# intervals of 2 s with about 240 requests (120 per second)
make_project shop 1 "analysis: {steps: [{weight: 50, hold: 10m}]}"
make_release shop v1
make_release shop v2
run_slipway start shop v1
is "$rc" 0 "v1 is the stable revision"
start_receiver
ok $? "another slipway receives the log"
hey -z 400s -c 4 -q 30 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

"$SLIPWAY" deploy shop v2 --time-scale 30 >"$T/deploy.out" 2>&1 &
ctl=$!
stop_ctl() { kill "$ctl" 2>/dev/null; wait "$ctl" 2>/dev/null; }
at_exit stop_ctl
for i in $(seq 1 300); do [ "$(sql "select state, step from deployments where version='v2'")" = "progressing 1" ] && break; sleep 0.1; done
is "$(sql "select state, step from deployments where version='v2'")" "progressing 1" "the canary is at step 1 (50%)"
stop_receiver
echo "# the other receiver stopped at: $(sql "select state, step from deployments where version='v2'")"
took=""
for i in $(seq 1 100); do
  [ "$(cat "$SLIPWAY_STATE_DIR/log.lock" 2>/dev/null | tr -d '\n')" = "$ctl" ] && { took=1; break; }
  sleep 0.1
done
ok "$([ -n "$took" ]; echo $?)" "the deploying controller took the receiver over (log.lock names pid $ctl)"

for i in $(seq 1 3000); do kill -0 "$ctl" 2>/dev/null || break; sleep 0.1; done
wait "$ctl"; rc=$?
out=$(cat "$T/deploy.out")
is "$rc" 0 "the deployment succeeds on the metrics the new receiver gets"
[ "$rc" = 0 ] || tail -15 "$T/deploy.out" | sed 's/^/# /'
like "$out" 'the log receiver of another slipway stopped; this one receives now' "it says so"
unlike "$out" 'canary 0 requests' "no interval was judged without metrics"
done_testing
