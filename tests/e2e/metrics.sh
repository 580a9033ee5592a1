# metrics.sh - the builtin provider counts exactly the requests sent, per
# revision, with their 5xx, from HAProxy's per-request log; lines that never
# arrived are reported as lost, not silently dropped (docs/haproxy.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 1
make_release api v1 0 20      # 20 ms added latency
make_release api v2 10        # 10% of API requests answered 500, exactly
run_slipway start api v1
is "$rc" 0 "start v1"
run_slipway start api v2 --weight 0
start_receiver
ok $? "the receiver binds the log socket"
is "$(stat -c %a "$SLIPWAY_STATE_DIR/log.stream")" 600 "the log socket is mode 0600"

run_slipway weight api v1=50 v2=50
got=$(count_versions 400 "http://127.0.0.1:$PORT/api/x")
echo "# sent: $(echo $got)"
is "$got" "ERROR500 20
v1 200
v2 180" "the client saw 200 on v1 and 180 + 20 injected 500s on v2"
sleep 1.6    # one flush (250 ms) and one accounting round (1 s)

# a window wider than the test: on a loaded machine sending the 400 requests can take a minute
run_slipway metrics api --window 10m -o json
is "$rc" 0 "metrics -o json"
m=$out
is "$(json_get "$m" '[r["requests"] for r in d["revisions"] if r["version"]=="v1"][0]')" 200 "v1: 200 requests counted"
is "$(json_get "$m" '[r["errors"] for r in d["revisions"] if r["version"]=="v1"][0]')" 0 "v1: no errors"
is "$(json_get "$m" '[r["requests"] for r in d["revisions"] if r["version"]=="v2"][0]')" 200 "v2: 200 requests counted"
is "$(json_get "$m" '[r["errors"] for r in d["revisions"] if r["version"]=="v2"][0]')" 20 "v2: 20 errors (5xx) counted"
p50=$(json_get "$m" '[r["p50_ms"] for r in d["revisions"] if r["version"]=="v1"][0]')
ok "$(python3 -c "import sys; sys.exit(0 if 20 <= $p50 <= 40 else 1)"; echo $?)" "v1 p50 reflects the added 20 ms ($p50 ms)"
is "$(json_get "$m" 'd["log"]["received"]')" 400 "400 log lines received"
is "$(json_get "$m" 'd["log"]["haproxy_requests"]')" 400 "HAProxy counted 400 requests"
is "$(json_get "$m" 'd["log"]["lost"]')" 0 "none lost"
is "$(json_get "$m" 'd["log"]["unparseable"]')" 0 "none unparseable"
is "$(json_get "$m" 'd["receiver"]["running"]')" true "the receiver is reported running"

run_slipway metrics api --window 10m
like "$out" 'v2 +50\.0% +200 .* 20 +10\.00%' "text output: v2 with its weight, requests, errors and error rate"
like "$out" '400 received, 0 unparseable' "text output: the log accounting"

# lines sent while no receiver listens wait in HAProxy's ring and arrive later
stop_receiver
count_versions 30 "http://127.0.0.1:$PORT/api/x" >/dev/null
start_receiver
count_versions 10 "http://127.0.0.1:$PORT/api/x" >/dev/null
sleep 1.6
run_slipway metrics api -o json
is "$(json_get "$out" 'd["log"]["received"]')" 440 "the 30 lines sent while no receiver listened arrive once it is back"
is "$(json_get "$out" 'd["log"]["lost"]')" 0 "none lost"

# a ring too small to hold them: the overflow is reported as lost, not hidden.
# While no receiver runs, lines wait in the ring and also in the log relay's
# buffer and its socket's (a few hundred KiB; docs/haproxy.md), so it takes
# thousands of requests to overflow a 16 KiB ring
N=800
command -v hey >/dev/null 2>&1 && N=12000
stop_receiver
run_slipway down api
SLIPWAY_LOG_RING_BYTES=16384 "$SLIPWAY" start api v2 >/dev/null
if [ "$N" = 800 ]; then count_versions 800 "http://127.0.0.1:$PORT/api/x" >/dev/null
else hey -n "$N" -c 8 "http://127.0.0.1:$PORT/api/x" >/dev/null 2>&1; fi
start_receiver
sleep 1.6
run_slipway metrics api -o json
rcv=$(json_get "$out" 'd["log"]["received"]'); hap=$(json_get "$out" 'd["log"]["haproxy_requests"]')
lost=$(json_get "$out" 'd["log"]["lost"]')
echo "# 16 KiB ring: received $rcv, HAProxy counted $hap, lost $lost"
# (at least N: on a machine shared with other tests a stray request may reach the port too)
ok "$([ "$hap" -ge "$N" ]; echo $?)" "HAProxy counted the $N requests ($hap)"
ok "$([ "$lost" -gt 0 ] && [ $((rcv + lost)) = "$hap" ]; echo $?)" "lines that overflowed the ring are reported lost (received + lost = $hap)"
run_slipway metrics api
like "$out" "HAProxy counted $hap requests: $lost lost" "text output names the lost lines"

# garbage on the log socket is counted as unparseable, not dropped
python3 - "$SLIPWAY_STATE_DIR/log.stream" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"slipway2 1795950611.123 5 api.production v1-0 2OO 1 1 GET\nslipway2 truncated\n" + b"x" * 5000 + b"\n")
s.close()
PY
sleep 0.6
run_slipway metrics api -o json
is "$(json_get "$out" 'd["log"]["unparseable"]')" 3 "3 malformed lines counted unparseable"

stop_receiver
is "$RECEIVER_RC" 0 "the receiver exits 0 on SIGTERM"
run_slipway metrics api
like "$out" 'receiver NOT running' "metrics says when no receiver runs"
run_slipway metrics api --window 0s
is "$rc" 2 "a window shorter than a bucket is refused"
done_testing
