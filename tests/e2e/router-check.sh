# router-check.sh - the router's real state is checked every tick, not only
# whether HAProxy's process lives (docs/haproxy.md "Failure paths"): in the
# middle of a canary step, a server's weight changed behind slipway's back
# is set back to the recorded one, a frontend that stopped listening gets
# HAProxy restarted from its mirrored configuration, and a server pointed
# at a wrong port is pointed back at its live instance; each repair is in
# the deployment's record (`slipway show`), and the deployment goes on to
# succeed: the intervals of the repairs are "no data", not the canary's fault.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v hey >/dev/null 2>&1 || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }

DB="$SLIPWAY_STATE_DIR/slipway.db"
sql() { python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
try:
    for r in sqlite3.connect(sys.argv[1], timeout=5).execute(sys.argv[2]).fetchall():
        print(" ".join(str(x) for x in r))
except Exception:
    pass
PY
}
SOCK="$SLIPWAY_STATE_DIR/routers/api.production/admin.sock"
hap() { # hap COMMAND: HAProxy's answer on the admin socket
  python3 - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while True:
    d = s.recv(65536)
    if not d: break
    data += d
print(data.decode(), end="")
PY
}
# "PORT WEIGHT" of server NAME as HAProxy has it now
srv() { hap "show servers state api.production" | awk -v n="$1" '$4==n {print $19, $8}'; }
wait_for() { # wait_for SECONDS 'SHELL CONDITION': until it holds (evaluated anew each time)
  local i
  for i in $(seq 1 $(($1 * 10))); do eval "$2" && return 0; sleep 0.1; done
  return 1
}

# one step of 50% for an hour at x30: two minutes, in which the faults happen.  The stray
# HAProxy's check needs the step still running: a promotion restarts slipway's HAProxy, which
# takes the admin socket back before the check can notice the stray (a 30-minute step ended
# first on a loaded machine)
make_project api 1 "analysis: {steps: [{weight: 50, hold: 60m}]}"
make_release api v1
make_release api v2
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
hey -z 600s -c 4 -q 30 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

"$SLIPWAY" deploy api v2 --time-scale 30 >"$T/deploy.out" 2>&1 &
ctl=$!
stop_ctl() { kill "$ctl" 2>/dev/null; wait "$ctl" 2>/dev/null; }
at_exit stop_ctl
wait_for 30 '[ "$(sql "select state, step from deployments where version='"'v2'"'")" = "progressing 1" ]'
is "$(sql "select state, step from deployments where version='v2'")" "progressing 1" "the canary is at step 1 (50%)"
id=$(sql "select id from deployments where version='v2'")
v2=$(srv v2-0)
is "${v2#* }" "100" "HAProxy has v2-0 at weight 100 (50%)"

# ---- a weight changed behind slipway's back ----
hap "set server api.production/v2-0 weight 3" >/dev/null
wait_for 10 '[ "$(srv v2-0)" = "$v2" ]'
is "$(srv v2-0)" "$v2" "the recorded weight is set again"
like "$(sql "select reason from transitions where deployment_id=$id and reason like 'router:%'")" \
  "router: HAProxy's server v2-0 had weight 3, the record 100: reapplied" "the repair is in the record"

# ---- the frontend stops listening while the process lives ----
pid=$(sql "select pid from routers where service='api'")
hap "shutdown frontend api.production" >/dev/null
wait_for 10 '[ "$(sql "select pid from routers where service='"'api'"'")" != "$pid" ]'
new=$(sql "select pid from routers where service='api'")
ok "$([ -n "$new" ] && [ "$new" != "$pid" ]; echo $?)" "HAProxy was restarted (pid $pid -> $new)"
like "$(sql "select reason from transitions where deployment_id=$id and reason like 'router:%'")" \
  "router: HAProxy \(pid $pid\) did not listen on 127.0.0.1:$PORT; restarted it" "the repair is in the record"
got=$(count_versions 40 "http://127.0.0.1:$PORT/api/x")
like "$got" 'v1 [0-9]+' "it serves v1"
like "$got" 'v2 [0-9]+' "and v2"
unlike "$got" 'ERROR|FAIL' "without errors"

# ---- a server pointed at another port ----
port=$(sql "select port from instances where version='v2' and state='running'")
hap "set server api.production/v2-0 addr 127.0.0.1 port 9" >/dev/null
wait_for 10 '[ "$(srv v2-0 | cut -d" " -f1)" = "$port" ]'
is "$(srv v2-0 | cut -d' ' -f1)" "$port" "v2-0 points at its live instance's port again"
like "$(sql "select reason from transitions where deployment_id=$id and reason like 'router:%'")" \
  "router: HAProxy's server v2-0 pointed at 127.0.0.1:9, its instance listens on 127.0.0.1:$port: corrected" \
  "the repair is in the record"

# ---- another HAProxy started by hand on slipway's configuration: it takes the admin socket and
# shares the frontend's port (SO_REUSEPORT) ----
pid=$(sql "select pid from routers where service='api'")
is "$(sql "select state, step from deployments where version='v2'")" "progressing 1" "the canary step still runs"
HAPROXY_BIN=$(command -v haproxy || echo /usr/sbin/haproxy)
"$HAPROXY_BIN" -D -p "$T/stray.pid" -f "$SLIPWAY_STATE_DIR/routers/api.production/haproxy.cfg" >"$T/stray.log" 2>&1
stray=$(head -1 "$T/stray.pid" 2>/dev/null)
stop_stray() { [ -n "$stray" ] && kill "$stray" 2>/dev/null; stray=""; }
at_exit stop_stray
ok "$([ -n "$stray" ]; echo $?)" "a stray HAProxy runs slipway's configuration (pid $stray)"
wait_for 10 '[ "$(sql "select pid from routers where service='"'api'"'")" != "$pid" ]'
like "$(sql "select reason from transitions where deployment_id=$id and reason like 'router:%'")" \
  "router: the admin socket answered for HAProxy pid $stray, not slipway's \(pid $pid\); restarted" \
  "the admin socket taken by another HAProxy is noticed, and slipway's restarted"
wait_for 10 '[ -n "$(sql "select reason from transitions where deployment_id=$id and reason like '"'%another process (pid $stray%'"'")" ]'
like "$(sql "select reason from transitions where deployment_id=$id and reason like 'router:%'")" \
  "another process \(pid $stray, haproxy\) also listens on 127.0.0.1:$PORT and takes part of the traffic; stop it" \
  "the other listener on the port is reported with its pid"
sleep 1
n=$(sql "select count(*) from transitions where deployment_id=$id and reason like '%another process (pid $stray%'")
ok "$([ "$n" -ge 1 ] && [ "$n" -le 2 ]; echo $?)" "noted while it lasts, not at every tick ($n lines)"
[ "$n" -ge 1 ] && [ "$n" -le 2 ] ||
  sql "select reason from transitions where deployment_id=$id and reason like 'router:%'" | sed "s/^/#   /"
stop_stray

run_slipway show "$id"
like "$out" "router: HAProxy's server v2-0 had weight 3" "slipway show lists the repairs"

for i in $(seq 1 4500); do kill -0 "$ctl" 2>/dev/null || break; sleep 0.1; done
wait "$ctl"; rc=$?
out=$(cat "$T/deploy.out")
is "$rc" 0 "the deployment succeeds: the router's faults were not blamed on the canary"
[ "$rc" = 0 ] || tail -15 "$T/deploy.out" | sed 's/^/# /'
unlike "$out" 'canary 0 requests' "no interval judged the canary on the router's faults"
like "$(sql "select verdict, reason from analysis_results where deployment_id=$id and step=1")" \
  'inconclusive no metrics: no data: the router was down or not as recorded' "the intervals of the repairs were not judged"
is "$(sql "select count(*) from analysis_results where deployment_id=$id and step=1 and verdict='fail'")" "0" \
  "no interval at 50% failed"
done_testing
