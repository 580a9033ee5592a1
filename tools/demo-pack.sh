#!/usr/bin/env bash
# tools/demo-pack.sh - the runbook's agent-pack procedure on this machine, for
# real (docs/flags.md "Agent packs"): install what is missing, build, then
# ship the pack `billing` twice with `slipway pack deploy`, the way
# tests/e2e/agent-pack.sh does.  The demo service (billing-api) guards a code
# path with the flag agent:billing:enabled, which it evaluates over OFREP
# against `slipway serve` for each request's user, behind a real HAProxy
# under load from hey (or wrk).
#
#   0. `slipway serve` (the controller, OFREP, HAProxy's log receiver); the
#      segment canary-users (user-1, user-2) in production; the pack's file
#      packs/billing.yaml: its service, its tests, steps 5,25,50,100%
#   1. pack v1 (good): staging (deployed dark, the flag on there, the pack's
#      tests), then production (deployed dark, the segment, the guarded
#      rollout 5% -> 25% -> 50% -> 100%): the flag is on for everyone
#   2. pack v2 (its enabled path fails 20% of its requests): it passes
#      staging's tests (they check the path is served, not its error rate),
#      ships dark, is enabled for the segment, and its guarded rollout is
#      turned back to the segment by itself, the judge's reason printed
#   3. `slipway pack list`: both versions per environment, the flag, the rollout
#
# The engine's clock runs 60 times faster (--time-scale 60) while the pack
# keeps 2-minute steps, so it takes five to eight minutes.  Exit 0 only if v1
# reached 100% and v2 was set back to 0% with its segment still served.
# Nothing keeps running at the end (serve stopped with SIGTERM, the service
# with `slipway down`).
#   SLIPWAY_DEMO_SCALE=N   another time scale;  SLIPWAY_DEMO_KEEP=1   keep the work dir
#   SLIPWAY_DEMO_DIR=DIR   work (state, project) in DIR and keep it (tests/e2e/demo-pack.sh)
set -u
cd "$(dirname "$0")/.." || exit 2
top=$PWD
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
tools/deps.sh demo || { echo "demo-pack: cannot install the Debian packages it needs" >&2; exit 1; }
build=${SLIPWAY_BUILD:-$top/build}
if [ ! -f "$build/build.ninja" ]; then meson setup "$build" >/dev/null || exit 1; fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }
B="$build/slipway"
scale=${SLIPWAY_DEMO_SCALE:-60}
if [ -n "${SLIPWAY_DEMO_DIR:-}" ]; then W=$SLIPWAY_DEMO_DIR; mkdir -p "$W"; export SLIPWAY_DEMO_KEEP=1
else W=$(mktemp -d /tmp/slipway-demo-pack.XXXXXX); fi
export SLIPWAY_STATE_DIR="$W/state" SLIPWAY_PROJECT="$W/project"
# the runbook's policy with a lab's windows, and no approvals for the standard
# type: the pack's own stages are the subject here (tools/demo.sh shows approvals)
{ cat examples/lab-policy.yaml; printf 'types:\n  standard:\n    approvals: []\n'; } >"$W/policy.yaml"
export SLIPWAY_POLICY="$W/policy.yaml"
export SLIPWAY_USER="${SLIPWAY_USER:-${USER:-$(id -un)}}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
FLAG=agent:billing:enabled
port=$(free_port) sport=$(free_port) oport=$(free_port)

load="" serve=""
stop_load() { [ -n "$load" ] && kill -INT "$load" 2>/dev/null && wait "$load" 2>/dev/null; load=""; }
cleanup() {
  stop_load
  [ -n "$serve" ] && kill -TERM "$serve" 2>/dev/null && wait "$serve" 2>/dev/null
  "$B" down billing-api >/dev/null 2>&1
  "$B" down billing-api --env staging >/dev/null 2>&1
  if [ "${SLIPWAY_DEMO_KEEP:-0}" = 1 ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_load() { # PORT: steady requests without X-User (each a new user, so a new targeting key)
  if command -v hey >/dev/null 2>&1; then
    hey -z 900s -c 8 "http://127.0.0.1:$1/api/x" >/dev/null 2>&1 &
  else
    wrk -t1 -c8 -d900s "http://127.0.0.1:$1/api/x" >/dev/null 2>&1 &
  fi
  load=$!
}
show() { echo "\$ slipway $*"; "$B" "$@"; }
step() { # a pack deploy: shown, its stages' lines printed, its exit code returned (the output in $W/step.out)
  local rc
  echo "\$ slipway $*"
  "$B" "$@" >"$W/step.out" 2>&1
  rc=$?
  grep -E '^(pack |\+ |deployment #)' "$W/step.out" | sed 's/^/  /'
  return $rc
}
pct() { "$B" flag get "$FLAG" --env production -o json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([r["rollout"]["percentage"] for r in d["definition"]["rules"] if r.get("name") == "rollout"][0])' 2>/dev/null; }
variant() { # USER: the variant production serves that user
  "$B" flag eval "$FLAG" --env production --context "{\"targetingKey\": \"$1\"}" -o json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["variant"])' 2>/dev/null; }

say "the project: billing-api (the demo service) guarding its path with $FLAG over OFREP"
mkdir -p "$W/project/services" "$W/project/packs"
token=$("$B" token create --user billing-api 2>/dev/null) || { echo "demo-pack: token create failed"; exit 1; }
cat >"$W/project/services/billing-api.yaml" <<YAML
command: ["$build/examples/demo-service/demo-service", "--port", "{port}", "--version", "{version}", "--instance", "{instance}"]
readiness: {path: /health, timeout: 1s, deadline: 20s}
stop: {grace: 3s, drain: 1s}
env:
  DEMO_FLAG: "$FLAG"
  DEMO_OFREP_URL: "http://127.0.0.1:$oport"
  DEMO_OFREP_TOKEN: "$token"
  DEMO_OFREP_ENV: "{env}"
analysis: {steps: [{weight: 50, hold: 10m}]}
environments:
  production: {listen: "127.0.0.1:$port", instances: 1}
  staging: {listen: "127.0.0.1:$sport", instances: 1}
YAML
for v in v1 v2; do
  mkdir -p "$W/project/releases/billing-api/$v"
  for f in error_rate latency_ms start_delay_ms flag_error_rate; do echo 0 >"$W/project/releases/billing-api/$v/$f"; done
done
echo 20 >"$W/project/releases/billing-api/v2/flag_error_rate"   # v2's enabled path fails 20% of its requests
# the pack's tests: staging answers, and serves the pack (the flag is on there)
cat >"$W/project/packs/billing.yaml" <<YAML
service: billing-api
tests: >-
  curl -sf http://127.0.0.1:$sport/health >/dev/null &&
  curl -s -o /dev/null -D - -H 'X-User: tester' http://127.0.0.1:$sport/api/x | grep -qi '^x-flag-variant: $FLAG=on'
steps: [5, 25, 50, 100]
interval: 2m
YAML
sed 's/^/    /' "$W/project/packs/billing.yaml"
show flag segment canary-users --users user-1,user-2 --env production --reason "the runbook's canary users" || exit 1

say "slipway serve: the controller, OFREP for the service, HAProxy's log receiver"
echo "\$ slipway serve --listen 127.0.0.1:$oport &     # log: $W/serve.log"
"$B" serve --listen "127.0.0.1:$oport" >"$W/serve.log" 2>&1 &
serve=$!
for _ in $(seq 1 300); do
  grep -q "listens on" "$W/serve.log" && [ -S "$SLIPWAY_STATE_DIR/log.stream" ] && break
  kill -0 "$serve" 2>/dev/null || break
  sleep 0.1
done
[ -S "$SLIPWAY_STATE_DIR/log.stream" ] || { echo "demo-pack: slipway serve did not start:"; tail -20 "$W/serve.log"; exit 1; }

say "1. pack v1, a good one: staging, its tests, then production to 100%"
start_load "$sport"
step pack deploy billing v1 --env staging --time-scale "$scale"
v1s=$?
stop_load
start_load "$port"
step pack deploy billing v1 --env production --time-scale "$scale"
v1p=$?
stop_load
p1=$(pct)
echo "v1: staging exit $v1s, production exit $v1p; the flag is at ${p1:-?}% in production"

say "2. pack v2: its enabled path fails 20% of its requests"
start_load "$sport"
step pack deploy billing v2 --env staging --time-scale "$scale"
v2s=$?
stop_load
start_load "$port"
step pack deploy billing v2 --env production --time-scale "$scale"
v2p=$?
cp "$W/step.out" "$W/v2.out"
stop_load
id=$(sed -n 's/^deployment #\([0-9]*\) of billing-api flag:.*/\1/p' "$W/v2.out" | tail -1)
reason=""
[ -n "$id" ] && reason=$("$B" show "$id" -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["deployment"]["reason"])' 2>/dev/null)
p2=$(pct)
seg=$(variant user-1) other=$(variant someone-else)
echo "v2: staging exit $v2s, production exit $v2p; its rollout (deployment #${id:-?}) set back: ${reason:-?}"
echo "the flag is at ${p2:-?}% in production; user-1 (canary-users) gets '$seg', everyone else '$other'"

say "3. every pack, its versions per environment, its flag and its rollout"
show pack list

ok=1
[ "$v1s" = 0 ] && [ "$v1p" = 0 ] && [ "$p1" = 100 ] || { echo "demo-pack: v1 did not reach 100%"; ok=0; }
[ "$v2s" = 0 ] && [ "$v2p" = 1 ] && [ "$p2" = 0 ] && [ "$seg" = on ] && [ "$other" = off ] ||
  { echo "demo-pack: v2 was not set back to its segment"; ok=0; }
if [ "$ok" = 1 ]; then
  echo "demo-pack: v1 shipped to everyone; v2 turned off by itself (the segment keeps it)"
  exit 0
fi
exit 1
