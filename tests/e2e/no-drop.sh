# no-drop.sh - under constant load, weight changes through the runtime API
# and a graceful stop of a revision (drain, remove, SIGTERM) fail no request
# (docs/haproxy.md: no reload and no dropped request).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
if ! command -v hey >/dev/null 2>&1; then echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; fi

make_project api 2
make_release api v1
make_release api v2
run_slipway start api v1
is "$rc" 0 "start v1"
run_slipway start api v2 --weight 0
is "$rc" 0 "start v2 at weight 0"

secs=8; rate=60
[ "${SLIPWAY_SANITIZE:-0}" = 1 ] && { secs=8; rate=25; }
hey -z "${secs}s" -c 8 -q "$rate" "http://127.0.0.1:$PORT/api/load" >"$T/hey.out" 2>&1 &
load=$!
sleep 1
steps_ok=0
for w in "v1=99 v2=1" "v1=90 v2=10" "v1=50 v2=50" "v1=0 v2=100"; do
  # shellcheck disable=SC2086
  "$SLIPWAY" weight api $w && steps_ok=$((steps_ok + 1))
  sleep 0.7
done
"$SLIPWAY" stop api v1 && steps_ok=$((steps_ok + 1))       # promotion: old revision drained and stopped
"$SLIPWAY" start api v1 --weight 0 >/dev/null && steps_ok=$((steps_ok + 1))
"$SLIPWAY" weight api v1=100 && steps_ok=$((steps_ok + 1))  # rollback: all new requests back on v1
"$SLIPWAY" stop api v2 && steps_ok=$((steps_ok + 1))
wait "$load"
is "$steps_ok" 8 "every weight change and stop succeeded under load"
summary=$(sed -n '/Status code distribution/,$p' "$T/hey.out")
echo "$summary" | sed 's/^/# /'
total=$(echo "$summary" | awk '/responses/{n+=$2} END{print n+0}')
ok "$([ "$total" -gt 100 ]; echo $?)" "load ran: $total responses"
like "$summary" '^\s*\[200\]' "responses were 200"
unlike "$summary" '\[[013-9][0-9][0-9]\]|\[2[1-9][0-9]\]' "no response other than 200"
unlike "$summary" 'Error distribution' "no request failed (connection errors, timeouts)"
done_testing
