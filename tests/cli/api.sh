# api.sh - the HTTP API (docs/api.md) with curl on 127.0.0.1: every
# endpoint, each response validated against docs/openapi.json
# (tests/helpers/openapi-check, python3-jsonschema) and every documented
# operation exercised; 401 without a token, 403 naming the missing role,
# refused calls in the audit log; an approval by a token holding the role
# opens the gate, recorded with the token's identity; problems carry the
# CLI's messages; the OpenAPI document itself validated by
# @seriousme/openapi-schema-validator (npm, tests/api/); HTTPS with TLS.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null || ! command -v curl >/dev/null; then
  echo "1..0 # SKIP python3-jsonschema or curl is missing (tools/deps.sh test)"; exit 0
fi
OPENAPI="$SLIPWAY_SRC/docs/openapi.json"
SEEN="$T/seen"
: >"$SEEN"
mkdir -p "$T/proj/services" "$T/proj/releases/web/v1" "$T/proj/releases/web/v2" "$T/proj/releases/shop/v1"
printf 'command: [x]\nenvironments:\n  production: {listen: 127.0.0.1:1}\n' >"$T/proj/services/web.yaml"
printf 'command: [x]\nenvironments:\n  production: {listen: 127.0.0.1:1}\n' >"$T/proj/services/shop.yaml"
# every hour of every day is a standard window and no freeze applies, so the
# gates below depend on approvals only, not on when the suite runs
cat >"$T/policy.yaml" <<'YAML'
windows:
  standard: {days: any, from: "00:00", to: "24:00"}
freezes:
  holiday: ~
  quarter-end: ~
roles:
  team-lead: [alice, bob]
  deployer: [carol, alice]
YAML
export SLIPWAY_POLICY="$T/policy.yaml" SLIPWAY_PROJECT="$T/proj"
unset SLIPWAY_USER

# ---- tokens: printed once, only a hash kept
run_slipway token create --user alice
is "$rc" 0 "token create: exit 0"
ALICE=$out
like "$ALICE" '^swt_[0-9a-f]{64}$' "the token is swt_ and 64 hex digits"
like "$err" "shown this once" "and says it is shown once"
BOB=$("$SLIPWAY" token create --user bob --role team-lead 2>/dev/null)
CAROL=$("$SLIPWAY" token create --user carol 2>/dev/null)
DAVE=$("$SLIPWAY" token create --user dave 2>/dev/null)
ALICE_TL=$("$SLIPWAY" token create --user alice --role team-lead 2>/dev/null)
run_slipway token create --user erin -o json
schema_ok "$out" Token "token create -o json: Token validates"
ERIN=$(json_get "$out" 'd["token"]')
erin_id=$(json_get "$out" 'd["id"]')
run_slipway token revoke "$erin_id" -o json
schema_ok "$out" Token "token revoke -o json: Token validates"
like "$(json_get "$out" 'd["revoked_at"]')" '^20' "revoked_at is set"
run_slipway token revoke "$erin_id"
is "$rc" 1 "revoking twice: exit 1"
like "$err" "revoked already" "says so"
run_slipway token list -o json
schema_ok "$out" TokenList "token list -o json: TokenList validates"
unlike "$out" "${ALICE:4}" "the list never shows a token"
n=$(sqlite3 "$T/state/slipway.db" "SELECT COUNT(*) FROM api_tokens WHERE hash = lower(hex(sha3('x')))" 2>/dev/null || echo 0)
stored=$(sqlite3 "$T/state/slipway.db" "SELECT group_concat(hash || prefix, ' ') FROM api_tokens")
unlike "$stored" "${ALICE:20:40}" "the store keeps no token text"
want=$(printf '%s' "$ALICE" | sha256sum | cut -d' ' -f1)
like "$stored" "$want" "it keeps the token's SHA-256"
run_slipway token create --user bob --role no-such-role
is "$rc" 2 "token create --role of a role the policy lacks: exit 2"
like "$err" "unknown role 'no-such-role'; valid: team-lead, " "names the valid roles"
run_slipway token create
is "$rc" 2 "token create without --user: exit 2"

# ---- the server
"$SLIPWAY" api --listen 127.0.0.1:0 2>"$T/api.log" &
API_PID=$!
stop_api() { kill "$API_PID" 2>/dev/null; wait "$API_PID" 2>/dev/null; }
at_exit stop_api
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/api.log" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
ok "$([ -n "$PORT" ]; echo $?)" "slipway api says where it listens (port 0: a free one)"
URL="http://127.0.0.1:$PORT"

# call METHOD PATH TOKEN [BODY]: sets $code $body $ctype; the answer must match docs/openapi.json
call() {
  local m=$1 p=$2 tok=$3 data=${4-} hdr="$T/.hdr" args=()
  [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  body=$(curl -s -X "$m" -D "$hdr" "${args[@]}" "$URL$p")
  code=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$hdr")
  ctype=$(sed -n 's/^Content-Type: *//Ip' "$hdr" | tr -d '\r')
  local msg r
  msg=$(printf '%s' "$body" | /usr/bin/python3 "$SLIPWAY_SRC/tests/helpers/openapi-check" "$OPENAPI" "$m" "${p%%\?*}" \
        "$code" "$ctype" "$SEEN" 2>&1); r=$?
  _n=$((_n + 1))
  if [ $r = 0 ]; then echo "ok $_n - $m $p: $code matches the OpenAPI document"
  else echo "not ok $_n - $m $p: $code matches the OpenAPI document"; printf '%s\n' "$msg" | head -10 | sed 's/^/#   /'
       _failed=$((_failed + 1)); fi
}
jb() { json_get "$body" "$1"; }

call GET /healthz ""
is "$code" 200 "/healthz needs no token"
call GET /readyz ""
is "$(jb 'd["status"]')" ready "/readyz: ready (the store answers; no controller reports ticks)"

# ---- 401: no token, a malformed one, an unknown one, a revoked one; each audited
call GET /api/v1/deployments ""
is "$code" 401 "no token: 401"
like "$(curl -s -D - -o /dev/null "$URL/api/v1/deployments")" 'WWW-Authenticate: Bearer realm="slipway"' "with WWW-Authenticate"
like "$(jb 'd["detail"]')" "no Authorization header" "the problem says what is missing"
call GET /api/v1/deployments "not-a-token"
is "$code" 401 "a malformed token: 401"
call GET /api/v1/deployments "swt_$(printf '0%.0s' $(seq 1 64))"
is "$code" 401 "an unknown token: 401"
call GET /api/v1/deployments "$ERIN"
is "$code" 401 "a revoked token: 401"
like "$(jb 'd["detail"]')" "token $erin_id was revoked" "saying it was revoked"
call GET /api/v1/openapi.json ""
is "$code" 200 "the OpenAPI document needs no token"
is "$(printf '%s' "$body" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')" \
   "$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$OPENAPI")" \
   "/api/v1/openapi.json serves docs/openapi.json"

call GET /api/v1/whoami "$ALICE"
is "$(jb 'd["roles"]')" '["team-lead", "deployer"]' "whoami: alice's roles from the policy"
call GET /api/v1/whoami "$BOB"
is "$(jb 'd["roles"]')" '["team-lead"]' "a token limited to team-lead acts with that role only"

# ---- deployments: create, list, get, events
call POST /api/v1/deployments "$DAVE" '{"service": "web", "version": "v1"}'
is "$code" 403 "create without the deployer role: 403"
is "$(jb 'd["missing_role"]')" deployer "the problem names the missing role"
like "$(jb 'd["detail"]')" "'dave' does not hold the role 'deployer'" "and says who lacks it"
call POST /api/v1/deployments "$CAROL" '{"service": "web", "version": "v1"}'
is "$code" 201 "create by a deployer: 201"
is "$(jb 'd["state"]')" pending "recorded pending, for a controller to drive"
is "$(jb 'd["requested_by"]')" carol "requested by the token's user"
D1=$(jb 'd["id"]')
call POST /api/v1/deployments "$CAROL" '{"service": "web", "version": "v1"}'
is "$code" 200 "the same version again: 200, the unfinished one"
is "$(jb 'd["resumed"]')" true "resumed: true"
call POST /api/v1/deployments "$CAROL" '{"service": "web", "version": "v2"}'
is "$code" 409 "another version while one is unfinished: 409"
like "$(jb 'd["detail"]')" "deployment $D1 of web v1 in production is unfinished" "with deploy's message"
call POST /api/v1/deployments "$CAROL" '{"service": "nosuch", "version": "v1"}'
like "$code" '^(400|404)$' "a service without a service file: refused ($code)"
call POST /api/v1/deployments "$CAROL" '{"service": "web", "verison": "v1"}'
is "$code" 400 "an unknown field: 400"
like "$(jb 'd["detail"]')" "unknown field 'verison'; valid: service, version, type" "naming the field and the valid ones"
call POST /api/v1/deployments "$CAROL" '{"service": "web", "version": "v1", "type": "emergency"}'
is "$code" 400 "an emergency without a reason: 400"
call POST /api/v1/deployments "$CAROL" '{"service": "web"'
is "$code" 400 "a body that is not JSON: 400"
like "$(jb 'd["detail"]')" "not JSON: line 1" "with the position"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
call POST /api/v1/deployments "$CAROL" "{\"service\": \"$big\"}"
is "$code" 413 "a body over 64 KiB: 413"
call POST /api/v1/deployments "$CAROL" '{"service": "shop", "version": "v1", "type": "hotfix"}'
D2=$(jb 'd["id"]')

call GET /api/v1/deployments "$DAVE"
is "$code" 200 "reading needs a token, not a role"
is "$(jb 'len(d["items"])')" 2 "two deployments listed"
call GET "/api/v1/deployments?service=web&env=production&limit=5" "$DAVE"
is "$(jb '[i["id"] for i in d["items"]]')" "[$D1]" "filtered by service"
call GET "/api/v1/deployments?limit=x" "$DAVE"
is "$code" 400 "a limit that is not a count: 400"
call GET "/api/v1/deployments/$D1" "$DAVE"
is "$(jb 'd["kind"]')" DeploymentDetail "get: the DeploymentDetail"
cli=$("$SLIPWAY" show "$D1" -o json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["deployment"], sort_keys=True))')
is "$(jb 'json.dumps(d["deployment"], sort_keys=True)')" "$cli" "the same deployment object as 'slipway show -o json'"
call GET /api/v1/deployments/99 "$DAVE"
is "$code" 404 "a missing deployment: 404"
"$SLIPWAY" show 99 2>"$T/cli.err"
is "slipway: error: $(jb 'd["detail"]')" "$(cat "$T/cli.err")" "with the message the CLI prints"
call GET /api/v1/deployments/x12 "$DAVE"
is "$code" 400 "an id that is not a number: 400"
is "$(jb 'd["detail"]')" "deployment 'x12' is not an id; give a positive number such as 12" "the CLI's wording"
call GET "/api/v1/deployments/$D1/events" "$DAVE"
is "$(jb '[e["to"] for e in d["items"]]')" '["pending"]' "events: the transitions so far"
call GET "/api/v1/deployments/$D1/events?after=1" "$DAVE"
is "$(jb 'len(d["items"])')" 0 "after=1: nothing newer"
# the analysis results (the dashboard's chart): none yet, then two stored ones, the
# canary and the stable's error rate and p99 taken from each one's comparison table
call GET "/api/v1/deployments/$D1/analysis" "$DAVE"
is "$(jb 'd["kind"] + " " + d["state"] + " " + str(len(d["items"]))')" "DeploymentAnalysis pending 0" "analysis: none yet"
tbl='{"verdict": "pass", "reason": "ok", "table": [{"metric": "Error Rate", "baseline": 0.5, "current": 1.25, "delta": 0.75, "status": "OK"}, {"metric": "P99 Latency", "baseline": 40, "current": 55, "delta": 37.5, "status": "OK"}]}'
sqlite3 "$T/state/slipway.db" "INSERT INTO analysis_results (deployment_id, at_ms, step, weight, verdict, reason, table_json) VALUES
  ($D1, 1764000000000, 1, 10, 'pass', 'ok', '$tbl'), ($D1, 1764000060000, 1, 10, 'inconclusive', 'few requests', NULL)"
call GET "/api/v1/deployments/$D1/analysis" "$DAVE"
is "$(jb '[(a["at"], a["error_rate_pct"], a["p99_ms"], len(a["table"] or [])) for a in d["items"]]')" \
   '[["2025-11-24T16:00:00Z", {"stable": 0.5, "canary": 1.25}, {"stable": 40, "canary": 55}, 2], ["2025-11-24T16:01:00Z", {"stable": null, "canary": null}, {"stable": null, "canary": null}, 0]]' \
   "analysis: each result's error rate and p99, canary and stable, from its table"
first=$(jb 'd["items"][0]["id"]')
call GET "/api/v1/deployments/$D1/analysis?after=$first" "$DAVE"
is "$(jb '[a["verdict"] for a in d["items"]]')" '["inconclusive"]' "after=ID: only the newer result"
call GET "/api/v1/deployments/$D1/analysis?limit=1" "$DAVE"
is "$(jb '[a["verdict"] for a in d["items"]]')" '["pass"]' "limit=1: the oldest"
call GET "/api/v1/deployments/$D1/analysis?after=-1" "$DAVE"
is "$(jb 'd["detail"]')" "after is not an analysis result id; give 0 or more" "a bad after: 400 saying what is valid"
call GET /api/v1/deployments/99/analysis "$DAVE"
is "$code" 404 "analysis of a missing deployment: 404"
call GET "/api/v1/deployments/$D1" "$DAVE"
is "$(jb '[type(d["deployment"]["steps"]).__name__, d["deployment"]["hold_until"]]')" '["int", null]' "a pending deployment: its step count, and no hold running"

# ---- approvals: 403 without the role, the gate opens with it, the audit shows the token
call GET "/api/v1/deployments/$D1/approvals" "$DAVE"
is "$(jb 'd["open"]')" false "the gate waits"
is "$(jb '[m["role"] for m in d["missing"]]')" '["team-lead"]' "for team-lead"
call POST "/api/v1/deployments/$D1/approve" "$DAVE" '{"role": "team-lead"}'
is "$code" 403 "approve without the role: 403"
is "$(jb 'd["missing_role"]')" team-lead "naming the missing role"
like "$(jb 'd["detail"]')" "'dave' does not hold the role 'team-lead' in the roles map" "with approve's message"
call POST "/api/v1/deployments/$D1/approve" "$CAROL" '{"role": "team-lead"}'
is "$code" 403 "carol (a deployer, not a team lead) may not approve as team-lead"
call POST "/api/v1/deployments/$D1/approve" "$BOB" '{"role": "no-such"}'
is "$code" 400 "an unknown role: 400"
call POST "/api/v1/deployments/$D1/reject" "$BOB" '{"role": "team-lead"}'
is "$code" 400 "a rejection needs a comment"
is "$(jb 'd["detail"]')" "'comment' is required" "and says so"
"$SLIPWAY" approvals "$D1" >/dev/null 2>&1
is "$?" 4 "'slipway approvals' before: exit 4, waiting"
call POST "/api/v1/deployments/$D1/approve" "$BOB" '{"role": "team-lead", "comment": "looks good"}'
is "$code" 201 "approve by a token holding team-lead: 201"
is "$(jb 'd["by"]')" bob "recorded as the token's user"
like "$(jb 'd["identity"]')" '^token:[0-9]+$' "identified by the token"
call GET "/api/v1/deployments/$D1/approvals" "$DAVE"
is "$(jb 'd["open"]')" true "the gate is open"
"$SLIPWAY" approvals "$D1" >/dev/null 2>&1
is "$?" 0 "'slipway approvals' agrees: exit 0"
sqlite3 "$T/state/slipway.db" "SELECT approver || ' ' || identity FROM approvals WHERE deployment_id = $D1" >"$T/rows"
like "$(cat "$T/rows")" '^bob token:[0-9]+$' "the approval row names bob and his token"
call POST "/api/v1/deployments/$D2/reject" "$ALICE" '{"role": "team-lead", "comment": "not now"}'
is "$code" 201 "reject: 201"
is "$(jb 'd["decision"]')" rejected "a rejection"

# ---- intents
call POST "/api/v1/deployments/$D1/pause" "$DAVE"
is "$code" 403 "an intent without the deployer role: 403"
is "$(jb 'd["missing_role"]')" deployer "naming deployer"
call POST "/api/v1/deployments/$D1/pause" "$ALICE_TL"
is "$code" 403 "alice holds deployer, but her token limited to team-lead may not record intents"
like "$(jb 'd["detail"]')" "limited to the role 'team-lead'" "and says why"
for a in pause resume promote abort; do
  call POST "/api/v1/deployments/$D1/$a" "$CAROL"
  is "$code" 202 "$a: 202, recorded for the controller"
  is "$(jb 'd["action"]') $(jb 'd["requested_by"]')" "$a carol" "$a by the token's user"
done
call POST "/api/v1/deployments/$D1/promote" "$CAROL" '{"full": "yes"}'
is "$code" 400 "promote with full not a boolean: 400"
is "$(jb 'd["detail"]')" "'full' must be true or false" "says what is valid"
call POST "/api/v1/deployments/$D1/promote" "$CAROL" '{"full": true}'
is "$(jb 'd["full"]')" true "promote full: true"
call POST "/api/v1/deployments/web/pause" "$CAROL"
is "$(jb 'd["deployment_id"]')" "$D1" "a service name means its current deployment"
call POST "/api/v1/deployments/$D1/undo" "$CAROL" '{"to_revision": 0}'
is "$code" 400 "undo to revision 0: 400"
call POST "/api/v1/deployments/$D1/undo" "$CAROL" '{"to_revision": 1}'
is "$(jb 'd["to_revision"]')" 1 "undo to_revision 1: recorded"
call POST "/api/v1/deployments/$D1/retry" "$CAROL"
is "$code" 202 "retry: recorded"
sqlite3 "$T/state/slipway.db" "UPDATE deployments SET state = 'succeeded' WHERE id = $D2"
call POST "/api/v1/deployments/$D2/abort" "$CAROL"
is "$code" 409 "abort of a finished deployment: 409"
"$SLIPWAY" abort "$D2" 2>"$T/cli.err"
is "slipway: error: $(jb 'd["detail"]')" "$(cat "$T/cli.err")" "with abort's message"
run_slipway show "$D1" -o json
is "$(json_get "$out" '[i["action"] for i in d["intents"]]')" \
   '["pause", "resume", "promote", "abort", "promote", "pause", "undo", "retry"]' "every intent is in the store for the controller"

# ---- policy, calendar, incidents, DORA, audit, traffic, metrics
call GET "/api/v1/policy/check?type=standard&at=2026-12-03T15:00:00Z" "$DAVE"
cli=$("$SLIPWAY" check --type standard --at 2026-12-03T15:00:00Z -o json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')
is "$(jb 'json.dumps(d, sort_keys=True)')" "$cli" "policy check: the same document as 'slipway check -o json'"
call GET "/api/v1/policy/check?type=standrad" "$DAVE"
is "$code" 400 "an unknown type: 400"
like "$(jb 'd["detail"]')" "unknown deployment type 'standrad'; did you mean 'standard'" "with check's message"
call GET "/api/v1/policy/check" "$DAVE"
is "$code" 400 "check without a type: 400"
call GET "/api/v1/calendar?type=standard&from=2026-12-10&to=2026-12-12" "$DAVE"
cli=$("$SLIPWAY" calendar --type standard --from 2026-12-10 --to 2026-12-12 -o json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')
is "$(jb 'json.dumps(d, sort_keys=True)')" "$cli" "calendar: the same document as 'slipway calendar -o json'"
call GET "/api/v1/calendar?from=tomorrow" "$DAVE"
is "$code" 400 "a calendar from a non-date: 400"
call POST /api/v1/incidents "$DAVE" '{"service": "web", "title": "5xx"}'
is "$code" 403 "opening an incident without the role: 403"
call POST /api/v1/incidents "$CAROL" "{\"service\": \"web\", \"title\": \"5xx\", \"deployment_id\": $D1}"
is "$code" 201 "open an incident: 201"
is "$(jb 'd["opened_by"]')" carol "opened by the token's user"
INC=$(jb 'd["id"]')
call GET "/api/v1/incidents?open=true" "$DAVE"
is "$(jb 'len(d["items"])')" 1 "one open incident"
call GET "/api/v1/incidents/check?env=production&type=standard" "$DAVE"
is "$(jb 'd["allowed"]')" false "the incident blocks a standard deployment"
call POST "/api/v1/incidents/$INC/resolve" "$CAROL"
is "$(jb 'd["state"]')" resolved "resolved"
call POST "/api/v1/incidents/$INC/resolve" "$CAROL"
like "$code" '^4' "resolving twice is refused ($code)"
call GET "/api/v1/dora?since=2025-11-01&until=2026-12-31" "$DAVE"
is "$(jb 'd["kind"]')" DoraReport "dora: the DoraReport"
call GET "/api/v1/dora?since=never" "$DAVE"
is "$code" 400 "dora since a non-date: 400"
call GET "/api/v1/audit/verify" "$DAVE"
is "$(jb 'd["intact"]')" true "audit verify: intact"
call GET "/api/v1/audit?since=2020-01-01" "$DAVE"
refused=$(jb '[e["actor"] + " " + e["subject"] for e in d["items"] if e["action"] == "api.refused"]')
like "$refused" '"anonymous api:GET /api/v1/deployments"' "a call without a token is audited as anonymous"
like "$refused" '"dave api:POST /api/v1/deployments/[0-9]+/pause"' "a call without the role is audited with the user"
like "$(jb '[e["actor"] for e in d["items"] if e["action"] == "approval.approved"]')" '"bob"' "the approval's audit entry names bob"
like "$(jb '[e["detail"].get("identity") for e in d["items"] if e["action"] == "approval.approved"]')" '"token:[0-9]+"' \
  "and his token"
like "$(jb '[e["detail"].get("identity") for e in d["items"] if e["action"] == "intent.abort"]')" '"token:[0-9]+"' \
  "an intent's audit entry names the token"
call GET "/api/v1/services/web/traffic" "$DAVE"
like "$code" '^(200|502)$' "traffic of a service whose HAProxy is not running: $code"
call PUT "/api/v1/services/web/traffic" "$DAVE" '{"mode": "maintenance"}'
is "$code" 403 "setting the traffic mode needs the deployer role"
call PUT "/api/v1/services/web/traffic" "$CAROL" '{"mode": "sideways"}'
is "$code" 400 "an unknown mode: 400"
is "$(jb 'd["detail"]')" "unknown mode 'sideways'; valid: normal, read-only, maintenance" "with traffic's message"
call GET "/api/v1/services/web/metrics?window=1m" "$DAVE"
is "$(jb 'd["kind"]')" MetricsReport "metrics per revision: the MetricsReport"
call GET "/api/v1/services/web/metrics?window=soon" "$DAVE"
is "$code" 400 "a window that is not a duration: 400"
call GET "/api/v1/services/bad~name/metrics" "$DAVE"
is "$code" 400 "a service name with a character names may not have: 400"
like "$(jb 'd["detail"]')" "'bad~name' is not a service name" "saying what names may hold"

# ---- the event stream (tests/e2e/serve-stream.sh follows one with curl -N)
call GET "/api/v1/stream?deployment=nope" "$DAVE"
is "$code" 400 "stream: a deployment that is not an id: 400"
curl -s --max-time 1 -D "$T/.shdr" -o "$T/stream.out" -H "Authorization: Bearer $DAVE" "$URL/api/v1/stream?deployment=$D1"
is "$(sed -n 's/^Content-Type: *//Ip' "$T/.shdr" | tr -d '\r')" "text/event-stream" "stream: text/event-stream"
like "$(cat "$T/stream.out")" "id: [0-9]+
event: transition
data: \{.*\"deployment_id\": ?$D1" "with the deployment's transitions as events"

# ---- paths and methods
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $DAVE" "$URL/api/v1/deployments/$D1")
is "$code" 405 "a method the path does not take: 405"
like "$(curl -s -X DELETE -D - -o /dev/null -H "Authorization: Bearer $DAVE" "$URL/api/v1/deployments/$D1")" 'Allow: GET' "with Allow"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DAVE" "$URL/api/v1/nothing")
is "$code" 404 "an unknown path: 404"

# ---- /metrics
call GET /metrics ""
like "$body" 'slipway_deployments\{state="pending"\} 1' "/metrics: deployments by state"
like "$body" 'slipway_revision_weight_percent\{service="web",env="production",version="v1",role="canary"\} 0' \
  "the canary's weight"
like "$body" 'slipway_api_responses_total\{code="403"\} [1-9]' "refused calls are counted"
like "$body" 'slipway_notification_queue_depth 0' "the notification queue"
unlike "$body" 'slipway_tick_duration_seconds' "no tick metrics without a controller"

# ---- checklists (docs/checklists.md): attestations as the token's user, in the audit chain
call POST "/api/v1/deployments/$D1/attestations" "$CAROL" '{"item": "ci-passing", "evidence": "https://ci.example/1"}'
is "$code" 201 "attest for a deployment: 201"
is "$(jb 'd["by"]')" carol "recorded as the token's user"
like "$(jb 'd["identity"]')" '^token:' "with the token's identity"
call POST "/api/v1/versions/v1/attestations" "$CAROL" '{"item": "review-approved", "status": "fail"}'
is "$code" 400 "a version several services deployed, without its service: 400"
like "$body" "name the service it is for" "asking for it"
call POST "/api/v1/versions/v1/attestations" "$CAROL" '{"item": "review-approved", "status": "fail", "service": "web"}'
is "$code" 201 "attest for a version of a service: 201"
call POST "/api/v1/deployments/$D1/attestations" "$CAROL" '{"item": "ci-passing", "commit_time": "yesterday"}'
is "$code" 400 "a commit_time that is not RFC 3339: 400"
call POST "/api/v1/deployments/$D1/attestations" "$CAROL" '{"item": "ci-passing", "commit_time": "2026-11-30T10:00:00Z"}'
is "$code" 201 "CI attests with the commit's time: 201"
is "$(jb 'd["commit_time"]')" 2026-11-30T10:00:00Z "and it is recorded"
call POST "/api/v1/versions/v9.9/attestations" "$CAROL" '{"item": "review-approved"}'
is "$code" 404 "a version nothing deployed, without its service: 404"
like "$body" "name its service" "asking for the service"
call POST "/api/v1/versions/v9.9/attestations" "$CAROL" '{"item": "review-approved", "service": "web"}'
is "$code" 201 "with its service, a version before its deployment: 201"
is "$(jb 'd["service"]')" web "tied to the service"
call POST "/api/v1/deployments/$D1/attestations" "$CAROL" '{"item": "no-such"}'
is "$code" 404 "an unknown item: 404"
call POST "/api/v1/deployments/$D1/attestations" "$CAROL" "{\"item\": \"no-vulnerabilities\", \"sarif\": $(jq -Rs . <"$SLIPWAY_SRC/tests/data/sarif/critical.sarif")}"
is "$code" 201 "a SARIF log in the body: 201"
is "$(jb 'd["status"]')" fail "a critical finding fails the item"
like "$(jb 'd["detail"]')" "js/sql-injection" "naming the finding"
call GET "/api/v1/deployments/$D1/checklist" "$CAROL"
is "$code" 200 "the deployment's checklist: 200"
is "$(printf '%s' "$body" | jq -r '.items[] | select(.id == "review-approved") | .state')" failed "the version's attestation counts"

# ---- every documented operation was exercised
missing=$(python3 - "$OPENAPI" "$SEEN" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
seen = set(l.strip() for l in open(sys.argv[2]))
for path, ops in doc["paths"].items():
    for m in ops:
        if "%s %s" % (m.upper(), path) not in seen:
            print("%s %s" % (m.upper(), path))
PY
)
is "$missing" "" "every operation of docs/openapi.json was called and its answer validated"

# ---- the OpenAPI document: generated from docs/schema, and valid for a real OpenAPI validator
python3 "$SLIPWAY_SRC/tools/openapi-gen" --check
ok $? "docs/openapi.json is what tools/openapi-gen writes"
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d "$SLIPWAY_SRC/tests/api/node_modules/@seriousme/openapi-schema-validator" ]; then
    (cd "$SLIPWAY_SRC/tests/api" && npm ci --no-audit --no-fund >/dev/null 2>&1)
  fi
  if [ -d "$SLIPWAY_SRC/tests/api/node_modules/@seriousme/openapi-schema-validator" ]; then
    msg=$(cd "$SLIPWAY_SRC/tests/api" && node validate-openapi.mjs "$OPENAPI" 2>&1); r=$?
    ok $r "@seriousme/openapi-schema-validator: $msg"
    printf '{"openapi": "3.1.0", "info": {"title": "x"}, "paths": {"/x": {"get": {"responses": {"200": {"$ref": "#/nope"}}}}}}' >"$T/bad.json"
    (cd "$SLIPWAY_SRC/tests/api" && node validate-openapi.mjs "$T/bad.json" >/dev/null 2>&1)
    is "$?" 1 "and it refuses a broken document (the check can fail)"
  else
    skip "OpenAPI validator" "npm ci could not install tests/api (no npm registry?)"
  fi
else
  skip "OpenAPI validator" "node and npm are not installed"
fi

# ---- stop; TLS
stop_api
like "$(cat "$T/api.log")" "api: stopping" "SIGTERM stops it"
"$SLIPWAY" api --listen 127.0.0.1:"$PORT" 2>"$T/api2.log" &
P2=$!
for _ in $(seq 1 100); do grep -q "listening on" "$T/api2.log" && break; sleep 0.1; done
like "$(cat "$T/api2.log")" "listening on http://127.0.0.1:$PORT" "a server on the port again, once the first stopped"
timeout 20 "$SLIPWAY" api --listen 127.0.0.1:"$PORT" 2>"$T/api3.log"
is "$?" 3 "a second server on a taken port: exit 3"
like "$(cat "$T/api3.log")" "cannot listen on 127.0.0.1:$PORT" "and says so"
kill "$P2"; wait "$P2" 2>/dev/null
run_slipway api --listen nowhere
is "$rc" 2 "a listen address that is not HOST:PORT: exit 2"
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
  "$SLIPWAY" api --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" 2>"$T/tls.log" &
  TLS_PID=$!
  stop_tls() { kill "$TLS_PID" 2>/dev/null; wait "$TLS_PID" 2>/dev/null; }
  at_exit stop_tls
  TP=""
  for _ in $(seq 1 100); do
    TP=$(sed -n 's/.*listening on https:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/tls.log" | head -1)
    [ -n "$TP" ] && break
    sleep 0.1
  done
  out=$(curl -s --cacert "$T/cert.pem" -H "Authorization: Bearer $DAVE" "https://127.0.0.1:$TP/api/v1/whoami")
  is "$(json_get "$out" 'd["user"]')" dave "HTTPS with the configured certificate"
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TP/healthz")
  unlike "$code" '^200$' "plain HTTP is not served on the TLS port"
  run_slipway api --listen 127.0.0.1:0 --tls-cert "$T/cert.pem"
  is "$rc" 2 "a certificate without a key: exit 2"
else
  skip "HTTPS" "openssl is not installed"
fi
done_testing
