# stale-server.sh - a router server always matches its live instance
# (docs/haproxy.md "Failure paths"): checked every tick, a server whose
# instance died is removed (and the revision's instance started again when
# the deployment needs it), and after a canary killed and rolled back,
# deploying the same version again (and `retry`) gives the new canary its
# requests: no `v2-0 ... weight 0` pointing at the dead one's port is left
# to swallow them ("canary 0 requests").
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
CFG="$SLIPWAY_STATE_DIR/routers/api.production/haproxy.cfg"
# "NAME PORT WEIGHT" of every server HAProxy has now
servers() { python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show servers state api.production\n")
data = b""
while True:
    d = s.recv(65536)
    if not d: break
    data += d
for line in data.decode().splitlines():
    f = line.split()
    if len(f) > 18 and not line.startswith("#"):
        print(f[3], f[18], f[7])
PY
}
wait_for() { # wait_for SECONDS 'SHELL CONDITION': until it holds (evaluated anew each time)
  local i
  for i in $(seq 1 $(($1 * 10))); do eval "$2" && return 0; sleep 0.1; done
  return 1
}
live() { sql "select port from instances where version='$1' and idx=0 and state='running'" | tail -1; }
# the deployment of v2 that is unfinished, at step 1: its id
at_step1() { sql "select id from deployments where version='v2' and state='progressing' and step=1"; }

make_project api 1 "analysis: {steps: [{weight: 50, hold: 30m}]}"
make_release api v1
make_release api v2
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
hey -z 600s -c 2 -q 20 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load
ctl=""
stop_ctl() { [ -n "$ctl" ] && kill "$ctl" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_ctl
deploy_bg() { "$SLIPWAY" deploy api v2 --time-scale 30 >"$T/deploy$1.out" 2>&1 & ctl=$!; }
finish() { # abort deployment $1 and wait for the controller to exit
  run_slipway abort "$1"
  for i in $(seq 1 300); do kill -0 "$ctl" 2>/dev/null || break; sleep 0.1; done
  wait "$ctl" 2>/dev/null
}

# ---- a stable instance killed mid-canary: its server goes, the instance comes back ----
deploy_bg 1
wait_for 40 '[ -n "$(at_step1)" ]'
id=$(at_step1)
ok "$([ -n "$id" ]; echo $?)" "the canary is at step 1 (#$id)"
old=$(live v1)
kill -9 "$(sql "select pid from instances where version='v1' and port=$old")"
wait_for 20 '[ -n "$(live v1)" ] && [ "$(live v1)" != "$old" ] && servers | grep -q "^v1-0 $(live v1) "'
new=$(live v1)
ok "$([ -n "$new" ] && [ "$new" != "$old" ]; echo $?)" "the dead stable instance was started again (port $old -> $new)"
like "$(servers)" "v1-0 $new [1-9]" "HAProxy's v1-0 points at the live instance, with weight"
unlike "$(cat "$CFG")" "127.0.0.1:$old " "haproxy.cfg no longer names the dead port"
# whichever noticed first (the router's check removing the dead server, or the instance's restart
# moving it), the record says what happened to v1-0
recorded=$(sql "select reason from transitions where deployment_id=$id")
like "$recorded" "router: server v1-0 \(127.0.0.1:$old\) had no live instance: removed|router: (HAProxy's )?server v1-0 pointed at 127.0.0.1:$old|v1.*(died|restart)" "the removal is in the record"
[ -n "$recorded" ] || sed 's/^/# /' "$T/deploy1.out" | tail -15
got=$(count_versions 40 "http://127.0.0.1:$PORT/api/x")
like "$got" 'v1 [0-9]+' "v1 serves again"
like "$got" 'v2 [0-9]+' "and v2"

# ---- the canary killed and rolled back ----
kill -9 "$(sql "select pid from instances where version='v2' and state='running'")"
finish "$id"
is "$(sql "select state from deployments where id=$id")" "rolled_back" "the deployment was rolled back"
unlike "$(servers)" '^v2-' "HAProxy keeps no server of v2"
unlike "$(cat "$CFG")" 'server v2-' "nor does haproxy.cfg"

# ---- the same version deployed again: the new canary gets requests ----
deploy_bg 2
wait_for 40 '[ -n "$(at_step1)" ]'
id2=$(at_step1)
ok "$([ -n "$id2" ]; echo $?)" "deployed again, the canary is at step 1 (#$id2)"
like "$(servers)" "v2-0 $(live v2) [1-9]" "HAProxy's v2-0 points at the new canary's port"
got=$(count_versions 40 "http://127.0.0.1:$PORT/api/x")
like "$got" 'v2 [0-9]+' "the new canary gets requests"
kill -9 "$(sql "select pid from instances where version='v2' and state='running'")"
finish "$id2"
is "$(sql "select state from deployments where id=$id2")" "rolled_back" "killed and aborted: rolled back"

# ---- and `retry` ----
run_slipway retry "$id2"
is "$rc" 0 "retry is recorded"
deploy_bg 3
wait_for 40 '[ -n "$(at_step1)" ]'
id3=$(at_step1)
ok "$([ -n "$id3" ] && [ "$id3" != "$id2" ]; echo $?)" "the retry's canary is at step 1 (#$id3)"
like "$(servers)" "v2-0 $(live v2) [1-9]" "HAProxy's v2-0 points at the retry's canary"
got=$(count_versions 40 "http://127.0.0.1:$PORT/api/x")
like "$got" 'v2 [0-9]+' "the retry's canary gets requests"
finish "$id3"
unlike "$(cat "$T/deploy2.out" "$T/deploy3.out")" 'canary 0 requests' "no canary was judged on 0 requests"
done_testing
