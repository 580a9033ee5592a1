# records.sh - approvals, the audit chain, incidents, and the record
# commands (history, log, show, dora) against fixtures inserted with SQL.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
DB="$T/state/slipway.db"
# who holds which role comes from the policy's roles: map
cat >"$T/policy.yaml" <<'YAML'
roles:
  team-lead: [alice, bob, dave]
  dba: [carol]
  vp-engineering: [victor]
windows:               # the same approvals in every window, so the day the test runs does not matter
  extended: { approvals: [] }
YAML
export SLIPWAY_POLICY="$T/policy.yaml"
now_ms=$(( $(date +%s) * 1000 ))
iso() { python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1])/1000, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))" "$1"; }

run_slipway log
is "$rc" 2 "log without a store: a reading command never creates one"
like "$err" "no store in '.*state'" "and says there is none"
[ -e "$DB" ] && ok=no || ok=yes
is "$ok" yes "no store file was created"
run_slipway notify flush
is "$rc" 0 "a writing command creates the store"
run_slipway log
is "$rc" 0 "log on an empty store"
like "$out" "no deployments" "says there are none"

sqlite3 "$DB" <<SQL
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  created_ms, started_ms, finished_ms, state_since_ms, reason, commit_sha, commit_time_ms) VALUES
 (1, 'api-server', 'production', 'v1.2.3', 3, 'v1.2.2', 'standard', 'canary', 'pending', 'alice',
  $now_ms, NULL, NULL, $now_ms, 'waiting for approvals', NULL, NULL),
 (2, 'api-server', 'production', 'v1.2.2', 2, 'v1.2.1', 'standard', 'canary', 'rolled_back', 'alice',
  1764320400000, 1764320400000, 1764322200000, 1764322200000, 'error rate 6.2% > 5% (immediate rollback criterion)', 'abc123', 1764300000000),
 (3, 'agent-worker', 'production', 'v7', 7, 'v6', 'hotfix', 'fast-progressive', 'succeeded', 'bob',
  1764406800000, 1764406800000, 1764409500000, 1764409500000, 'promoted', 'def456', 1764400000000),
 (4, 'api-server', 'staging', 'v1.2.3', 5, 'v1.2.2', 'standard', 'canary', 'succeeded', 'alice',
  1764230000000, 1764230000000, 1764231800000, 1764231800000, 'promoted', NULL, NULL);
INSERT INTO transitions(deployment_id, at_ms, from_state, to_state, step, weight, reason) VALUES
 (2, 1764320400000, 'pending', 'progressing', 1, 1, 'approvals complete; window standard'),
 (2, 1764321600000, 'progressing', 'rolling_back', 2, 10, 'error rate 6.2% > 5% (immediate rollback criterion)'),
 (2, 1764322200000, 'rolling_back', 'rolled_back', 2, 0, 'previous revision v1.2.1 serving');
INSERT INTO analysis_results(deployment_id, at_ms, step, weight, verdict, reason, table_json) VALUES
 (2, 1764321600000, 2, 10, 'rollback', 'error rate 6.2% > 5%',
  '[{"metric":"Error Rate","baseline":"0.1%","current":"6.2%","delta":"+6.1%","status":"FAIL"},{"metric":"P99 Latency","baseline":"200ms","current":"210ms","delta":"+5%","status":"OK"}]');
INSERT INTO analysis_results(deployment_id, at_ms, step, weight, verdict, reason, table_json) VALUES
 (3, 1764409000000, 3, 50, 'pass', 'all checks passed',
  '{"verdict":"pass","rule":"","reason":"all checks passed","checks":[],"table":[{"metric":"Error Rate","baseline":0.1,"current":0.12,"delta":0.02,"status":"OK"},{"metric":"P99 Latency","baseline":200,"current":210,"delta":5,"status":"OK"}]}');
SQL

# ---- approvals: a standard deployment waits for a team-lead other than its requester
run_slipway approvals 1
is "$rc" 4 "deployment 1 waits for approval (exit 4)"
like "$out" "team-lead +missing: no approval" "team-lead is missing"
SLIPWAY_USER=alice run_slipway approve 1 --role team-lead
is "$rc" 1 "the requester cannot approve her own deployment"
like "$err" "'alice' requested deployment 1 and cannot approve it" "and is told why"
SLIPWAY_USER=carol run_slipway approve 1 --role team-lead
is "$rc" 1 "a DBA cannot approve as team-lead"
like "$err" "does not hold the role 'team-lead'" "and is told why"
SLIPWAY_USER=bob run_slipway approve 2 --role team-lead
is "$rc" 1 "a finished deployment cannot be approved"
run_slipway approvals 1
is "$rc" 4 "still waiting"
SLIPWAY_USER=bob run_slipway approve 1 --role team-lead --comment "looks good" -o json
is "$rc" 0 "bob, a team-lead, approves"
is "$(json_get "$out" 'd["identity"]')" "env:SLIPWAY_USER (os user $(id -un))" "the identity override is recorded"
run_slipway approvals 1 -o json
is "$rc" 0 "the gate is open"
is "$(json_get "$out" 'd["approved"][0]["by"]')" "bob" "approved by bob"
run_slipway approvals 1 --at "$(iso $((now_ms + 25 * 3600000)))" -o json
is "$rc" 4 "25 hours later the approval has expired"
is "$(json_get "$out" 'd["missing"][0]["why"]')" "expired" "and says so"
run_slipway approvals 1 --ttl 1ms
is "$rc" 4 "with a 1 ms TTL it has expired already"
like "$out" "missing: expired \(bob\)" "names the expired approval"
run_slipway approvals 1 --require team-lead,dba -o json
is "$(json_get "$out" '[m["role"] for m in d["missing"]]')" '["dba"]' "--require adds roles (team-lead is approved, dba is not)"
SLIPWAY_USER=dave run_slipway reject 1 --role team-lead
is "$rc" 2 "a rejection needs a comment"
SLIPWAY_USER=dave run_slipway reject 1 --role team-lead --comment "wait for the freeze to end"
is "$rc" 0 "dave rejects"
run_slipway approvals 1
is "$rc" 1 "a rejected deployment: exit 1"
run_slipway approve x --role team-lead
is "$rc" 2 "a bad id is a usage error"

# ---- the audit log and its chain
run_slipway audit -o json
is "$(json_get "$out" '[e["action"] for e in d["items"]]')" '["approval.refused", "approval.refused", "approval.approved", "approval.expired", "approval.rejected"]' "every decision, refusal and expiry is an audit entry"
is "$(json_get "$out" 'd["items"][2]["detail"]["comment"]')" "looks good" "with its comment"
run_slipway audit --since 2000-01-01
like "$out" "approval.rejected" "--since with a date"
run_slipway audit --since yesterday
is "$rc" 2 "--since rejects a non-date"
run_slipway audit --verify
is "$rc" 0 "the chain verifies"
like "$out" "audit chain intact: 5 entries, head [0-9a-f]{64}" "and prints the head hash"
sqlite3 "$DB" "UPDATE audit SET actor = 'mallory' WHERE id = 3" 2>/dev/null
ok "$([ $? != 0 ]; echo $?)" "the store refuses to UPDATE an audit row"
sqlite3 "$DB" "DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{\"role\":\"team-lead\"}' WHERE id = 3;"
run_slipway audit --verify
is "$rc" 1 "a row changed in the database is found (exit 1)"
like "$out" "broken at entry 3: its content does not match its hash" "and named"
run_slipway audit --verify -o json
is "$(json_get "$out" 'd["first_bad_id"]')" 3 "json names the first bad row"

# ---- incidents block deployments in their env, except emergencies
run_slipway incident check
is "$rc" 0 "no incident: deployments allowed"
SLIPWAY_USER=oncall run_slipway incident open api-server --title "elevated 5xx" --deployment 2 -o json
is "$rc" 0 "incident opened"
inc=$(json_get "$out" 'd["id"]')
run_slipway incident check -o json
is "$rc" 1 "an open production incident blocks a standard deployment"
like "$(json_get "$out" 'd["reason"]')" "elevated 5xx" "and names it"
run_slipway incident check --type emergency
is "$rc" 0 "but not an emergency"
run_slipway incident check --env staging
is "$rc" 0 "nor another environment"
run_slipway incident open api-server
is "$rc" 2 "open needs --title"
run_slipway incident list --open -o json
is "$(json_get "$out" 'len(d["items"])')" 1 "one open incident"
SLIPWAY_USER=oncall run_slipway incident resolve "$inc"
is "$rc" 0 "resolved"
run_slipway incident resolve "$inc"
is "$rc" 1 "resolving again is refused"
run_slipway incident check
is "$rc" 0 "allowed again"
run_slipway audit -o json
like "$(json_get "$out" '[e["action"] for e in d["items"]]')" '"incident.opened", "incident.resolved"' "incidents are audited"

# ---- history, log, show
run_slipway history api-server -o json
is "$rc" 0 "history"
is "$(json_get "$out" '[x["id"] for x in d["items"]]')" "[1, 2, 4]" "api-server's deployments, newest first"
is "$(json_get "$out" '[x["state"] for x in d["items"]]')" '["pending", "rolled_back", "succeeded"]' "with their state"
is "$(json_get "$out" 'd["items"][1]["reason"]')" "error rate 6.2% > 5% (immediate rollback criterion)" "and reason"
is "$(json_get "$out" 'd["items"][1]["duration_s"]')" 1800 "and duration"
is "$(json_get "$out" 'set(["id","version","state","reason","type","env","created_at","updated_at","finished_at"]) <= set(d["items"][1].keys())')" "true" "history fields"
run_slipway history api-server --env staging -o json
is "$(json_get "$out" '[x["id"] for x in d["items"]]')" "[4]" "--env filters"
run_slipway log -o json
is "$(json_get "$out" '[x["id"] for x in d["items"]]')" "[1, 3, 2, 4]" "the log: every service, newest first"
run_slipway log
like "$out" "agent-worker +v7 +production +hotfix +succeeded" "text log line"
run_slipway show 2
is "$rc" 0 "show"
like "$out" "progressing +-> rolling_back .*immediate rollback criterion" "timeline with reasons"
like "$out" "Error Rate +\| 0.1% +\| 6.2% +\| \+6.1% +\| FAIL" "the comparison table"
like "$out" "elevated 5xx" "the linked incident"
run_slipway show 1 -o json
is "$(json_get "$out" '[a["decision"] for a in d["approvals"]]')" '["approved", "rejected"]' "approvals in show"
run_slipway show 2 -o json
is "$(json_get "$out" 'd["last_analysis"]["table"][0]["status"]')" "FAIL" "comparison in json"
is "$(json_get "$out" 'len(d["transitions"])')" 3 "timeline in json"
run_slipway show 3
like "$out" "P99 Latency +\| 200ms +\| 210ms +\| \+5.00% +\| OK" "the engine's analysis object: its table is printed with units, as analyze prints it"
run_slipway show 3 -o json
is "$(json_get "$out" 'd["last_analysis"]["table"][1]["current"]')" 210 "json comparison.table holds the rows"
is "$(json_get "$out" 'd["last_analysis"]["analysis"]["verdict"]')" "pass" "and analysis the whole result"
run_slipway show 99
is "$rc" 2 "show of an unknown deployment"
like "$err" "no deployment 99" "says so"

# ---- dora over the fixtures
run_slipway dora --since 2025-11-01 --until 2025-12-01 -o json
is "$rc" 0 "dora"
is "$(json_get "$out" 'd["deployments"]["finished"]')" 2 "production deployments finished in November 2025"
is "$(json_get "$out" '{m["key"]: m["status"] for m in d["metrics"]}["deployment_failure_rate"]')" "outside" "1 of 2 failed: outside"
is "$(json_get "$out" '{m["key"]: m["value"] for m in d["metrics"]}["mttr_deployments"]')" "600000.0" "rollback took 10 minutes"
is "$(json_get "$out" '{m["key"]: m["value"] for m in d["metrics"]}["change_failure_rate"]')" "50.0" "change failure rate 50%"
run_slipway dora --since 2025-11-01 --until 2025-12-01 --service agent-worker -o json
is "$(json_get "$out" '{m["key"]: m["value"] for m in d["metrics"]}["lead_time"]')" "9500000.0" "lead time of agent-worker"
run_slipway dora --since 2025-11-01 --until 2025-12-01
like "$out" "Lead time for changes .*< 1 day +< 1 week +meets target" "text table with target, threshold, status"
like "$out" "2025-11  █" "monthly chart"
run_slipway dora --since 2026-01-01 --until 2025-01-01
is "$rc" 2 "an empty range is refused"
done_testing
