# analyze.sh - `slipway analyze` over the cases in tests/data/analyze/*.case and
# tests/data/judge/*.case (the sequential judge's cases)
# (one case per file: config, trace, type, extra args, and the expected exit
# status, outcome, at_s, rule, reason regex, steps "t_s:weight ...",
# failed_checks), plus its input errors.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
data="$SLIPWAY_SRC/tests/data"

field() { sed -n "s/^$2: \{0,1\}//p" "$1" | head -1; }

for c in "$data"/analyze/*.case "$data"/judge/*.case; do
  name=$(basename "$c" .case)
  config=$(field "$c" config); trace=$(field "$c" trace); type=$(field "$c" type)
  args=$(field "$c" args); args=${args//@data@/$data}	# @data@: tests/data
  # shellcheck disable=SC2086
  run_slipway analyze --config "$data/$config" --trace "$data/$trace" --type "${type:-standard}" $args -o json
  # one python3 start per case (it is slow to start): every field on its own line
  got=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("outcome=%s" % d["outcome"]); print("at_s=%s" % d["at_s"]); print("rule=%s" % d["rule"])
print("reason=%s" % d["reason"]); print("failed_checks=%s" % d["failed_checks"])
print("steps=%s" % " ".join("%d:%s" % (s["t_s"], s["weight"]) for s in d["steps"]))' 2>&1)
  g() { printf '%s\n' "$got" | sed -n "s/^$1=//p"; }
  want=$(field "$c" exit); [ -n "$want" ] && is "$rc" "$want" "$name: exit status"
  want=$(field "$c" outcome); [ -n "$want" ] && is "$(g outcome)" "$want" "$name: outcome"
  want=$(field "$c" at_s); [ -n "$want" ] && is "$(g at_s)" "$want" "$name: at_s"
  want=$(field "$c" rule); [ -n "$want" ] && like "$(g rule)" "^$want" "$name: rule"
  want=$(field "$c" reason); [ -n "$want" ] && like "$(g reason)" "$want" "$name: reason"
  want=$(field "$c" failed_checks); [ -n "$want" ] && is "$(g failed_checks)" "$want" "$name: failed checks"
  if grep -q '^steps:' "$c"; then
    is "$(g steps)" "$(field "$c" steps)" "$name: steps"
  fi
  want=$(field "$c" text)
  if [ -n "$want" ]; then
    run_slipway analyze --config "$data/$config" --trace "$data/$trace" --type "${type:-standard}" $args
    like "$out" "$want" "$name: text timeline"
  fi
done

# the text timeline shows steps, checks with numbers, the outcome and the table
# (the observed judge: the line below is its per-interval check)
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/errors-6pct.csv" --judge observed
is "$rc" 1 "text: rolled back exits 1"
like "$out" 't=60s +progressing -> progressing \(step 1, weight 10%\)' "text: step 1 at 60s"
like "$out" 'immediate:error-rate +6.00% +max limit 5%: fail' "text: the failing check with its numbers"
like "$out" '^outcome: rolled_back at 240s' "text: outcome line"
like "$out" 'Error Rate +\| 0.14% +\| 6.00%' "text: comparison table"

# bad input: FILE:LINE errors, exit 2
printf 't_s,revision,requests,errors,p50_ms,p99_ms\n60,stable,10,1,4,5\n60,blue,1,0,1,1\n' >"$T/bad.csv"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$T/bad.csv"
is "$rc" 2 "bad trace exits 2"
like "$err" "bad.csv:3: revision 'blue' is not valid; valid: stable, canary" "bad trace names FILE:LINE and valid values"
# a header alone is refused (not an hour of "no data"); a UTF-8 byte order mark is skipped
printf 't_s,revision,requests,errors,p50_ms,p99_ms\n' >"$T/onlyhdr.csv"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$T/onlyhdr.csv"
is "$rc" 2 "a header-only trace exits 2"
like "$err" "onlyhdr.csv:1: no rows after the header" "a header-only trace: FILE:LINE says there are no rows"
printf '\357\273\277t_s,revision,requests,errors,p50_ms,p99_ms\n60,stable,1000,1,45,200\n60,canary,0,0,,\n' >"$T/bom.csv"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$T/bom.csv" -o json
is "$(json_get "$out" 'd["outcome"]')" incomplete "a trace with a UTF-8 byte order mark is read"
# a value out of range: the message says the valid range
printf 't_s,revision,requests,errors,p50_ms,p99_ms\n99999999999999,stable,1000,1,45,200\n' >"$T/bigt.csv"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$T/bigt.csv"
is "$rc" 2 "a t_s past 100 years exits 2"
like "$err" "bigt.csv:2: t_s '99999999999999' is not a whole number of seconds from 0 to 3153600000 \\(100 years\\)" \
  "a t_s out of range: the message says the range"
printf 't_s,revision,requests,errors,p50_ms,p99_ms\n60,stable,1000,1,45,2e9\n' >"$T/bigp.csv"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$T/bigp.csv"
like "$err" "bigp.csv:2: .* must be milliseconds from 0 to 1000000000" "a p99 out of range: the message says the range"
printf 'apiVersion: flagger.app/v1beta1\nkind: Canary\nspec:\n  analysis:\n    stepWieght: 10\n' >"$T/bad.yaml"
run_slipway analyze --config "$T/bad.yaml" --trace "$data/traces/healthy.csv"
is "$rc" 2 "bad config exits 2"
like "$err" "bad.yaml:5:5: unknown key 'stepWieght' in spec.analysis; did you mean 'stepWeight'\? valid keys: interval, threshold" "bad config names FILE:LINE:COL and valid fields"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv" --type nightly
is "$rc" 2 "unknown type exits 2"
like "$err" "unknown deployment type 'nightly'; valid: standard" "unknown type names the valid ones"
run_slipway analyze --trace "$data/traces/healthy.csv"
is "$rc" 2 "missing --config exits 2"
# the type's rules come from the policy: a custom type and looser immediate criteria apply
cat >"$T/loose.yaml" <<'YAML'
rollback:
  immediate: { error_rate: 50, p99_latency_ratio: 3 }
types:
  nightly:
    approvals: [team-lead]
    strategy: canary
    monitoring: 10m
    rollback: error-rate
    rollback_error_rate: 2
    windows: [standard]
YAML
run_slipway --policy "$T/loose.yaml" analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv" --type nightly --judge observed -o json
is "$rc" 0 "a type the policy defines is analysed"
like "$out" '"type": "nightly"' "with that type's rules"
run_slipway --policy "$T/loose.yaml" analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/errors-6pct.csv" --judge observed -o json
like "$out" '"rule": "type:error-rate"' "the policy's immediate error rate (50%) replaces the runbook's 5%"

# the comparison table follows the sequential judge's verdict: one look's p99 at 4x on ten
# canary requests is HIGH, not FAIL, while the evidence has established nothing
run_slipway analyze --config "$data/configs/canary-default.yaml" --trace "$data/judge/one-look-p99-spike.csv" \
  --type standard -o json
is "$(json_get "$out" '[r["status"] for r in d["table"] if r["metric"] == "P99 Latency"][0]')" "HIGH" \
  "a look's p99 above 3x that is not established reads HIGH"
unlike "$out" '"status": "FAIL"' "no FAIL in the table of a deployment nothing was established against"

# throughput is requests over the time they were counted in: a one-minute trace row read by
# the sequential judge's 10 s look is 1000 requests/min (16.7 rps), not 1000 per 10 s
for judge in sequential observed; do
  run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv" \
    --judge "$judge" -o json
  is "$(json_get "$out" '"%.1f %.1f" % [(r["baseline"], r["current"]) for r in d["table"] if r["metric"] == "Throughput"][0]')" \
    "16.7 16.7" "$judge judge: a one-minute row's throughput is its requests over the minute"
done
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv"
like "$out" 'Throughput +\| 16.7 rps +\| 16.7 rps +\| \+0.00%' "text table: the same throughput as the baseline"

# the judge is the one deploy would use: --judge, else the service file's judge:, else the policy's
run_slipway analyze --config "$data/service/ok-judge-observed.yaml" --trace "$data/traces/healthy.csv" -o json
is "$(json_get "$out" 'd["judge"]')" observed "a service file's judge: is used"
run_slipway analyze --config "$data/service/ok-judge-observed.yaml" --trace "$data/traces/healthy.csv" --judge sequential -o json
is "$(json_get "$out" 'd["judge"]')" sequential "an explicit --judge wins over the service file"
run_slipway analyze --config "$data/service/ok-judge-observed.yaml" --trace "$data/traces/healthy.csv"
like "$out" '^analyze .*, type standard, judge observed$' "the text header names the judge"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv" -o json
is "$(json_get "$out" 'd["judge"]')" sequential "a Canary file: the policy's judge (sequential by default)"
# text is a timeline: one line a look; the criteria at the first look, where the verdict or the
# state changes and at the last look; every look's with -v; -o json keeps them all
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv"
looks=$(printf '%s\n' "$out" | grep -c '^t=[0-9.]*s  *analysis at')
crit=$(printf '%s\n' "$out" | grep -c '^         immediate:error-rate ')
ok "$([ "$looks" -gt 20 ] && [ "$crit" -ge 2 ] && [ "$crit" -lt $((looks / 4)) ]; echo $?)" \
  "text: criteria at a few of the $looks looks, not at each (got $crit)"
like "$(printf '%s\n' "$out" | grep -A1 '^t=80s  *analysis at' | tail -1)" '^t=90s  *analysis at' \
  "text: a look with the verdict before it is one line"
like "$(printf '%s\n' "$out" | grep -A1 '^t=70s  *analysis at' | tail -1)" '^         immediate:' \
  "text: the first look has its criteria"
like "$(printf '%s\n' "$out" | grep -A1 '^t=600s  *analysis at' | tail -1)" '^         immediate:' \
  "text: the last look has its criteria"
like "$out" 'criteria shown at the first look.*-v shows them at the other [0-9]+ looks too' "text: says where the rest are"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv" -v
is "$(printf '%s\n' "$out" | grep -c '^         immediate:error-rate ')" "$looks" "-v: the criteria at every look"
unlike "$out" 'criteria shown at' "-v: nothing hidden, nothing to say"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv" -o json
is "$(json_get "$out" 'sum(1 for e in d["timeline"] if e["event"] == "analysis" and e["checks"])')" "$looks" \
  "-o json: every look with its criteria"

# the comparison table's columns are as wide as their cells ("100.0 rps")
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy-6000rpm.csv"
like "$out" 'Throughput +\| 100.0 rps \| 100.0 rps \| \+0.00% +\| OK' "text table: a 100.0 rps cell fits its column"
bars=$(printf '%s\n' "$out" | sed -n '/^last analysis/,$p' | tail -n +2 |
  awk '{ s = ""; for (i = 1; i <= length($0); i++) if (substr($0, i, 1) == "|") s = s " " i; print s }' | sort -u)
is "$(printf '%s\n' "$bars" | wc -l)" 1 "text table: the bars line up on every line ($bars)"

# a person's control that the replay never reaches is named on stderr, not dropped silently
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/healthy.csv" \
  --intent 700:promote --intent 65:pause --intent 66:resume
like "$err" "warning: --intent '700:promote' not applied: 700s is after the trace's last row \(600s\)" \
  "an --intent after the trace's end is warned about"
unlike "$err" "'65:pause'" "  and only that one"
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/errors-6pct.csv" \
  --intent 590:promote
like "$err" "warning: --intent '590:promote' not applied: the replay ended at [0-9]+s \(rolled_back\), before 590s" \
  "an --intent after the replay's decision is warned about"

# an Argo Rollout's indefinite pause (pause: {}): the trace ends there, and the text says why
run_slipway analyze --config "$data/argo-files/rollout-steps.yaml" --trace "$data/traces/healthy-15m.csv"
like "$out" "step 3 \(50%\) waits for a person's promote \(pause: \{\}\): replay one with --intent T_S:promote" \
  "an unfinished replay at a pause: {} says what it waits for"
run_slipway analyze --config "$data/configs/full.yaml" --trace "$data/traces/full-worse.csv" --type emergency
like "$err" "full.yaml: no step puts traffic on the new revision before promotion \(strategy full\), so nothing is judged" \
  "a full strategy without --through-monitoring: nothing judged, said"
# a test with no canary request reads "no data", never "pass" (docs/judge.md)
run_slipway analyze --config "$data/configs/runbook-canary-config.yaml" --trace "$data/traces/errors-1.5pct.csv"
like "$(printf '%s\n' "$out" | grep -A1 '^t=70s  *analysis at' | tail -1)" '^ +immediate:error-rate +no data: e-value 1 of' \
  "a look without canary requests: its tests read no data"
done_testing
