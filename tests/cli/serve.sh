# serve.sh - `slipway serve`'s options and refusals, `serve --status` with no
# controller, a holder, and an expired lease; deploy reads the same lease
# (docs/serve.md).  The controller at work is tests/e2e/serve-*.sh.
. "$SLIPWAY_SRC/tests/cli/lib.sh"

run_slipway serve --lease 1
is "$rc" 2 "--lease below 3 s is bad usage"
like "$err" "--lease must be a number of seconds from 3 to 3600, not '1'" "and says what is valid"
run_slipway serve --lease soon
is "$rc" 2 "--lease that is not a number is bad usage"
run_slipway serve --tls-cert c.pem
is "$rc" 2 "--tls-cert without --tls-key is bad usage"
run_slipway serve -o json
is "$rc" 2 "-o json without --status is bad usage"
like "$err" "-o json applies to --status" "and says where it applies"
run_slipway serve --socket "$T/no/such/dir/api.sock"
is "$rc" 3 "--socket in a directory that does not exist: exit 3, before anything runs"
like "$err" "local socket '.*/no/such/dir/api.sock': No such file or directory" "and names the socket"

run_slipway serve --status --state-dir "$T/none"
is "$rc" 2 "serve --status with no store: exit 2 (a reading command never creates one)"
like "$err" "no store in" "says there is no store"
[ -e "$T/none/slipway.db" ] && made=1 || made=0
is "$made" 0 "... and creates none"
run_slipway token create --user probe  # a writing command creates the store
run_slipway serve --status
is "$rc" 1 "serve --status with no controller ever: exit 1"
like "$out" "no controller" "says no controller"
run_slipway serve --status -o json
schema_ok "$out" Controller "serve --status -o json: a Controller document"
is "$(json_get "$out" 'd["held"]')" "false" "held: false"
is "$(json_get "$out" 'd["lease"]')" "null" "lease: null"

# a holder written straight into the store: live, then expired
now=$(python3 -c 'import time; print(int(time.time()*1000))')
sqlite3 "$T/state/slipway.db" "INSERT INTO controller_lease VALUES ('controller', 'h1:4242:1', 4242, 'h1', $now, $now, $((now + 600000)))"
run_slipway serve --status -o json
is "$rc" 0 "a live lease: exit 0"
is "$(json_get "$out" 'd["lease"]["pid"]')" 4242 "names the holder's pid"
run_slipway serve --status
like "$out" "^held: 'h1:4242:1' \(pid 4242 on h1\) since " "text names holder, pid, host and since"

# a second serve waits for the live lease and says who holds it
"$SLIPWAY" serve >"$T/serve.log" 2>&1 &
pid=$!
for i in $(seq 1 50); do grep -q "waiting:" "$T/serve.log" && break; sleep 0.1; done
like "$(cat "$T/serve.log")" "waiting: another slipway serve holds the controller lease of store .*'h1:4242:1' \(pid 4242 on h1\) since" \
  "serve waits for a live lease and names its holder"
kill -TERM "$pid"; wait "$pid"; src=$?
is "$src" 0 "SIGTERM while waiting: exit 0"
unlike "$(cat "$T/serve.log")" "holding the controller lease" "it never acted"
is "$(sqlite3 "$T/state/slipway.db" "select holder from controller_lease")" "h1:4242:1" "and left the holder's lease alone"

sqlite3 "$T/state/slipway.db" "UPDATE controller_lease SET expires_ms = $now - 1"
run_slipway serve --status
is "$rc" 1 "an expired lease: exit 1"
like "$out" "^expired: .*no controller drives this store now" "says it expired"

# with an expired lease, serve takes it over at once
"$SLIPWAY" serve >"$T/serve2.log" 2>&1 &
pid=$!
for i in $(seq 1 50); do grep -q "holding the controller lease" "$T/serve2.log" && break; sleep 0.1; done
like "$(cat "$T/serve2.log")" "holding the controller lease of store .* \(pid $pid on " "an expired lease is taken over"
kill -TERM "$pid"; wait "$pid"; src=$?
is "$src" 0 "SIGTERM: exit 0"
is "$(sqlite3 "$T/state/slipway.db" "select count(*) from controller_lease")" 0 "the lease was given up"

# sd_notify: a Type=notify unit learns READY=1 and the status (a datagram socket as systemd's)
if ldd "$SLIPWAY" 2>/dev/null | grep -q libsystemd; then
  python3 - "$T/notify.sock" >"$T/notify.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(10)
end = time.time() + 10
try:
    while time.time() < end:
        print(s.recv(4096).decode().replace("\n", " | "), flush=True)
except socket.timeout:
    pass
PY
  rx=$!
  for i in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
  NOTIFY_SOCKET="$T/notify.sock" "$SLIPWAY" serve >"$T/serve3.log" 2>&1 &
  pid=$!
  for i in $(seq 1 50); do grep -q "STATUS=holding" "$T/notify.out" && break; sleep 0.1; done
  kill -TERM "$pid"; wait "$pid"
  for i in $(seq 1 50); do grep -q "STOPPING=1" "$T/notify.out" && break; sleep 0.1; done
  kill "$rx" 2>/dev/null; wait "$rx" 2>/dev/null
  n=$(cat "$T/notify.out")
  like "$n" "READY=1" "sd_notify: READY=1 once the store and the policy are open"
  like "$n" "STATUS=holding the controller lease" "sd_notify: the status says it holds the lease"
  like "$n" "STOPPING=1" "sd_notify: STOPPING=1 on SIGTERM"
else
  skip "sd_notify" "slipway built without libsystemd"
fi

# --listen: the HTTP API beside the controller (docs/api.md); its ticks reach /metrics and /readyz
"$SLIPWAY" serve --listen 127.0.0.1:0 2>"$T/serve-api.log" &
sp=$!
aport=""
for _ in $(seq 1 100); do
  aport=$(sed -n 's/.*the HTTP API listens on .* (port \([0-9]*\)).*/\1/p' "$T/serve-api.log" | head -1)
  [ -n "$aport" ] && break
  sleep 0.1
done
ok "$([ -n "$aport" ]; echo $?)" "serve --listen says the API's port"
m=""
for _ in $(seq 1 100); do
  m=$(curl -s "http://127.0.0.1:$aport/metrics")
  case "$m" in *"slipway_last_successful_tick_age_seconds "*) break ;; esac
  sleep 0.1
done
like "$m" 'slipway_tick_duration_seconds [0-9.]+' "serve reports its tick's duration at /metrics"
like "$m" 'slipway_last_successful_tick_age_seconds [0-9.]+' "and the age of its last successful tick"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$aport/readyz")" 200 "/readyz: ready while serve ticks"
kill "$sp"; wait "$sp"
is "$?" 0 "serve with the API stops on SIGTERM, exit 0"
done_testing
