#!/usr/bin/env bash
# bench/check.sh - `slipway check` on the default policy as a whole process
# (goal under 5 ms), against references measured in the same run:
# /bin/true (process start-up) and `slipway --version` (the binary's own
# start-up, dynamic linking included).  Not run by tests.
#
#   bench/check.sh [RUNS]        (default 300; build/slipway must exist)
# Uses hyperfine when installed, else a shell loop timed with date +%s%N.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-300}
bin=build/slipway
[ -x "$bin" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 2; }
export SLIPWAY_POLICY=  # the built-in policy, whatever the environment says
check=("$bin" check --type standard --at 2026-12-16T15:00:00Z)

mean_ms() { # mean_ms CMD... -> mean wall time per run in ms (3 decimals)
  local i start end
  for i in 1 2 3 4 5; do "$@" >/dev/null 2>&1 || true; done   # warm the page cache
  start=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  awk -v ns=$((end - start)) -v n="$runs" 'BEGIN { printf "%.3f", ns / n / 1e6 }'
}

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N -w 10 -r "$runs" -i /bin/true "$bin --version" "${check[*]}"
  exit 0
fi
t_true=$(mean_ms /bin/true)
t_ver=$(mean_ms "$bin" --version)
t_check=$(mean_ms "${check[@]}")
t_cal=$(mean_ms "$bin" calendar --from 2026-12-01 --to 2026-12-14)
echo "runs per command: $runs (shell loop; install hyperfine for a finer measurement)"
printf '%-44s %8s ms\n' "/bin/true" "$t_true" "slipway --version" "$t_ver" \
  "slipway check --type standard (blocked, next)" "$t_check" "slipway calendar (14 days)" "$t_cal"
awk -v c="$t_check" -v t="$t_true" -v v="$t_ver" 'BEGIN {
  printf "check / true:      %.2fx\ncheck / --version: %.2fx\n", c / t, c / v
  printf "goal: check under 5 ms per process: %s (%.3f ms)\n", (c < 5 ? "met" : "NOT met"), c }'
