# serve-intents.sh - `slipway serve` in the background and no deploy in the
# foreground: deploy only records, and abort, pause, resume, promote, retry
# and undo typed in another command take effect on the controller's next
# tick in every state they apply to: pending (abort), progressing (pause,
# promote, abort), paused (resume), monitoring (promote), rolled back
# (retry), failed (undo --to-revision); SIGHUP with a bad file keeps the
# one in force; SIGTERM stops it cleanly (docs/serve.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

# long holds: every state lasts until a person acts (15m at 120x is 7.5 s)
make_project api 2 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}"
make_release api v1 0 0
make_release api v2 0 0
make_release api v3 0 0

SERVE_PID=""
stop_serve() { [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=""; }
at_exit stop_serve
"$SLIPWAY" serve >"$T/serve.log" 2>&1 &
SERVE_PID=$!
for i in $(seq 1 100); do grep -q "holding the controller lease" "$T/serve.log" && break; sleep 0.1; done
like "$(cat "$T/serve.log")" "holding the controller lease of store" "serve takes the store's controller lease"

# row ID: "STATE STEP WEIGHT" straight from the store
row() { python3 - "$SLIPWAY_STATE_DIR/slipway.db" "$1" <<'PY'
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("select state, step, cast(weight as int) from deployments where id=?", (int(sys.argv[2]),)).fetchone()
print(" ".join(str(x) for x in r) if r else "none")
PY
}
# wait_row ID REGEX: until the row matches (at most 30 s); prints the row
wait_row() {
  local i r
  for i in $(seq 1 300); do r=$(row "$1"); if printf '%s' "$r" | grep -Eq -- "$2"; then echo "$r"; return 0; fi; sleep 0.1; done
  echo "$r"; return 1
}
# intent_result ID: the result of the last intent of deployment ID once applied
intent_result() { python3 - "$SLIPWAY_STATE_DIR/slipway.db" "$1" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
for _ in range(300):
    r = db.execute("select applied_ms, result from intents where deployment_id=? order by id desc limit 1", (int(sys.argv[2]),)).fetchone()
    if r and r[0] is not None:
        print(r[1]); break
    time.sleep(0.1)
else:
    print("not applied")
PY
}
# weight_of VERSION WANT: HAProxy's weight of VERSION once it is WANT (the router is told
# right after the commit the row shows), else what it is after 5 s
weight_of() {
  local i w
  for i in $(seq 1 50); do
    w=$("$SLIPWAY" instances api -o json 2>/dev/null | python3 -c "import json,sys; print(round(json.load(sys.stdin)['weights'].get('$1', 0)))" 2>/dev/null)
    [ "$w" = "$2" ] && break; sleep 0.1
  done
  echo "$w"
}
new_id() { sqlite3 "$SLIPWAY_STATE_DIR/slipway.db" "select max(id) from deployments"; }

# ---- deploy records, serve drives; promote in monitoring ends it
run_slipway deploy api v1 --time-scale 120 -o json
is "$rc" 0 "deploy beside a controller exits 0 at once"
is "$(json_get "$out" 'd["recorded_for_controller"]')" "true" "and says it recorded the deployment for the controller"
like "$err" "recorded \((pending|progressing)\): the controller .* drives it" "its log names the controller"
d1=$(json_get "$out" 'd["id"]')
r=$(wait_row "$d1" '^monitoring')
like "$r" '^monitoring 0 100' "serve drives the first release to monitoring with no deploy running ($r)"
run_slipway promote "$d1"
like "$(intent_result "$d1")" "monitoring ended early" "promote in monitoring is applied by serve"
like "$(wait_row "$d1" '^succeeded')" '^succeeded' "and the deployment succeeded"

# ---- progressing: pause, resume (paused), promote, abort
run_slipway deploy api v2 --time-scale 120
d2=$(new_id)
like "$(wait_row "$d2" '^progressing 1 10')" '^progressing 1 10' "v2 reaches step 1 at 10%"
run_slipway pause "$d2"
like "$(intent_result "$d2")" "paused by" "pause of a progressing deployment applied"
like "$(wait_row "$d2" '^paused')" '^paused 1 10' "it is paused at 10%"
run_slipway resume "$d2"
like "$(intent_result "$d2")" "resumed by" "resume of a paused deployment applied"
like "$(wait_row "$d2" '^progressing')" '^progressing 1 10' "it progresses again at 10%"
run_slipway promote "$d2"
like "$(intent_result "$d2")" "promoted by" "promote of a progressing deployment applied"
like "$(wait_row "$d2" '^progressing 2 50')" '^progressing 2 50' "it moved to step 2 at 50%"
is "$(weight_of v2 50)" 50 "HAProxy sends 50% to v2"
run_slipway abort "$d2"
like "$(intent_result "$d2")" "aborted by" "abort of a progressing deployment applied"
like "$(wait_row "$d2" '^rolled_back')" '^rolled_back' "it rolled back"
is "$(weight_of v1 100)" 100 "HAProxy sends everything to v1 again"

# ---- rolled back: retry makes a new deployment that serve drives
run_slipway retry "$d2"
like "$(intent_result "$d2")" "retry: deployment [0-9]+ of v2 .* created" "retry of a rolled-back deployment applied"
d3=$(new_id)
ok "$([ "$d3" -gt "$d2" ]; echo $?)" "the retry is a new deployment ($d3)"
like "$(wait_row "$d3" '^progressing 1 10')" '^progressing 1 10' "serve drives the retried deployment to step 1"
run_slipway abort "$d3"
like "$(wait_row "$d3" '^rolled_back')" '^rolled_back' "and abort rolls it back"

# ---- pending: abort of a deployment the gate holds (an open incident)
run_slipway incident open api --title "5xx spike"
run_slipway deploy api v3 --time-scale 120
is "$rc" 0 "deploy of v3 is recorded"
d4=$(new_id)
r=$(wait_row "$d4" '^pending'); sleep 0.5
reason=$(sqlite3 "$SLIPWAY_STATE_DIR/slipway.db" "select reason from deployments where id=$d4")
like "$reason" "^waiting: .*incident" "the gate holds v3 pending: $reason"
run_slipway abort "$d4"
like "$(intent_result "$d4")" "aborted by" "abort of a pending deployment applied"
like "$(wait_row "$d4" '^failed')" '^failed' "the pending deployment failed"
run_slipway incident resolve 1

# ---- failed: undo --to-revision (a new deployment of that revision, strategy full)
run_slipway undo "$d4" --to-revision 2
like "$(intent_result "$d4")" "undo: deployment [0-9]+ of v2 \(revision 2\) created" "undo of a failed deployment applied"
d5=$(new_id)
ok "$([ "$d5" -gt "$d4" ]; echo $?)" "the undo is a new deployment ($d5)"
is "$(sqlite3 "$SLIPWAY_STATE_DIR/slipway.db" "select version || ' ' || strategy from deployments where id=$d5")" "v2 full" "of revision 2's version, strategy full"
like "$(wait_row "$d5" '^monitoring')" '^monitoring' "serve drives it to monitoring"

# ---- SIGHUP: a bad service file and a bad policy are reported and the ones in force kept
cp "$T/proj/services/api.yaml" "$T/api.good"
printf 'bogus: [\n' >>"$T/proj/services/api.yaml"
cp "$SLIPWAY_POLICY" "$T/policy.good"
printf 'types: [not a map\n' >>"$SLIPWAY_POLICY"
kill -HUP "$SERVE_PID"
for i in $(seq 1 50); do grep -q "reload: done" "$T/serve.log" && break; sleep 0.1; done
log=$(cat "$T/serve.log")
like "$log" "reload: the policy or the notifications did not load" "a bad policy on SIGHUP is reported"
like "$log" "keeping those in force" "and the policy in force is kept"
like "$log" "reload: .*api.yaml.*keeping the service file in force for api/production" "a bad service file is reported and kept"
cp "$T/api.good" "$T/proj/services/api.yaml"
cp "$T/policy.good" "$SLIPWAY_POLICY"
ok "$(kill -0 "$SERVE_PID"; echo $?)" "serve still runs"
run_slipway undo "$d5"
like "$(intent_result "$d5")" "undone by" "undo of a deployment in flight (monitoring) is applied after the reload"
like "$(wait_row "$d5" '^rolled_back')" '^rolled_back' "and it rolls back"

# ---- deploy --wait beside serve follows the deployment to its end, with deploy's exit codes
"$SLIPWAY" deploy api v3 --time-scale 120 --wait >"$T/follow.out" 2>&1 &
fpid=$!
for i in $(seq 1 100); do [ "$(new_id)" -gt "$d5" ] && break; sleep 0.1; done
d6=$(new_id)
like "$(wait_row "$d6" '^progressing 1 10')" '^progressing 1 10' "serve drives the followed deployment to step 1"
# the follower looks every 250 ms: let it see each state before the next intent
follow_saw() { local i; for i in $(seq 1 100); do grep -q -- "$1" "$T/follow.out" && return 0; sleep 0.1; done; return 1; }
follow_saw "progressing (step 1, weight 10%)"
run_slipway promote "$d6" --full
like "$(wait_row "$d6" '^monitoring')" '^monitoring' "promote --full: monitoring"
follow_saw "monitoring (step"
run_slipway promote "$d6"
wait "$fpid"; frc=$?
follow=$(cat "$T/follow.out")
is "$frc" 0 "deploy --wait exits 0 when the deployment it follows succeeded"
like "$follow" "recorded \(pending\): the controller .* drives it; following it" "it says it follows the controller's work"
like "$follow" "progressing \(step 1, weight 10%\)" "it shows the steps as they happen"
like "$follow" "monitoring \(step 1, weight 100%\)" "and the monitoring period"
like "$follow" "deployment #$d6 of api v3: succeeded" "and the outcome"

# ---- SIGTERM: the tick finishes, the lease is given up, exit 0
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; src=$?; SERVE_PID=""
is "$src" 0 "SIGTERM: serve exits 0"
like "$(cat "$T/serve.log")" "stopping: the last tick finished.*the controller lease is given up" "and says it gave the lease up"
run_slipway serve --status
is "$rc" 1 "no controller holds the lease after it stopped"
run_slipway down api
done_testing
