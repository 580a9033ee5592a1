# schema.sh - every command's -o json is a slipway/v1 document that validates
# against its schema in docs/schema/ (a real validator: python3-jsonschema),
# the global options work anywhere on the line, and a reading command never
# creates a store.  The commands that drive live processes (deploy, start,
# instances, traffic, metrics) are validated in tests/e2e/long-names.sh, `db` in
# tests/e2e/db.sh.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
  echo "1..0 # SKIP python3-jsonschema is not installed (tools/deps.sh test)"; exit 0
fi
DB="$T/state/slipway.db"
data="$SLIPWAY_SRC/tests/data"
cat >"$T/policy.yaml" <<'YAML'
roles:
  team-lead: [alice, bob, carol]
windows:
  extended: { approvals: [] }
YAML
export SLIPWAY_POLICY="$T/policy.yaml"
export SLIPWAY_USER=bob
covered=" "
# check NAME KIND ARGS...: run `slipway ARGS -o json`, validate as KIND
check() {
  local name=$1 kind=$2; shift 2
  run_slipway "$@" -o json
  schema_ok "$out" "$kind" "$name: $kind validates (exit $rc)"
  covered="$covered$1 "
}

# ---- a reading command never creates a store; the global options anywhere
run_slipway status -o json
is "$rc" 2 "status without a store: exit 2"
like "$err" "no store in '$T/state'" "says there is none"
ok "$([ ! -e "$T/state" ]; echo $?)" "and creates neither the directory nor the store"
run_slipway --state-dir "$T/elsewhere" history api
is "$rc" 2 "history with --state-dir of nothing: exit 2"
ok "$([ ! -e "$T/elsewhere" ]; echo $?)" "--state-dir is not created by a reading command"

run_slipway notify flush
is "$rc" 0 "a writing command creates the store"
sqlite3 "$DB" <<SQL
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  created_ms, started_ms, finished_ms, state_since_ms, reason, commit_sha, commit_time_ms) VALUES
 (1, 'api', 'production', 'v2', 2, 'v1', 'standard', 'canary', 'progressing', 'alice',
  1764320400000, 1764320400000, NULL, 1764320400000, 'step 1', NULL, NULL),
 (2, 'api', 'production', 'v1', 1, NULL, 'standard', 'canary', 'rolled_back', 'alice',
  1764230000000, 1764230000000, 1764231800000, 1764231800000, 'error rate 6.2% > 5%', 'abc', 1764200000000);
INSERT INTO transitions(deployment_id, at_ms, from_state, to_state, step, weight, reason) VALUES
 (2, 1764230000000, 'pending', 'progressing', 1, 10, 'started'),
 (2, 1764231800000, 'progressing', 'rolled_back', 1, 0, 'error rate 6.2% > 5%');
INSERT INTO analysis_results(deployment_id, at_ms, step, weight, verdict, reason, table_json) VALUES
 (2, 1764231000000, 1, 10, 'rollback', 'error rate 6.2% > 5%',
  '{"verdict":"rollback","rule":"immediate","reason":"error rate 6.2% > 5%","checks":[],"table":[{"metric":"Error Rate","baseline":0.1,"current":6.2,"delta":6.1,"status":"FAIL"}]}');
SQL

for form in "-o json status" "status -o json" "status --output=json" "status --output json" "status -ojson"; do
  run_slipway $form
  schema_ok "$out" Status "'slipway $form' is the Status document"
done
run_slipway status --state-dir "$T/state" -o json api
is "$rc" 0 "--state-dir after the command and its argument"
run_slipway -q status -v --log-format json
is "$rc" 0 "-q, -v and --log-format anywhere"
run_slipway status --log-format xml
is "$rc" 2 "an unknown log format is bad usage"
run_slipway status -o yaml
is "$rc" 2 "an unknown output format is bad usage"
like "$err" "valid: text, json" "and names the valid ones"

# ---- every command that reports something
check version Version version
check inspect Inspection inspect "$SLIPWAY_SRC/examples/argo/rollout.yaml" "$SLIPWAY_SRC/examples/flagger/canary.yaml"
check status Status status
check status Status status api
check status DeploymentDetail status 2
check show DeploymentDetail show 2
check history DeploymentList history api
check log DeploymentList log
check deployments DeploymentList deployments api
check pause Intent pause 1
check resume Intent resume 1
check promote Intent promote 1 --full
check abort Intent abort api
check retry Intent retry 2
check undo Intent undo 2
check approve Approval approve 1 --role team-lead
SLIPWAY_USER=carol run_slipway reject 1 --role team-lead --comment "not now" -o json
schema_ok "$out" Approval "reject: Approval validates (exit $rc)"; covered="${covered}reject "
check approvals ApprovalGate approvals 1
check audit AuditEntryList audit
check audit AuditVerification audit --verify
check incident Incident incident open api --title "5xx" --deployment 1
check incident IncidentList incident list
check incident IncidentCheck incident check
check incident Incident incident resolve 1
check dora DoraReport dora --since 2025-11-01 --until 2025-12-01
check notify NotificationConfig notify config
check notify NotificationFlush notify flush
check notify NotificationTest notify test --channel deployments --queue-only
check notify DeliveryList notify list
check flag FlagChange flag create agent:billing:enabled
check flag FlagChange flag segment canary-users --users u1 --where "group in canary"
check flag FlagChange flag set agent:billing:enabled --segment canary-users --value true
check flag Flag flag get agent:billing:enabled
check flag Segment flag get canary-users
check flag FlagList flag list
check flag FlagHistory flag history agent:billing:enabled
check flag FlagEvaluation flag eval agent:billing:enabled --context '{"targetingKey": "u1"}'
printf 'flags:\n  checkout-theme:\n    type: string\n    variants: {blue: blue}\n' >"$T/flags.yaml"
check flag FlagApply flag apply "$T/flags.yaml"
check token Token token create --user zed
check token TokenList token list
check check PolicyCheck check --type standard --at 2026-12-03T15:00:00Z
check calendar Calendar calendar --from 2026-12-10 --to 2026-12-12
check policy Policy policy show
check serve Controller serve --status
check policy PolicyValidation policy check "$T/policy.yaml"
check analyze AnalysisReplay analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/errors-6pct.csv"
check simulate Simulation simulate --rpm 500 --stable-error-rate 0.01 --canary-error-rate 0.02 --runs 3 --seed 3
check simulate Simulation simulate --rpm 500 --stable-error-rate 0.01 --runs 2 --seed 1 --intervals
mkdir -p "$T/proj/services" "$T/proj/releases/web/v1"
printf 'command: [x]\nenvironments:\n  production: {listen: 127.0.0.1:1}\n' >"$T/proj/services/web.yaml"
SLIPWAY_PROJECT="$T/proj" run_slipway cleanup web -o json
schema_ok "$out" Cleanup "cleanup: Cleanup validates (exit $rc)"; covered="${covered}cleanup "

# ---- one vocabulary: the same deployment in history, log, show and status
a=$("$SLIPWAY" history api -o json | python3 -c 'import json,sys; print(json.dumps([d for d in json.load(sys.stdin)["items"] if d["id"]==2][0], sort_keys=True))')
b=$("$SLIPWAY" show 2 -o json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["deployment"], sort_keys=True))')
c=$("$SLIPWAY" status -o json | python3 -c 'import json,sys; print(json.dumps([d for d in json.load(sys.stdin)["deployments"] if d["id"]==2][0], sort_keys=True))')
is "$a" "$b" "history and show print deployment 2 the same"
is "$a" "$c" "history and status print deployment 2 the same"
unlike "$("$SLIPWAY" log -o json)" '_ms"' "no epoch-ms times in the deployment list"

# ---- one clock: $SLIPWAY_NOW for every command, refused by those on the real clock
out=$(SLIPWAY_NOW=2026-12-03T15:00:00Z "$SLIPWAY" incident open api --title "clock" -o json)
is "$(json_get "$out" 'd["created_at"]')" "2026-12-03T15:00:00Z" "an incident opened under SLIPWAY_NOW is dated then"
out=$(SLIPWAY_NOW=2026-12-03T15:00:00Z "$SLIPWAY" check --type standard -o json)
is "$(json_get "$out" 'd["at"]')" "2026-12-03T15:00:00Z" "check answers for SLIPWAY_NOW"
SLIPWAY_NOW=2026-12-03T15:00:00Z run_slipway deploy api v3
is "$rc" 2 "deploy refuses to run while SLIPWAY_NOW is set"
like "$err" "SLIPWAY_NOW is set, but 'deploy' drives live processes on the real clock" "and says why"
SLIPWAY_NOW=yesterday run_slipway status
is "$rc" 2 "a SLIPWAY_NOW that is not a time is bad usage"

# ---- a missing deployment exits 2 in every command (docs/exit-codes.md)
for cmd in "show 99" "status 99" "approvals 99" "pause 99" "history nosuch" "approve 99 --role team-lead" \
           "notify test --channel deployments --deployment 99" "incident resolve 99"; do
  run_slipway $cmd
  is "$rc" 2 "'$cmd': a missing deployment, service or incident exits 2"
done

check pack PackList pack list   # pack deploy, status, abort: tests/cli/pack.sh, tests/e2e/agent-pack.sh

# ---- every command is covered here, validated in e2e, or has no JSON output
covered="${covered}attest checklist "	# validated in tests/cli/checklist.sh
live=" deploy start instances traffic metrics db rollout "
for cmd in $("$SLIPWAY" --help | awk '/^Commands:/{f=1; next} /^$/{f=0} f{print $1}'); do
  case "$covered$live" in
    *" $cmd "*) ;;
    *) run_slipway $cmd x -o json
       is "$rc:$(printf '%s' "$err" | grep -c 'has no JSON output')" "2:1" "$cmd has no JSON output and says so" ;;
  esac
done
done_testing
