# smoke.sh - a service file's smoke checks (docs/services.md, runbook "Smoke
# tests") run against the new revision once it is ready and before any
# traffic reaches it: a check that answers otherwise rolls the deployment
# back with the check's name and answer; passing checks let it go on.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

sql() { store_sql "$1"; }
wait_for() { wait_sql "$1" "$2"; }
wait_exit() { wait_pid "$1" 90; }
smoke() { # STATUS: the service file's smoke check expects GET /health to answer STATUS
  sed -i '/^smoke:/d' "$T/proj/services/api.yaml"
  echo "smoke: [{method: GET, path: /health, status: $1}]" >>"$T/proj/services/api.yaml"
}

make_project api 1 "analysis: {steps: [{weight: 50, hold: 10m}]}"
make_release api v1
make_release api v2
make_release api v3

# ---- a first release whose smoke check passes (the demo service answers 200) ----
smoke 200
"$SLIPWAY" deploy api v1 --time-scale 60 >"$T/v1.out" 2>&1 &
ctl=$!
wait_for "select state from deployments where version='v1'" monitoring
ok $? "v1 passes its smoke check and reaches monitoring"
run_slipway promote 1
wait_exit "$ctl"
is "$rc" 0 "v1 succeeded"

# ---- a smoke check that expects 418: v2 is rolled back before any traffic ----
smoke 418
"$SLIPWAY" deploy api v2 --time-scale 60 >"$T/v2.out" 2>&1 &
ctl=$!
wait_exit "$ctl"
is "$rc" 1 "v2 failing its smoke check is rolled back (exit 1)"
like "$(cat "$T/v2.out")" "smoke check 'GET /health' on v2-0 answered 200, expected 418" \
  "the reason names the check, the instance and its answer"
is "$(sql "select state from deployments where version='v2'")" "rolled_back" "recorded rolled back"
run_slipway show 2
like "$out" "smoke check 'GET /health' on v2-0 answered 200, expected 418" "show says why"
like "$(cat "$T/v2.out")" "after the rollback the stable revision v1 fails its smoke check" \
  "after the rollback the stable is checked too (it answers 200, not 418: said)"
got=$(count_versions 10 "http://127.0.0.1:$PORT/")
is "$got" "v1 10" "the stable revision serves all traffic"

# ---- passing checks let v3 go on to its first step ----
smoke 200
"$SLIPWAY" deploy api v3 --time-scale 60 >"$T/v3.out" 2>&1 &
ctl=$!
wait_for "select step from deployments where version='v3'" 1
ok $? "v3 passes its smoke check and reaches step 1"
run_slipway abort 3
wait_exit "$ctl"
unlike "$(cat "$T/v3.out")" "smoke check" "no smoke failure is said for v3"
done_testing
