#!/usr/bin/env bash
# bench/api.sh - the HTTP API (docs/api.md) while `slipway serve` drives
# 1,000 deployments: requests/s and p99 latency of the status endpoint
# (GET /api/v1/deployments/ID) and the events endpoint (GET .../ID/events)
# under `hey` at 100 concurrent clients on 127.0.0.1, beside the CPU time of
# the controller's tick per deployment; and the same endpoints of the same
# process on the same store once the controller is idle (every deployment
# final), the reference, measured in the same run (docs/serve.md, "Measured").
#
# The 1,000 services run on simulated infrastructure: their service files
# name the `sim` target, router and provider (src/controller/registry.c): no
# process, no HAProxy, each revision's requests drawn from a model of a
# healthy service at 60,000 requests/min split by the weight the controller
# sets.  Everything else is real: the store (SQLite, WAL, fsync), the policy
# gate, the controller's tick, the judge, the lease, the API threads.
#
#   1. 1,000 services, each with a succeeded v1 (rows in the store); `slipway
#      api` (no controller) records v2 of each over the API (POST
#      /api/v1/deployments, the runbook's canary); it stops.
#   2. `slipway serve --listen` takes them through the gate (the lab policy:
#      windows open, no approvals) to their first canary steps and drives all
#      of them: measured with the controller driving.  The tick's CPU time is
#      the controller thread's (/proc/PID/task/PID/stat, utime + stime) over
#      each span divided by the ticks in it (slipway_ticks_total at /metrics)
#      times the unfinished deployments: once with no API load, once under
#      each hey run.
#      The lease is 3600 s (BENCH_LEASE): a tick over 1,000 deployments
#      takes longer than the default 15 s on a loaded 2-core machine (one
#      commit with fsync per deployment per tick), and a lease that expires
#      within a tick fences its commits (docs/serve.md).
#   3. every deployment aborted over the API; once all are rolled back the
#      controller has no work: the reference.
# Run on demand, never by tests/run:  bench/api.sh [REQUESTS] [CONCURRENCY] [DEPLOYMENTS]
#   BENCH_TICKS=N (3): whole ticks measured with no API load;  BENCH_LEASE=S (3600)
# Needs hey, sqlite3, python3, curl.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
SLIPWAY=${SLIPWAY:-$top/build/slipway}
N=${1:-20000}
C=${2:-100}
D=${3:-1000}
QUIET_TICKS=${BENCH_TICKS:-3}
LEASE=${BENCH_LEASE:-3600}
dir=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-api.XXXXXX")
export SLIPWAY_STATE_DIR="$dir/state" SLIPWAY_PROJECT="$dir/proj"
unset SLIPWAY_USER SLIPWAY_NOW
{ cat "$top/examples/lab-policy.yaml"; printf 'types:\n  standard:\n    approvals: []\n'; } >"$dir/policy.yaml"
export SLIPWAY_POLICY="$dir/policy.yaml"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true	# a store handle and a lock per service environment

# 1. the project and the store
mkdir -p "$dir/proj/services"
for i in $(seq 1 "$D"); do
  printf 'command: ["/bin/true"]\ntarget: sim\nrouter: sim\nprovider: sim\nenvironments:\n  production: {listen: "127.0.0.1:%d", instances: 2}\n' \
    $((20000 + i)) >"$dir/proj/services/svc-$i.yaml"
  mkdir -p "$dir/proj/releases/svc-$i/v1" "$dir/proj/releases/svc-$i/v2"
done
TOKEN=$("$SLIPWAY" token create --user ci-bot --role deployer 2>/dev/null)
sqlite3 "$dir/state/slipway.db" >/dev/null <<SQL
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $D)
INSERT INTO deployments(service, env, version, revision, from_version, type, strategy, state, step, weight,
  requested_by, created_ms, started_ms, finished_ms, state_since_ms, reason)
SELECT 'svc-' || i, 'production', 'v1', 1, NULL, 'standard', 'full', 'succeeded', 0, 100, 'ci-bot',
  1764320400000, 1764320400000, 1764320460000, 1764320460000, 'first release' FROM seq;
COMMIT;
SQL

start() { # start LOG COMMAND...: in the background, $pid and $port once it listens
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listen.* (port \([0-9]*\)).*/\1/p; s/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench/api: $* did not start:"; tail -5 "$log"; exit 1
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }

start "$dir/api.log" "$SLIPWAY" api --listen 127.0.0.1:0
python3 - "$port" "$TOKEN" "$D" <<'PY'
import http.client, json, sys
port, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", int(port))
for i in range(1, n + 1):
    c.request("POST", "/api/v1/deployments", json.dumps({"service": "svc-%d" % i, "version": "v2", "type": "standard"}),
              {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = c.getresponse(); body = r.read()
    if r.status != 201:
        sys.exit("POST svc-%d: %d %s" % (i, r.status, body[:300]))
PY
stop
ID=$(sqlite3 "$dir/state/slipway.db" "SELECT id FROM deployments WHERE service = 'svc-$((D / 2))' AND version = 'v2'")
strategy=$(sqlite3 "$dir/state/slipway.db" "SELECT strategy FROM deployments WHERE id = $ID")

metric() { # metric NAME: its value at /metrics (the sum over its series)
  curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2} END {print s + 0}'
}
unfinished() {
  curl -s "http://127.0.0.1:$port/metrics" |
    awk '/^slipway_deployments\{/ && !/succeeded|rolled_back|failed/ {s += $2} END {print s + 0}'
}
cpu_ticks() { # the controller thread's CPU time, clock ticks (utime + stime)
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/task/$pid/stat"
}
HZ=$(getconf CLK_TCK)
span_begin() { c0=$(cpu_ticks); t0=$(metric slipway_ticks_total); s0=$(metric slipway_tick_seconds_total); w0=$(date +%s.%N); }
span_end() { # prints "ticks, mean tick, CPU per deployment per tick" for the span
  local c1 t1 s1 w1 active
  c1=$(cpu_ticks); t1=$(metric slipway_ticks_total); s1=$(metric slipway_tick_seconds_total); w1=$(date +%s.%N)
  active=$(unfinished)
  python3 -c '
import sys
c0, c1, t0, t1, s0, s1, w0, w1, hz, active = map(float, sys.argv[1:11])
ticks = t1 - t0
if ticks <= 0 or active <= 0:
    print("no tick ended in the span (a tick takes longer)"); sys.exit()
cpu = (c1 - c0) / hz
print("%d ticks in %.1f s, mean tick %.0f ms; controller CPU %.2f s: %.0f us per deployment per tick (%d unfinished)"
      % (ticks, w1 - w0, 1000 * (s1 - s0) / ticks, cpu, 1e6 * cpu / (ticks * active), active))
print("%.3f" % (1e6 * cpu / (ticks * active)), file=open(sys.argv[11], "w"))' \
    "$c0" "$c1" "$t0" "$t1" "$s0" "$s1" "$w0" "$w1" "$HZ" "$active" "$dir/cpu.last"
}
run() { # run NAME PATH: prints "NAME rps p99_ms codes"
  local out rps p99 codes
  out=$(hey -n "$N" -c "$C" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port$2")
  rps=$(printf '%s\n' "$out" | awk '/Requests\/sec:/ {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" && $2 == "in" {print $3 * 1000}')
  codes=$(printf '%s\n' "$out" | awk '/responses$/ && $1 ~ /^\[[0-9]+\]$/ {printf "%s%s %s", sep, $1, $2; sep=", "}')
  printf '  %-26s %8.0f req/s  p99 %7.1f ms  %s\n' "$1" "$rps" "$p99" "$codes"
  echo "$rps $p99" >"$dir/res.$1"
}

echo "hey: $N requests per endpoint, $C concurrent, 127.0.0.1; $D deployments on simulated infrastructure (strategy of #$ID: $strategy)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"

# 2. the controller drives them
start "$dir/serve.log" "$SLIPWAY" serve --listen 127.0.0.1:0 --lease "$LEASE"
echo "slipway serve (pid $pid) drives the $D deployments; waiting until every one is past the gate"
for _ in $(seq 1 1200); do
  p=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^slipway_deployments\{state="pending"\}/ {print $2}')
  [ "${p:-1}" = 0 ] && [ "$(metric slipway_ticks_total)" -gt 0 ] && break
  sleep 0.5
done
echo "  states: $(curl -s "http://127.0.0.1:$port/metrics" | awk '/^slipway_deployments\{/ && $2 > 0 {sub(/slipway_deployments\{state="/, ""); sub(/"\}/, ""); printf "%s%s %s", sep, $1, $2; sep=", "}')"
echo "controller, no API load, over $QUIET_TICKS whole ticks:"
t=$(metric slipway_ticks_total)
while [ "$(metric slipway_ticks_total)" = "$t" ]; do sleep 0.1; done	# from the end of a tick
span_begin
while [ "$(metric slipway_ticks_total)" -lt $((t0 + QUIET_TICKS)) ]; do sleep 0.1; done
printf '  '; span_end; cp "$dir/cpu.last" "$dir/cpu.quiet"
echo "the API while the controller drives them:"
span_begin; run "status (driving)" "/api/v1/deployments/$ID"; printf '    controller meanwhile: '; span_end
span_begin; run "events (driving)" "/api/v1/deployments/$ID/events"; printf '    controller meanwhile: '; span_end
run "healthz (driving)" /healthz

# 3. every deployment aborted: the controller idle
echo "aborting every deployment over the API; the reference once all are rolled back and the controller is idle"
python3 - "$port" "$TOKEN" <<'PY'
import http.client, json, sys
port, token = sys.argv[1], sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", int(port))
def call(method, path):
    c.request(method, path, None, {"Authorization": "Bearer " + token})
    r = c.getresponse(); return r.status, r.read()
s, b = call("GET", "/api/v1/deployments?limit=0")
for d in json.loads(b)["items"]:
    if d["state"] not in ("succeeded", "rolled_back", "failed"):
        s, b = call("POST", "/api/v1/deployments/%d/abort" % d["id"])
        if s != 202:
            sys.exit("abort %d: %d %s" % (d["id"], s, b[:300]))
PY
for _ in $(seq 1 1200); do [ "$(unfinished)" = 0 ] && break; sleep 0.5; done
sleep 6	# drivers without work are closed after 5 s (docs/serve.md)
t_idle=$(metric slipway_ticks_total)
run "status (idle)" "/api/v1/deployments/$ID"
run "events (idle)" "/api/v1/deployments/$ID/events"
run "healthz (idle)" /healthz
echo "  the controller ticked $(( $(metric slipway_ticks_total) - t_idle )) times meanwhile, with no work"
stop
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratios (driving / idle):"
for e in status events healthz; do
  read -r r1 p1 <"$dir/res.$e (driving)"
  read -r r0 p0 <"$dir/res.$e (idle)"
  python3 -c 'import sys; e, r1, p1, r0, p0 = sys.argv[1], *map(float, sys.argv[2:]); print("  %-8s throughput %.2f of idle, p99 %.2fx idle" % (e, r1 / r0, p1 / p0))' \
    "$e" "$r1" "$p1" "$r0" "$p0"
done
echo "tick CPU per deployment with no API load: $(cat "$dir/cpu.quiet") us"
