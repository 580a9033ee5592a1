# demo-pack.sh - the agent-pack demo, tools/demo-pack.sh, against real HAProxy,
# the demo service evaluating its flag over OFREP against `slipway serve`:
# pack v1 through staging and production to 100%, pack v2 (its enabled path
# fails 20%) set back to its segment by its guarded rollout, `pack list`
# shown; nothing left running.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v hey >/dev/null 2>&1 || command -v wrk >/dev/null 2>&1 ||
  { echo "1..0 # SKIP neither hey nor wrk is installed (tools/deps.sh test)"; exit 0; }

# Under the sanitizer this demo repeats what tests/e2e/agent-pack.sh runs there already (the
# same procedure through the same code, 10 minutes more of the suite): plain build only.
if [ "${SLIPWAY_SANITIZE:-0}" = 1 ]; then
  echo "1..0 # SKIP the pack demo runs in the plain build; agent-pack.sh covers its code under the sanitizer"
  exit 0
fi
export SLIPWAY_DEMO_DIR="$T/demo"
unset SLIPWAY_STATE_DIR SLIPWAY_PROJECT SLIPWAY_POLICY
SLIPWAY_BUILD="$SLIPWAY_BUILD" bash "$SLIPWAY_SRC/tools/demo-pack.sh" >"$T/demo.out" 2>&1
rc=$?
is "$rc" 0 "tools/demo-pack.sh exits 0"
[ "$rc" = 0 ] || { grep -E "deployment #|^v[12]:|demo-pack:" "$T/demo.out"; tail -12 "$T/demo.out"; } | sed 's/^/# /'
out=$(cat "$T/demo.out")
like "$out" "pack billing v1 staging: passed staging" "v1 passes staging"
like "$out" "pack billing v1 production: shipped: the flag is on for everyone" "v1 shipped to everyone"
like "$out" "the flag is at 100% in production" "v1's flag at 100%"
like "$out" "pack billing v2 production: rollout failed" "v2's rollout failed"
like "$out" "set back: .*error rate" "with the judge's reason"
like "$out" "user-1 \\(canary-users\\) gets 'on', everyone else 'off'" "the segment keeps v2, everyone else is off"
like "$out" "production +v1 \\(rollout passed\\) v2 \\(rollout failed\\)" "pack list: both versions in production"
like "$out" "demo-pack: v1 shipped to everyone; v2 turned off by itself" "the demo's verdict"
SLIPWAY_STATE_DIR="$T/demo/state" SLIPWAY_PROJECT="$T/demo/project" run_slipway audit --verify
is "$rc" 0 "audit --verify holds over the demo's records"
left=$(ps -eo args | grep -F "$T/demo" | grep -v grep | head -3)
is "$left" "" "nothing of the demo is left running"
done_testing
