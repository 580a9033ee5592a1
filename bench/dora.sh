#!/usr/bin/env bash
# bench/dora.sh - time `slipway dora` over a generated history of 100,000
# deployments (goal: under 200 ms as a whole process).  Run on
# demand, never by tests/run (needs sqlite3, bc and /usr/bin/time):
#   bench/dora.sh [N_DEPLOYMENTS] [RUNS]
# Builds nothing: uses build/slipway (or $SLIPWAY).  Needs sqlite3.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
SLIPWAY=${SLIPWAY:-$top/build/slipway}
N=${1:-100000}
RUNS=${2:-7}
dir=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-dora.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export SLIPWAY_STATE_DIR="$dir/state"
"$SLIPWAY" log >/dev/null           # creates the store and every module's tables

# One year of history ending 2026-11-30: 20 services, 5% rolled back (with
# their rolling_back/rolled_back transitions), 2% failed, commit times 1-48 h
# before the finish, one incident per 500 deployments, linked to one.
end_ms=1796083200000
span=$((365 * 86400000))
t0=$(date +%s%N)
sqlite3 "$dir/state/slipway.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $N)
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  commit_sha, commit_time_ms, created_ms, started_ms, finished_ms, state_since_ms, reason)
SELECT i, 'svc-' || (i % 20), CASE WHEN i % 10 = 0 THEN 'staging' ELSE 'production' END,
  'v' || i, i, 'v' || (i - 1), 'standard', 'canary',
  CASE WHEN i % 100 < 5 THEN 'rolled_back' WHEN i % 100 < 7 THEN 'failed' ELSE 'succeeded' END,
  'user-' || (i % 37), printf('%040x', i),
  $end_ms - $span + i * ($span / $N) - ((i % 48) + 1) * 3600000,
  $end_ms - $span + i * ($span / $N) - 2400000, $end_ms - $span + i * ($span / $N) - 2400000,
  $end_ms - $span + i * ($span / $N), $end_ms - $span + i * ($span / $N), 'generated'
FROM seq;
INSERT INTO transitions(deployment_id, at_ms, from_state, to_state, step, weight, reason)
SELECT id, finished_ms - 600000 - (id % 7) * 60000, 'progressing', 'rolling_back', 2, 10, 'error rate > 5%'
FROM deployments WHERE state = 'rolled_back';
INSERT INTO transitions(deployment_id, at_ms, from_state, to_state, step, weight, reason)
SELECT id, finished_ms, 'rolling_back', 'rolled_back', 2, 0, 'previous revision serving'
FROM deployments WHERE state = 'rolled_back';
INSERT INTO incidents(service, env, title, opened_by, opened_ms, resolved_by, resolved_ms, deployment_id)
SELECT service, env, 'generated', 'oncall', finished_ms + 600000, 'oncall', finished_ms + 600000 + (id % 5) * 1800000, id
FROM deployments WHERE id % 500 = 1;
COMMIT;
SQL
t1=$(date +%s%N)
rows=$(sqlite3 "$dir/state/slipway.db" "SELECT COUNT(*) FROM deployments")
echo "generated $rows deployments in $(( (t1 - t0) / 1000000 )) ms"

# Wall time is what a person waits for; CPU time (user + sys, measured by
# /usr/bin/time) is what slipway itself costs, which matters on a loaded machine.
time_runs() { # time_runs LABEL ARGS... -> min and median wall and CPU ms of $RUNS runs
  local label=$1; shift
  local walls=() cpus=() s e
  "$SLIPWAY" dora "$@" >/dev/null    # warm the page cache
  for _ in $(seq 1 "$RUNS"); do
    s=$(date +%s%N)
    /usr/bin/time -f '%U %S' -o "$dir/cpu" "$SLIPWAY" dora "$@" >/dev/null
    e=$(date +%s%N)
    walls+=($(( (e - s) / 1000 )))
    cpus+=($(awk '{ printf "%d", ($1 + $2) * 1000000 }' "$dir/cpu"))
  done
  local w=($(printf '%s\n' "${walls[@]}" | sort -n)) c=($(printf '%s\n' "${cpus[@]}" | sort -n))
  printf '%-40s wall min %6.1f median %6.1f ms | cpu median %6.1f ms | median wall / 200 ms goal = %.2f\n' "$label" \
    "$(echo "${w[0]} / 1000" | bc -l)" "$(echo "${w[$((RUNS / 2))]} / 1000" | bc -l)" \
    "$(echo "${c[$((RUNS / 2))]} / 1000" | bc -l)" "$(echo "${w[$((RUNS / 2))]} / 200000" | bc -l)"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
range=(--since 2025-11-30 --until 2026-12-01)
time_runs "dora, production, all services, 1 year" "${range[@]}"
time_runs "dora -o json, production, all services" "${range[@]}" -o json
time_runs "dora, one service (svc-7)" "${range[@]}" --service svc-7
"$SLIPWAY" dora "${range[@]}" | head -12
