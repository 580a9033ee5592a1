# one-unfinished.sh - at most one unfinished deployment per service and
# environment, enforced by the store for every path that creates one: a new
# deployment (deploy, engine-sim) and a retry (docs/engine.md "Failure
# paths"; the partial unique index of deployment_store.c migration 3).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
data="$SLIPWAY_SRC/tests/data"
now=$(date +%s%3N)
line="api $data/configs/runbook-canary-config.yaml $data/traces/long-healthy.csv standard"
tick() { "$SLIPWAY" engine-sim run --step-ms 5000 --max-ticks "$1" >/dev/null 2>"$T/tick.err"; }
unfinished() { python3 - "$SLIPWAY_STATE_DIR/slipway.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from deployments where service='api-0' and "
      "state not in ('succeeded','rolled_back','failed')").fetchone()[0])
PY
}

# a second new deployment of the same service and environment
printf '%s\n%s\n' "$line" "$line" >"$T/twice.txt"
run_slipway engine-sim setup --fleet "$T/twice.txt" --start-ms "$now"
is "$rc" 3 "a second unfinished deployment of api-0 in sim is refused"
like "$err" 'deployment 1 of api-0 in sim is unfinished \(pending\): one deployment at a time' "the error names the unfinished one"
like "$err" "slipway abort 1" "and says what to do"
is "$(unfinished)" 1 "one unfinished deployment in the store"

# two retries of the same rolled-back deployment: the first creates one, the second is refused
rm -rf "$SLIPWAY_STATE_DIR"
printf '%s\n' "$line" >"$T/once.txt"
run_slipway engine-sim setup --fleet "$T/once.txt" --start-ms "$now"
is "$rc" 0 "engine-sim setup"
tick 3
run_slipway abort 1 --by alice
is "$rc" 0 "abort 1"
tick 3
run_slipway status 1 -o json
like "$out" '"state": "(rolled_back|failed)"' "deployment 1 is finished"
run_slipway retry 1 --by alice
is "$rc" 0 "first retry recorded"
run_slipway retry 1 --by bob
is "$rc" 0 "second retry recorded"
tick 2
run_slipway status 1
like "$out" 'retry by alice: retry: deployment 2 of v2 \(revision 1\) created' "the first retry created deployment 2"
like "$out" 'retry by bob: rejected: deployment 2 of api-0 in sim is unfinished' "the second is rejected, naming deployment 2"
is "$(unfinished)" 1 "still one unfinished deployment"
done_testing
