# failpaths.sh - releases that misbehave (docs/engine.md "Failure paths"):
# a command with an unknown placeholder and a listen port taken are refused
# before anything is recorded; a release that exits at once is retried with
# backoff, then rolled back with its log's last lines while the stable
# revision keeps all the traffic; abort works while the start keeps failing;
# a canary instance killed is restarted (HAProxy's server follows its new
# port), and killed again and again it rolls the deployment back with that
# reason, leaving no router server behind.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v hey >/dev/null 2>&1 || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }

DB="$SLIPWAY_STATE_DIR/slipway.db"
sql() { # sql QUERY -> rows, fields separated by spaces ("" when the store does not exist yet)
  python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
try:
    for r in sqlite3.connect(sys.argv[1], timeout=5).execute(sys.argv[2]).fetchall():
        print(" ".join(str(x) for x in r))
except Exception:
    pass
PY
}
# every release runs start.sh in its directory: a good one execs the demo
# service, a bad one fails the way real releases do
service_yaml() { # NAME PORT [COMMAND]
  local cmd='["sh", "start.sh", "{port}", "{version}", "{instance}"]'
  [ $# -ge 3 ] && cmd=$3
  mkdir -p "$T/proj/services" "$T/proj/releases/$1"
  cat >"$T/proj/services/$1.yaml" <<YAML
command: $cmd
readiness: {path: /health, timeout: 1s, deadline: 10s}
stop: {grace: 2s, drain: 200ms}
analysis: {steps: [{weight: 50, hold: 10m}]}
environments:
  production: {listen: "127.0.0.1:$2", instances: 1}
YAML
  _services+=("$1")
}
good_release() { # SERVICE VERSION
  make_release "$1" "$2"
  printf 'exec "%s" --port "$1" --version "$2" --instance "$3"\n' "$DEMO" >"$T/proj/releases/$1/$2/start.sh"
}
bad_release() { # SERVICE VERSION
  make_release "$1" "$2"
  printf 'echo "fatal: cannot read config.ini" >&2\nexit 3\n' >"$T/proj/releases/$1/$2/start.sh"
}

# ---- refused before anything is recorded ----
service_yaml typo "$(free_port)" '["sh", "start.sh", "{prot}"]'
good_release typo v1
run_slipway deploy typo v1
is "$rc" 2 "a command with an unknown placeholder: bad input (exit 2)"
like "$err" "unknown placeholder '\{prot\}' \(valid: \{port\}" "the error names the placeholder and the valid ones"
# refused while the service file is read: before the store is even opened, or with nothing in it
n=$(sql "select count(*) from deployments where service='typo'")
is "${n:-0}" "0" "nothing was recorded for it"

busy_port=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(600)' "$busy_port" &
squatter=$!
stop_squatter() { kill "$squatter" 2>/dev/null; wait "$squatter" 2>/dev/null; }
at_exit stop_squatter
for i in $(seq 1 50); do python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$busy_port" 2>/dev/null && break; sleep 0.1; done
service_yaml busy "$busy_port"
good_release busy v1
run_slipway deploy busy v1
is "$rc" 2 "a listen address another process holds: bad input (exit 2)"
like "$err" "listens on 127.0.0.1:$busy_port, which is taken by another process" "the error names the address and why"
is "$(sql "select count(*) from deployments where service='busy'")" "0" "nothing was recorded for it"
stop_squatter

# ---- a release that exits at once ----
PORT=$(free_port)
service_yaml api "$PORT"
good_release api v1
bad_release api v2
good_release api v3
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
hey -z 600s -c 2 -q 20 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

# progress deadline 10m and intervals of 1m at x60: 10 s and 1 s.  The bound
# of 240 s only stops a hang; a correct run takes about 15 s.
timeout 240 "$SLIPWAY" deploy api v2 --time-scale 60 >"$T/deploy2.out" 2>&1
rc=$?
out=$(cat "$T/deploy2.out")
is "$rc" 1 "the deployment of a release that never starts ends: rolled back (exit 1)"
[ "$rc" = 1 ] || tail -20 "$T/deploy2.out" | sed 's/^/# /'
like "$out" 'rolling_back .*not ready after 600s \[scaled 60x: 10s wall\] \(progressDeadlineSeconds\)' "the reason is the progress deadline"
like "$out" 'rolling_back .*fatal: cannot read config.ini' "and quotes the instance's last log line"
like "$out" '\[rollback-initiated\] ROLLBACK INITIATED api v2 -> v1' "a notification goes out"
like "$(cat "$SLIPWAY_STATE_DIR/notifications.log" 2>/dev/null)" 'ROLLBACK' "and is delivered before deploy exits (the default file sink)"
is "$(sql "select state from deployments where service='api' and version='v2'")" "rolled_back" "the record says rolled_back"
starts=$(sql "select count(*) from instances where service='api' and version='v2'")
ok "$([ "$starts" -ge 1 ] && [ "$starts" -le 8 ]; echo $?)" "starts are backed off: $starts attempts in the deadline, not a few per second"
got=$(count_versions 20 "http://127.0.0.1:$PORT/api/x")
is "$got" "v1 20" "the stable revision kept all the traffic"

# ---- a first release that never starts: nothing to return to, and the message says so ----
service_yaml fresh "$(free_port)"
bad_release fresh v1
timeout 240 "$SLIPWAY" deploy fresh v1 --time-scale 60 >"$T/fresh.out" 2>&1
rc=$?
out=$(cat "$T/fresh.out")
is "$rc" 1 "a first release that never starts is rolled back (exit 1)"
like "$out" 'ROLLBACK INITIATED fresh v1 \(the first release: nothing ran before it, so nothing serves after it\)' "the message says there is nothing to return to"
unlike "$out" '\(previous\)' "and names no revision that does not exist"
like "$out" 'rolled_back .*stopped \(a first release: no earlier revision to roll back to\)' "the record says it was stopped"

# ---- abort while the start keeps failing (no time scale: the deadline is 10 minutes away) ----
"$SLIPWAY" deploy api v2 >"$T/deploy2b.out" 2>&1 &
ctl=$!
for i in $(seq 1 300); do
  id=$(sql "select id from deployments where version='v2' and state='progressing'")
  [ -n "$id" ] && break; sleep 0.1
done
ok "$([ -n "$id" ]; echo $?)" "the second try of v2 is progressing (#$id)"
sleep 2    # at least one failed start and one backoff
run_slipway abort "$id"
is "$rc" 0 "abort is accepted"
for i in $(seq 1 600); do kill -0 "$ctl" 2>/dev/null || break; sleep 0.1; done
ok "$(kill -0 "$ctl" 2>/dev/null; [ $? != 0 ]; echo $?)" "the controller applies the abort and exits"
kill "$ctl" 2>/dev/null; wait "$ctl" 2>/dev/null
is "$(sql "select state from deployments where id=$id")" "rolled_back" "the aborted deployment is rolled back"
is "$(sql "select count(*) from intents where deployment_id=$id and applied_ms is not null")" "1" "its abort intent was applied"

# ---- a canary killed: restarted on a new port that HAProxy follows; killed three times: rolled back ----
"$SLIPWAY" deploy api v3 --time-scale 20 >"$T/deploy3.out" 2>&1 &
ctl=$!
canary() { sql "select pid, port from instances where version='v3' and state='running'"; }
last=""
for kill_no in 1 2 3; do
  cur=""
  for i in $(seq 1 600); do
    cur=$(canary)
    [ -n "$cur" ] && [ "$cur" != "$last" ] && [ "$(sql "select step from deployments where version='v3'")" = 1 ] && break
    cur=""; sleep 0.1
  done
  ok "$([ -n "$cur" ]; echo $?)" "the canary runs at step 1 (kill $kill_no: pid/port $cur)"
  [ -n "$cur" ] || break
  if [ "$kill_no" = 2 ]; then
    # HAProxy's server v3-0 points at the restarted instance's port, not the dead one's
    srv=$(python3 - "$SLIPWAY_STATE_DIR/routers/api.production/admin.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show servers state api.production\n")
data = b""
while True:
    d = s.recv(65536)
    if not d: break
    data += d
for line in data.decode().splitlines():
    f = line.split()
    if len(f) > 18 and f[3] == "v3-0":
        print(f[18])
PY
)
    is "$srv" "${cur#* }" "HAProxy's server v3-0 follows the restarted instance's port"
  fi
  kill -9 "${cur%% *}"
  last=$cur
done
for i in $(seq 1 600); do kill -0 "$ctl" 2>/dev/null || break; sleep 0.1; done
wait "$ctl"; rc=$?
out=$(cat "$T/deploy3.out")
is "$rc" 1 "a canary that keeps dying is rolled back (exit 1)"
like "$out" 'rolling_back .*the new revision v3 died 3 times: instance v3-0 \(pid [0-9]+\) is gone' "the reason is the deaths, not 'canary 0 requests'"
like "$out" 'died \(1 of 2 allowed\).*restarting' "the first death was reported and the instance restarted"
sleep 0.5
cfg=$(cat "$SLIPWAY_STATE_DIR/routers/api.production/haproxy.cfg")
unlike "$cfg" 'server v3-' "no router server of v3 is left behind"
got=$(count_versions 20 "http://127.0.0.1:$PORT/api/x")
is "$got" "v1 20" "the stable revision has all the traffic again"
stop_load
done_testing
