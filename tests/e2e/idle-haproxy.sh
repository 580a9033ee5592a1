# idle-haproxy.sh - a managed HAProxy with no log receiver running (between
# deployments) stays idle: HAProxy 2.6 reconnects a ring's server at once
# when the connection fails, so a ring pointing straight at the missing
# receiver spun a core; slipway's configuration forwards through a relay that
# waits for the receiver (a Lua action; docs/haproxy.md "Failure paths").  The lines sent
# meanwhile still arrive once a receiver runs (tests/e2e/metrics.sh).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 1
make_release api v1
run_slipway start api v1
is "$rc" 0 "start v1 (no receiver runs)"
[ ! -S "$SLIPWAY_STATE_DIR/log.stream" ]
ok $? "no log receiver listens"
run_slipway instances api -o json
pid=$(json_get "$out" 'd["haproxy_pid"]')
ok "$([ "${pid:-0}" -gt 0 ]; echo $?)" "HAProxy runs (pid $pid)"
count_versions 20 "http://127.0.0.1:$PORT/api/x" >/dev/null   # some lines wait in its ring

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }   # utime + stime
hz=$(getconf CLK_TCK)
sleep 1
a=$(cpu_ticks "$pid"); sleep 3; b=$(cpu_ticks "$pid")
used=$((b - a))
# 3 s of wall time: a busy loop uses ~3 s of CPU (300 ticks at 100 Hz); the
# bound, 20% of one core, leaves room for a loaded machine's accounting noise
limit=$((hz * 3 / 5))
ok "$([ "$used" -lt "$limit" ]; echo $?)" "idle HAProxy used $used ticks of CPU in 3 s (limit $limit, $hz per second)"

# and a receiver started later gets the lines that waited
start_receiver
count_versions 5 "http://127.0.0.1:$PORT/api/x" >/dev/null
got=0
for i in $(seq 1 50); do
  run_slipway metrics api -o json
  got=$(json_get "$out" 'd["log"]["received"]' 2>/dev/null || echo 0)
  [ "$got" = 25 ] && break; sleep 0.2
done
is "$got" 25 "the 20 lines kept while no receiver ran arrive with the 5 after"
stop_receiver
is "$RECEIVER_RC" 0 "the receiver exits cleanly"
done_testing
