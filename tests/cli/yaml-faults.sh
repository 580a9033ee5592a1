#!/usr/bin/env bash
# tests/cli/yaml-faults.sh - the same YAML fault gives the same FILE:LINE:COL
# and the same exit code in a policy, a rollout file, a service file and a
# notifications file (docs/yaml.md: one walker for every loader).  Cases:
# tests/data/yaml-faults/FAULT/{policy,rollout,service,notifications}.yaml,
# FAULT/expect = "LINE:COL EXIT"; each file's first line "# expect: TEXT"
# is the start of its message.
. "$SLIPWAY_SRC/tests/cli/lib.sh"

trace=$(ls "$SLIPWAY_SRC"/tests/data/traces/*.csv | head -n 1)
mkdir -p "$T/project/services"

# run_loader KIND FILE: the command that reads FILE as a KIND, and nothing else first
run_loader() {
  case "$1" in
    policy) run_slipway policy check "$2" ;;
    rollout) run_slipway analyze --config "$2" --trace "$trace" ;;
    service)
      cp "$2" "$T/project/services/svc.yaml"
      SLIPWAY_PROJECT="$T/project" run_slipway cleanup svc ;;
    notifications) SLIPWAY_NOTIFICATIONS="$2" run_slipway notify config ;;
  esac
}

for dir in "$SLIPWAY_SRC"/tests/data/yaml-faults/*/; do
  dir=${dir%/}
  fault=$(basename "$dir")
  read -r pos code < "$dir/expect"
  for kind in policy rollout service notifications; do
    f="$dir/$kind.yaml"
    want=$(sed -n '1s/^# expect: //p' "$f")
    name="$f"
    [ "$kind" = service ] && name="$T/project/services/svc.yaml"
    run_loader "$kind" "$f"
    is "$rc" "$code" "$fault: a $kind file exits $code"
    first=$(printf '%s\n' "$err" | head -n 1)
    first=${first#slipway: error: }
    case "$first" in
      "$name:$pos: $want"*) ok 0 "$fault: a $kind file names $pos" ;;
      *) ok 1 "$fault: a $kind file names $pos"; echo "#   got:  $first"; echo "#   want: $name:$pos: $want" ;;
    esac
  done
done
done_testing
