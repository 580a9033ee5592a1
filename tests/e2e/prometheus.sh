# prometheus.sh - analysis from a real Prometheus only (docs/prometheus.md):
# Debian's prometheus on 127.0.0.1 (scrape interval 1 s) scrapes HAProxy's
# own exporter (enabled by `router: {metrics: ...}` in the service file) and
# every instance of the demo service through the file_sd targets slipway
# writes; the service file says `provider: prometheus` with the `haproxy`
# templates (requests and 5xx from HAProxy, latency from the demo service's
# histogram).  v1 first, v2 (healthy) promoted, v3 (20% errors) rolled back,
# each with the numbers Prometheus answered in the comparison table.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
. "$SLIPWAY_SRC/tests/e2e/lib/prom.sh"
need_prometheus

PPORT=$(free_port)
MPORT=$(free_port)
# the policy: no approvals, a minute of monitoring, the sequential judge looking every 30 s
# (of the scaled clock: 7.5 s of Prometheus data per look at --time-scale 4)
{ cat "$SLIPWAY_SRC/examples/lab-policy.yaml"
  printf 'types:\n  standard:\n    approvals: []\n    monitoring: 1m\njudge:\n  look: 30s\n'; } >"$T/lab-policy.yaml"
make_project api 2 "provider: prometheus
prometheus:
  address: http://127.0.0.1:$PPORT
  templates: haproxy
  timeout: 2s
  retries: 1
analysis: {steps: [{weight: 50, hold: 2m}]}"
# HAProxy's exporter on MPORT
sed -i "s#instances: 2}#instances: 2, router: {metrics: \"127.0.0.1:$MPORT\"}}#" "$T/proj/services/api.yaml"
make_release api v1
make_release api v2
make_release api v3 20
start_prometheus "$PPORT" "$MPORT"

load=""
stop_load() { [ -n "$load" ] && kill -INT "$load" 2>/dev/null && wait "$load" 2>/dev/null; load=""; }
at_exit stop_load
url="http://127.0.0.1:$PORT/api/x"

run_slipway deploy api v1 --type standard --time-scale 4
is "$rc" 0 "v1, the first release, deployed"
[ "$rc" = 0 ] || { echo "$err" | tail -20 | sed 's/^/# /'; tail -5 "$T/prometheus.log" | sed 's/^/# prom: /'; }
like "$err$out" 'provider prometheus' "deploy composes the prometheus provider"
wrk -t1 -c8 -d1h "$url" >"$T/wrk.out" 2>&1 &
load=$!

# what Prometheus scrapes: HAProxy's per-server counters and the demo's histogram per version
sleep 3
q() { curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
      python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
got=$(q 'sum(haproxy_server_http_responses_total{proxy="api.production",server=~"v1-[0-9]+"})')
ok "$([ "$got" != none ] && [ "${got%.*}" -gt 0 ]; echo $?)" "HAProxy's exporter counts v1's responses per server ($got)"
got=$(q 'sum(http_request_duration_seconds_count{service="api",env="production",version="v1"})')
ok "$([ "$got" != none ] && [ "${got%.*}" -gt 0 ]; echo $?)" "the demo service's histogram of v1, found through slipway's targets ($got)"

run_slipway deploy api v2 --type standard --time-scale 4
is "$rc" 0 "v2 (healthy): promoted on Prometheus's numbers"
[ "$rc" = 0 ] || echo "$err" | tail -20 | sed 's/^/# /'
row() { # JSON METRIC: the current (canary) value of that row of the last comparison table
  json_get "$1" "[int(r['current']) for r in d['last_analysis']['table'] if r['metric'] == '$2'][0]" 2>/dev/null; }
run_slipway show 2 -o json
is "$(json_get "$out" 'd["deployment"]["state"]')" succeeded "v2 succeeded"
rps=$(row "$out" Throughput)
ok "$([ "${rps:-0}" -gt 0 ] 2>/dev/null; echo $?)" "v2's comparison table has the canary's throughput from Prometheus ($rps req/s)"
run_slipway show 2
like "$out" 'p99' "slipway show prints the comparison table"
echo "$out" | grep -iE 'requests|error|p99' | head -6 | sed 's/^/# /'

run_slipway deploy api v3 --type standard --time-scale 4
is "$rc" 1 "v3 (20% errors): rolled back on Prometheus's numbers (exit 1)"
[ "$rc" = 1 ] || echo "$err" | tail -20 | sed 's/^/# /'
run_slipway show 3 -o json
is "$(json_get "$out" 'd["deployment"]["state"]')" rolled_back "v3 rolled back"
like "$(json_get "$out" 'd["deployment"]["reason"]')" 'error rate' "v3's reason: the error rate"
cerr=$(row "$out" "Error Rate")
ok "$([ "${cerr:-0}" -ge 10 ] 2>/dev/null; echo $?)" "v3's comparison table has the canary's error rate from Prometheus ($cerr%, 20% injected)"
echo "# v3: $(json_get "$out" 'd["deployment"]["reason"]')"
stop_load
done_testing
