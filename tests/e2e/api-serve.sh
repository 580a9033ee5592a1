# api-serve.sh - the HTTP API served by `slipway serve --listen` (HAProxy
# on 127.0.0.1, no deploy in the foreground): a deployment recorded over
# the API waits at the gate; an approval by a token holding team-lead opens
# it and the controller moves it on its next ticks; pause, resume and abort
# over the API take effect within a tick; /metrics carries serve's ticks.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
{ sed '/^roles:/,$d' "$SLIPWAY_SRC/examples/lab-policy.yaml"
  printf 'roles:\n  team-lead: [bob]\n  deployer: [carol]\ntypes:\n  standard:\n    approvals: [team-lead]\n'; } >"$T/policy.yaml"
export SLIPWAY_POLICY="$T/policy.yaml"
unset SLIPWAY_USER

make_project api 2 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}"
make_release api v1 0 0
make_release api v2 0 0
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
BOB=$("$SLIPWAY" token create --user bob 2>/dev/null)
CAROL=$("$SLIPWAY" token create --user carol 2>/dev/null)

"$SLIPWAY" serve --listen 127.0.0.1:0 >"$T/serve.log" 2>&1 &
SERVE_PID=$!
stop_serve() { kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
at_exit stop_serve
APORT=""
for _ in $(seq 1 100); do
  APORT=$(sed -n 's/.*the HTTP API listens on .* (port \([0-9]*\)).*/\1/p' "$T/serve.log" | head -1)
  [ -n "$APORT" ] && break
  sleep 0.1
done
ok "$([ -n "$APORT" ]; echo $?)" "serve --listen serves the API"
api() { # api METHOD PATH TOKEN [BODY] -> $body, $code
  local args=(-s -o "$T/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(--data-binary "$4")
  code=$(curl "${args[@]}" "http://127.0.0.1:$APORT/api/v1$2")
  body=$(cat "$T/body")
}
# wait_row REGEX: until the v2 deployment's "ID STATE STEP WEIGHT" matches (at most 30 s)
wait_row() {
  local r
  for _ in $(seq 1 300); do r=$(deployment_row v2); printf '%s' "$r" | grep -Eq -- "$1" && break; sleep 0.1; done
  echo "$r"
}

api POST /deployments "$CAROL" '{"service": "api", "version": "v2"}'
is "$code" 201 "carol records the deployment over the API"
id=$(json_get "$body" 'd["id"]')
sleep 1    # ten of serve's ticks
like "$(deployment_row v2)" "^$id pending" "serve holds it at the gate: team-lead has not approved"
api GET "/deployments/$id/approvals" "$CAROL"
is "$(json_get "$body" '[m["role"] for m in d["missing"]]')" '["team-lead"]' "the gate waits for team-lead"
api POST "/deployments/$id/approve" "$CAROL" '{"role": "team-lead"}'
is "$code" 403 "carol, not a team lead: 403"
is "$(json_get "$body" 'd["missing_role"]')" team-lead "naming team-lead"
api POST "/deployments/$id/approve" "$BOB" '{"role": "team-lead"}'
is "$code" 201 "bob's token approves"
like "$(wait_row "progressing 1 10")" "^$id progressing 1 10" "serve takes it through the gate to 10% on its next ticks"
api POST "/deployments/$id/pause" "$CAROL"
is "$code" 202 "pause over the API"
like "$(wait_row "paused")" "^$id paused 1 10" "paused within a tick"
api POST "/deployments/$id/resume" "$CAROL"
like "$(wait_row "progressing")" "^$id progressing 1 10" "resumed"
m=$(curl -s "http://127.0.0.1:$APORT/metrics")
like "$m" 'slipway_tick_duration_seconds [0-9.]+' "/metrics: serve's tick duration"
like "$m" 'slipway_revision_weight_percent\{service="api",env="production",version="v2",role="canary"\} 10' "and the canary's weight"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/readyz")" 200 "/readyz: ready"
api POST "/deployments/$id/abort" "$CAROL"
is "$code" 202 "abort over the API"
like "$(wait_row "rolled_back")" "^$id rolled_back" "rolled back by serve"
run_slipway audit -o json
is "$(json_get "$out" '[e["actor"] for e in d["items"] if e["action"] in ("approval.approved", "intent.pause", "intent.resume", "intent.abort")]')" \
   '["bob", "carol", "carol", "carol"]' "the audit names the tokens' users"
stop_serve
run_slipway down api
done_testing
