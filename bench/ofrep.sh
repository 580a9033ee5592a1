#!/usr/bin/env bash
# bench/ofrep.sh - OFREP evaluations per second and p99 latency (docs/flags.md)
# under `hey` on 127.0.0.1 against `slipway api`: a single evaluation of a
# flag with a segment rule and a 50% rollout, and a bulk evaluation of 100
# such flags, beside /healthz (no store read, no token) measured in the same
# run as the reference.  The issue's goal: 20,000 single evaluations/s on two
# cores, p99 under 2 ms.  Run on demand, never by tests/run:
#   bench/ofrep.sh [REQUESTS] [CONCURRENCY]
# The client is wrk when installed (one thread, kept-alive connections, for
# ${BENCH_SECONDS:-5} s per measurement; REQUESTS is then unused), else hey
# (BENCH_CLIENT=hey forces it): on two shared cores the client's own CPU
# counts, and hey's is several times wrk's.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
SLIPWAY=${SLIPWAY:-$top/build/slipway}
N=${1:-20000}
C=${2:-50}
dir=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-ofrep.XXXXXX")
export SLIPWAY_STATE_DIR="$dir/state" SLIPWAY_USER=bench
TOKEN=$("$SLIPWAY" token create --user bench 2>/dev/null)
{
  printf 'segments:\n  canary-users:\n    user_ids: [alice]\n    conditions: [{attribute: group, values: [canary]}]\nflags:\n'
  for i in $(seq 1 100); do
    printf '  agent:pack-%d:enabled:\n    rules:\n      - {segments: [canary-users], serve: on}\n      - {rollout: {percentage: 50}, serve: on}\n' "$i"
  done
} >"$dir/flags.yaml"
"$SLIPWAY" flag apply "$dir/flags.yaml" >/dev/null
"$SLIPWAY" api --listen 127.0.0.1:0 2>"$dir/api.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/api.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
body='{"context": {"targetingKey": "user-42", "group": "beta"}}'
client=${BENCH_CLIENT:-$(command -v wrk >/dev/null && echo wrk || echo hey)}
cat >"$dir/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
EOF
run() { # run NAME N PATH [post]: prints "NAME rps p99_ms"
  local out rps p99 codes
  if [ "$client" = wrk ]; then
    out=$(wrk -t1 -c"$C" -d"${BENCH_SECONDS:-5}s" --latency ${4:+-s "$dir/post.lua"} "http://127.0.0.1:$port$3")
    rps=$(printf '%s\n' "$out" | awk '/Requests\/sec:/ {print $2}')
    p99=$(printf '%s\n' "$out" | awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
      print (u == "us" ? v / 1000 : u == "s" ? v * 1000 : u == "m" ? v * 60000 : v) }')
    codes=$(printf '%s\n' "$out" | awk '/requests in/ {n = $1} /Non-2xx/ {bad = $NF} END {printf "%d requests, %d not 2xx", n, bad}')
  elif [ -n "${4:-}" ]; then
    out=$(hey -n "$2" -c "$C" -m POST -T application/json -d "$body" -H "Authorization: Bearer $TOKEN" \
      "http://127.0.0.1:$port$3")
  else
    out=$(hey -n "$2" -c "$C" "http://127.0.0.1:$port$3")
  fi
  if [ "$client" = hey ]; then
  rps=$(printf '%s\n' "$out" | awk '/Requests\/sec:/ {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" && $2 == "in" {print $3 * 1000}')
  codes=$(printf '%s\n' "$out" | awk '/responses$/ && $1 ~ /^\[[0-9]+\]$/ {printf "%s%s %s", sep, $1, $2; sep=", "}')
  fi
  printf '%-34s %10.0f req/s  p99 %7.1f ms  %s\n' "$1" "$rps" "$p99" "$codes"
  echo "$rps" >"$dir/rps.$1"
}
if [ "$client" = wrk ]; then
  echo "wrk: ${BENCH_SECONDS:-5} s each, $C connections, 127.0.0.1; 100 flags, one segment; load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
else
  echo "hey: $N requests, $C concurrent, 127.0.0.1; 100 flags, one segment; load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
fi
run healthz "$N" /healthz
run single "$N" /ofrep/v1/evaluate/flags/agent:pack-7:enabled post
run bulk-100 "$((N / 10))" /ofrep/v1/evaluate/flags post
ref=$(cat "$dir/rps.healthz")
for b in single bulk-100; do
  python3 -c "import sys; print('%-34s %.2f of /healthz' % (sys.argv[1] + ' throughput', float(sys.argv[2]) / float(sys.argv[3])))" \
    "$b" "$(cat "$dir/rps.$b")" "$ref"
done
