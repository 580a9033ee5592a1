# prometheus-deploy.sh - `slipway deploy` runs a rollout file's own queries
# against a real Prometheus (docs/argo.md "How a deployment runs them"):
# Debian's prometheus on 127.0.0.1 (scrape interval 1 s) scrapes HAProxy's
# exporter and every instance of the demo service through slipway's file_sd
# targets, as in prometheus.sh.  The rollout files are examples/deploy/,
# loaded unchanged (the service file's prometheus.address replaces the
# cluster addresses written in the templates):
#   flagger/  a Canary with two templateRef metrics (MetricTemplates);
#   argo/     a Rollout with an analysis step and a background analysis.
# For each: v2 (healthy) promoted, v3 (20% of requests answered 500) rolled
# back, the queries' values in the comparison table.  Then the analysis
# alone decides (tests/data/prometheus-deploy/, healthy releases): a Failed
# run rolls back, an Inconclusive one pauses, and a Prometheus that does not
# answer is an Error run that rolls back: never a promotion.  The judge's own
# numbers come from HAProxy's log (the builtin provider), so the deployments
# can run at --time-scale 10; the templates' windows are wall time.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
. "$SLIPWAY_SRC/tests/e2e/lib/prom.sh"
need_prometheus

PPORT=$(free_port)
MPORT=$(free_port)
{ cat "$SLIPWAY_SRC/examples/lab-policy.yaml"
  printf 'types:\n  standard:\n    approvals: []\n    monitoring: 1m\n'; } >"$T/lab-policy.yaml"
make_project api 2 "prometheus:
  address: http://127.0.0.1:$PPORT
  timeout: 2s
  retries: 1
analysis: {canary: flagger/canary.yaml}"
sed -i "s#instances: 2}#instances: 2, router: {metrics: \"127.0.0.1:$MPORT\"}}#" "$T/proj/services/api.yaml"
# the examples, unchanged, beside the service file
cp -r "$SLIPWAY_SRC/examples/deploy/flagger" "$SLIPWAY_SRC/examples/deploy/argo" "$T/proj/services/"
for v in v1 v2 v4 v6 v7 v8; do make_release api $v; done
make_release api v3 20
make_release api v5 20
start_prometheus "$PPORT" "$MPORT"

load=""
stop_load() { [ -n "$load" ] && kill -INT "$load" 2>/dev/null && wait "$load" 2>/dev/null; load=""; }
at_exit stop_load
url="http://127.0.0.1:$PORT/api/x"

run_slipway deploy api v1 --type standard --time-scale 10
is "$rc" 0 "v1, the first release, deployed"
[ "$rc" = 0 ] || echo "$err" | tail -20 | sed 's/^/# /'
wrk -t1 -c8 -d1h "$url" >"$T/wrk.out" 2>&1 &
load=$!
# a few scrapes of v1's traffic before the first canary
for _ in $(seq 1 50); do
  n=$(curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode 'query=sum(rate(http_requests_total{service="api"}[10s]))' |
      python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "0")')
  [ "${n%.*}" -gt 0 ] 2>/dev/null && break
  sleep 0.2
done
ok "$([ "${n%.*}" -gt 0 ] 2>/dev/null; echo $?)" "Prometheus has v1's traffic from slipway's targets ($n req/s)"

# queries JSON NAME: the rows of the last analysis's queries named NAME ("metric"), as "value outcome phase"
queries() { json_get "$1" "' | '.join('%s %s %s' % (r['value'], r['outcome'], r['phase']) for r in d['last_analysis']['analysis'].get('queries', []) if r['metric'] == '$2')" 2>/dev/null; }
state() { json_get "$1" 'd["deployment"]["state"]'; }
reason() { json_get "$1" 'd["deployment"]["reason"]'; }

# ---- Flagger: a Canary whose metrics are MetricTemplates ----
run_slipway deploy api v2 --type standard --time-scale 10
is "$rc" 0 "Flagger Canary, v2 (healthy): promoted"
[ "$rc" = 0 ] || echo "$err" | tail -20 | sed 's/^/# /'
like "$err" "analysis queries: 2 from .*flagger/canary.yaml" "deploy runs the Canary's two MetricTemplate queries"
run_slipway show 2 -o json
is "$(state "$out")" succeeded "v2 succeeded"
got=$(queries "$out" error-percent)
like "$got" '^[0-9.e-]+ pass pass' "the comparison table has error-percent's value from Prometheus, a pass ($got)"
like "$(queries "$out" '404s percentage')" '^[0-9.e-]+ pass' "and the documentation's 404s percentage"
run_slipway show 2
like "$out" 'error-percent' "slipway show prints the queries with the comparison table"
like "$out" 'thresholdRange min - max 1' "with the condition"
echo "$out" | grep -A3 'Query (analysis' | sed 's/^/# /'

run_slipway deploy api v3 --type standard --time-scale 10
is "$rc" 1 "Flagger Canary, v3 (20% errors): rolled back (exit 1)"
[ "$rc" = 1 ] || echo "$err" | tail -20 | sed 's/^/# /'
run_slipway show 3 -o json
is "$(state "$out")" rolled_back "v3 rolled back"
got=$(queries "$out" error-percent)
like "$got" '^[0-9.e-]+ ' "v3's comparison table has error-percent's value from Prometheus ($got)"
echo "# v3: $(reason "$out")"

# ---- Argo: a Rollout with an analysis step and a background analysis ----
sed -i 's#analysis: {canary: flagger/canary.yaml}#analysis: {canary: argo/rollout.yaml}#' "$T/proj/services/api.yaml"
run_slipway deploy api v4 --type standard --time-scale 10
is "$rc" 0 "Argo Rollout, v4 (healthy): promoted"
[ "$rc" = 0 ] || echo "$err" | tail -20 | sed 's/^/# /'
like "$err" "analysis queries: 2 from .*argo/rollout.yaml" "deploy runs the Rollout's analysis step and background analysis"
run_slipway show 4 -o json
is "$(state "$out")" succeeded "v4 succeeded"
got=$(queries "$out" canary-success-rate)
like "$got" '^[0-9.e-]+ Successful Successful' "the analysis step's run ended Successful, its value from Prometheus in the table ($got)"
like "$(json_get "$out" "[r['query'] for r in d['last_analysis']['analysis']['queries'] if r['metric'] == 'canary-success-rate'][0]")" \
  'version="v4"' "the query asked for the canary's version (podTemplateHashValue: Latest)"
like "$(queries "$out" success-rate)" '^[0-9.e-]+ ' "the background analysis (the documentation's template) measured too"
like "$(json_get "$out" '" ".join(t["reason"] for t in d["transitions"])')" 'analysis passed|promot' "the steps moved on"

run_slipway deploy api v5 --type standard --time-scale 10
is "$rc" 1 "Argo Rollout, v5 (20% errors): rolled back (exit 1)"
[ "$rc" = 1 ] || echo "$err" | tail -20 | sed 's/^/# /'
run_slipway show 5 -o json
is "$(state "$out")" rolled_back "v5 rolled back"
got=$(queries "$out" canary-success-rate)
like "$got" '^([0-9.e-]+|NaN|no data) ' "v5's comparison table has the analysis's measurement, whatever it was ($got)"
echo "# v5: $(reason "$out")"
run_slipway show 5
like "$out" 'canary-success-rate' "slipway show prints the Argo queries"

# ---- the analysis alone decides ----
DATA="$SLIPWAY_SRC/tests/data/prometheus-deploy"
sed -i "s#analysis: {canary: [^}]*}#analysis: {canary: $DATA/strict.yaml}#" "$T/proj/services/api.yaml"
run_slipway deploy api v6 --type standard --time-scale 10
is "$rc" 1 "a Failed analysis run rolls a healthy release back (exit 1)"
run_slipway show 6 -o json
like "$(reason "$out")" "analysis 'impossible' Failed: metric 'above-one': successCondition is false \\(value [0-9]" \
  "the reason names the analysis, the metric and Prometheus's value"
like "$(queries "$out" above-one)" '^[0-9]+ Failed Failed' "the verdict's analysis result holds the value ($(queries "$out" above-one))"

sed -i "s#analysis: {canary: [^}]*}#analysis: {canary: $DATA/undecided.yaml}#" "$T/proj/services/api.yaml"
run_slipway deploy api v7 --type standard --time-scale 10
is "$rc" 4 "an Inconclusive analysis run pauses for a person (exit 4)"
run_slipway show 7 -o json
is "$(state "$out")" paused "v7 is paused"
like "$(reason "$out")" "analysis 'neither' Inconclusive: metric 'instances-up'.*promote skips it" "saying what a person may do"
"$SLIPWAY" abort 7 >/dev/null 2>&1
run_slipway deploy api v7 --type standard --time-scale 10
is "$(state "$("$SLIPWAY" show 7 -o json)")" rolled_back "aborted by a person: rolled back"

# Prometheus does not answer: Error measurements, an Error run, a rollback; never a promotion
dead=$(free_port)
sed -i "s#analysis: {canary: [^}]*}#analysis: {canary: $DATA/strict.yaml}#; s#address: http://127.0.0.1:$PPORT#address: http://127.0.0.1:$dead#" \
  "$T/proj/services/api.yaml"
run_slipway deploy api v8 --type standard --time-scale 10
is "$rc" 1 "a Prometheus that does not answer never promotes: rolled back (exit 1)"
run_slipway show 8 -o json
like "$(reason "$out")" "analysis 'impossible' Error .*provider error" "the reason says Error and the provider's fault"
like "$(queries "$out" above-one)" '^- Error Error' "the table shows no value and the Error ($(queries "$out" above-one))"
stop_load
done_testing
