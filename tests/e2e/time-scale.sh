# time-scale.sh - `deploy --time-scale N` shortens holds, analysis intervals,
# deadlines and monitoring, and nothing else (docs/engine.md "Time scale"):
#   1. a deployment waiting for a window that is closed at the real time stays
#      pending when deploy runs again later, however many scaled hours passed,
#      and `slipway check` says the same;
#   2. an approval given a few seconds before a run at 300x, with a 10-minute
#      TTL, is still valid; the run's records (deployment, transitions, audit
#      chain) carry wall times within the run, in order; the chain verifies;
#      history, show and status say the deployment was time-scaled.
# The policies are data: tests/data/time-scale/.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v hey >/dev/null 2>&1 || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }
DATA="$SLIPWAY_SRC/tests/data/time-scale"
unset SLIPWAY_POLICY
now_s() { date -u +%s; }
# times_ok FROM TO PYTHON_EXPR_ON_d < JSON: "ok" when the RFC 3339 times the
# expression lists are within [FROM - 5, TO + 1] (seconds) and in order
times_ok() {
  python3 -c '
import datetime, json, sys
lo, hi = float(sys.argv[1]) - 5, float(sys.argv[2]) + 1
d = json.load(sys.stdin)
ts = [datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp() for x in eval(sys.argv[3])]
print("ok" if ts and ts == sorted(ts) and all(lo <= t <= hi for t in ts) else "bad %s (%s..%s)" % (ts, lo, hi))
' "$@"
}

# ---- 1. a window closed at the real time stays closed ----
# the window opens at the next full hour at least 3 minutes away, for 3 hours:
# closed for the whole test at real speed, open within 63 minutes of engine time
read -r FROM TO <<<"$(python3 -c '
import time
h = (int(time.time()) + 180 + 3599) // 3600
print("%02d:00 %02d:00" % (h % 24, (h + 3) % 24))')"
sed "s/@FROM@/$FROM/g; s/@TO@/$TO/g" "$DATA/closed-window.yaml" >"$T/closed.yaml"
make_project shop 1
make_release shop v1 0 10
t0=$(now_s)
run_slipway deploy shop v1 --time-scale 600 -p "$T/closed.yaml"
is "$rc" 4 "deploy under a closed window is pending (exit 4)"
like "$err" "blocked by window 'standard'" "it says which window blocks it"
# 8 s at 600x is 80 minutes of engine time: past the window's opening if the
# window were read on the engine's clock
sleep 8
run_slipway deploy shop v1 --time-scale 600 -p "$T/closed.yaml"
is "$rc" 4 "run again 8 s (80 scaled minutes) later, it is still pending"
like "$err" "pending: .*blocked by window 'standard' until [0-9-]+T$FROM:00Z" "for the same window, until its real opening"
run_slipway check --type standard -p "$T/closed.yaml" -o json
is "$(json_get "$out" 'd["allowed"]')" "false" "slipway check agrees: blocked"
run_slipway history shop -o json
is "$(json_get "$out" 'd["items"][0]["state"]')" "pending" "history: pending"
is "$(json_get "$out" 'd["items"][0]["time_scale"]')" "600.0" "history -o json: time_scale 600"
is "$(times_ok "$t0" "$(now_s)" '[d["items"][0]["created_at"], d["items"][0]["updated_at"]]' <<<"$out")" ok \
  "the record's times are wall times within the test"
run_slipway history shop
like "$out" "\(time scale 600x\) waiting: " "history says the pending deployment is time-scaled"
unlike "$out" " [0-9]+d[0-9]*h?" "history shows no multi-day duration"

# ---- 2. approvals, records and the audit chain on the wall clock ----
POL="$DATA/approval-ttl.yaml"
make_project api 1 "analysis: {steps: [{weight: 50, hold: 1m}]}"
make_release api v1 0 10
make_release api v2 0 10
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
hey -z 120s -c 4 -q 100 "http://127.0.0.1:$PORT/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

t1=$(now_s)
SLIPWAY_USER=bob run_slipway deploy api v2 --time-scale 300 -p "$POL"
is "$rc" 4 "deploy waits for the team lead's approval (exit 4)"
id=$(deployment_row v2); id=${id%% *}
SLIPWAY_USER=alice run_slipway approve "$id" --role team-lead -p "$POL"
is "$rc" 0 "alice approves deployment $id"
# 3 s at 300x is 15 minutes of engine time: a 10-minute TTL read on the engine's
# clock would have expired (300x, not 600x: the sequential judge needs a few
# hundred canary requests at a step, and a step's maximum hold, 30 minutes, is
# 6 s of this test's load at 300x)
sleep 3
SLIPWAY_USER=bob run_slipway deploy api v2 --time-scale 300 -p "$POL"
is "$rc" 0 "the approval is still valid: the scaled deploy runs and succeeds"
[ "$rc" = 0 ] || { echo "$err" | tail -20 | sed 's/^/# /'; }
like "$err" "time scale 300x: holds, analysis intervals" "deploy says the time scale and what it shortens"
like "$err" "hold 1m \[scaled 300x: 200ms wall\]" "a hold shown to people says it is scaled, and its wall time"
t2=$(now_s)

run_slipway show "$id" -o json
is "$(times_ok "$t1" "$t2" '[d["deployment"][k] for k in ("created_at", "started_at", "finished_at")]' <<<"$out")" ok \
  "created, started and finished: wall times within the run, in order"
is "$(times_ok "$t1" "$t2" '[d["deployment"]["created_at"]] + [t["at"] for t in d["transitions"]] + [d["deployment"]["finished_at"]]' <<<"$out")" ok \
  "every transition: a wall time within the run, in order"
is "$(json_get "$out" 'd["deployment"]["time_scale"]')" "300.0" "show -o json: time_scale 300"
dur=$(json_get "$out" 'd["deployment"]["duration_s"]')
ok "$( [ "$dur" -le $((t2 - t1 + 1)) ]; echo $?)" "the duration is wall time ($dur s, the run took $((t2 - t1)) s)"

run_slipway audit -o json
is "$(times_ok "$t1" "$t2" '[x["at"] for x in d["items"]]' <<<"$out")" ok "the audit chain's entries are in time order, none in the future"
unlike "$out" '"approval.expired"' "no approval expired"
run_slipway audit --verify
is "$rc" 0 "audit --verify holds"

run_slipway history api
like "$out" "succeeded .*\(time scale 300x\)" "history says the deployment was time-scaled"
run_slipway show "$id"
like "$out" "time scale  300x: holds, intervals and monitoring ran 300 times faster" "show says it was time-scaled"
run_slipway status "$id"
like "$out" "time scale: 300x" "status says it was time-scaled"
stop_load
run_slipway down api
run_slipway down shop
done_testing
