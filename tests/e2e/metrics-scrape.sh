# metrics-scrape.sh - a real Prometheus (Debian's prometheus, tools/deps.sh
# test) scrapes slipway's /metrics on 127.0.0.1 and a series comes back
# through Prometheus's HTTP query API: the format parses, the names and
# labels are what docs/api.md says.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
if ! command -v prometheus >/dev/null || ! command -v sqlite3 >/dev/null || ! command -v curl >/dev/null; then
  echo "1..0 # SKIP prometheus, sqlite3 or curl is not installed (tools/deps.sh test)"; exit 0
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

"$SLIPWAY" token create --user scraper >/dev/null 2>&1    # creates the store
sqlite3 "$T/state/slipway.db" <<'SQL'
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, step, weight,
  requested_by, created_ms, started_ms, state_since_ms, reason) VALUES
 (1, 'web', 'production', 'v2', 2, 'v1', 'standard', 'canary', 'progressing', 2, 10, 'alice',
  1764320400000, 1764320400000, 1764320400000, 'step 2'),
 (2, 'shop', 'production', 'v5', 5, 'v4', 'standard', 'canary', 'succeeded', 4, 100, 'alice',
  1764320400000, 1764320400000, 1764320400000, 'done');
INSERT INTO analysis_results(deployment_id, at_ms, step, weight, verdict, reason, table_json) VALUES
 (1, 1764320460000, 1, 1, 'pass', 'ok', '{}'), (1, 1764320520000, 2, 10, 'pass', 'ok', '{}'),
 (2, 1764320460000, 1, 1, 'inconclusive', 'too few', '{}');
SQL
"$SLIPWAY" api --listen 127.0.0.1:0 2>"$T/api.log" &
API_PID=$!
at_exit "kill $API_PID"
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/api.log" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
ok "$([ -n "$PORT" ]; echo $?)" "slipway api listens"

PP=$(free_port)
cat >"$T/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: slipway
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YAML
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
  --web.listen-address="127.0.0.1:$PP" >"$T/prometheus.log" 2>&1 &
PROM_PID=$!
at_exit "kill $PROM_PID"

# query EXPR: the first result's value, or "" (Prometheus's HTTP API, /api/v1/query)
query() {
  curl -s --get "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "")
except Exception:
    print("")'
}
got=""
for _ in $(seq 1 60); do      # Prometheus starts, scrapes every second: bounded at 30 s
  got=$(query 'slipway_revision_weight_percent{job="slipway",service="web",role="canary"}')
  [ -n "$got" ] && break
  sleep 0.5
done
is "$got" 10 "Prometheus scraped the canary's weight: 10"
is "$(query 'up{job="slipway"}')" 1 "the target is up (the exposition format parsed)"
is "$(query 'slipway_revision_weight_percent{service="web",version="v1",role="stable"}')" 90 "the stable's weight: 90"
is "$(query 'slipway_revision_weight_percent{service="shop",version="v5"}')" 100 "a finished service's revision at 100"
is "$(query 'slipway_deployments{state="progressing"}')" 1 "deployments by state"
is "$(query 'slipway_analysis_verdicts_total{verdict="pass"}')" 2 "analysis verdicts by outcome"
is "$(query 'slipway_notification_queue_depth')" 0 "the notification queue depth"
targets=$(curl -s "http://127.0.0.1:$PP/api/v1/targets")
like "$targets" '"health":"up"' "Prometheus reports the target healthy"
unlike "$targets" '"lastError":"[^"]' "with no scrape error"
done_testing
