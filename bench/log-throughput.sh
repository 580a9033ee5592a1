#!/usr/bin/env bash
# bench/log-throughput.sh [SECONDS] [CONNECTIONS] - drive HAProxy at its full
# loopback rate with wrk and compare requests served per second with log
# lines the builtin provider aggregated per second (goal: ratio 1.0, zero
# lost, at >= 20,000 requests per second).  Prints numbers, asserts nothing.
. "$(dirname "$0")/lib.sh"
secs=${1:-10}; conns=${2:-64}
command -v wrk >/dev/null || { echo "wrk is not installed (tools/deps.sh test)"; exit 1; }
bench_project 2 v1
"$B" start api v1 >/dev/null || exit 1
"$B" metrics --receive >"$W/receiver.log" 2>&1 &
RECEIVER=$!
for i in $(seq 1 100); do [ -S "$SLIPWAY_STATE_DIR/log.stream" ] && break; sleep 0.05; done
sleep 1.2   # one accounting round, so the baseline is HAProxy's count before the run
before=$("$B" metrics api -o json)
echo "wrk -t2 -c$conns -d${secs}s against HAProxy 127.0.0.1:$PORT -> 2 demo-service instances (machine: $(nproc) cores)"
wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$PORT/api/bench" >"$W/wrk.out" 2>&1
sleep 2    # let the last lines arrive, be flushed (250 ms) and counted (1 s)
after=$("$B" metrics api --window "$((secs + 30))s" -o json)
python3 - "$secs" "$W/wrk.out" "$before" "$after" <<'PY'
import json, re, sys
secs = float(sys.argv[1]); wrk = open(sys.argv[2]).read()
b, a = json.loads(sys.argv[3]), json.loads(sys.argv[4])
m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", wrk)
served = int(m.group(1)); dur = float(m.group(2)) * {"s": 1, "m": 60, "ms": 0.001}[m.group(3)]
errs = re.search(r"Socket errors:.*", wrk); non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
hap = a["log"]["haproxy_requests"] - b["log"]["haproxy_requests"]
rcv = a["log"]["received"] - b["log"]["received"]
lost = a["log"]["lost"] - b["log"]["lost"]
dropped = a["log"]["haproxy_dropped"] - b["log"]["haproxy_dropped"]
print("requests served (wrk):        %d in %.2f s = %.0f per second%s%s" % (served, dur, served / dur,
      "; " + errs.group(0) if errs else "", "; non-2xx %s" % non2xx.group(1) if non2xx else ""))
print("requests HAProxy counted:     %d" % hap)
print("log lines aggregated:         %d = %.0f per second" % (rcv, rcv / dur))
print("ratio lines / HAProxy count:  %.4f   lost: %d   HAProxy DroppedLogs: %d   unparseable: %d" % (
      rcv / hap if hap else 0, lost, dropped, a["log"]["unparseable"]))
PY
