# resume.sh - `kill -9` of the deploying controller in the middle of a
# canary step, then a restart, resumes the same deployment with the same
# instances and weights, and it completes (docs/engine.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v hey >/dev/null 2>&1 || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }

# native steps (the service's own analysis), 10 ms added latency so that the
# p99 comparison is not at the mercy of scheduling noise on a busy machine
make_project api 2 "analysis: {steps: [{weight: 10, hold: 40m}, {weight: 50, hold: 2m}]}"
make_release api v1 0 10
make_release api v2 0 10
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
hey -z 120s -c 32 -q 50 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

# standard: steps 10% 40m (20 s: long enough to kill it mid-step on a loaded machine, where `slipway
# instances` alone took seconds and a 7.5 s step once ended before the kill; a judge with evidence
# ends a step at its hold), 50% 2m, then 30m of monitoring; two minutes per second
"$SLIPWAY" deploy api v2 --type standard --time-scale 120 >"$T/deploy1.out" 2>&1 &
ctl=$!
state() { deployment_row v2; }
for i in $(seq 1 300); do case "$(state)" in *" progressing 1 10"*) break ;; esac; sleep 0.1; done
before=$(state)
like "$before" '^[0-9]+ progressing 1 10' "the deployment reached step 1 at 10% ($before)"
sleep 0.3
run_slipway instances api -o json
pids_before=$(json_get "$out" '" ".join(str(i["pid"]) for i in d["instances"] if i["version"]=="v2")')
w_before=$(json_get "$out" 'round(d["weights"]["v2"])')
kill -9 "$ctl"; wait "$ctl" 2>/dev/null
echo "# killed the controller at: $(state); canary pids $pids_before"
is "$w_before" 10 "the router had v2 at 10%"

# 200 of our requests among the load's: about 20 expected; 6..40 tells 10% from 0% and 50%
got=$(count_versions 200 "http://127.0.0.1:$PORT/api/x")
v2n=$(echo "$got" | awk '$1=="v2"{print $2}')
ok "$([ "${v2n:-0}" -ge 6 ] && [ "${v2n:-0}" -le 40 ]; echo $?)" "with the controller dead, HAProxy still sends about 10% to v2 (${v2n:-0} of 200)"

"$SLIPWAY" deploy api v2 --type standard --time-scale 120 >"$T/deploy2.out" 2>&1
rc=$?
out=$(cat "$T/deploy2.out")
is "$rc" 0 "the restarted deploy completes: exit 0"
[ "$rc" = 0 ] || tail -20 "$T/deploy2.out" | sed 's/^/# /'
id=${before%% *}
like "$out" "resuming deployment #$id of api v2 \(progressing, step 1, weight 10%" "it resumes the same deployment at the same step and weight"
like "$out" 'v2 \(canary\): 2 instances ready \(adopted\)' "the canary instances are adopted, not started again"
like "$out" 'plugins: target local, router haproxy, provider builtin, judge sequential' "the service file's default plugins drive it"
like "$out" "deployment #$id of api v2: succeeded" "the same deployment succeeds"
run_slipway deployments api -o json
is "$(json_get "$out" 'len(d["items"])')" 1 "one deployment record, not two"
run_slipway instances api -o json
pids_after=$(json_get "$out" '" ".join(str(i["pid"]) for i in d["instances"] if i["version"]=="v2")')
is "$pids_after" "$pids_before" "v2 runs on the very same processes"
is "$(json_get "$out" 'round(d["weights"]["v2"])')" 100 "v2 has all the traffic"
is "$(json_get "$out" '[i["version"] for i in d["instances"] if i["version"]=="v1"]')" "[]" "v1 was drained and stopped"
stop_load
summary=$(sed -n '/Status code distribution/,$p' "$T/hey.out")
unlike "$summary" '\[[013-9][0-9][0-9]\]|Error distribution' "no request failed during the rollout, the crash and the resume"
done_testing
