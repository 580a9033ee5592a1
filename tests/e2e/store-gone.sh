# store-gone.sh - the store deleted or replaced under a running `deploy`:
# the controller notices (the file's identity, st_dev/st_ino) and stops with
# an error instead of "succeeding" into a file nobody can read; commands
# that only read never create a store (docs/engine.md "Failure paths").
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

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
# with the store gone, `down` finds what runs from the state directory (the
# admin socket, the instances' pid files); the test remembers the pids to check
# that, and to stop them itself if it does not
PIDS=""
remember_pids() {
  PIDS="$PIDS $(sql "select pid from instances where state in ('starting','running')" | tr '\n' ' ')"
  PIDS="$PIDS $(cat "$SLIPWAY_STATE_DIR"/routers/*/haproxy.pid 2>/dev/null | tr '\n' ' ')"
  run_slipway instances api -o json
  PIDS="$PIDS $(json_get "$out" 'd["haproxy_pid"]' 2>/dev/null)"
}
still_running() { local p n=0; for p in $PIDS; do [ "$p" -gt 0 ] 2>/dev/null && kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; echo $n; }
kill_remembered() { local p; for p in $PIDS; do [ "$p" -gt 0 ] 2>/dev/null && kill -9 -- "-$p" "$p" 2>/dev/null; done; PIDS=""; }
at_exit kill_remembered

# a canary step long enough (10 minutes at x60: 10 s) to act during it
make_project api 1 "analysis: {steps: [{weight: 50, hold: 10m}]}"
make_release api v1
make_release api v2
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"

deploy_until_progressing() { # -> $ctl
  "$SLIPWAY" deploy api v2 --time-scale 60 >"$T/deploy.out" 2>&1 &
  ctl=$!
  local i
  for i in $(seq 1 300); do [ "$(sql "select state from deployments where version='v2'")" = progressing ] && break; sleep 0.1; done
}
wait_exit() { # PID -> $rc (bounded: 60 s; a correct run takes a tick)
  local i
  for i in $(seq 1 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && { kill "$1"; echo "# still running after 60 s"; }
  wait "$1"; rc=$?
}

deploy_until_progressing
is "$(sql "select state from deployments where version='v2'")" progressing "the deployment is progressing"
remember_pids
rm -f "$DB" "$DB-wal" "$DB-shm"
wait_exit "$ctl"
out=$(cat "$T/deploy.out")
is "$rc" 3 "deploy stops with 'could not do it' (exit 3), not 'succeeded'"
like "$out" "store '.*slipway.db' was deleted while slipway was using it" "and says the store was deleted"
unlike "$out" 'succeeded' "nothing is reported as succeeded"

run_slipway status
is "$rc" 2 "status with no store: says there is none (exit 2, the CLI's rule for readers)"
like "$err" "no store in" "naming the directory"
run_slipway log
is "$rc" 2 "log with no store: the same"
run_slipway instances api
[ ! -e "$DB" ]
ok $? "status, log and instances created no store"
ok "$([ "$(still_running)" -ge 3 ]; echo $?)" "HAProxy, v1 and v2 still run, orphaned ($(still_running) processes)"
run_slipway down api
is "$rc" 0 "down with the store gone stops what runs (exit 0)"
like "$out" "api in production: stopped HAProxy \(pid [0-9]+\), .*v1-0 \(pid [0-9]+\)" "and says what it found without the store: HAProxy, v1"
like "$out" "v2-0 \(pid [0-9]+\)" "and v2"
for i in $(seq 1 50); do [ "$(still_running)" = 0 ] && break; sleep 0.1; done
is "$(still_running)" 0 "nothing of api runs any more"
run_slipway down api
is "$rc" 0 "down again: nothing left to stop"
unlike "$out" "stopped" "and nothing is reported stopped"
kill_remembered

# replaced by another file (a restore of an old copy, say)
run_slipway start api v1
is "$rc" 0 "a fresh start of v1"
deploy_until_progressing
remember_pids
cp "$DB" "$T/copy.db" && mv "$T/copy.db" "$DB"
wait_exit "$ctl"
out=$(cat "$T/deploy.out")
is "$rc" 3 "a replaced store stops deploy too (exit 3)"
like "$out" "store '.*slipway.db' was replaced by another file" "and says so"
run_slipway down api
is "$rc" 0 "down after the replacement"
for i in $(seq 1 50); do [ "$(still_running)" = 0 ] && break; sleep 0.1; done
is "$(still_running)" 0 "stops everything"
kill_remembered
done_testing
