# traffic-modes.sh - `slipway traffic` toggles maintenance (503 with the
# message) and read-only (GET and HEAD served, other methods refused) at
# runtime, and the mode survives a HAProxy restart (runbook:
# maintenance-mode.sh, traffic-control.sh).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 1
make_release api v1
run_slipway start api v1
is "$rc" 0 "start v1"
url="http://127.0.0.1:$PORT/api/items"
code() { curl -s -o /dev/null -w '%{http_code}' -X "$1" "$url"; }

is "$(code GET) $(code POST)" "200 200" "normal: GET and POST served"

run_slipway traffic api --mode maintenance --message "Database maintenance in progress; back at 15:00"
is "$rc" 0 "maintenance on"
like "$out" 'maintenance' "the command reports the mode"
body=$(curl -s -w ' %{http_code}' "$url")
is "$body" "Database maintenance in progress; back at 15:00 503" "maintenance: 503 with the message"
is "$(code POST)" 503 "maintenance: POST too"
run_slipway traffic api -o json
is "$(json_get "$out" 'd["mode"]')" maintenance "traffic without --mode reports maintenance"

# the map file mirrors the runtime change: a restarted HAProxy stays in maintenance
run_slipway instances api -o json
hpid=$(json_get "$out" 'd["haproxy_pid"]')
kill -9 "$hpid"; sleep 0.2
run_slipway start api v1
is "$rc" 0 "restart HAProxy"
body=$(curl -s -w ' %{http_code}' "$url")
is "$body" "Database maintenance in progress; back at 15:00 503" "after a restart: still maintenance, same message"

run_slipway traffic api --mode read-only
is "$rc" 0 "read-only on"
is "$(code GET) $(code HEAD)" "200 200" "read-only: GET and HEAD served"
is "$(code POST) $(code PUT) $(code DELETE)" "405 405 405" "read-only: POST, PUT, DELETE refused with 405"

run_slipway traffic api --mode normal
is "$rc" 0 "normal again"
is "$(code GET) $(code POST)" "200 200" "normal: GET and POST served again"

run_slipway traffic api --mode sideways
is "$rc" 2 "an unknown mode is a usage error"
like "$err" "valid: normal, read-only, maintenance" "the error lists the modes"
run_slipway traffic api --mode maintenance --message "$(printf 'two\nlines')"
is "$rc" 2 "a message with a newline is refused"
done_testing
