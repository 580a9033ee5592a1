# tests/e2e/lib/prom.sh - a real Prometheus for the e2e tests (Debian's
# prometheus on 127.0.0.1, scrape interval 1 s), sourced after lib/local.sh:
#   need_prometheus                  skip the test when prometheus or wrk is missing
#   start_prometheus PPORT MPORT     scrape HAProxy's exporter on 127.0.0.1:MPORT and
#                                    the service api's instances through the file_sd
#                                    targets slipway writes; serve on PPORT; stopped at
#                                    exit; one "ok" line once it is ready
need_prometheus() {
  PROM=$(command -v prometheus || echo /usr/bin/prometheus)
  [ -x "$PROM" ] || { echo "1..0 # SKIP prometheus is not installed (tools/deps.sh test)"; exit 0; }
  command -v wrk >/dev/null 2>&1 || { echo "1..0 # SKIP wrk is not installed (tools/deps.sh test)"; exit 0; }
}

start_prometheus() {
  local pport=$1 mport=$2 targets
  mkdir -p "$SLIPWAY_STATE_DIR"
  targets="$(cd "$SLIPWAY_STATE_DIR" && pwd -P)/routers/api.production/targets.json"
  cat >"$T/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: haproxy
    static_configs: [{targets: ["127.0.0.1:$mport"]}]
  - job_name: app
    file_sd_configs: [{files: ["$targets"], refresh_interval: 1s}]
YAML
  "$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$pport" \
    --log.level=warn >"$T/prometheus.log" 2>&1 &
  prom_pid=$!
  at_exit stop_prom
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null && break; sleep 0.1; done
  ok "$(curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null; echo $?)" "Prometheus is ready on 127.0.0.1:$pport"
}
stop_prom() { [ -n "${prom_pid:-}" ] && { kill "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; }; prom_pid=""; }
