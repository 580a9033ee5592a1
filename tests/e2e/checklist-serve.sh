# checklist-serve.sh - the runbook's checklists as the gate of `slipway serve`
# (docs/checklists.md; HAProxy on 127.0.0.1): a standard deployment recorded
# over the API stays pending while "rollback possible" fails (the previous
# release directory is gone), while CI and review have not attested, and
# while a SARIF log with a critical finding fails "no unresolved
# vulnerabilities" (the finding named in its reason); once every blocking
# item is satisfied, serve starts it by itself.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is not installed"; exit 0; }
{ sed '/^roles:/,$d' "$SLIPWAY_SRC/examples/lab-policy.yaml"
  cat <<'YAML'
roles:
  team-lead: [bob]
  deployer: [carol]
types:
  standard:
    approvals: []
checklists:
  ci-passing: { blocks: [standard] }
  review-approved: { blocks: [standard], who: team-lead }
  no-vulnerabilities: { blocks: [standard], fail_at: critical }
  rollback-possible: { blocks: [standard] }
YAML
} >"$T/policy.yaml"
export SLIPWAY_POLICY="$T/policy.yaml"
unset SLIPWAY_USER

make_project api 2 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}"
make_release api v1 0 0
make_release api v2 0 0
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
BOB=$("$SLIPWAY" token create --user bob 2>/dev/null)
CAROL=$("$SLIPWAY" token create --user carol 2>/dev/null)
CI=$("$SLIPWAY" token create --user ci-bot 2>/dev/null)
# the previous release's directory is gone: rollback is not possible
mv "$T/proj/releases/api/v1" "$T/v1-aside"

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
# item_state ITEM: its state in the deployment's checklist
item_state() { api GET "/deployments/$id/checklist" "$CAROL"; printf '%s' "$body" | jq -r ".items[] | select(.id == \"$1\") | .state"; }
# wait_reason REGEX: until the deployment's reason matches (at most 30 s)
wait_reason() {
  local r
  for _ in $(seq 1 300); do r=$(store_sql "select reason from deployments where id = $id"); printf '%s' "$r" | grep -Eq -- "$1" && break; sleep 0.1; done
  echo "$r"
}
wait_row() {
  local r
  for _ in $(seq 1 300); do r=$(deployment_row v2); printf '%s' "$r" | grep -Eq -- "$1" && break; sleep 0.1; done
  echo "$r"
}

api POST /deployments "$CAROL" '{"service": "api", "version": "v2"}'
is "$code" 201 "carol records the deployment over the API"
id=$(json_get "$body" 'd["id"]')
like "$(wait_reason "rollback-possible")" "rollback-possible \(failed: the release directory of api v1 is gone" \
  "rollback possible fails: the previous release directory is gone"
like "$(deployment_row v2)" "^$id pending" "and the deployment does not start"
is "$(item_state rollback-possible)" failed "the checklist shows it failed"
mv "$T/v1-aside" "$T/proj/releases/api/v1"
like "$(wait_reason 'checklist: waiting for ci-passing \(missing\), review-approved \(missing\), no-vulnerabilities \(missing\);')" \
  'checklist: waiting for ci-passing \(missing\), review-approved \(missing\), no-vulnerabilities \(missing\);' \
  "with the release back, rollback is possible: it waits for CI, review and the scan"
is "$(item_state rollback-possible)" satisfied "and the checklist says so"

api POST "/deployments/$id/attestations" "$CI" '{"item": "ci-passing", "evidence": "https://ci.example/runs/42"}'
is "$code" 201 "CI attests its run over the API"
api POST "/deployments/$id/attestations" "$CI" "{\"item\": \"no-vulnerabilities\", \"sarif\": $(jq -Rs . <"$SLIPWAY_SRC/tests/data/sarif/critical.sarif")}"
is "$(json_get "$body" 'd["status"]')" fail "a SARIF log with a critical finding fails"
like "$(wait_reason "js/sql-injection")" "no-vulnerabilities \(failed: 1 finding at or above critical: critical 'js/sql-injection' at src/db.js:14" \
  "the deployment stays pending with the finding named"
api POST "/deployments/$id/attestations" "$CAROL" '{"item": "review-approved"}'
is "$code" 403 "carol is not a team lead: the review is not hers to attest"
api POST "/versions/v2/attestations" "$BOB" '{"item": "review-approved", "evidence": "https://git.example/pr/7"}'
is "$code" 201 "bob attests the review of v2"
sleep 1    # ten of serve's ticks
like "$(deployment_row v2)" "^$id pending" "still pending: the critical finding blocks"
api POST "/deployments/$id/attestations" "$CI" "{\"item\": \"no-vulnerabilities\", \"sarif\": $(jq -Rs . <"$SLIPWAY_SRC/tests/data/sarif/clean.sarif")}"
is "$(json_get "$body" 'd["status"]')" pass "a fixed scan passes"
like "$(wait_row "progressing 1 10")" "^$id progressing 1 10" "every blocking item satisfied: serve starts it by itself"
run_slipway checklist "$id" -o json
is "$(printf '%s' "$out" | jq -r '[.items[] | select(.blocking) | .id + "=" + .state] | join(" ")')" \
  "ci-passing=satisfied review-approved=satisfied no-vulnerabilities=satisfied no-incidents=satisfied window-confirmed=satisfied rollback-possible=satisfied" \
  "slipway checklist shows every blocking item satisfied"
is "$(printf '%s' "$out" | jq -r '.items[] | select(.id == "review-approved") | .by')" bob "with who ticked it"
run_slipway audit -o json
is "$(json_get "$out" '[e["actor"] for e in d["items"] if e["action"] == "checklist.attested"]')" \
   '["ci-bot", "ci-bot", "bob", "ci-bot"]' "every attestation in the audit chain, by the tokens' users"
api POST "/deployments/$id/abort" "$CAROL"
like "$(wait_row "rolled_back")" "^$id rolled_back" "rolled back by serve"
stop_serve
run_slipway down api
done_testing
