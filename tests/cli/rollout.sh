# rollout.sh - the human controls (promote, pause, resume, abort, retry,
# undo) recorded as intents and applied by the controller, and `slipway
# status`; the controller runs as `slipway engine-sim run` on a simulated
# clock that starts at the wall clock, so intents recorded now are due.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
data="$SLIPWAY_SRC/tests/data"
now=$(date +%s%3N)
printf 'api %s %s standard\n' "$data/configs/runbook-canary-config.yaml" "$data/traces/long-healthy.csv" >"$T/fleet.txt"
tick() { "$SLIPWAY" engine-sim run --step-ms 5000 --max-ticks "$1" >/dev/null 2>"$T/tick.err"; }

run_slipway engine-sim setup --fleet "$T/fleet.txt" --start-ms "$now"
is "$rc" 0 "engine-sim setup"
run_slipway status
is "$rc" 0 "status lists deployments"
like "$out" '^1 +api-0 +sim +v2 +1 standard +pending' "the new deployment is pending"

tick 30
run_slipway status api-0
like "$out" 'state: progressing, step 2, weight 20%' "after 150 s: step 2 at 20%"
like "$out" 'pending -> progressing' "transitions are listed"
like "$out" 'Metric +\| Baseline +\| Current +' "the last analysis shows the comparison table"

run_slipway pause api-0 --by alice
is "$rc" 0 "pause is recorded"
like "$out" '^recorded intent 1: pause deployment 1 \(api-0 v2, progressing' "pause names the intent and the deployment"
run_slipway status 1
like "$out" '1 pause by alice: pending' "the intent waits for the controller"
tick 2
run_slipway status 1 -o json
like "$out" '"state": "paused"' "the controller applied the pause"
like "$out" '"reason": "paused by alice"' "the reason names the person"
like "$out" '"applied": true' "the intent is marked applied"
tick 24
run_slipway status 1
like "$out" 'state: paused, step 2, weight 20%' "paused: the weight holds for two minutes"

run_slipway resume 1 --by bob
is "$rc" 0 "resume is recorded"
tick 2
run_slipway status 1
like "$out" 'state: progressing' "resumed"
like "$out" 'resumed by bob' "resume names the person"

run_slipway promote 1 --full --by carol -o json
is "$rc" 0 "promote --full is recorded"
like "$out" '"full": true' "json says full"
tick 3
run_slipway status 1
like "$out" 'state: monitoring' "promote --full: straight to 100%, then monitoring"
like "$out" 'promoted to 100% by carol \(promote --full\)' "the transition names the intent"

run_slipway abort api-0 --by dave
is "$rc" 0 "abort is recorded"
tick 3
run_slipway status 1
like "$out" 'state: rolled_back' "abort rolls back"
like "$out" 'aborted by dave' "abort names the person"

# every intent is in the audit chain with who asked, and the chain holds
run_slipway audit -o json
like "$out" '"action": "intent.pause"' "the pause is an audit entry"
like "$out" '"actor": "alice"' "attributed to the person it names"
like "$out" '"action": "intent.abort"' "the abort is an audit entry"
like "$out" '"actor": "dave"' "attributed to dave"
like "$out" '"relayed_by"' "--by records who relayed it"
run_slipway audit --verify
is "$rc" 0 "the audit chain verifies after intents"

run_slipway pause 1
is "$rc" 1 "pause of a rolled-back deployment is refused at once"
like "$err" "deployment 1 \(api-0 v2\) is rolled_back; nothing to pause" "and says why"
run_slipway retry 1 --by erin
is "$rc" 0 "retry is recorded"
tick 2
run_slipway status 1 -o json
like "$out" 'retry: deployment 2 of v2 \(revision 1\) created' "retry creates deployment 2"
run_slipway status
like "$out" '^2 +api-0 +sim +v2 +1 ' "deployment 2: the same revision again"
tick 520
run_slipway status 2
like "$out" 'state: succeeded' "the retried deployment succeeds"
run_slipway undo 2 --to-revision 7
is "$rc" 0 "undo --to-revision is recorded"
tick 2
run_slipway status 2 -o json
like "$out" 'rejected: api-0 has no revision 7' "undo to a revision that does not exist is rejected"
run_slipway undo 2 --by frank
tick 2
run_slipway status 2 -o json
like "$out" 'undo: deployment 3 of v1' "undo creates a deployment of the previous version"
run_slipway status 3
like "$out" 'deployment 3: api-0 v1' "deployment 3 deploys v1"
like "$out" 'undo of deployment 2 \(v2\) by frank: back to v1' "and says why"

# usage errors
run_slipway promote
is "$rc" 2 "promote without a deployment is a usage error"
run_slipway promote no-such-service
is "$rc" 2 "unknown deployment exits 2"
like "$err" "no active deployment 'no-such-service'" "and is named"
run_slipway pause 3 --full
is "$rc" 2 "--full is for promote only"
run_slipway undo 3 --to-revision x
is "$rc" 2 "--to-revision needs a number"
run_slipway status 99
is "$rc" 2 "status of an unknown deployment exits 2"
done_testing
