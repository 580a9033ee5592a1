#!/usr/bin/env bash
# bench/api.sh - requests/s and p99 latency of the HTTP API (docs/api.md)
# under `hey` at 100 concurrent clients on 127.0.0.1, over a store of
# 1,000 unfinished deployments (one per service) with 10 transitions each:
# GET /api/v1/deployments (the status list), GET .../deployments/ID (a
# deployment's detail) and GET .../deployments/ID/events, beside /healthz
# (no store read, no token) measured in the same run as the reference.
# Run on demand, never by tests/run:  bench/api.sh [REQUESTS] [CONCURRENCY]
# Needs hey, sqlite3, python3.  The issue's full benchmark, with `slipway
# serve` driving the 1,000 deployments meanwhile, needs serve.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
SLIPWAY=${SLIPWAY:-$top/build/slipway}
N=${1:-20000}
C=${2:-100}
dir=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-api.XXXXXX")
export SLIPWAY_STATE_DIR="$dir/state"
TOKEN=$("$SLIPWAY" token create --user bench 2>/dev/null)
sqlite3 "$dir/state/slipway.db" >/dev/null <<'SQL'
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 1000)
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, step, weight,
  requested_by, created_ms, started_ms, state_since_ms, reason)
SELECT i, 'svc-' || i, 'production', 'v2', 2, 'v1', 'standard', 'canary', 'progressing', 2, 10, 'alice',
  1764320400000, 1764320400000, 1764320400000, 'step 2' FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 10000)
INSERT INTO transitions(deployment_id, at_ms, from_state, to_state, step, weight, reason)
SELECT 1 + (i % 1000), 1764320400000 + i, 'progressing', 'progressing', 1 + i % 4, 10, 'held' FROM seq;
COMMIT;
SQL
"$SLIPWAY" api --listen 127.0.0.1:0 2>"$dir/api.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/api.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
run() { # run NAME PATH [TOKEN]: prints "NAME rps p99_ms"
  local out
  if [ -n "${3:-}" ]; then
    out=$(hey -n "$N" -c "$C" -H "Authorization: Bearer $3" "http://127.0.0.1:$port$2")
  else
    out=$(hey -n "$N" -c "$C" "http://127.0.0.1:$port$2")
  fi
  local rps p99 codes
  rps=$(printf '%s\n' "$out" | awk '/Requests\/sec:/ {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" && $2 == "in" {print $3 * 1000}')
  codes=$(printf '%s\n' "$out" | awk '/responses$/ && $1 ~ /^\[[0-9]+\]$/ {printf "%s%s %s", sep, $1, $2; sep=", "}')
  printf '%-34s %10.0f req/s  p99 %7.1f ms  %s\n' "$1" "$rps" "$p99" "$codes"
  echo "$rps" >"$dir/rps.$1"
}
echo "hey: $N requests, $C concurrent, 127.0.0.1; 1,000 deployments, 10,000 transitions"
run healthz /healthz
run deployments "/api/v1/deployments?limit=50" "$TOKEN"
run detail /api/v1/deployments/500 "$TOKEN"
run events /api/v1/deployments/500/events "$TOKEN"
ref=$(cat "$dir/rps.healthz")
for b in deployments detail events; do
  python3 -c "import sys; print('%-34s %.2f of /healthz' % (sys.argv[1] + ' throughput', float(sys.argv[2]) / float(sys.argv[3])))" \
    "$b" "$(cat "$dir/rps.$b")" "$ref"
done
