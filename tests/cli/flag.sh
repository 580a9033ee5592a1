# flag.sh - `slipway flag` (docs/flags.md): the runbook's commands, versions,
# the audit chain, flag files with FILE:LINE:COL errors, stickiness.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
export SLIPWAY_USER=alice
data="$SLIPWAY_SRC/tests/data/flags"

run_slipway flag create agent:billing:enabled --reason "new agent pack"
is "$rc" 0 "create a boolean flag"
like "$out" "version 1" "its first version"
run_slipway flag create agent:billing:enabled
is "$rc" 1 "creating it again is refused (exit 1)"
like "$err" "exists in environment 'production' \(version 1\)" "and says so"
run_slipway flag set agent:billing:enabled --segment canary-users --value true
is "$rc" 2 "a rule for a segment that does not exist: exit 2"
like "$err" "no segment 'canary-users' in environment 'production'" "names the missing segment"
run_slipway flag segment canary-users --users u1,u2 --where 'group in [canary]'
is "$rc" 0 "define the segment: users and an attribute"
run_slipway flag set agent:billing:enabled --segment canary-users --value true
is "$rc" 0 "the runbook's 'set agent:billing:enabled --segment canary-users --value true'"
like "$out" "version 2" "a new version"
run_slipway flag set agent:billing:enabled --segment canary-users --value true
like "$out" "version 2 \(unchanged\)" "the same change again writes nothing"
run_slipway flag eval agent:billing:enabled --context '{"targetingKey": "u1"}' -o json
is "$(json_get "$out" 'd["value"], d["reason"], d["variant"]')" '[true, "TARGETING_MATCH", "on"]' "u1 is in the segment"
run_slipway flag eval agent:billing:enabled --context '{"targetingKey": "zz", "group": "canary"}' -o json
is "$(json_get "$out" 'd["value"]')" "true" "group canary is in the segment"
run_slipway flag eval agent:billing:enabled --context '{"targetingKey": "zz"}' -o json
is "$(json_get "$out" 'd["value"], d["reason"]')" '[false, "DEFAULT"]' "anyone else gets the default"

# a percentage: raising it keeps everyone who had it
run_slipway flag set agent:billing:enabled --percentage 25 --reason "step 1"
is "$rc" 0 "a 25% rollout"
on25=""
for u in $(seq 1 40); do
  run_slipway flag eval agent:billing:enabled --context "{\"targetingKey\": \"user-$u\"}" -o json
  [ "$(json_get "$out" 'd["value"]')" = true ] && on25="$on25 $u"
done
run_slipway flag set agent:billing:enabled --percentage 50
lost=""
for u in $on25; do
  run_slipway flag eval agent:billing:enabled --context "{\"targetingKey\": \"user-$u\"}" -o json
  [ "$(json_get "$out" 'd["value"]')" = true ] || lost="$lost $u"
done
ok "$([ -n "$on25" ] && [ -z "$lost" ]; echo $?)" "25% -> 50%: every user on at 25% stays on (on:$on25; lost:$lost)"
run_slipway flag eval agent:billing:enabled -o json
is "$rc" 1 "no targeting key at a 50% rollout: exit 1"
is "$(json_get "$out" 'd["errorCode"]')" "TARGETING_KEY_MISSING" "TARGETING_KEY_MISSING, not a bucket for the empty string"

run_slipway flag get agent:billing:enabled -o json
is "$(json_get "$out" 'd["version"], len(d["definition"]["rules"])')" "[4, 2]" "get: version 4, two rules"
run_slipway flag history agent:billing:enabled -o json
is "$(json_get "$out" '[c["action"] for c in d["changes"]]')" '["created", "updated", "updated", "updated"]' "history: every change"
is "$(json_get "$out" 'd["changes"][0]["reason"], d["changes"][0]["actor"]')" '["new agent pack", "alice"]' "with its reason and actor"
run_slipway audit -o json
like "$out" '"flag.created"' "the audit log has flag.created"
like "$out" '"segment.created"' "and segment.created"
run_slipway audit --verify
is "$rc" 0 "audit --verify holds after every flag change"

run_slipway flag segment canary-users --delete
is "$rc" 1 "a segment in use cannot be deleted"
like "$err" "used by 'agent:billing:enabled'" "names the flag using it"
run_slipway flag set agent:billing:enabled --value true --env staging
is "$rc" 2 "no such flag in staging: exit 2"
run_slipway flag set agent:billing:enabled --value maybe
is "$rc" 2 "a value that is not boolean: exit 2"
like "$err" "not a boolean value" "says what is valid"
run_slipway flag create other --type wat
is "$rc" 2 "create --type wat: exit 2"
like "$err" "--type 'wat' is not a flag type; valid: boolean, string, number, object" "names the option and the valid types"
run_slipway flag create other --type bool
like "$err" "did you mean 'boolean'\?" "a near miss gets the nearest type"
run_slipway flag list -o json
is "$(json_get "$out" '[f["name"] for f in d["flags"]]')" '["agent:billing:enabled"]' "no flag was created by a bad --type"
# --segment errors name the option, not the rule path the store checks
run_slipway flag set agent:billing:enabled --segment nobody --value true
is "$rc" 2 "--segment naming no segment: exit 2"
like "$err" "^slipway: error: --segment 'nobody': no segment 'nobody' in environment 'production'; define it first \('slipway flag segment nobody" "names --segment and how to define it"
unlike "$err" "rules\[" "and no internal rule path"
run_slipway flag set agent:billing:enabled --segment nobody --percentage 10
like "$err" "^slipway: error: --segment 'nobody': no segment" "--segment with --percentage: the same"
run_slipway flag set agent:billing:enabled --segment 'not a name' --value true
is "$rc" 2 "--segment that is not a name: exit 2"
like "$err" "--segment 'not a name' is not a segment name: 1 to 200 letters" "names --segment and what a name is"
run_slipway rollout flag agent:billing:enabled --service api --steps 5%,100% --interval 30m --segment nobody
is "$rc" 2 "rollout flag --segment naming no segment: exit 2"
like "$err" "^slipway: error: --segment 'nobody': no segment 'nobody'" "rollout flag: names --segment"
run_slipway flag get agent:billing:enabled -o json
is "$(json_get "$out" 'd["version"]')" "4" "no --segment error changed the flag"

# flag files: apply, unchanged on the second apply, FILE:LINE:COL faults
run_slipway flag apply "$data/good"
is "$rc" 0 "apply a directory of flag files"
like "$out" "flag 'checkout-theme' in 'staging': version 1" "its flags land in the file's environment"
run_slipway flag apply "$data/good"
like "$out" "checkout-theme' in 'staging': version 1 \(unchanged\)" "a second apply changes nothing"
for f in "$data"/bad/*.yaml; do
  want=$(sed -n 's/^# error: //p' "$f")
  run_slipway flag apply "$f"
  is "$rc" 2 "$(basename "$f"): exit 2"
  like "$err" "$(printf '%s' "$want" | sed 's/[][().*+?|{}]/\\&/g')" "$(basename "$f"): $want"
done
# an empty file (0 bytes; tests/data/flags/bad/ has one of comments only) is refused: nothing to apply
: >"$T/empty.yaml"
run_slipway flag apply "$T/empty.yaml"
is "$rc" 2 "apply an empty file: exit 2 (bad input), not a silent success"
like "$err" "empty.yaml:1:1: the flag file is empty .*nothing to apply" "says the file is empty and nothing was applied"
run_slipway flag list --env staging -o json
is "$(json_get "$out" '[f["name"] for f in d["flags"]]')" '["agent:search:enabled", "checkout-theme"]' "a failed apply changed nothing"

run_slipway flag delete agent:billing:enabled --reason done
is "$rc" 0 "delete"
run_slipway flag get agent:billing:enabled
is "$rc" 2 "deleted: not found"
run_slipway flag create agent:billing:enabled
like "$out" "version 6" "re-created: the version count continues"

# ---- rollout flag: what is refused before anything is recorded (docs/flags.md)
run_slipway rollout flag agent:billing:enabled --service api --steps 5%,50%,25% --interval 30m
is "$rc" 2 "rollout flag: decreasing steps are bad usage"
like "$err" "step 3 \(25%\) does not raise the percentage" "and it says which step"
run_slipway rollout flag agent:billing:enabled --service api --steps 5%,100% --interval 5s
is "$rc" 2 "rollout flag: an interval under 10s is bad usage"
run_slipway rollout flag agent:billing:enabled --steps 5%,100% --interval 30m
is "$rc" 2 "rollout flag: --service is required"
run_slipway rollout flag no-such-flag --service api --steps 5%,100% --interval 30m
is "$rc" 2 "rollout flag: an unknown flag is bad usage"
run_slipway rollout flag checkout-theme --env staging --service api --steps 5%,100% --interval 30m
is "$rc" 2 "rollout flag: a string flag cannot be rolled out"
like "$err" "of type string" "and it says why"
run_slipway rollout release x --service api --steps 5% --interval 30m
is "$rc" 2 "rollout: only 'flag'"
run_slipway deployments api
is "$(printf '%s' "$out" | grep -c 'flag:')" 0 "nothing was recorded"
run_slipway audit --verify
is "$rc" 0 "audit --verify still holds"
# ---- --percentage sets the flag's rollout rule, a flag file's unnamed one too
# (docs/flags.md "Which rule a percentage sets"; cases tests/data/flags/percentage/)
run_slipway flag apply "$data/percentage/docs-example.yaml"
is "$rc" 0 "apply docs/flags.md's example flag file (unnamed rules, one a 5% rollout)"
run_slipway flag set agent:billing:enabled --percentage 0 --env staging --reason "agent pack aborted"
is "$rc" 0 "flag set --percentage 0 on it (what pack abort and pack deploy's disable stage send)"
run_slipway flag get agent:billing:enabled --env staging -o json
is "$(json_get "$out" '[(r.get("name"), r.get("segments"), r.get("rollout"), r["serve"]) for r in d["definition"]["rules"]]')" \
  '[[null, ["canary-users"], null, "on"], [null, null, {"percentage": 0, "stickiness": "targetingKey"}, "on"]]' \
  "the file's rollout rule is at 0%, still unnamed, and no rule was added"
on=""
for u in $(seq 1 100); do
  run_slipway flag eval agent:billing:enabled --env staging --context "{\"targetingKey\": \"user-$u\"}" -o json
  [ "$(json_get "$out" 'd["value"]')" = true ] && on="$on $u"
done
is "$on" "" "at 0% none of 100 users outside the segment gets the flag"
run_slipway flag eval agent:billing:enabled --env staging --context '{"targetingKey": "u1"}' -o json
is "$(json_get "$out" 'd["value"]')" "true" "the segment keeps it"
run_slipway flag set agent:billing:enabled --percentage 20 --stickiness userId --env staging
run_slipway flag get agent:billing:enabled --env staging -o json
is "$(json_get "$out" 'len(d["definition"]["rules"]), d["definition"]["rules"][1]["rollout"]')" \
  '[2, {"percentage": 20, "stickiness": "userId"}]' "set again (with --stickiness): the same rule moves"

run_slipway flag apply "$data/percentage/two-rollouts.yaml"
is "$rc" 0 "apply a flag with two unnamed rollout rules"
run_slipway flag set agent:search:enabled --percentage 0 --env staging
is "$rc" 1 "--percentage on it is refused (exit 1): which rule is not known"
like "$err" "rules\[0\], rules\[1\]" "the error names the rules"
like "$err" "name: rollout" "and says how to name the one a percentage sets"
run_slipway flag get agent:search:enabled --env staging -o json
is "$(json_get "$out" '[r["rollout"]["percentage"] for r in d["definition"]["rules"]]')" '[50, 5]' "nothing was changed"
done_testing
