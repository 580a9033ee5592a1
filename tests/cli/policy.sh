# policy.sh - the policy gate through the real binary: the issue's
# acceptance commands, JSON field names, exit codes, the calendar, `policy
# show` / `policy check`, and every invalid policy in tests/data/policy-invalid
# (each file's first line: "# expect: LINE:COL: message fragment").
. "$SLIPWAY_SRC/tests/cli/lib.sh"
cd "$T" || exit 1

# --- acceptance (docs/policy.md)
run_slipway check --type standard --at 2026-12-03T15:00:00Z
is "$rc" 0 "standard on Thu 2026-12-03 15:00Z is allowed (exit 0)"
like "$out" '^allowed' "text says allowed"
like "$out" 'approvals: +team-lead$' "text lists approvals [team-lead]"
run_slipway check --type standard --at 2026-12-03T15:00:00Z -o json
is "$rc" 0 "json: exit 0"
is "$(json_get "$out" 'd["allowed"]')" true "json: allowed true"
is "$(json_get "$out" 'd["approvals"]')" '["team-lead"]' "json: approvals [team-lead]"
is "$(json_get "$out" 'd["window"]')" standard "json: window standard"
is "$(json_get "$out" 'd["type"]+" "+d["class"]+" "+d["at"]')" "standard normal 2026-12-03T15:00:00Z" "json: type, class, at"
is "$(json_get "$out" 'd["blocked_by"]')" '[]' "json: blocked_by empty"
is "$(json_get "$out" 'd["next_allowed"]["at"]')" 2026-12-03T15:00:00Z "json: next_allowed is now when allowed"

run_slipway check --type standard --at 2026-12-16T15:00:00Z
is "$rc" 1 "standard on 2026-12-16 is blocked (exit 1)"
like "$out" "^blocked" "text says blocked"
like "$out" "freeze 'holiday' until 2027-01-03T00:00:00Z" "text names the holiday freeze and its end"
run_slipway check --type standard --at 2026-12-16T15:00:00Z -o json
is "$rc" 1 "json: exit 1"
is "$(json_get "$out" 'd["allowed"]')" false "json: allowed false"
is "$(json_get "$out" '[b["kind"]+":"+b["name"]+"@"+b["until"] for b in d["blocked_by"]]')" \
  '["freeze:holiday@2027-01-03T00:00:00Z"]' "json: blocked_by freeze holiday with until"
is "$(json_get "$out" 'sorted(d.keys())')" \
  '["allowed", "apiVersion", "approvals", "at", "blocked_by", "checklist_blocking", "class", "kind", "next_allowed", "policy", "timezone", "type", "window"]' \
  "json: the fixed field names"
is "$(json_get "$out" 'sorted(d["next_allowed"].keys())')" '["approvals", "at", "window"]' "json: next_allowed fields"
is "$(json_get "$out" 'd["next_allowed"]')" \
  '{"at": "2027-01-04T10:00:00Z", "window": "extended", "approvals": ["team-lead", "engineering-manager"]}' \
  "json: next allowed Monday 10:00 in the extended window"

run_slipway check --type standard --at 2026-12-05T12:00:00Z -o json
is "$rc" 1 "Saturday is blocked"
is "$(json_get "$out" 'd["window"]')" null "json: window null when none is open"
is "$(json_get "$out" '[b["kind"] for b in d["blocked_by"]]')" '["window", "window"]' "json: both windows block"

run_slipway check --type emergency --class critical-security --at 2026-12-25T03:00:00Z
is "$rc" 0 "emergency critical-security fix on Christmas night is allowed"
like "$out" 'approvals: +vp-engineering' "with VP approval"

# a policy that never allows: next_allowed null
cat >never.yaml <<'YAML'
freezes:
  forever: {kind: annual, from: "01-01", until: "12-31"}
YAML
run_slipway check --type standard --at 2026-06-01T15:00:00Z --policy never.yaml -o json
is "$rc" 1 "never: blocked"
is "$(json_get "$out" 'd["next_allowed"]')" null "never: next_allowed null"

# --- usage errors exit 2
run_slipway check --at 2026-12-03T15:00:00Z
is "$rc" 2 "missing --type: exit 2"
run_slipway check --type standrd
is "$rc" 2 "unknown type: exit 2"
like "$err" "did you mean 'standard'" "unknown type: nearest suggested"
run_slipway check --type standard --class urgent
is "$rc" 2 "unknown class: exit 2"
like "$err" "valid: normal, security, critical-security" "unknown class: valid ones listed"
run_slipway check --type standard --at tomorrow
is "$rc" 2 "bad --at: exit 2"
like "$err" "RFC 3339" "bad --at: says what is valid"
run_slipway check --type standard --policy does-not-exist.yaml
is "$rc" 2 "missing policy file: exit 2"

# --- the policy comes from --policy, $SLIPWAY_POLICY or ./slipway.yaml
printf 'timezone: Europe/Berlin\n' >berlin.yaml
run_slipway --policy berlin.yaml check --type standard --at 2026-07-02T12:30:00Z -o json
is "$(json_get "$out" 'd["window"]+" "+d["timezone"]')" "standard Europe/Berlin" "global --policy: 14:30 in Berlin"
out=$(SLIPWAY_POLICY=berlin.yaml "$SLIPWAY" check --type standard --at 2026-07-02T12:30:00Z -o json)
is "$(json_get "$out" 'd["timezone"]')" "Europe/Berlin" "\$SLIPWAY_POLICY is used"
cp berlin.yaml slipway.yaml
run_slipway check --type standard --at 2026-07-02T12:30:00Z -o json
is "$(json_get "$out" 'd["timezone"]')" "Europe/Berlin" "./slipway.yaml is used"
run_slipway check --type standard --at 2026-07-02T12:30:00Z --policy never.yaml -o json
is "$(json_get "$out" 'd["timezone"]')" "UTC" "--policy of the command wins"
rm slipway.yaml

# --- calendar
run_slipway calendar --from 2026-12-10 --to 2026-12-16
is "$rc" 0 "calendar exits 0"
like "$out" 'Thu 2026-12-10 +10:00 +14:00 +extended' "calendar: a day's first row"
like "$out" '^ +14:00 +18:00 +standard +team-lead$' "calendar: standard window row"
like "$out" 'Sat 2026-12-12 .*no window open' "calendar: weekend closed"
like "$out" 'Tue 2026-12-15 .*frozen: holiday' "calendar: holiday day"
like "$out" 'holiday +2026-12-15 \.\. 2027-01-02 +blocks this deployment' "calendar: freeze listed"
run_slipway calendar --from 2026-12-10 --to 2026-12-16 -o json
is "$(json_get "$out" 'len(d["spans"])')" 7 "calendar json: 7 spans (Thu 3, Fri 1, Mon 3)"
is "$(json_get "$out" 'd["spans"][1]')" \
  '{"from": "2026-12-10T14:00:00Z", "to": "2026-12-10T18:00:00Z", "window": "standard", "approvals": ["team-lead"]}' \
  "calendar json: a span"
is "$(json_get "$out" '[f["name"] for f in d["freezes"]]')" '["holiday"]' "calendar json: freezes"
run_slipway calendar --type emergency --class critical-security --from 2026-12-24 --to 2026-12-25 -o json
is "$(json_get "$out" '[s["from"]+"/"+s["to"] for s in d["spans"]]')" \
  '["2026-12-24T00:00:00Z/2026-12-25T00:00:00Z", "2026-12-25T00:00:00Z/2026-12-26T00:00:00Z"]' \
  "calendar: emergency any time, one span per day"
out=$(SLIPWAY_NOW=2026-12-10T09:00:00Z "$SLIPWAY" calendar -o json)
is "$(json_get "$out" 'd["from"]+" "+d["to"]')" "2026-12-10T09:00:00Z 2026-12-25T00:00:00Z" "calendar: default is the rest of today and the next 14 days"
run_slipway calendar --from 2026-12-10 --to 2026-12-01
is "$rc" 2 "calendar: empty range exits 2"
run_slipway calendar --from 2026-12-40
is "$rc" 2 "calendar: bad date exits 2"

# --- policy show / check
run_slipway policy show -o json
is "$rc" 0 "policy show -o json exits 0"
is "$(json_get "$out" 'list(d["types"])')" \
  '["standard", "hotfix", "emergency", "database-migration", "infrastructure-change"]' "policy json: the five types"
is "$(json_get "$out" 'd["types"]["emergency"]["monitoring"]')" continuous "policy json: emergency monitors continuously"
is "$(json_get "$out" 'd["approval_ttl_ms"]')" 86400000 "policy json: approval ttl 24h"
is "$(json_get "$out" 'sorted(d["roles"])')" '["dba", "engineering-manager", "sre-lead", "team-lead", "vp-engineering"]' \
  "policy json: the five roles"
is "$(printf '%s' "$out" | jq -c '.judge | [.name, .alpha, .max_hold_min, .max_hold_min_ms, .look]')" \
  '["sequential",0.05,"1h",3600000,null]' "policy json: the judge's defaults, as the text shows them"
is "$(printf '%s' "$out" | jq -c '.followup | [.remind_every, .postmortem_within_ms, .monitor_every]')" \
  '["4h",172800000,"1h"]' "policy json: the follow-up's defaults"
schema_ok "$out" Policy "policy show -o json validates"
printf 'judge: {name: threshold, look: 10s}\nfollowup: {remind_every: 2h, postmortem_within: 3d}\n' >judge-followup.yaml
run_slipway --policy judge-followup.yaml policy show -o json
is "$(printf '%s' "$out" | jq -c '[.judge.name, .judge.look, .judge.look_ms, .followup.remind_every_ms, .followup.postmortem_within]')" \
  '["threshold","10s",10000,7200000,"3d"]' "policy json: the judge: and followup: a policy sets"
schema_ok "$out" Policy "and validates"
# a bare number is seconds in followup: as in every other duration of the policy (docs/policy.md "Durations")
printf 'approval_ttl: 3600\njudge: {look: 240}\nfollowup: {remind_every: 3600, postmortem_within: 86400, monitor_every: 240}\n' >bare.yaml
run_slipway --policy bare.yaml policy show -o json
is "$(printf '%s' "$out" | jq -c '[.approval_ttl_ms, .judge.look_ms, .followup.remind_every_ms, .followup.postmortem_within, .followup.monitor_every]')" \
  '[3600000,240000,3600000,"1d","4m"]' "a bare number is seconds in followup: as in approval_ttl and judge.look"
run_slipway --policy bare.yaml policy show
like "$out" "a bare number is seconds" "policy show says how followup's durations are read"
run_slipway policy show
is "$rc" 0 "policy show exits 0"
like "$out" 'runbook silent' "policy show comments where the runbook is silent"
printf '%s\n' "$out" >shown.yaml
run_slipway policy check shown.yaml
is "$rc" 0 "policy show output re-loads through policy check"
like "$out" 'valid policy: 5 types, 3 windows, 2 freezes' "policy check summary"
run_slipway --policy berlin.yaml policy show
printf '%s\n' "$out" >shown-berlin.yaml
run_slipway --policy shown-berlin.yaml policy show
like "$out" 'timezone: Europe/Berlin' "a shown merged policy keeps its timezone when reloaded"
run_slipway policy check "$SLIPWAY_SRC/tests/data/check/policies/launch.yaml"
is "$rc" 0 "a merge file validates"
run_slipway policy
is "$rc" 2 "policy without subcommand exits 2"
# -o json on an invalid file: {"valid": false, "errors": [...]} (the schema's other branch), exit 2
printf 'types:\n  standard: {approvals: 3}\n' >bad-json.yaml
run_slipway policy check bad-json.yaml -o json
is "$rc" 2 "policy check -o json of an invalid file exits 2"
is "$(json_get "$out" 'str(d["valid"]).lower()')" false "  and says valid: false"
like "$(json_get "$out" 'd["errors"][0]')" '^bad-json.yaml:[0-9]+:[0-9]+: ' "  with the error at FILE:LINE:COL"
schema_ok "$out" PolicyValidation "  and validates against PolicyValidation"
like "$err" '^slipway: error: bad-json.yaml:[0-9]+:[0-9]+: ' "  and the message on stderr as in text"
run_slipway policy check shown.yaml -o json
schema_ok "$out" PolicyValidation "policy check -o json of a valid file validates"

# --- every invalid policy: "slipway: error: FILE:LINE:COL: message" (as every other error), exit 2
for f in "$SLIPWAY_SRC"/tests/data/policy-invalid/*.yaml; do
  name=$(basename "$f")
  expect=$(sed -n '1s/^# expect: //p' "$f")
  pos=${expect%%: *}
  msg=${expect#*: }
  cp "$f" "$name"
  run_slipway policy check "$name"
  is "$rc" 2 "$name: exit 2"
  first=$(printf '%s\n' "$err" | head -n 1)
  case "$first" in
    "slipway: error: $name:$pos: $msg"*) ok 0 "$name: error at $pos names the problem" ;;
    *) ok 1 "$name: error at $pos names the problem"; echo "#   got:  $first"; echo "#   want: slipway: error: $name:$pos: $msg" ;;
  esac
  run_slipway check --type standard --policy "$name"
  is "$rc" 2 "$name: check with it exits 2"
done
done_testing
