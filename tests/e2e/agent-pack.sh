# agent-pack.sh - the runbook's agent-pack procedure end to end (docs/flags.md
# "Agent packs"): `slipway pack deploy` of a pack whose service is the demo,
# which guards a code path with the pack's flag evaluated over OFREP against
# `slipway serve`, behind a real HAProxy.  A good version goes through
# staging (deploy, flag on, the pack's tests) and production (deployed
# dark, the segment, the guarded rollout) to 100%; a bad one, whose enabled
# path fails 5% of its requests, passes staging's tests but its rollout is
# turned back to the segment by itself.  Production before staging is
# refused.  Every stage is recorded and `audit --verify` holds.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
export SLIPWAY_USER=alice
# 60x; 20x under the sanitizer, whose slower requests gather evidence more slowly (as demo.sh)
SCALE=60
[ "${SLIPWAY_SANITIZE:-0}" = 1 ] && SCALE=20

FLAG=agent:billing:enabled
OPORT=$(free_port)
SPORT=$(free_port)
TOKEN=$("$SLIPWAY" token create --user demo-service 2>/dev/null)
ok "$([ -n "$TOKEN" ]; echo $?)" "an API token for the service"
make_project api 1 "env:
  DEMO_FLAG: \"$FLAG\"
  DEMO_OFREP_URL: \"http://127.0.0.1:$OPORT\"
  DEMO_OFREP_TOKEN: \"$TOKEN\"
  DEMO_OFREP_ENV: \"{env}\"
analysis: {steps: [{weight: 50, hold: 10m}]}"
echo "  staging: {listen: \"127.0.0.1:$SPORT\", instances: 1}" >>"$T/proj/services/api.yaml"
make_release api v1
make_release api v2
make_release api v3   # a good one, whose rollout is aborted by a person
echo 5 >"$T/proj/releases/api/v2/flag_error_rate"   # v2's enabled path fails 5% of its requests
mkdir -p "$T/proj/packs"
# a release's canary at 50% and flag steps of 2m: on a loaded 2-core machine the runbook's 1%
# first step and 1m flag steps (30 s of wall time at 60x) did not always see enough requests
# the pack's tests: the staging service answers, and serves the pack (the flag is on there)
cat >"$T/proj/packs/billing.yaml" <<YAML
service: api
tests: >-
  curl -sf http://127.0.0.1:$SPORT/health >/dev/null &&
  curl -s -o /dev/null -D - -H 'X-User: tester' http://127.0.0.1:$SPORT/api/x | grep -qi '^x-flag-variant: $FLAG=on'
steps: [5, 25, 50, 100]
interval: 2m
YAML
run_slipway flag segment canary-users --users user-1,user-2 --env production
is "$rc" 0 "segment canary-users in production"

"$SLIPWAY" serve --listen "127.0.0.1:$OPORT" >"$T/serve.log" 2>&1 &
SERVE_PID=$!
stop_serve() { kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
at_exit stop_serve
for _ in $(seq 1 100); do grep -q "listens on" "$T/serve.log" && break; sleep 0.1; done
for _ in $(seq 1 100); do [ -S "$SLIPWAY_STATE_DIR/log.stream" ] && break; sleep 0.05; done
ok "$([ -S "$SLIPWAY_STATE_DIR/log.stream" ]; echo $?)" "serve runs (OFREP, the controller, the log receiver)"

load_pid=""
start_load() { # [PORT]: requests without X-User (each a new targeting key), production's by default
  if command -v hey >/dev/null 2>&1; then
    hey -z 900s -c 8 "http://127.0.0.1:${1:-$PORT}/api/x" >/dev/null 2>&1 &
  else
    ( while :; do curl -s -o /dev/null "http://127.0.0.1:${1:-$PORT}/api/x"; done ) &
  fi
  load_pid=$!
}
stop_load() { [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; load_pid=""; }
at_exit stop_load
stages() { json_get "$out" '[(s["stage"], s["status"]) for s in d["stages"]]'; }
rollout_pct() {
  run_slipway flag get "$FLAG" --env production -o json
  json_get "$out" "[r['rollout']['percentage'] for r in d['definition']['rules'] if r.get('name')=='rollout'][0]"
}

# ---- a good version: v1 ----
run_slipway pack deploy billing v1 --env production
is "$rc" 1 "production before staging: refused"
like "$err" "not passed its tests in staging" "and says why"
run_slipway pack deploy billing v1 --env staging --time-scale $SCALE -o json
is "$rc" 0 "v1 in staging: deploy, flag on, tests pass"
is "$(stages)" '[["disable", "passed"], ["deploy", "passed"], ["enable", "passed"], ["tests", "passed"]]' "the staging stages"
[ "$rc" = 0 ] || echo "$err" | tail -20 | sed 's/^/# /'
start_load
run_slipway pack deploy billing v1 --env production --time-scale $SCALE -o json
is "$rc" 0 "v1 in production: shipped to everyone"
is "$(stages)" '[["disable", "passed"], ["deploy", "passed"], ["enable", "passed"], ["rollout", "passed"]]' "the production stages"
[ "$rc" = 0 ] || echo "$err" | tail -30 | sed 's/^/# /'
schema_ok "$out" PackDeployment "pack deploy -o json validates"
is "$(rollout_pct)" 100 "the flag is at 100%"
run_slipway pack deploy billing v1 --env production -o json
is "$rc" 0 "run again: nothing left to do"
is "$(json_get "$out" '[s["status"] for s in d["stages"]]')" '["skipped", "skipped", "skipped", "skipped"]' "every stage passed before"

# ---- a bad version: v2 fails 5% of its enabled requests ----
stop_load
start_load "$SPORT"   # v2 is a canary of v1 in staging: its analysis needs requests
run_slipway pack deploy billing v2 --env staging --time-scale $SCALE -o json
is "$rc" 0 "v2 passes staging (its tests do not catch it)"
[ "$rc" = 0 ] || echo "$err" | tail -20 | sed 's/^/# /'
stop_load
start_load
run_slipway pack deploy billing v2 --env production --time-scale $SCALE -o json
is "$rc" 1 "v2 in production: stopped"
[ "$rc" = 1 ] || echo "$err" | grep -E "^(pack |deployment #)|waiting|paused|incident" | tail -8 | sed 's/^/# /'
is "$(stages)" '[["disable", "passed"], ["deploy", "passed"], ["enable", "passed"], ["rollout", "failed"]]' "deployed dark, enabled for the segment, then its rollout failed"
echo "$err" | grep -i "rolled back\|set back\|reason" | tail -3 | sed 's/^/# /'
id=$(echo "$err" | sed -n 's/^deployment #\([0-9]*\) of api flag:.*/\1/p' | tail -1)
stop_load
is "$(rollout_pct)" 0 "the flag was set back to 0% by the guarded rollout"
run_slipway flag eval "$FLAG" --env production --context '{"targetingKey": "user-1"}' -o json
is "$(json_get "$out" 'd["variant"]')" on "the segment keeps it"
run_slipway flag eval "$FLAG" --env production --context '{"targetingKey": "someone-else"}' -o json
is "$(json_get "$out" 'd["variant"]')" off "everyone else is back on the disabled path"
run_slipway pack status billing v2 -o json
schema_ok "$out" PackStages "pack status -o json validates"
is "$(json_get "$out" '[(s["env"], s["stage"], s["status"]) for s in d["stages"]][-1]')" '["production", "rollout", "failed"]' "recorded: production rollout failed"
run_slipway show "$id" -o json
is "$(json_get "$out" 'd["deployment"]["state"]')" rolled_back "the flag rollout (deployment #$id) is recorded as rolled back"
like "$(json_get "$out" 'd["deployment"]["reason"]')" "error rate" "with the judge's reason"
run_slipway audit --verify
is "$rc" 0 "audit --verify holds"

# ---- pack abort: v3's running rollout aborted by a person ----
# Plain build only: under the sanitizer at load 15-25, v3's release canary paused for lack of
# evidence (exit 4) before its flag rollout began, so there was no rollout to abort (the pause
# is right; the timing is the test's). tests/cli/pack.sh covers pack abort's refusals there.
if [ "${SLIPWAY_SANITIZE:-0}" = 1 ]; then
  skip "pack abort of a running rollout" "plain build only (a canary under the sanitizer waits for evidence)"
  done_testing
  exit 0
fi
# v2's enabled path failed 5% in staging, where its flag is on for the pack's tests: the
# follow-up of its staging deployment may have opened an incident there by now (an hour at
# 60x), which holds the next deployment, as it should.  A person looks and resolves it.
for env in staging production; do
  for i in $("$SLIPWAY" incident list --env $env --open -o json 2>/dev/null |
             python3 -c 'import json,sys; print(" ".join(str(i["id"]) for i in json.load(sys.stdin)["items"]))' 2>/dev/null); do
    echo "# resolving incident $i in $env: $("$SLIPWAY" incident list --env $env --open 2>/dev/null | grep -m1 "^$i " | cut -c1-160)"
    "$SLIPWAY" incident resolve "$i" >/dev/null 2>&1
  done
done
start_load "$SPORT"
run_slipway pack deploy billing v3 --env staging --time-scale $SCALE
is "$rc" 0 "v3 passes staging"
[ "$rc" = 0 ] || echo "$err" | tail -20 | sed 's/^/# /'
stop_load
start_load
"$SLIPWAY" pack deploy billing v3 --env production --time-scale $SCALE >"$T/v3.out" 2>"$T/v3.err" &
v3_pid=$!
state=""
for _ in $(seq 1 1500); do   # staging's stages passed: production's disable, deploy and enable first
  run_slipway pack list -o json
  state=$(json_get "$out" '(d["packs"][0]["environments"]["production"]["rollout"] or {}).get("state", "")')
  # pending is not yet running: aborted there, a deployment fails (it never started) rather
  # than rolls back, which a loaded machine reached once
  case "$state" in ""|pending|succeeded|rolled_back|failed) ;; *) break ;; esac
  kill -0 "$v3_pid" 2>/dev/null || break
  sleep 0.2
done
like "$state" "^(progressing|paused)$" "pack list shows v3's guarded rollout running ($state)"
run_slipway pack abort billing -o json
is "$rc" 0 "pack abort: exit 0"
schema_ok "$out" PackAbort "pack abort -o json validates"
id=$(json_get "$out" 'd["deployment"]')
wait "$v3_pid"; v3_rc=$?
stop_load
is "$v3_rc" 1 "the running pack deploy ends: its rollout was aborted"
is "$(rollout_pct)" 0 "the flag is back at 0%"
run_slipway flag eval "$FLAG" --env production --context '{"targetingKey": "user-1"}' -o json
is "$(json_get "$out" 'd["variant"]')" on "the segment keeps it"
run_slipway show "$id" -o json
is "$(json_get "$out" 'd["deployment"]["state"]')" rolled_back "deployment #$id is recorded as rolled back"
run_slipway audit -o json
like "$out" '"intent.abort"' "the abort is in the audit log"
run_slipway pack status billing v3 -o json
like "$(json_get "$out" '[s["detail"] for s in d["stages"] if s["env"] == "production" and s["stage"] == "rollout"]')" "aborted by alice \\(pack abort\\)" "the rollout stage is recorded as aborted by the person"
run_slipway pack list -o json
is "$(json_get "$out" 'd["packs"][0]["environments"]["production"]["rollout"]["state"], d["packs"][0]["environments"]["production"]["flag"]["percentage"], d["packs"][0]["environments"]["production"]["flag"]["segment"]')" '["rolled_back", 0, true]' "pack list: the rollout rolled back, the flag at 0% with its segment"
schema_ok "$out" PackList "pack list -o json validates"
run_slipway audit --verify
is "$rc" 0 "audit --verify holds after the abort"
done_testing
