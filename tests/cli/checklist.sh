# checklist.sh - the runbook's checklists as gates with evidence
# (docs/checklists.md): attestations for a deployment and for a version,
# a SARIF log with a critical finding that fails its item, who may tick an
# item, the audit entries, and `slipway checklist` on a fixture inserted
# with SQL.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
DB="$T/state/slipway.db"
data="$SLIPWAY_SRC/tests/data"
cat >"$T/policy.yaml" <<'YAML'
roles:
  team-lead: [alice, bob]
checklists:
  ci-passing: { blocks: [standard] }
  review-approved: { blocks: [standard], who: team-lead }
  no-vulnerabilities: { blocks: [standard], fail_at: critical }
YAML
export SLIPWAY_POLICY="$T/policy.yaml"
export SLIPWAY_USER=ci-bot
now_ms=$(( $(date +%s) * 1000 ))

run_slipway notify flush
is "$rc" 0 "a writing command creates the store"
sqlite3 "$DB" <<SQL
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  created_ms, state_since_ms, reason) VALUES
 (1, 'api-server', 'production', 'v1.2.3', 3, 'v1.2.2', 'standard', 'canary', 'pending', 'alice',
  $now_ms, $now_ms, 'waiting');
SQL

run_slipway checklist 1
is "$rc" 4 "checklist: waiting for blocking items exits 4"
like "$out" "5 blocking items not satisfied" "five blocking items: three attested, two slipway proves at the gate"
like "$out" "window-confirmed +pre-deployment +unchecked +yes" "the window is unchecked until the gate looks"
like "$out" "ci-passing +pre-deployment +missing +yes" "ci-passing is missing and blocks"
like "$out" "docs-updated +pre-deployment +missing +no" "docs-updated is reported, not blocking"
unlike "$out" "vp-approval" "the emergency list does not apply to a standard deployment"

sqlite3 "$DB" <<SQL
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  created_ms, state_since_ms, reason) VALUES
 (2, 'web', 'production', 'v1.2.4', 4, 'v1.2.3', 'emergency', 'canary', 'pending', 'alice',
  $now_ms, $now_ms, 'waiting');
SQL
run_slipway checklist 2
is "$rc" 0 "an emergency is not held by its checklist: exit 0, not 4"
like "$out" "not satisfied \(an emergency is not held by them: what it misses is recorded and notified\)" \
  "and says so"
like "$out" "vp-approval +emergency" "the emergency list applies to it"
sqlite3 "$DB" "DELETE FROM deployments WHERE id = 2"

run_slipway attest 1 ci-passing --evidence https://ci.example/run/42
is "$rc" 0 "attest ci-passing: exit 0"
like "$out" "attested ci-passing for deployment 1: pass as 'ci-bot'" "says what was recorded"
SLIPWAY_USER= run_slipway attest 1 ci-passing
is "$rc" 1 "a person under their own name cannot tick an item whose who: is automation"
like "$err" "item 'ci-passing' is ticked by automation only \(who: automation\), not by a person" "and is told who can"
run_slipway attest 1 review-approved
is "$rc" 1 "a person without the item's role is refused"
like "$err" "'ci-bot' does not hold the role 'team-lead' that may tick 'review-approved'" "and told why"
SLIPWAY_USER=bob run_slipway attest v1.2.3 review-approved --evidence https://git.example/pr/7
is "$rc" 0 "an attestation for the version"
like "$out" "for version v1.2.3: pass as 'bob'" "names the version"

# a version's attestation is tied to its service: inferred when one service deployed it, else named
SLIPWAY_USER=bob run_slipway attest v9.9.9 review-approved
is "$rc" 2 "a version nothing deployed, without --service, is refused"
like "$err" "no deployment of version v9.9.9 in the store: name its service \(--service SERVICE" "and told how to name it"
SLIPWAY_USER=bob run_slipway attest v9.9.9 review-approved --service web
is "$rc" 0 "with --service, CI may attest a version before its deployment exists"
like "$out" "for version v9.9.9 of web: pass" "tied to the service"
SLIPWAY_USER=bob run_slipway attest 'v1;rm' review-approved --service web
is "$rc" 2 "a version with characters no version has is refused"
SLIPWAY_USER=bob run_slipway attest 1 review-approved --service web
is "$rc" 2 "--service is for a version, not a deployment"

run_slipway attest 1 no-vulnerabilities
is "$rc" 2 "a SARIF item without its log is bad usage"
cd "$T" || exit 1 # the SARIF logs are copied here, not into the source tree
cp "$data/sarif/critical.sarif" scan.sarif
run_slipway attest 1 no-vulnerabilities --evidence scan.sarif --status pass
is "$rc" 1 "a critical finding fails the item whatever --status says"
like "$out" "no-vulnerabilities for deployment 1: fail" "recorded as fail"
like "$out" "critical 'js/sql-injection' at src/db.js:14" "naming the finding"
run_slipway checklist 1
is "$rc" 4 "still waiting: the SARIF item failed"
like "$out" "no-vulnerabilities +pre-deployment +failed +yes" "the failed item blocks"
like "$out" "review-approved +pre-deployment +satisfied +yes +bob" "the version's attestation counts for the deployment"

cp "$data/sarif/clean.sarif" clean.sarif
run_slipway attest 1 no-vulnerabilities --evidence clean.sarif
is "$rc" 0 "a log without findings at or above critical passes"
run_slipway checklist 1 -o json
is "$rc" 4 "checklist: still waiting for what the gate proves, exit 4"
schema_ok "$out" Checklist "checklist -o json validates"
is "$(printf '%s' "$out" | jq -r '[.items[] | select(.blocking and .state != "satisfied") | .id] | join(",")')" "no-incidents,window-confirmed" "only the items the gate proves are left"
is "$(printf '%s' "$out" | jq -r '.items[] | select(.id == "ci-passing") | .evidence')" "https://ci.example/run/42" "the evidence is shown"
run_slipway attest 1 ci-passing --status fail -o json
is "$rc" 1 "attest --status fail exits 1"
schema_ok "$out" Attestation "attest -o json validates"

run_slipway attest 1 no-such-item
is "$rc" 2 "an unknown item is refused"
like "$err" "no checklist item 'no-such-item'" "and named"
run_slipway attest 1 window-confirmed
is "$rc" 2 "an item slipway proves takes no attestation"
run_slipway attest 9 ci-passing
is "$rc" 2 "an unknown deployment"

run_slipway checklist tick 1 lessons-learned --evidence https://wiki.example/pm/1
is "$rc" 0 "checklist tick: a post-deployment item ticked"
like "$out" "attested lessons-learned for deployment 1: pass" "recorded as a pass"
run_slipway checklist tick 1 lessons-learned --status fail
is "$rc" 2 "tick records passes only"
# an item of the emergency lists does not apply to a standard deployment: refused, not recorded
run_slipway checklist tick 1 post-mortem --evidence https://wiki.example/pm/1
is "$rc" 1 "checklist tick: a post-emergency item on a standard deployment is refused (exit 1)"
like "$err" "item 'post-mortem' is on the post-emergency checklist, which applies to emergency deployments only; deployment 1 is of type 'standard'" \
  "and told why"
run_slipway attest 1 emergency-documented
is "$rc" 1 "attest: an emergency item on a standard deployment is refused (exit 1)"
is "$(sqlite3 "$DB" "SELECT count(*) FROM attestations WHERE item IN ('post-mortem', 'emergency-documented')")" 0 \
  "neither refusal is recorded"
sqlite3 "$DB" <<SQL
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  created_ms, state_since_ms, reason) VALUES
 (99, 'hotfixed', 'production', 'v9.0.1', 1, 'v9.0.0', 'emergency', 'canary', 'succeeded', 'alice',
  $now_ms, $now_ms, 'done');
SQL
run_slipway checklist tick 99 post-mortem --evidence https://wiki.example/pm/99
is "$rc" 0 "the same tick on an emergency deployment is recorded"
run_slipway checklist 1 extra
is "$rc" 2 "checklist takes one deployment"

# proved once a deployment starts (docs/checklists.md): the baseline the engine stored, the
# DEPLOYMENT STARTING message's delivery, read from the records
sqlite3 "$DB" <<SQL
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  created_ms, started_ms, state_since_ms, reason, engine_json) VALUES
 (3, 'api-server', 'production-eu', 'v1.2.4', 4, 'v1.2.3', 'standard', 'canary', 'progressing', 'alice',
  $now_ms, $now_ms, $now_ms, 'step 1',
  '{"baseline":{"requests":1200,"errors":6,"p50_ms":40,"p99_ms":120,"span_ms":30000},"resume_state":"progressing"}'),
 (4, 'api-server', 'production', 'v1.2.5', 5, 'v1.2.4', 'standard', 'canary', 'succeeded', 'alice',
  $now_ms, $now_ms, $now_ms, 'done', '{"baseline":{"requests":0,"errors":0},"resume_state":"progressing"}');
INSERT INTO notify_messages(id, deployment_id, kind, channels, event_json, text, created_ms) VALUES
 (1, 3, 'starting', '#deployments', '{}', 'DEPLOYMENT STARTING', $now_ms);
INSERT INTO notify_deliveries(message_id, sink, state, attempts, next_attempt_ms, sent_ms, updated_ms) VALUES
 (1, 'slack', 'sent', 1, $now_ms, $now_ms, $now_ms);
SQL
run_slipway checklist 3
like "$out" "baselines-documented +pre-deployment +satisfied +no +slipway .*baseline of v1.2.3 stored: 1200 requests, 0.50% errors, p99 120ms over 30s" \
  "the baseline the engine stored proves baselines-documented"
like "$out" "announced +pre-deployment +satisfied +no +slipway .*DEPLOYMENT STARTING delivered to #deployments via slack" \
  "the delivered DEPLOYMENT STARTING proves announced"
run_slipway checklist 4
like "$out" "baselines-documented +pre-deployment +missing .*no baseline of v1.2.4 was captured" "no baseline stored: missing"
like "$out" "announced +pre-deployment +missing .*no DEPLOYMENT STARTING message recorded" "no message: missing"
run_slipway checklist 1
like "$out" "announced +pre-deployment +unchecked .*proved once the deployment starts" "a pending deployment: unchecked"

# show and check carry the checklist; policy show -o json its items
run_slipway show 3
is "$rc" 0 "show a deployment"
like "$out" "checklist:" "show has a checklist section"
like "$out" "ci-passing +pre-deployment +missing +blocks" "with each item and whether it blocks"
run_slipway show 3 -o json
is "$rc" 0 "show -o json"
schema_ok "$out" DeploymentDetail "show -o json validates"
is "$(printf '%s' "$out" | jq -r '.checklist.items[] | select(.id == "baselines-documented") | .state')" satisfied \
  "show -o json: the checklist's items and states"
run_slipway check --type standard --at 2026-12-03T15:00:00Z
like "$out" "checklist: +waits for ci-passing \(attest\), review-approved \(attest\), no-vulnerabilities \(sarif\), no-incidents \(incidents\), window-confirmed \(window\)" \
  "check names the checklist items a standard deployment waits for"
run_slipway check --type standard --at 2026-12-03T15:00:00Z -o json
schema_ok "$out" PolicyCheck "check -o json validates"
is "$(printf '%s' "$out" | jq -r '[.checklist_blocking[].id] | join(",")')" \
  "ci-passing,review-approved,no-vulnerabilities,no-incidents,window-confirmed" "check -o json: the blocking items"
run_slipway policy show -o json
schema_ok "$out" Policy "policy show -o json validates"
is "$(printf '%s' "$out" | jq -c '.checklists["review-approved"] | [.who, .blocks, .check]')" '["team-lead",["standard"],"attest"]' \
  "policy show -o json has the checklists"
is "$(printf '%s' "$out" | jq -r '.checklists["no-vulnerabilities"].fail_at')" critical "with a SARIF item's fail_at"

# a version's attestation for another service does not count
SLIPWAY_USER=bob run_slipway attest v1.2.4 docs-updated --service web
is "$rc" 0 "docs-updated attested for web's v1.2.4"
run_slipway checklist 3 -o json
is "$(printf '%s' "$out" | jq -r '.items[] | select(.id == "docs-updated") | .state')" missing \
  "it does not count for api-server's v1.2.4"
SLIPWAY_USER=bob run_slipway attest v1.2.4 docs-updated
is "$rc" 0 "without --service: the one service that deployed v1.2.4 (api-server)"
run_slipway checklist 3 -o json
is "$(printf '%s' "$out" | jq -r '.items[] | select(.id == "docs-updated") | .state')" satisfied "and counts for it"

# DORA's lead time takes the commit time CI reported with its attestation when the deployment has none
sqlite3 "$DB" <<SQL
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  created_ms, started_ms, finished_ms, state_since_ms, reason) VALUES
 (6, 'api-server', 'dora-env', 'v3.0.0', 6, 'v2.0.0', 'standard', 'canary', 'succeeded', 'alice',
  $now_ms, $now_ms, $now_ms, $now_ms, 'done');
SQL
run_slipway dora --env dora-env -o json
is "$(printf '%s' "$out" | jq -r '[.monthly[] | .lead_time_median_ms] | map(select(. != null)) | length')" 0 \
  "no commit time anywhere: no lead time"
run_slipway attest 6 ci-passing --commit-time 'not-a-time'
is "$rc" 2 "--commit-time must be an RFC 3339 time"
run_slipway attest 6 ci-passing --commit-time "$(date -u -d @$(( now_ms / 1000 - 7200 )) +%Y-%m-%dT%H:%M:%SZ)" -o json
is "$rc" 0 "CI attests with the commit's time"
schema_ok "$out" Attestation "attest --commit-time -o json validates"
run_slipway dora --env dora-env -o json
is "$(printf '%s' "$out" | jq -r '[.monthly[] | .lead_time_median_ms] | map(select(. != null)) | .[0]')" 7200000 \
  "the lead time runs from the attested commit time: 2 h"

# flags, migrations and dashboards are proved at the gate now, not attested
run_slipway attest 1 feature-flags
is "$rc" 2 "feature-flags is proved by slipway: an attestation of it is bad usage"
like "$err" "item 'feature-flags' is proved by slipway itself \(check: flags\)" "and says how it is satisfied"
run_slipway checklist 1
like "$out" "dashboards-accessible +pre-deployment +unchecked +no" "dashboards: unchecked until the gate looks"
run_slipway policy show
like "$out" "check: migrations" "policy show names the new checks"

# removing an item the gate has always enforced: warned, the rule itself still holds
printf 'checklists:\n  no-incidents: ~\n' >"$T/no-incidents.yaml"
run_slipway policy check "$T/no-incidents.yaml"
is "$rc" 0 "a policy without no-incidents is valid"
like "$err" "warning: checklist item 'no-incidents' \(runbook: \"No active incidents in production\"\) is removed: .*the gate still holds a deployment while an incident is open" \
  "and warned about: the runbook's item is gone"
run_slipway policy check "$T/policy.yaml"
unlike "$err" "warning" "no warning for a policy that keeps them"

run_slipway audit -o json
is "$(printf '%s' "$out" | jq '[.items[] | select(.action == "checklist.attested")] | length')" 11 "every attestation is in the audit chain"
run_slipway audit --verify
is "$rc" 0 "and the chain holds"
done_testing
