# first-release.sh - what deploy says about a service's first release and
# about a gate that opened (docs/engine.md "Failure paths"): the first
# release is called that, never "(canary)" (nothing runs beside it); after
# an approval arrives, the old "waiting: approval needed" line is not
# printed again when deploy runs on.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

sql() { store_sql "$1"; }
wait_for() { wait_sql "$1" "$2"; }
wait_exit() { wait_pid "$1" 60; }

make_project api 1 "analysis: {steps: [{weight: 50, hold: 10m}]}"
make_release api v1
make_release api v2

# ---- the first release ----
"$SLIPWAY" deploy api v1 --time-scale 60 >"$T/v1.out" 2>&1 &
ctl=$!
wait_for "select state from deployments where version='v1'" monitoring
ok $? "the first release reaches monitoring"
out=$(cat "$T/v1.out")
like "$out" 'api v1 \(first release\): 1 instances ready' "deploy calls it the first release"
unlike "$out" '\(canary\)' "and never a canary"
like "$out" 'the first release \(no earlier revision to compare it with\)' "its start says there is nothing to compare it with"
run_slipway status 1
like "$out" 'first release: no earlier revision' "status says it is the first release"
unlike "$out" '[0-9]+ canary requests' "and counts no canary requests"
run_slipway promote 1
is "$rc" 0 "promote ends its monitoring"
wait_exit "$ctl"
is "$rc" 0 "the first release succeeded"

# ---- an approval arrives: the waiting line is said once ----
export SLIPWAY_POLICY="$SLIPWAY_SRC/examples/lab-policy.yaml"	# team-lead approves standard deployments
SLIPWAY_USER=bob "$SLIPWAY" deploy api v2 --time-scale 60 >"$T/v2a.out" 2>&1
rc=$?
is "$rc" 4 "v2 waits for an approval (exit 4)"
is "$(grep -c 'pending (step 0, weight 0%): waiting: approval needed' "$T/v2a.out")" 1 \
  "the pending transition says it once (the exit hint and the summary line repeat the reason)"
SLIPWAY_USER=alice "$SLIPWAY" approve 2 --role team-lead >/dev/null 2>&1
is "$?" 0 "alice approves"
SLIPWAY_USER=bob "$SLIPWAY" deploy api v2 --time-scale 60 >"$T/v2b.out" 2>&1 &
ctl=$!
wait_for "select step from deployments where version='v2'" 1
ok $? "v2 runs on to its canary step"
out=$(cat "$T/v2b.out")
unlike "$out" 'approval needed' "the answered 'waiting: approval needed' is not printed again"
like "$out" 'resuming deployment #2 of api v2 \(pending' "the resume line says where it was"
like "$out" 'api v2 \(canary\): 1 instances ready' "v2, beside v1, is a canary"
SLIPWAY_USER=bob "$SLIPWAY" abort 2 >/dev/null 2>&1
wait_exit "$ctl"
is "$(sql "select state from deployments where version='v2'")" rolled_back "aborted"
done_testing
