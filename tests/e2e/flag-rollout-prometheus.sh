# flag-rollout-prometheus.sh - a guarded flag rollout judged on a real
# Prometheus (docs/prometheus.md "Per flag variant"): the demo service
# evaluates its flag over OFREP against `slipway serve` and exports, beside
# its per-version series, flag_requests_total{flag,variant,code} and the
# histogram flag_request_duration_seconds{flag,variant}; Debian's prometheus
# scrapes it through the file_sd targets slipway writes; the service file
# says `provider: prometheus` (the `app` templates, whose cohort templates
# ask for the variant).  A good flag reaches 100%; a flag whose enabled path
# fails 20% of its requests is set back to the segment with the numbers
# Prometheus answered for each cohort.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
. "$SLIPWAY_SRC/tests/e2e/lib/prom.sh"
need_prometheus
# 4x (as prometheus.sh): a judge's look of 30 s is 7.5 s of Prometheus data, scraped every second
SCALE=4

PPORT=$(free_port)
MPORT=$(free_port)   # no HAProxy exporter here: its scrape target is simply down
OPORT=$(free_port)
{ cat "$SLIPWAY_SRC/examples/lab-policy.yaml"
  printf 'types:\n  standard:\n    approvals: []\n    monitoring: 1m\njudge:\n  look: 30s\n'; } >"$T/lab-policy.yaml"
TOKEN=$("$SLIPWAY" token create --user demo-service 2>/dev/null)
ok "$([ -n "$TOKEN" ]; echo $?)" "an API token for the service"
make_project api 1 "provider: prometheus
prometheus:
  address: http://127.0.0.1:$PPORT
  timeout: 2s
  retries: 1
env:
  DEMO_FLAG: \"good-flag\"
  DEMO_OFREP_URL: \"http://127.0.0.1:$OPORT\"
  DEMO_OFREP_TOKEN: \"$TOKEN\""
make_release api v1
start_prometheus "$PPORT" "$MPORT"
run_slipway flag create good-flag
run_slipway flag create bad-flag
run_slipway flag segment canary-users --users user-1,user-2
is "$rc" 0 "segment canary-users"
run_slipway start api v1
is "$rc" 0 "start v1"

"$SLIPWAY" serve --listen "127.0.0.1:$OPORT" >"$T/serve.log" 2>&1 &
SERVE_PID=$!
stop_serve() { kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
at_exit stop_serve
for _ in $(seq 1 100); do grep -q "listens on" "$T/serve.log" && break; sleep 0.1; done
ok "$(grep -q "listens on" "$T/serve.log"; echo $?)" "serve runs (OFREP, the controller)"

load=""
start_load() { wrk -t1 -c4 -d1h "http://127.0.0.1:$PORT/api/x" >"$T/wrk.out" 2>&1 & load=$!; }
stop_load() { [ -n "$load" ] && kill -INT "$load" 2>/dev/null && wait "$load" 2>/dev/null; load=""; }
at_exit stop_load
restart_api() {
  run_slipway down api; run_slipway start api v1
  is "$rc" 0 "api v1 restarted ($1)"
}
q() { curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
      python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
pct() { run_slipway flag get "$1" -o json
        json_get "$out" "[r['rollout']['percentage'] for r in d['definition']['rules'] if r.get('name')=='rollout'][0]"; }
row() { # JSON METRIC: the canary's (the enabled cohort's) value in the last comparison table
  json_get "$1" "[int(r['current']) for r in d['last_analysis']['table'] if r['metric'] == '$2'][0]" 2>/dev/null; }

# ---- what Prometheus holds: the series per variant, with the service's labels from the targets
run_slipway flag set good-flag --percentage 50 --reason "half, to see both variants"
start_load
for v in on off; do
  for _ in $(seq 1 100); do   # the targets file found, the instance scraped: a few seconds
    got=$(q "sum(flag_requests_total{service=\"api\",env=\"production\",flag=\"good-flag\",variant=\"$v\"})")
    [ "$got" != none ] && [ "${got%.*}" -gt 0 ] && break
    sleep 0.3
  done
  ok "$([ "$got" != none ] && [ "${got%.*}" -gt 0 ]; echo $?)" "Prometheus counts the '$v' variant's requests ($got)"
done
run_slipway flag set good-flag --percentage 0 --reason "back to the start"

# ---- a good flag: 50% then 100%, judged on Prometheus's cohorts
run_slipway rollout flag good-flag --service api --steps 50%,100% --interval 1m --time-scale $SCALE --wait -o json
is "$rc" 0 "a good flag's guarded rollout, judged on Prometheus, succeeds"
[ "$rc" = 0 ] || { echo "$err" | tail -20 | sed 's/^/# /'; }
id=$(json_get "$out" 'd["id"]')
is "$(pct good-flag)" 100 "good-flag is at 100%"
run_slipway show "$id" -o json
rps=$(row "$out" Throughput)
ok "$([ "${rps:-0}" -gt 0 ] 2>/dev/null; echo $?)" "the comparison table has the enabled cohort's throughput from Prometheus ($rps req/s)"
stop_load

# ---- a bad flag: its enabled path fails 20% of its requests
echo 20 >"$T/proj/releases/api/v1/flag_error_rate"
sed -i "s/DEMO_FLAG: .*/DEMO_FLAG: \"bad-flag\"/" "$T/proj/services/api.yaml"
restart_api "the demo now guards its path with bad-flag, whose enabled path fails 20%"
start_load
run_slipway rollout flag bad-flag --service api --steps 50%,100% --interval 1m --segment canary-users --time-scale $SCALE --wait -o json
stop_load
is "$rc" 1 "a bad flag's guarded rollout is set back (exit 1)"
id=$(json_get "$out" 'd["id"]')
run_slipway show "$id" -o json
is "$(json_get "$out" 'd["deployment"]["state"]')" rolled_back "recorded as rolled back"
echo "# $(json_get "$out" 'd["deployment"]["reason"]')"
like "$(json_get "$out" 'd["deployment"]["reason"]')" "error" "the reason names the error rate"
cerr=$(row "$out" "Error Rate")
ok "$([ "${cerr:-0}" -ge 10 ] 2>/dev/null; echo $?)" "the comparison table has the enabled cohort's error rate from Prometheus ($cerr%, 20% injected)"
is "$(pct bad-flag)" 0 "bad-flag is set back to 0%"
run_slipway flag eval bad-flag --context '{"targetingKey": "user-1"}' -o json
is "$(json_get "$out" 'd["variant"]')" on "the segment keeps it"
run_slipway audit --verify
is "$rc" 0 "audit --verify holds"
done_testing
