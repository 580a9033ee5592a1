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
cat >"$T/proj/packs/billing.yaml" <<YAML
service: billing-api
tests: "touch $T/tests-ran"
interval: 30s
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
is "$(json_get "$out" 'd["flag"], d["segment"], d["steps"]')" '["agent:billing:enabled", "canary-users", "5%,25%,50%,100%"]' "the pack's defaults"
like "$err" "slipway deploy billing-api v1 --env staging" "the stage's command is shown"
ok "$([ ! -e "$T/tests-ran" ]; echo $?)" "the tests did not run"
run_slipway pack status billing -o json
schema_ok "$out" PackStages "pack status -o json: PackStages validates"
is "$(json_get "$out" '[(s["version"], s["env"], s["stage"], s["status"], s["exit"]) for s in d["stages"]]')" '[["v1", "staging", "disable", "passed", 0], ["v1", "staging", "deploy", "failed", 2]]' "recorded: staging deploy failed with deploy's exit code"
run_slipway pack deploy billing v1 --env production
is "$rc" 1 "production is still refused"
run_slipway audit -o json
like "$out" '"pack.stage"' "the stage is in the audit log"
run_slipway audit --verify
is "$rc" 0 "audit --verify holds"
run_slipway pack --help
is "$rc" 0 "pack --help"
done_testing
