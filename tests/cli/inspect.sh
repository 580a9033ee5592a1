# inspect.sh - `slipway inspect`: the examples under examples/argo and
# examples/flagger load unchanged and become the steps and queries
# docs/argo.md describes; a template that is missing, defined twice or
# broken is an error naming the file (exit 2).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
ex="$SLIPWAY_SRC/examples"

for f in "$ex"/argo/*.yaml "$ex"/flagger/*.yaml; do
  run_slipway inspect "$f"
  is "$rc" 0 "$(basename "$(dirname "$f")")/$(basename "$f") loads unchanged ($err)"
done

run_slipway inspect "$ex/argo/rollout.yaml"
like "$out" "step 1: weight 10%, hold 30s" "Rollout: setWeight then pause {duration} is one held step"
like "$out" "step 3: weight 50%, wait for a person's promote" "Rollout: pause {} waits for a person"
like "$out" 'proxy="demo",server=~"canary\.\*"' "Rollout: the template's query rendered with the Rollout's args"
like "$out" 'version="\{\{ args.version \}\}"' "Rollout: a valueFrom argument is left for the run"

run_slipway inspect -o json "$ex/flagger/canary.yaml"
is "$(json_get "$out" 'd["files"][0]["template_metrics"][0]["query"].count("proxy=\"demo\",server=~\"canary.*\"")')" 2 \
  "Canary: the MetricTemplate's target and variables are filled"
is "$(json_get "$out" 'd["files"][0]["template_metrics"][0]["max"]')" 1.0 "Canary: thresholdRange.max travels with it"

# templates are looked up beside the rollout file
mkdir -p "$T/only"
cp "$ex/argo/rollout.yaml" "$T/only/"
run_slipway inspect "$T/only/rollout.yaml"
is "$rc" 2 "a Rollout whose template is not beside it: exit 2"
like "$err" "no AnalysisTemplate 'success-rate' in '$T/only'" "and the message says what was looked for where"
run_slipway inspect --templates "$ex/argo" "$T/only/rollout.yaml"
is "$rc" 0 "--templates DIR names where they are"

cp "$ex/argo/success-rate.yaml" "$ex/argo/latency.yaml" "$T/only/"
cp "$ex/argo/success-rate.yaml" "$T/only/success-rate-copy.yaml"
run_slipway inspect "$T/only/rollout.yaml"
like "$err" "AnalysisTemplate 'success-rate' is defined twice" "a template in two files is refused, not chosen"
rm "$T/only/success-rate-copy.yaml"
sed 's/result\[0\] >= 0.99/result[0] >== 0.99/' "$ex/argo/success-rate.yaml" >"$T/only/success-rate.yaml"
run_slipway inspect "$T/only/rollout.yaml"
like "$err" "success-rate.yaml:21:25: successCondition .*column 32: unexpected '='" \
  "a broken template is reported at its line, column and the column in the condition"

# --measure: each query once against Prometheus.  The outage cases against
# tests/helpers/prom_stub.py (it answers like Prometheus for those only):
# no data, NaN and a provider error are never a pass.
exec 7< <(exec python3 "$SLIPWAY_SRC/tests/helpers/prom_stub.py")
read -r port <&7
mkdir -p "$T/m"
for mode in empty nan 503; do
  sed "s|http://127.0.0.1:9090|http://127.0.0.1:$port/$mode|" "$ex/argo/success-rate.yaml" >"$T/m/success-rate.yaml"
  sed "s|http://127.0.0.1:9090|http://127.0.0.1:$port/$mode|" "$ex/argo/latency.yaml" >"$T/m/latency.yaml"
  sed "s|http://127.0.0.1:9090|http://127.0.0.1:$port/$mode|" "$ex/flagger/error-rate.yaml" >"$T/m/error-rate.yaml"
  cp "$ex/argo/rollout.yaml" "$ex/flagger/canary.yaml" "$T/m/"
  run_slipway inspect --measure -o json "$T/m/rollout.yaml" "$T/m/canary.yaml"
  phases=$(json_get "$out" '" ".join(m["measured"]["phase"] for t in d["files"][0]["analyses"][0]["templates"] for m in t["metrics"]) + " " + d["files"][1]["template_metrics"][0]["measured"]["phase"]')
  case $mode in
    empty) want="Error Error failed" ;;
    nan) want="Inconclusive Failed failed" ;;  # both conditions false on NaN: Inconclusive (Argo)
    503) want="Error Error failed" ;;
  esac
  is "$phases" "$want" "--measure against a Prometheus answering $mode: Argo $want (never a pass)"
  reasons=$(json_get "$out" '" | ".join(m["measured"]["reason"] for t in d["files"][0]["analyses"][0]["templates"] for m in t["metrics"])')
  case $mode in
    empty) like "$reasons" "no data" "  and the reason says no data" ;;
    nan) like "$reasons" "neither successCondition nor failureCondition is true .*failureCondition is true" "  and NaN makes both conditions false, or the isNaN failure true" ;;
    503) like "$reasons" "provider error" "  and the reason is the provider's error" ;;
  esac
done
# a Canary's analysis.interval below 10s: accepted, raised to 10s as Flagger does, with a warning
# naming FILE:LINE:COL and the valid range (docs/yaml.md)
run_slipway inspect "$SLIPWAY_SRC/tests/data/configs/flagger-interval-5s.yaml"
is "$rc" 0 "a Canary with interval 5s loads"
like "$out" 'step 1: weight 10%, hold 10s' "its interval is raised to 10s"
like "$err" "flagger-interval-5s.yaml:13:15: analysis.interval 5s is below 10s, .*raised to 10s .*from 10s to 30d" \
  "a warning names FILE:LINE:COL, the value and the valid range"
sed 's/interval: 5s/interval: 100000h/' "$SLIPWAY_SRC/tests/data/configs/flagger-interval-5s.yaml" >"$T/canary-long.yaml"
run_slipway inspect "$T/canary-long.yaml"
is "$rc" 2 "a Canary with interval 100000h is refused"
like "$err" "canary-long.yaml:13:15: analysis.interval '100000h' is not valid; expected a duration from 10s to 30d" \
  "  with the range the warning gives, the one that runs"
run_slipway inspect "$SLIPWAY_SRC/tests/data/configs/flagger-stepweights.yaml"
unlike "$err" 'warning' "no warning for an interval of 10s or more"
printf 'apiVersion: slipway/v1\nkind: Strategy\nspec:\n  strategy: canary\n  analysis:\n    interval: 5s\n  steps:\n    - {weight: 50, hold: 1m}\n' >"$T/native-5s.yaml"
run_slipway inspect "$T/native-5s.yaml"
is "$rc" 2 "a slipway Strategy with interval 5s is refused"
like "$err" "native-5s.yaml:6:15: analysis.interval '5s' .*from 10s to 30d" "  at FILE:LINE:COL with the valid range"
# Flagger values that would read as "unset" are refused at their own FILE:LINE:COL (docs/engine.md "Files")
run_slipway inspect "$SLIPWAY_SRC/tests/data/configs/flagger-threshold-negative.yaml"
is "$rc" 2 "a Canary with threshold -5 is refused"
like "$err" "flagger-threshold-negative.yaml:10:16: analysis.threshold '-5' is not valid; expected a whole number from 1 to" \
  "  at the value, with the valid range"
unlike "$out" "threshold 1" "  not shown as threshold 1"
run_slipway inspect "$SLIPWAY_SRC/tests/data/configs/flagger-stepweight-zero.yaml"
is "$rc" 2 "a Canary whose only step form is stepWeight: 0 is refused"
like "$err" "flagger-stepweight-zero.yaml:12:17: analysis.stepWeight '0' is not valid; expected a number above 0" \
  "  at stepWeight's own position, saying it must be above 0"
unlike "$err" "needs stepWeight" "  not 'needs stepWeight' when stepWeight is there"
run_slipway inspect "$SLIPWAY_SRC/tests/data/configs/flagger-maxweight-zero.yaml"
is "$rc" 2 "a Canary with maxWeight 0 is refused"
like "$err" "flagger-maxweight-zero.yaml:9:16: analysis.maxWeight '0' is not valid; expected a number above 0" \
  "  at the value"
run_slipway inspect "$SLIPWAY_SRC/tests/data/configs/native-decreasing-weights.yaml"
is "$rc" 2 "a Strategy whose weights decrease is refused"
like "$err" "native-decreasing-weights.yaml:9:16: step 2: weight 10 is below the previous step's 50" \
  "  at FILE:LINE:COL of that step's weight"
# a step with no hold (a setWeight before an analysis step, the last setWeight) says so, not "hold 0ms"
run_slipway inspect "$SLIPWAY_SRC/tests/data/argo-files/rollout-steps.yaml"
like "$out" "step 2: weight 25%, no hold" "a step of no hold: 'no hold'"
like "$out" "step 3: weight 50%, wait for a person's promote" "pause: {} waits for a person"
unlike "$out" "hold 0ms" "no 'hold 0ms'"
done_testing
