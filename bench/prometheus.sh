#!/usr/bin/env bash
# bench/prometheus.sh [N] - a rollout file's analysis queries against a real
# Prometheus (Debian's prometheus on 127.0.0.1, scraping itself every second):
# the time from a measurement's due moment to its verdict, and the queries per
# analysis run, for one deployment alone (the reference) and for N concurrent
# ones (default 100) driven by one controller, in the same run.  Prints the
# numbers and their ratios to the reference; asserts nothing.  On demand only
# (not in .ci/run).  docs/prometheus.md, "Cost at many deployments".
. "$(dirname "$0")/lib.sh"
N=${1:-100}
PROM=$(command -v prometheus || echo /usr/bin/prometheus)
[ -x "$PROM" ] || { echo "prometheus is not installed (tools/deps.sh test)"; exit 1; }
work=$(mktemp -d)
trap 'kill "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; rm -rf "$work"; bench_cleanup' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ["127.0.0.1:$port"]}]
YAML
"$PROM" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" --web.listen-address="127.0.0.1:$port" \
  --log.level=warn >"$work/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.1; done
sleep 3	# a few scrapes, so that rate() has two samples
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); prometheus $("$PROM" --version 2>&1 | head -1 | awk '{print $3}')"
run() { mkdir -p "$work/state$1"; "$build/bench/bench_prometheus" "$work/state$1" "$(dirname "$0")/prometheus" "http://127.0.0.1:$port" "$1"; }
ref=$(run 1)
echo "reference (1 deployment):  $ref"
big=$(run "$N")
echo "$N deployments:            $big"
python3 - "$ref" "$big" <<'PY'
import sys
p = lambda s: dict(kv.split("=") for kv in s.split())
r, b = p(sys.argv[1]), p(sys.argv[2])
for k in ("queries_per_analysis", "latency_p50_ms", "latency_p99_ms", "latency_max_ms"):
    x, y = float(r[k]), float(b[k])
    print("%-22s %8.2f -> %8.2f  ratio %s" % (k, x, y, "%.2f" % (y / x) if x else "n/a (reference 0)"))
PY
