#!/usr/bin/env bash
# bench/judge.sh - what the judge catches and what it halts by mistake: the
# scenario table of docs/simulate.md through `slipway simulate` (the real
# engine and judge against simulated traffic), on the runbook's Flagger
# Canary file and on the runbook default strategy, with Flagger's own rule
# (the Canary file's checks, failed-check counting) beside it and Wald's
# expected sample size computed in the same run.  Prints a Markdown report
# (tables and the acceptance checks); run on demand, never by tests/run.
#
#   bench/judge.sh [--quick] [--seeds N] [--out FILE] [--policy FILE] [--hold-factor F]
#                  [--only SCENARIOS] [--rpm VOLUMES] [--configs CONFIGS]
#
#   --quick       50 seeds a cell instead of 200 (a first look)
#   --seeds N     seeds a cell (default 200)
#   --out FILE    also write the report to FILE (the lead copies it to docs/)
#   --policy FILE the policy whose type rules apply (default: built-in)
#   --hold-factor F  a step's maximum hold is F x its hold, for "where traffic
#                 allows" in the acceptance checks (default 3, docs/simulate.md)
#   --only SCENARIOS  comma-separated scenario names (e.g. "1->2%,aa-1%"): a
#                 partial run while working on the judge; the acceptance checks
#                 then only see those cells
#   --rpm VOLUMES comma-separated volumes (e.g. 10000,100000)
#   --configs C   comma-separated: canary-file, flagger, default-strategy
#   --cells FILE  also keep the raw cells (one JSON object a line): partial runs
#                 in parallel, then `bench/judge_report.py --merge A B ... ` prints
#                 one report of them all
# Needs build/slipway (or $SLIPWAY) and python3.  Bounded: 80 cells of the
# engine and 40 of Flagger's rule; each cell is seconds at most on one core.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
SLIPWAY=${SLIPWAY:-$top/build/slipway}
seeds=200 out="" policy="" hold_factor=3 only="" only_rpm="" configs="canary-file,flagger,default-strategy" cells_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) seeds=50 ;;
    --seeds) seeds=$2; shift ;;
    --out) out=$2; shift ;;
    --policy) policy=$2; shift ;;
    --hold-factor) hold_factor=$2; shift ;;
    --only) only=$2; shift ;;
    --rpm) only_rpm=$2; shift ;;
    --configs) configs=$2; shift ;;
    --cells) cells_out=$2; shift ;;
    *) echo "usage: bench/judge.sh [--quick] [--seeds N] [--out FILE] [--policy FILE] [--hold-factor F]" \
         "[--only SCENARIOS] [--rpm VOLUMES] [--configs CONFIGS]" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$SLIPWAY" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench/judge.sh needs python3" >&2; exit 2; }
canary="$top/tests/data/configs/runbook-canary-config.yaml"
dir=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench-judge.XXXXXX")
trap 'rm -rf "$dir"' EXIT
pol=()
[ -n "$policy" ] && pol=(--policy "$policy")
# Flagger's rule: the Canary file's checks alone, with Flagger's failed-check
# counting (the threshold judge where `simulate --judge` exists)
flagger=()
if "$SLIPWAY" simulate --rpm 1 --stable-error-rate 0 --runs 1 --max-minutes 1 --judge threshold >/dev/null 2>&1; then
  flagger=(--judge threshold)
fi

# scenario: name stable_rate canary_rate latency_ratio
scenarios=(
  "aa-0.1% 0.001 0.001 1"
  "aa-1% 0.01 0.01 1"
  "0.1->0.2% 0.001 0.002 1"
  "1->2% 0.01 0.02 1"
  "1->6% 0.01 0.06 1"
  "latency-1.3x 0.001 0.001 1.3"
  "latency-2.2x 0.001 0.001 2.2"
  "latency-3.5x 0.001 0.001 3.5"
)
volumes=(100 500 1000 10000 100000)
[ -n "$only_rpm" ] && IFS=, read -r -a volumes <<<"$only_rpm"
picked() { # picked LIST ITEM: ITEM is in the comma-separated LIST
  case ",$1," in *",$2,"*) return 0 ;; esac
  return 1
}

start=$(date +%s%N)
slowest=0 slowest_cell="" cells=0
run_cell() { # run_cell CONFIG_LABEL RULES SCENARIO RPM [--config FILE]
  local label=$1 rules=$2 sc=$3 rpm=$4; shift 4
  local name p q x t0 t1 ms judge=()
  read -r name p q x <<<"$sc"
  [ "$rules" = checks ] && judge=(${flagger[@]+"${flagger[@]}"})
  t0=$(date +%s%N)
  "$SLIPWAY" ${pol[@]+"${pol[@]}"} simulate "$@" --rpm "$rpm" --stable-error-rate "$p" --canary-error-rate "$q" \
    --latency-ratio "$x" --runs "$seeds" --rules "$rules" ${judge[@]+"${judge[@]}"} -o json >"$dir/cell.json"
  t1=$(date +%s%N)
  ms=$(((t1 - t0) / 1000000))
  cells=$((cells + 1))
  if [ "$ms" -gt "$slowest" ]; then slowest=$ms; slowest_cell="$label $rules $name $rpm"; fi
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
# the median over every run of the canary requests at a rollback on evidence, a run that
# was not rolled back counting as never (the acceptance check of a 1% -> 6% regression)
res = d.get("results") or []
at = sorted(r.get("canary_requests") or 0 for r in res if r.get("outcome") == "rolled_back")
d["rolled_back_median_all_runs"] = at[len(res) // 2] if res and len(at) > len(res) // 2 else None
d.pop("results", None)
print(json.dumps({"config": sys.argv[2], "rules": sys.argv[3], "scenario": sys.argv[4], "rpm": float(sys.argv[5]),
                  "wall_ms": int(sys.argv[6]), "sim": d}))' "$dir/cell.json" "$label" "$rules" "$name" "$rpm" "$ms" >>"$dir/cells.jsonl"
}

for sc in "${scenarios[@]}"; do
  [ -z "$only" ] || picked "$only" "${sc%% *}" || continue
  for rpm in "${volumes[@]}"; do
    picked "$configs" canary-file && run_cell canary-file all "$sc" "$rpm" --config "$canary"
    picked "$configs" flagger && run_cell canary-file checks "$sc" "$rpm" --config "$canary"
    picked "$configs" default-strategy && run_cell default-strategy all "$sc" "$rpm"
  done
done
end=$(date +%s%N)
total_ms=$(((end - start) / 1000000))

python3 "$top/bench/judge_report.py" "$dir/cells.jsonl" "$seeds" "$total_ms" "$cells" "$slowest" "$slowest_cell" \
  "$("$SLIPWAY" --version 2>/dev/null | head -1)" "$hold_factor" "--rules checks ${flagger[*]+${flagger[*]}}" >"$dir/report.md"
cat "$dir/report.md"
[ -n "$out" ] && cp "$dir/report.md" "$out"
[ -n "$cells_out" ] && cp "$dir/cells.jsonl" "$cells_out"
exit 0
