# pack.sh - `slipway pack` (docs/flags.md "Agent packs") without services:
# pack files with FILE:LINE:COL errors (cases tests/data/packs/bad/, each
# NAME.yaml with the start of its message in NAME.err), the order of the
# stages (production refused before staging's tests passed), stages
# recorded and audited.  The whole procedure on real services and HAProxy
# is tests/e2e/agent-pack.sh.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
export SLIPWAY_USER=alice
data="$SLIPWAY_SRC/tests/data/packs"

for f in "$data"/bad/*.yaml; do
  name=$(basename "$f" .yaml)
  out=$(cd "$data/bad" && "$SLIPWAY" pack deploy x v1 --env staging --file "$name.yaml" 2>&1); rc=$?
  is "$rc" 2 "bad pack file $name: exit 2"
  want=$(cat "$data/bad/$name.err")
  case "$out" in
    "slipway: error: $want"*) ok 0 "$name: $want" ;;
    *) ok 1 "$name: want '$want', got '$out'" ;;
  esac
done

mkdir -p "$T/proj/packs"
export SLIPWAY_PROJECT="$T/proj"
run_slipway pack deploy billing v1 --env staging
is "$rc" 2 "no packs/billing.yaml: exit 2"
like "$err" "packs/billing.yaml" "names the file it looked for"
like "$err" "^slipway: error: no pack named 'billing' .*there are no packs" "says there is no such pack, and that there are none"
cat >"$T/proj/packs/billing.yaml" <<YAML
service: billing-api
tests: "touch $T/tests-ran"
interval: 30s
YAML
run_slipway pack status nosuch
is "$rc" 2 "pack status of an unknown pack: exit 2 (not found)"
like "$err" "^slipway: error: no pack named 'nosuch' .*known packs: billing \('slipway pack list'" "says there is no such pack and lists the known ones"
run_slipway pack status billing -o json
is "$rc" 0 "pack status of a pack with a file and no stage yet: exit 0"
schema_ok "$out" PackStages "pack status -o json (no stage yet): PackStages validates"
is "$(json_get "$out" 'd["steps"], d["interval_ms"], d["service"]')" '[[5, 25, 50, 100], 30000, "billing-api"]' "pack status: steps as a JSON array, with the definition"
is "$(json_get "$out" 'd["flags"]["staging"], d["flags"]["production"]')" '[null, null]' "pack status: no flag in either environment yet"

# a service that does not exist: refused before any flag is created or any stage recorded
for env in staging production; do
  run_slipway pack deploy billing v1 --env $env
  is "$rc" 2 "$env: the pack's service does not exist: exit 2"
  like "$err" "service 'billing-api'.*nothing was changed" "$env: says which service and that nothing changed"
  run_slipway flag list --env $env -o json
  is "$(json_get "$out" 'len(d["flags"])')" 0 "$env: no flag was created"
done
run_slipway pack list -o json
is "$(json_get "$out" '[(p["pack"], p["environments"]["staging"]["versions"], p["environments"]["staging"]["flag"]) for p in d["packs"]]')" '[["billing", [], null]]' "no stage recorded, no flag"

# the fixture: billing-api exists in both environments but has no releases, so its deploy fails
mkdir -p "$T/proj/services"
cat >"$T/proj/services/billing-api.yaml" <<YAML
command: ["/bin/false", "{port}"]
environments:
  staging: {listen: "127.0.0.1:1", instances: 1}
  production: {listen: "127.0.0.1:2", instances: 1}
YAML
run_slipway pack deploy billing v1 --env qa
is "$rc" 2 "--env must be staging or production"
run_slipway pack deploy billing "v 1" --env staging
is "$rc" 2 "a version that is not a name: exit 2"
run_slipway pack deploy billing v1 --env production
is "$rc" 1 "production before staging: refused (exit 1)"
like "$err" "has not passed its tests in staging.*pack deploy billing v1 --env staging" "says why and what to run"
run_slipway pack status billing -o json
is "$(json_get "$out" 'len(d["stages"])')" 0 "a refusal runs no stage"

# staging: its deploy fails (there is no such service here), recorded, and nothing after it runs
run_slipway pack deploy billing v1 --env staging -o json
is "$rc" 1 "a failing stage: exit 1"
schema_ok "$out" PackDeployment "pack deploy -o json: PackDeployment validates"
is "$(json_get "$out" '[(s["stage"], s["status"]) for s in d["stages"]]')" '[["disable", "passed"], ["deploy", "failed"]]' "the flag is off, the deploy stage failed; enable and tests did not run"
is "$(json_get "$out" 'd["flag"], d["segment"], d["steps"]')" '["agent:billing:enabled", "canary-users", [5, 25, 50, 100]]' "the pack's defaults (steps a JSON array)"
like "$err" "slipway deploy billing-api v1 --env staging" "the stage's command is shown"
ok "$([ ! -e "$T/tests-ran" ]; echo $?)" "the tests did not run"
run_slipway pack status billing -o json
schema_ok "$out" PackStages "pack status -o json: PackStages validates"
is "$(json_get "$out" '[(s["version"], s["env"], s["stage"], s["status"], s["exit"]) for s in d["stages"]]')" '[["v1", "staging", "disable", "passed", 0], ["v1", "staging", "deploy", "failed", 2]]' "recorded: staging deploy failed with deploy's exit code"
run_slipway pack deploy billing v1 --env production
is "$rc" 1 "production is still refused"
run_slipway pack status billing v9
is "$rc" 2 "pack status of a version never deployed: exit 2"
like "$err" "no recorded stage of version 'v9'" "and says so"

# pack list: every pack, its versions per environment, its flag, its rollout
cat >"$T/proj/packs/search.yaml" <<YAML
service: search-api
tests: "true"
steps: [10, 100]
YAML
echo 'service: [' >"$T/proj/packs/broken.yaml"
run_slipway pack list -o json
is "$rc" 0 "pack list: exit 0"
schema_ok "$out" PackList "pack list -o json: PackList validates"
is "$(json_get "$out" '[p["pack"] for p in d["packs"]]')" '["billing", "broken", "search"]' "every pack file, by name"
is "$(json_get "$out" 'd["packs"][0]["environments"]["staging"]["versions"][0]["version"], d["packs"][0]["environments"]["staging"]["versions"][0]["stage"], d["packs"][0]["environments"]["staging"]["versions"][0]["status"]')" '["v1", "deploy", "failed"]' "billing: v1's newest stage in staging"
is "$(json_get "$out" 'd["packs"][0]["environments"]["staging"]["flag"]["enabled"], d["packs"][0]["environments"]["staging"]["flag"]["version"] >= 1, d["packs"][0]["environments"]["production"]["flag"], d["packs"][0]["environments"]["production"]["rollout"]')" '[true, true, null, null]' "billing: its flag in staging, none in production, no rollout"
like "$(json_get "$out" 'd["packs"][1]["error"]')" "broken.yaml:" "a broken pack file is listed with its fault"
is "$(json_get "$out" 'd["packs"][2]["steps"], d["packs"][2]["environments"]["staging"]["versions"]')" '[[10, 100], []]' "a pack never deployed: its steps, no version"
run_slipway pack list
is "$rc" 0 "pack list (text)"
like "$out" "billing \\(service billing-api, flag agent:billing:enabled\\)" "the text names the pack, its service and its flag"
like "$out" "staging +v1 \\(deploy failed\\); flag enabled" "and per environment its versions and its flag"
rm "$T/proj/packs/broken.yaml"
# the flag's percentage and segment as `flag set` finds them, a flag file's unnamed rules too
# (docs/flags.md "Which rule a percentage sets")
run_slipway flag apply "$SLIPWAY_SRC/tests/data/flags/percentage/docs-example.yaml"
is "$rc" 0 "apply docs/flags.md's example flag file (billing's flag in staging: unnamed rules, 5%)"
run_slipway pack list -o json
is "$(json_get "$out" 'd["packs"][0]["environments"]["staging"]["flag"]["percentage"], d["packs"][0]["environments"]["staging"]["flag"]["segment"]')" '[5, true]' "pack list reads the file's 5% rollout rule and its segment rule"
run_slipway flag set agent:billing:enabled --percentage 0 --env staging
run_slipway pack list
like "$out" "staging +v1 \\(deploy failed\\); flag enabled at 0% \\+ segment" "after --percentage 0: at 0%, the segment kept"
# pack status shows the flag per environment too (text and -o json), as pack list finds it
run_slipway pack status billing -o json
schema_ok "$out" PackStages "pack status -o json with a flag: PackStages validates"
is "$(json_get "$out" 'd["flags"]["staging"]["enabled"], d["flags"]["staging"]["percentage"], d["flags"]["staging"]["segment"], d["flags"]["production"]')" \
  '[true, 0, true, null]' "pack status: the flag in staging (enabled, at 0%, the segment's rule), none in production"
run_slipway pack status billing
like "$out" "flag 'agent:billing:enabled' in staging: enabled at 0% \\+ segment \\(version [0-9]+\\)" "pack status text: the flag's state in staging"
like "$out" "flag 'agent:billing:enabled' in production: none" "and that production has no such flag"

# pack abort: nothing runs here (tests/e2e/agent-pack.sh aborts a running rollout)
run_slipway pack abort billing
is "$rc" 1 "pack abort without a running rollout: exit 1"
like "$err" "no running guarded rollout in production" "says so"
run_slipway pack abort nosuch
is "$rc" 2 "pack abort of an unknown pack: exit 2"
like "$err" "^slipway: error: no pack named 'nosuch' \(no packs/nosuch.yaml in '$T/proj', no recorded stage\); known packs: billing, search" "names the pack and lists the known ones (not the file's open() error)"
unlike "$err" "cannot open" "no raw open() error"
mv "$T/proj/packs/billing.yaml" "$T/billing.yaml"
run_slipway pack abort billing
is "$rc" 2 "pack abort of a pack with stages but no file: exit 2"
like "$err" "pack 'billing' has recorded stages but no packs/billing.yaml" "says the file is what is missing"
mv "$T/billing.yaml" "$T/proj/packs/billing.yaml"
run_slipway audit -o json
like "$out" '"pack.stage"' "the stage is in the audit log"
run_slipway audit --verify
is "$rc" 0 "audit --verify holds"
run_slipway pack --help
is "$rc" 0 "pack --help"
done_testing
