# simulate.sh - `slipway simulate`: the cases in tests/data/simulate/*.case
# (config, args, and "expect:" lines: python expressions over the JSON as
# `d` that must hold), then the JSON shape, determinism per seed, the
# traffic split and error rates against the model (within sampling error),
# the text table and input errors.  No timing assertions.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
data="$SLIPWAY_SRC/tests/data"

field() { sed -n "s/^$2: \{0,1\}//p" "$1" | head -1; }

# check JSON_ON_STDIN FILE_WITH_EXPECT_LINES -> one line per expectation: "ok" or why not
check_expect() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
for line in open(sys.argv[1]):
    if not line.startswith("expect: "):
        continue
    e = line[len("expect: "):].strip()
    try:
        print("ok" if eval(e) else "false")
    except Exception as x:
        print("error: %s" % x)' "$1" 2>&1
}

for c in "$data"/simulate/*.case; do
  name=$(basename "$c" .case)
  config=$(field "$c" config); args=$(field "$c" args)
  # shellcheck disable=SC2086
  run_slipway simulate ${config:+--config "$data/$config"} $args -o json
  is "$rc" 0 "$name: exit status"
  got=$(printf '%s' "$out" | check_expect "$c")
  i=0
  while IFS= read -r want; do
    i=$((i + 1))
    is "$(printf '%s\n' "$got" | sed -n "${i}p")" ok "$name: $want"
  done < <(sed -n 's/^expect: //p' "$c")
done

# the JSON shape of the interface (names kept for scripts and bench/judge.sh)
run_slipway simulate --rpm 500 --stable-error-rate 0.01 --canary-error-rate 0.02 --runs 7 --seed 3 -o json
is "$rc" 0 "json: exit 0"
printf '%s' "$out" >"$T/a.json"
shape=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
if d["runs"] != 7: bad.append("runs")
for k in ("promoted", "rolled_back", "paused", "insufficient_traffic", "failed", "unfinished"):
    if not isinstance(d["outcomes"].get(k), int): bad.append("outcomes." + k)
if sum(d["outcomes"].values()) != 7: bad.append("outcomes sum")
for k in ("median", "p90"):
    if k not in d["at_s"]: bad.append("at_s." + k)
if "median" not in d["canary_requests"]: bad.append("canary_requests.median")
if len(d["results"]) != 7: bad.append("results")
if [r["seed"] for r in d["results"]] != list(range(3, 10)): bad.append("seeds")
for r in d["results"]:
    for k in ("seed", "outcome", "at_s", "reason", "rule", "canary_requests"):
        if k not in r: bad.append("results." + k)
    if r["outcome"] not in d["outcomes"]: bad.append("outcome name " + r["outcome"])
ref = d["reference"]
for k in ("p0", "p1", "alpha", "beta", "wald", "fixed_sample"):
    if k not in ref: bad.append("reference." + k)
if ref["p0"] != 0.01 or ref["p1"] != 0.02: bad.append("reference rates")
print(" ".join(bad) or "ok")' "$T/a.json")
is "$shape" ok "json: runs, outcomes, at_s, canary_requests, results, reference"

# determinism: the same seed, the same answer; a run is reproducible alone
run_slipway simulate --rpm 500 --stable-error-rate 0.01 --canary-error-rate 0.02 --runs 7 --seed 3 -o json
is "$out" "$(cat "$T/a.json")" "determinism: the same options give the same output"
run_slipway simulate --rpm 500 --stable-error-rate 0.01 --canary-error-rate 0.02 --runs 1 --seed 6 -o json
one=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["results"][0], sort_keys=True))')
want=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["results"][3], sort_keys=True))' "$T/a.json")
is "$one" "$want" "determinism: seed 6 alone is the 4th run of seeds 3..9"
run_slipway simulate --rpm 500 --stable-error-rate 0.01 --canary-error-rate 0.02 --runs 7 --seed 4 -o json
unlike "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"])')" \
  "^$(python3 -c 'import json,sys; import re; print(re.escape(str(json.load(open(sys.argv[1]))["results"])))' "$T/a.json")\$" \
  "another first seed gives other runs"

# the traffic split follows the engine's weights, errors follow the rates
# (every interval of 30 runs of the default strategy, promoted or not, pooled
# by weight; 4.5 standard errors)
run_slipway simulate --rpm 20000 --stable-error-rate 0.01 --canary-error-rate 0.015 --runs 30 --rules checks \
  --min-requests 1 --intervals -o json
is "$rc" 0 "intervals: exit 0"
split=$(printf '%s' "$out" | python3 -c '
import json, math, sys
d = json.load(sys.stdin)
bad, by = [], {}
ivs = [iv for r in d["results"] for iv in r["intervals"]]
for iv in ivs:
    if abs(iv["share"] - iv["weight"] / 100.0) > 1e-9: bad.append("share %s vs weight %s" % (iv["share"], iv["weight"]))
    b = by.setdefault(iv["weight"], [0, 0])
    b[0] += iv["canary_requests"]; b[1] += iv["stable_requests"]
for w, (c, s) in sorted(by.items()):
    n, p = c + s, w / 100.0
    if n == 0: continue
    se = math.sqrt(p * (1 - p) / n) or 1e-12
    if abs(c / n - p) > 4.5 * se: bad.append("weight %s: canary share %.5f" % (w, c / n))
for side, rate in (("canary", 0.015), ("stable", 0.01)):
    n = sum(iv[side + "_requests"] for iv in ivs); e = sum(iv[side + "_errors"] for iv in ivs)
    if abs(e / n - rate) > 4.5 * math.sqrt(rate * (1 - rate) / n): bad.append("%s error rate %.5f" % (side, e / n))
tot = sum(iv["canary_requests"] + iv["stable_requests"] for iv in ivs)
mins = sum(iv["to_s"] - iv["from_s"] for iv in ivs) / 60.0
if abs(tot / mins - 20000) > 4.5 * math.sqrt(20000 / mins): bad.append("rpm %.1f" % (tot / mins))
if sorted(by) != [0, 1, 10, 50]: bad.append("weights %s" % sorted(by))
print(" ".join(bad) or "ok")')
is "$split" ok "intervals: canary share = weight, rates and requests/min within sampling error"

# region by region: groups before the current one are at 100%, later ones at 0%,
# each group a third of the traffic (tests/data/configs/regions.yaml: 3 groups)
run_slipway simulate --config "$data/configs/regions.yaml" --rpm 30000 --stable-error-rate 0.001 --runs 3 \
  --intervals -o json
got=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ivs = [iv for r in d["results"] for iv in r["intervals"]]
bad = [iv for iv in ivs if abs(iv["share"] - (100 * iv["group"] + iv["weight"]) / 300.0) > 1e-9]
print("%d intervals, groups %s, %d wrong" % (len(ivs), sorted({iv["group"] for iv in ivs}), len(bad)))')
like "$got" '^[0-9]+ intervals, groups \[0, 1(, 2)?\], 0 wrong$' "regions: the canary share is the mean over equal groups"

# canary_requests counts the canary requests of the analysed intervals up to the decision
got=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(all(r["canary_requests"] == sum(iv["canary_requests"] for iv in r["intervals"]) for r in d["results"]))')
is "$got" True "canary_requests is the sum over the analysed intervals"

# text: the table and the reference
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --canary-error-rate 0.02 --runs 20
is "$rc" 0 "text: exit 0"
like "$out" '^outcome +runs +share +median +p90 +canary requests' "text: table header"
like "$out" '^rolled_back +[0-9]+ ' "text: a row per outcome"
like "$out" "Wald's expected sample size on this schedule: [0-9]+ canary requests" "text: Wald reference"
like "$out" 'fixed-sample two-sample test: 2319 requests per arm \(two-sided\)' "text: fixed-sample reference"
like "$out" 'strategy canary \(1% 5m, 10% 15m, 50% 15m\)' "text: the type's default strategy"

# the type's strategy when there is no --config: hotfix is fast-progressive
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --type hotfix --runs 2 -o json
is "$(json_get "$out" 'd["strategy"]')" fast-progressive "hotfix without --config: fast-progressive"

# waiting for traffic is not a halt (docs/simulate.md "Outcomes and times"): at 100 requests/min
# seed 254 ends waiting for traffic, 255 is promoted and 256 rolls back (type:error-rate)
wt_args="--config $SLIPWAY_SRC/tests/data/configs/canary-default.yaml --rpm 100 --stable-error-rate 0.01 --canary-error-rate 0.01 --seed 254 --runs 3"
run_slipway simulate $wt_args
like "$out" 'halted \(rolled back or paused\) +1 ' "one run halted"
like "$out" '^halts and pauses by rule: type:error-rate 1$' "  and the by-rule line counts that one only"
like "$out" '^waiting for traffic: 1 \(rule insufficient-traffic, not a halt\)$' "  the run waiting for traffic on its own line"
run_slipway simulate $wt_args -o json
is "$(json_get "$out" 'json.dumps(d["halt_rules"], sort_keys=True)')/$(json_get "$out" 'd["outcomes"]["insufficient_traffic"]')" \
  '{"type:error-rate": 1}/1' "JSON: halt_rules counts halts only; waiting for traffic is outcomes.insufficient_traffic"

# --help
run_slipway simulate --help
is "$rc" 0 "--help exits 0"
like "$out" 'usage: slipway simulate --rpm R --stable-error-rate P' "--help shows the usage"
# --rules checks keeps the judge --judge names (docs/simulate.md): the help says so
like "$out" "checks only, still with the judge below \(Flagger's" "--help: --rules checks keeps the judge"
like "$out" "rule: --rules checks --judge threshold\)" "--help: Flagger's rule needs --judge threshold too"

# bad input: exit 2 with a clear message
bad_case() { # bad_case REGEX ARGS...
  local want=$1; shift
  run_slipway simulate "$@"
  is "$rc" 2 "bad input exits 2: $*"
  like "$err" "$want" "bad input message: $*"
}
# the message names exactly the missing option(s)
bad_case '^slipway: error: --rpm is required' --stable-error-rate 0.01
bad_case '^slipway: error: --stable-error-rate is required' --rpm 100
bad_case '^slipway: error: --rpm and --stable-error-rate are required' --runs 5
bad_case "--rpm must be requests per minute, > 0 and <= 10000000, not '-5'" --rpm -5 --stable-error-rate 0.01
bad_case "--rpm must be .*, not 'lots'" --rpm lots --stable-error-rate 0.01
bad_case "--stable-error-rate must be a fraction from 0 to 1 \(0.01 = 1%\), not '5'" --rpm 100 --stable-error-rate 5
bad_case "--canary-error-rate must be a fraction from 0 to 1" --rpm 100 --stable-error-rate 0.01 --canary-error-rate -0.1
bad_case "--latency-ratio must be a factor from 0.001 to 1000, not '0'" --rpm 100 --stable-error-rate 0.01 --latency-ratio 0
bad_case "--runs must be a whole number from 1 to 100000, not '0'" --rpm 100 --stable-error-rate 0.01 --runs 0
bad_case "--runs, --seed and --min-requests take whole numbers" --rpm 100 --stable-error-rate 0.01 --runs 2.5
bad_case "--latency-p99-ms \(40\) must be above --latency-median-ms \(45\)" --rpm 100 --stable-error-rate 0.01 --latency-p99-ms 40
# the message says the real valid range, not just "> 0"
bad_case "--latency-p99-ms must be milliseconds from 0.001 to 100000000, not '1e9'" --rpm 100 --stable-error-rate 0.01 --latency-p99-ms 1e9
bad_case "--latency-median-ms must be milliseconds from 0.001 to 10000000, not '1e8'" --rpm 100 --stable-error-rate 0.01 --latency-median-ms 1e8
bad_case "--rules must be all or checks, not 'flagger'" --rpm 100 --stable-error-rate 0.01 --rules flagger
bad_case "unknown judge 'magic'; valid: sequential, threshold, observed" --rpm 100 --stable-error-rate 0.01 --judge magic
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --runs 2 --judge observed -o json
is "$rc/$(json_get "$out" 'd["judge"]')" 0/observed "--judge observed is the judge used"
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --runs 2 --judge threshold
like "$out" 'judge: threshold' "--judge threshold: the text names the judge"
like "$out" '^2 runs \(seeds 1-2\), rules' "two runs: 'runs', 'seeds 1-2'"
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --runs 1 --seed 7
like "$out" '^1 run \(seed 7\), rules' "one run: '1 run (seed 7)', not '1 runs (seeds 7-7)'"
bad_case "unknown deployment type 'nightly'; valid: standard" --rpm 100 --stable-error-rate 0.01 --type nightly
bad_case "unexpected argument 'extra'" --rpm 100 --stable-error-rate 0.01 extra
bad_case "run 'slipway simulate --help' for usage" --rpm 100 --stable-error-rate 0.01 --bogus
printf 'apiVersion: flagger.app/v1beta1\nkind: Canary\nspec:\n  analysis:\n    stepWieght: 10\n' >"$T/bad.yaml"
bad_case "bad.yaml:5:5: unknown key 'stepWieght' in spec.analysis" --rpm 100 --stable-error-rate 0.01 --config "$T/bad.yaml"
bad_case "nope.yaml" --rpm 100 --stable-error-rate 0.01 --config "$T/nope.yaml"
bad_case "output format" --rpm 100 --stable-error-rate 0.01 -o yaml

# a service file: the strategy deploy uses for it (its analysis.steps, or its analysis.canary file)
mkdir -p "$T/svc"
printf 'name: web\ncommand: ["true"]\nenvironments: {production: {listen: 127.0.0.1:8080}}\nanalysis:\n  steps:\n    - {weight: 20, hold: 2m}\n    - {weight: 60, hold: 3m}\n' >"$T/svc/web.yaml"
run_slipway simulate --config "$T/svc/web.yaml" --rpm 1000 --stable-error-rate 0.01 --runs 2 -o json
is "$rc/$(json_get "$out" '",".join("%g/%d" % (s["weight"], s["hold_s"]) for s in d["steps"])')" \
  "0/20/120,60/180" "a service file's analysis.steps are the steps simulated"
printf 'apiVersion: flagger.app/v1beta1\nkind: Canary\nspec:\n  analysis:\n    interval: 1m\n    threshold: 2\n    stepWeights: [5, 40]\n' >"$T/svc/web-canary.yaml"
printf 'name: web\ncommand: ["true"]\nenvironments: {production: {listen: 127.0.0.1:8080}}\nanalysis:\n  canary: web-canary.yaml\n' >"$T/svc/web2.yaml"
run_slipway simulate --config "$T/svc/web2.yaml" --rpm 1000 --stable-error-rate 0.01 --runs 2 -o json
is "$rc/$(json_get "$out" '",".join("%g" % s["weight"] for s in d["steps"])')" "0/5,40" \
  "a service file's analysis.canary: that Canary file's steps, found beside the service file"
printf 'name: web\ncommand: ["true"]\nenvironments: {production: {listen: 127.0.0.1:8080}}\nbogus: 1\n' >"$T/svc/bad.yaml"
bad_case "bad.yaml:4:1: unknown key 'bogus' in the service" --rpm 100 --stable-error-rate 0.01 --config "$T/svc/bad.yaml"

# exit statuses: --help lists the ones docs/simulate.md lists (0, 2, 3)
run_slipway simulate --help
like "$out" 'Exit status: 0 the simulation ran' "--help: exit 0"
like "$out" '2 invalid input' "--help: exit 2"
like "$out" '3 the engine refused the strategy' "--help: exit 3, as docs/simulate.md says"
like "$(cat "$SLIPWAY_SRC/docs/simulate.md")" '3 if the engine refused the strategy' "docs/simulate.md lists exit 3 too"

# an Argo Rollout's pause: {} shows as inspect shows it, and the summary says why runs are unfinished
run_slipway simulate --config "$SLIPWAY_SRC/tests/data/argo-files/rollout-steps.yaml" --rpm 600 \
  --stable-error-rate 0.01 --runs 3 --max-minutes 30
is "$rc" 0 "pause: {}: the simulation runs"
like "$out" "strategy canary \(10% 30s, 25% no hold, 50% wait for a person's promote, 75% 1m, 100% no hold\)" \
  "pause: {}: the header shows the wait, not a 30d hold"
unlike "$out" "30d|[^0-9]0ms" "  and neither '30d' nor '0ms'"
like "$out" "3 of them wait at step 3 \(50%\) for a person's promote \(pause: \{\}\): nobody promotes in a simulation; .*pause: \{duration: 10m\}" \
  "the summary says why the runs are unfinished and what to do"
like "$err" "step 3 \(50%\) waits for a person's promote \(pause: \{\}\), which nobody gives in a simulation" \
  "  and a warning says so before the runs"
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --runs 2 --max-minutes 1
like "$out" "2 still progressing when --max-minutes ran out: raise --max-minutes \(now 1\)" \
  "runs stopped by --max-minutes say so"

# --intervals lists intervals in JSON only: in text it is named as ignored
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --runs 2 --intervals
like "$err" "warning: --intervals lists the intervals in -o json only" "--intervals in text: a warning"
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --runs 2 --intervals -o json
unlike "$err" "--intervals" "--intervals with -o json: no warning"
# a strategy with no traffic on the new revision before promotion judges nothing before it
run_slipway simulate --type emergency --rpm 1000 --stable-error-rate 0.01 --canary-error-rate 0.2 --runs 2
like "$err" "warning: the type's default strategy: no step puts traffic on the new revision before promotion \(strategy full\)" \
  "emergency without --through-monitoring: nothing judged, said"
run_slipway simulate --config "$SLIPWAY_SRC/tests/data/configs/flagger-blue-green.yaml" --rpm 1000 --stable-error-rate 0.01 --runs 1
like "$err" "flagger-blue-green.yaml: no step puts traffic .*\(strategy blue-green\)" "blue-green: the same"
run_slipway simulate --type emergency --rpm 500 --stable-error-rate 0.01 --runs 1 --through-monitoring --max-minutes 5
like "$err" "warning: type emergency monitors continuously until a person promotes" "continuous monitoring: warned"
like "$out" "1 monitoring continuously \(emergency\): only a person's promote ends it" "  and the unfinished run says why"
run_slipway simulate --rpm 1000 --stable-error-rate 0.01 --runs 2
unlike "$err" "no step puts traffic" "a canary strategy: no such warning"
# the reference follows the policy's judge settings
printf 'judge:\n  alpha: 0.01\n  power: 0.9\n  effect: 1.5\n' >"$T/judge.yaml"
run_slipway --policy "$T/judge.yaml" simulate --rpm 1000 --stable-error-rate 0.01 --runs 1
like "$out" "reference \(alpha 0.01, power 0.9\): error rate 1% vs 1.5% \(judge.effect x the stable's\)" \
  "the reference uses the policy's alpha, power and effect"
done_testing
