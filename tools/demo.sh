#!/usr/bin/env bash
# tools/demo.sh - the README's first command: on a fresh Debian machine,
# install what is missing, build, and run the runbook's standard deployment
# on this machine for real, the way a team runs slipway: one `slipway serve`
# drives every deployment, people and CI talk to it over its HTTP API.  Real
# HAProxy, real service processes, real requests from wrk, metrics from
# HAProxy's log.
#
#   0. `slipway serve --listen 127.0.0.1:PORT` starts in the background on the
#      demo's project (the controller, the HTTP API and the dashboard at
#      http://127.0.0.1:PORT/); two API tokens are created: alice (team-lead)
#      approves, ci-bot (deployer) records and aborts
#   1. deploy api-server v1 (first release: straight to 100%, then monitoring)
#   2. deploy v2 (healthy) through the runbook's canary steps 1% 5m, 10% 15m,
#      50% 15m, then 100% and 30 minutes of monitoring: promoted
#   3. deploy v3 (its release answers 5% of requests with 500): rolled back
#      automatically, the reason printed
#   4. ci-bot records v4 over the API (POST /api/v1/deployments) and aborts it
#      over the API while its canary warms up: the controller rolls it back
#   5. the deployment records and the messages sent; the controller stopped
# v1 to v3 are recorded with `slipway deploy` (with a controller running it
# records the deployment and returns) and followed with `slipway deploy
# --wait`; v4 is followed through the events endpoint.  Each deployment first
# waits at the policy gate until a team-lead other than its requester
# approves: alice, over the API with her token (examples/lab-policy.yaml).
# Every API call is shown as the curl command line it is (the token by name,
# never its value).
# The engine's clock runs 60 times faster (--time-scale 60: a minute per
# second) while the policy keeps the runbook's durations, so it takes about
# two minutes.  Exit 0 only if v2 was promoted with no failed request, v3 was
# rolled back, v4 was aborted by the controller and the controller stopped
# cleanly.
# At the end the controller is stopped with SIGTERM (it finishes its tick and
# gives up its lease) and the service with `slipway down`: nothing keeps
# running.  On a terminal the work directory is kept and the demo says how to
# start the controller again on it to browse the records in the dashboard;
# elsewhere (CI) it is removed.
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
tty=0
[ -t 1 ] && tty=1
if [ -n "${SLIPWAY_DEMO_DIR:-}" ]; then W=$SLIPWAY_DEMO_DIR; mkdir -p "$W"; export SLIPWAY_DEMO_KEEP=1
else W=$(mktemp -d /tmp/slipway-demo.XXXXXX); fi
[ "$tty" = 1 ] && export SLIPWAY_DEMO_KEEP=1
export SLIPWAY_STATE_DIR="$W/state" SLIPWAY_PROJECT="$W/project"
# the runbook's policy with a lab's windows (open at all hours, no freezes) so
# that the demo runs whenever you try it; approvals stay: alice is team-lead,
# ci-bot the deployer the API's writes need
export SLIPWAY_POLICY="$top/examples/lab-policy.yaml"
export USER="${USER:-$(id -un)}"
unset SLIPWAY_USER
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
url="http://127.0.0.1:$port/api/orders"

# the project: examples/services/api-server.yaml with this build's program and a free port
mkdir -p "$W/project/services" "$W/project/releases"
sed -e "s#\"\\.\\./build/examples/demo-service/demo-service\"#\"$build/examples/demo-service/demo-service\"#" \
    -e "s#listen: 127.0.0.1:18080#listen: 127.0.0.1:$port#" \
    examples/services/api-server.yaml >"$W/project/services/api-server.yaml"
cp -r examples/releases/api-server "$W/project/releases/"
# v4: a healthy release that someone decides against halfway
cp -r "$W/project/releases/api-server/v2" "$W/project/releases/api-server/v4"

load="" serve=""
cleanup() {
  [ -n "$load" ] && kill -INT "$load" 2>/dev/null && wait "$load" 2>/dev/null
  [ -n "$serve" ] && kill -TERM "$serve" 2>/dev/null && wait "$serve" 2>/dev/null
  "$B" down api-server >/dev/null 2>&1
  if [ "${SLIPWAY_DEMO_KEEP:-0}" = 1 ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the controller and its API ----
say "slipway serve: one controller for the project, with the HTTP API and the dashboard"
apiport=$(free_port)
api="http://127.0.0.1:$apiport"
echo "\$ slipway serve --listen 127.0.0.1:$apiport &     # log: $W/serve.log"
"$B" serve --listen "127.0.0.1:$apiport" >"$W/serve.log" 2>&1 &
serve=$!
echo "$serve" >"$W/serve.pid"
up=0
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "$api/readyz" && grep -q 'holding the controller lease' "$W/serve.log" && { up=1; break; }
  kill -0 "$serve" 2>/dev/null || break
  sleep 0.1
done
[ "$up" = 1 ] || { echo "demo: slipway serve did not start:"; tail -20 "$W/serve.log"; exit 1; }
echo "controller running (pid $serve); the dashboard: $api/  (the API: $api/api/v1/, its description: $api/api/v1/openapi.json)"
# tokens: printed once by `token create`, kept here only (mode 600), never shown
umask 077
echo "\$ ALICE_TOKEN=\$(slipway token create --user alice --role team-lead)   # alice approves"
ALICE_TOKEN=$("$B" token create --user alice --role team-lead 2>/dev/null) || { echo "demo: token create failed"; exit 1; }
echo "\$ CI_TOKEN=\$(slipway token create --user ci-bot --role deployer)      # CI records and aborts"
CI_TOKEN=$("$B" token create --user ci-bot --role deployer 2>/dev/null) || { echo "demo: token create failed"; exit 1; }
printf '%s\n' "$ALICE_TOKEN" >"$W/alice.token"
printf '%s\n' "$CI_TOKEN" >"$W/ci-bot.token"
umask 022

# api [-q] WHO METHOD PATH [BODY]: one call as WHO (alice or ci), shown as its
# curl command line (the token by its variable's name) unless -q; sets $code
# and $body and prints the answer's main fields
api() {
  local quiet=0 who method path data tok var shown
  [ "$1" = -q ] && { quiet=1; shift; }
  who=$1 method=$2 path=$3 data=${4:-}
  case $who in alice) tok=$ALICE_TOKEN var=ALICE_TOKEN ;; *) tok=$CI_TOKEN var=CI_TOKEN ;; esac
  local args=(-s -o "$W/api.body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $tok")
  shown="curl -X $method -H \"Authorization: Bearer \$$var\""
  if [ -n "$data" ]; then args+=(--data-binary "$data"); shown+=" -d '$data'"; fi
  shown+=" $api/api/v1$path"
  [ "$quiet" = 1 ] || echo "\$ $shown"
  code=$(curl "${args[@]}" "$api/api/v1$path")
  body=$(cat "$W/api.body" 2>/dev/null)
  [ "$quiet" = 1 ] && return 0
  printf '%s' "$body" | python3 -c '
import json, sys
code = sys.argv[1]
try:
    d = json.load(sys.stdin)
except ValueError:
    print("  -> HTTP %s" % code); sys.exit(0)
keys = ("kind", "id", "deployment_id", "service", "version", "action", "state", "role", "by", "requested_by", "title", "detail")
print("  -> HTTP %s %s" % (code, json.dumps({k: d[k] for k in keys if k in d})))' "$code"
}
field() { # JSON EXPR: a field of a document (d)
  printf '%s' "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" 2>/dev/null
}
# until the controller has taken deployment ID past the gate (state not pending)
wait_past_gate() {
  local s=""
  for _ in $(seq 1 600); do
    api -q alice GET "/deployments/$1"
    s=$(field "$body" 'd["deployment"]["state"]')
    [ -n "$s" ] && [ "$s" != pending ] && return 0
    sleep 0.1
  done
  echo "demo: deployment #$1 is still $s a minute after its approval"; return 1
}

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
approve() { # ID: the request waits at the policy gate; alice (team-lead) approves it over the API
  echo "-- deployment #$1 waits at the policy gate for a team-lead other than its requester; alice approves over the API:"
  api alice POST "/deployments/$1/approve" '{"role": "team-lead", "comment": "reviewed the change"}'
  [ "$code" = 201 ] || return 1
  wait_past_gate "$1"
}
deploy() { # VERSION LOADFILE: record, approve, follow under load; sets $drc
  local id
  echo "\$ slipway deploy api-server $1 --type standard --env production --time-scale $scale"
  "$B" deploy api-server "$1" --type standard --env production --time-scale "$scale" || { drc=1; return; }
  id=$("$B" deployments api-server -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  approve "$id" || { drc=1; return; }
  echo "\$ slipway deploy api-server $1 --type standard --env production --time-scale $scale --wait   # follows it"
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

say "CI records api-server v4 over the API; it is aborted over the API while its canary warms up"
v4_state="" v4_reason=""
api ci POST /deployments '{"service": "api-server", "version": "v4", "type": "standard", "env": "production"}'
v4=$(field "$body" 'd["id"]')
if [ "$code" = 201 ] && [ -n "$v4" ] && approve "$v4"; then
  # follow it through the events endpoint: each transition once, by its sequence number
  echo "-- following deployment #$v4 through its events (polling with the last sequence number seen):"
  echo "\$ curl -H \"Authorization: Bearer \$CI_TOKEN\" '$api/api/v1/deployments/$v4/events?after=N'"
  seq_seen=0 aborted=0
  for _ in $(seq 1 1200); do
    api -q ci GET "/deployments/$v4/events?after=$seq_seen"
    [ "$code" = 200 ] || break
    printf '%s' "$body" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    print("  event %d: %s -> %s (step %d, weight %g%%): %s" % (e["seq"], e["from"] or "-", e["to"], e["step"], e["weight"], e["reason"] or ""))'
    seq_seen=$(field "$body" 'max([e["seq"] for e in d["items"]] or ['"$seq_seen"'])')
    v4_state=$(field "$body" 'd["state"]')
    [ "$(field "$body" 'd["final"]')" = True ] && break
    if [ "$aborted" = 0 ] && [ "$v4_state" = progressing ]; then
      echo "-- ci-bot aborts it over the API; the controller applies the intent on its next tick:"
      api ci POST "/deployments/$v4/abort"
      aborted=1
    fi
    sleep 0.25
  done
  api -q ci GET "/deployments/$v4"
  v4_reason=$(field "$body" 'd["deployment"]["reason"]')
fi
echo "v4: $v4_state: reason: $v4_reason"

say "the deployment records"
"$B" history api-server

say "the last messages to #deployments (a file sink by default; Slack and CloudEvents: docs/records.md)"
tail -n 16 "$SLIPWAY_STATE_DIR/notifications.log" 2>/dev/null

say "the controller"
echo "the dashboard was at $api/ while the controller ran (sign in with a token)"
echo "\$ kill -TERM $serve     # slipway serve finishes its tick, gives up its lease and exits"
kill -TERM "$serve" 2>/dev/null
wait "$serve"; serve_rc=$?
serve=""
grep -E 'stopping:' "$W/serve.log" | tail -1
echo "slipway serve exited $serve_rc"
"$B" down api-server >/dev/null 2>&1

ok=0
[ "$v2" = 0 ] && echo "v2: promoted" || { echo "demo: v2 was not promoted (exit $v2)"; ok=1; }
[ "$v2_failed" = 0 ] && [ "$v2_total" -gt 0 ] && echo "v2: no request failed during its rollout" ||
  { echo "demo: $v2_failed requests failed during the v2 rollout"; ok=1; }
[ "$v3" = 1 ] && [ "${v3_status%% |*}" = rolled_back ] && echo "v3: rolled back automatically" ||
  { echo "demo: v3 was not rolled back (exit $v3)"; ok=1; }
[ "$v4_state" = rolled_back ] && echo "v4: aborted over the API and rolled back by the controller" ||
  { echo "demo: v4 was not aborted (state '$v4_state')"; ok=1; }
[ "$serve_rc" = 0 ] && echo "controller: stopped cleanly" || { echo "demo: slipway serve exited $serve_rc"; ok=1; }
if [ "$tty" = 1 ]; then
  echo
  echo "To browse these deployments in the dashboard, start the controller again on the demo's records:"
  echo "  SLIPWAY_STATE_DIR=$W/state SLIPWAY_PROJECT=$W/project SLIPWAY_POLICY=$top/examples/lab-policy.yaml \\"
  echo "    $B serve --listen 127.0.0.1:$apiport"
  echo "then open $api/ and sign in with the token in $W/alice.token (Ctrl-C stops it; rm -rf $W when done)."
fi
exit $ok
