# router-restart.sh - `kill -9` of the HAProxy slipway started, in the middle
# of a canary step: the next tick starts it again from its mirrored
# configuration, records the event under the deployment, the weights are
# those of the record, and the deployment goes on to succeed instead of
# being rolled back as "canary 0 requests" (docs/haproxy.md "Failure paths").
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
# one step of 50% for 10 minutes, then monitoring for 30: at x30, 20 s and 60 s; intervals
# of 2 s with about 240 requests (120 per second)
make_project api 1 "analysis: {steps: [{weight: 50, hold: 10m}]}"
make_release api v1
make_release api v2
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
hey -z 400s -c 4 -q 30 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

"$SLIPWAY" deploy api v2 --time-scale 30 >"$T/deploy.out" 2>&1 &
ctl=$!
stop_ctl() { kill "$ctl" 2>/dev/null; wait "$ctl" 2>/dev/null; }
at_exit stop_ctl
for i in $(seq 1 300); do [ "$(sql "select state, step from deployments where version='v2'")" = "progressing 1" ] && break; sleep 0.1; done
is "$(sql "select state, step from deployments where version='v2'")" "progressing 1" "the canary is at step 1 (50%)"
cfg="$SLIPWAY_STATE_DIR/routers/api.production/haproxy.cfg"
hap=$(pgrep -f -- "-f $cfg" | head -1)
ok "$([ -n "$hap" ]; echo $?)" "HAProxy runs (pid $hap)"
kill -9 "$hap"
new=""
for i in $(seq 1 100); do
  new=$(pgrep -f -- "-f $cfg" | head -1)
  [ -n "$new" ] && [ "$new" != "$hap" ] && break; new=""; sleep 0.1
done
ok "$([ -n "$new" ]; echo $?)" "a new HAProxy runs within 10 s (pid $new)"
got=$(count_versions 40 "http://127.0.0.1:$PORT/api/x")
like "$got" 'v1 [0-9]+' "it serves v1"
like "$got" 'v2 [0-9]+' "and v2, at the recorded weights"
unlike "$got" 'ERROR|FAIL' "without errors"
like "$(sql "select reason from transitions where reason like 'router:%'")" "router: HAProxy \(pid $hap\) was gone; restarted from its mirrored configuration" "the event is in the record"

for i in $(seq 1 3000); do kill -0 "$ctl" 2>/dev/null || break; sleep 0.1; done
wait "$ctl"; rc=$?
out=$(cat "$T/deploy.out")
is "$rc" 0 "the deployment succeeds: the outage was not blamed on the canary"
[ "$rc" = 0 ] || tail -15 "$T/deploy.out" | sed 's/^/# /'
unlike "$out" 'canary 0 requests' "no interval judged the canary on the router's outage"
said=$(grep -n '\[succeeded\]' "$T/deploy.out" | head -1 | cut -d: -f1)
stopped=$(grep -n 'api v1: drained and stopped' "$T/deploy.out" | head -1 | cut -d: -f1)
ok "$([ -n "$said" ] && [ -n "$stopped" ] && [ "$said" -lt "$stopped" ]; echo $?)" "DEPLOYMENT COMPLETE is said before v1 is drained and stopped (lines $said, $stopped)"
# the message queued by the last tick went out before deploy exited (the default file sink)
like "$(cat "$SLIPWAY_STATE_DIR/notifications.log" 2>/dev/null)" 'DEPLOYMENT COMPLETE' "the DEPLOYMENT COMPLETE message was delivered before deploy exited"
done_testing
