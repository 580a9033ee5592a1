# api-deploy.sh - the HTTP API beside a real in-process controller (`slipway
# deploy`, HAProxy on 127.0.0.1): a deployment recorded over the API waits at
# the gate for team-lead; bob's token approves it and the next deploy takes
# it through the gate; carol's token aborts it over the API and the running
# controller rolls it back on its next tick; the audit names both tokens.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
{ cat "$SLIPWAY_SRC/examples/lab-policy.yaml" | sed '/^roles:/,$d'
  printf 'roles:\n  team-lead: [bob]\n  deployer: [carol]\ntypes:\n  standard:\n    approvals: [team-lead]\n'; } >"$T/policy.yaml"
export SLIPWAY_POLICY="$T/policy.yaml"
unset SLIPWAY_USER

make_project api 2 "analysis: {steps: [{weight: 10, hold: 15m}, {weight: 50, hold: 15m}]}"
make_release api v1 0 5
make_release api v2 0 5
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
BOB=$("$SLIPWAY" token create --user bob 2>/dev/null)
CAROL=$("$SLIPWAY" token create --user carol 2>/dev/null)
"$SLIPWAY" api --listen 127.0.0.1:0 2>"$T/api.log" &
API_PID=$!
at_exit "kill $API_PID"
APORT=""
for _ in $(seq 1 100); do
  APORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/api.log" | head -1)
  [ -n "$APORT" ] && break
  sleep 0.1
done
api() { # api METHOD PATH TOKEN [BODY] -> $body, $code
  local args=(-s -o "$T/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(--data-binary "$4")
  code=$(curl "${args[@]}" "http://127.0.0.1:$APORT/api/v1$2")
  body=$(cat "$T/body")
}

api POST /deployments "$CAROL" '{"service": "api", "version": "v2"}'
is "$code" 201 "carol records the deployment over the API"
id=$(json_get "$body" 'd["id"]')
is "$(deployment_row v2)" "$id pending 0 0.0" "it waits, pending"
run_slipway deploy api v2 --time-scale 120
is "$rc" 4 "a controller run stops at the gate: team-lead has not approved"
like "$err" "team-lead" "naming the role"
api POST "/deployments/$id/approve" "$CAROL" '{"role": "team-lead"}'
is "$code" 403 "carol, not a team lead, gets 403"
api POST "/deployments/$id/approve" "$BOB" '{"role": "team-lead"}'
is "$code" 201 "bob's token approves"
"$SLIPWAY" deploy api v2 --time-scale 120 >"$T/deploy.out" 2>&1 &
ctl=$!
for _ in $(seq 1 600); do case "$(deployment_row v2)" in *" progressing 1 10"*) break ;; esac; sleep 0.1; done
like "$(deployment_row v2)" "^$id progressing 1 10" "the controller took it through the gate to 10%"
api GET "/deployments/$id/events" "$CAROL"
like "$(json_get "$body" '[e["to"] for e in d["items"]]')" '"progressing"' "its events show it progressing"
curl -s "http://127.0.0.1:$APORT/metrics" >"$T/metrics"
like "$(cat "$T/metrics")" 'slipway_revision_weight_percent\{service="api",env="production",version="v2",role="canary"\} 10' \
  "/metrics shows the canary at 10%"
api POST "/deployments/$id/abort" "$CAROL"
is "$code" 202 "carol aborts over the API"
wait "$ctl"
is "$?" 1 "the running controller applied it: deploy exits 1"
like "$(deployment_row v2)" "^$id rolled_back" "the deployment is rolled back"
run_slipway show "$id" -o json
is "$(json_get "$out" '[i["applied"] for i in d["intents"] if i["action"] == "abort"]')" '[true]' "the abort intent was applied"
run_slipway instances api -o json
is "$(json_get "$out" 'round(d["weights"].get("v1", 0))')" 100 "all traffic is on v1 again"
run_slipway audit -o json
is "$(json_get "$out" '[(e["actor"], e["detail"].get("identity", "")[:6]) for e in d["items"] if e["action"] in ("approval.approved", "intent.abort")]')" \
   '[["bob", "token:"], ["carol", "token:"]]' "the audit names bob's approval and carol's abort, each with its token"
run_slipway down api
done_testing
