#!/usr/bin/env bash
# tools/demo.sh - the README's first command: on a fresh Debian machine,
# install what is missing, build, and run the runbook's standard deployment
# on this machine for real: real HAProxy, real service processes, real
# requests from wrk, metrics from HAProxy's log.
#
#   1. deploy api-server v1 (first release: straight to 100%, then monitoring)
#   2. deploy v2 (healthy) through the runbook's canary steps 1% 5m, 10% 15m,
#      50% 15m, then 100% and 30 minutes of monitoring: promoted
#   3. deploy v3 (its release answers 5% of requests with 500): rolled back
#      automatically, the reason printed
#   4. the deployment records and the messages sent
# Each deployment first waits at the policy gate until a team-lead other than
# its requester approves (alice, in examples/lab-policy.yaml).
# The engine's clock runs 60 times faster (--time-scale 60: a minute per
# second) while the policy keeps the runbook's durations, so it takes about
# two minutes.  Exit 0 only if v2 was promoted with no failed request and v3
# was rolled back.
#   SLIPWAY_DEMO_SCALE=N   another time scale;  SLIPWAY_DEMO_KEEP=1   keep the work dir
#   SLIPWAY_DEMO_DIR=DIR   work (state, project) in DIR and keep it (tests/e2e/demo.sh)
set -u
cd "$(dirname "$0")/.." || exit 2
top=$PWD
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
tools/deps.sh demo || { echo "demo: cannot install the Debian packages it needs" >&2; exit 1; }
build=${SLIPWAY_BUILD:-$top/build}
if [ ! -f "$build/build.ninja" ]; then meson setup "$build" >/dev/null || exit 1; fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }
B="$build/slipway"
scale=${SLIPWAY_DEMO_SCALE:-60}
if [ -n "${SLIPWAY_DEMO_DIR:-}" ]; then W=$SLIPWAY_DEMO_DIR; mkdir -p "$W"; export SLIPWAY_DEMO_KEEP=1
else W=$(mktemp -d /tmp/slipway-demo.XXXXXX); fi
export SLIPWAY_STATE_DIR="$W/state" SLIPWAY_PROJECT="$W/project"
# the runbook's policy with a lab's windows (open at all hours, no freezes) so
# that the demo runs whenever you try it; approvals stay: alice is team-lead
export SLIPWAY_POLICY="$top/examples/lab-policy.yaml"
export USER="${USER:-$(id -un)}"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port/api/orders"

# the project: examples/services/api-server.yaml with this build's program and a free port
mkdir -p "$W/project/services" "$W/project/releases"
sed -e "s#\"\\.\\./build/examples/demo-service/demo-service\"#\"$build/examples/demo-service/demo-service\"#" \
    -e "s#listen: 127.0.0.1:18080#listen: 127.0.0.1:$port#" \
    examples/services/api-server.yaml >"$W/project/services/api-server.yaml"
cp -r examples/releases/api-server "$W/project/releases/"

load=""
cleanup() {
  [ -n "$load" ] && kill -INT "$load" 2>/dev/null && wait "$load" 2>/dev/null
  "$B" down api-server >/dev/null 2>&1
  if [ "${SLIPWAY_DEMO_KEEP:-0}" = 1 ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_load() { # OUT: steady load from wrk until stop_load
  wrk -t2 -c200 -d1h "$url" >"$1" 2>&1 &
  load=$!
}
stop_load() {
  [ -n "$load" ] && kill -INT "$load" 2>/dev/null && wait "$load" 2>/dev/null
  load=""
}
failed_requests() { # wrk output -> number of non-2xx responses and socket errors
  python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
n = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", t))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
if m: n += sum(int(x) for x in m.groups())
r = re.search(r"(\d+) requests in", t)
print(n, r.group(1) if r else 0)
PY
}
approve() { # VERSION: the request waits at the policy gate; alice (team-lead) approves it
  local id
  "$B" deploy api-server "$1" --type standard --env production --time-scale "$scale"
  id=$("$B" deployments api-server -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  echo "-- deployment #$id waits for a team-lead other than its requester ($USER); alice approves:"
  SLIPWAY_USER=alice "$B" approve "$id" --role team-lead --comment "reviewed the change" || return 1
}
deploy() { # VERSION LOADFILE: deploy under load; sets $drc
  approve "$1" || { drc=1; return; }
  "$B" deploy api-server "$1" --type standard --env production --wait --time-scale "$scale" &
  local dp=$!
  if [ -z "$load" ]; then
    # the first release: load starts once HAProxy serves it
    for _ in $(seq 1 300); do
      curl -sf -o /dev/null "$url" && break
      kill -0 "$dp" 2>/dev/null || break
      sleep 0.1
    done
    start_load "$2"
  fi
  wait "$dp"; drc=$?
}

say "deploy api-server v1 (first release) under steady load from wrk (time scale x$scale)"
deploy v1 "$W/load-v1.txt"
v1=$drc
stop_load
[ "$v1" = 0 ] || { echo "demo: v1 was not deployed (exit $v1)"; exit 1; }

say "deploy api-server v2 (healthy) through the runbook's canary steps: 1% 5m, 10% 15m, 50% 15m, 100%"
start_load "$W/load-v2.txt"
deploy v2 "$W/load-v2.txt"
v2=$drc
stop_load
read -r v2_failed v2_total < <(failed_requests "$W/load-v2.txt")
echo "load during v2: $v2_total requests, $v2_failed failed (v1 and v2 inject no errors)"

say "deploy api-server v3 (its release answers 5% of requests with 500)"
start_load "$W/load-v3.txt"
deploy v3 "$W/load-v3.txt"
v3=$drc
stop_load
read -r v3_failed v3_total < <(failed_requests "$W/load-v3.txt")
echo "load during v3: $v3_total requests, $v3_failed answered 500 (v3's injected errors while it had canary traffic)"
v3_status=$("$B" deployments api-server -o json | python3 -c 'import json,sys; d=json.load(sys.stdin)["items"]; print(d[0]["state"], "|", d[0]["reason"])')
echo "v3: ${v3_status%% |*}: reason: ${v3_status#*| }"

say "the deployment records"
"$B" history api-server

say "the last messages to #deployments (a file sink by default; Slack and CloudEvents: docs/records.md)"
tail -n 16 "$SLIPWAY_STATE_DIR/notifications.log" 2>/dev/null

ok=0
[ "$v2" = 0 ] && echo "v2: promoted" || { echo "demo: v2 was not promoted (exit $v2)"; ok=1; }
[ "$v2_failed" = 0 ] && [ "$v2_total" -gt 0 ] && echo "v2: no request failed during its rollout" ||
  { echo "demo: $v2_failed requests failed during the v2 rollout"; ok=1; }
[ "$v3" = 1 ] && [ "${v3_status%% |*}" = rolled_back ] && echo "v3: rolled back automatically" ||
  { echo "demo: v3 was not rolled back (exit $v3)"; ok=1; }
exit $ok
