# weights.sh - HAProxy server weights set through the runtime API shift
# traffic between revisions in the proportion asked for (docs/haproxy.md),
# and survive a restart of HAProxy because they are mirrored in its config.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 2
make_release api v1
make_release api v2

run_slipway start api v1
is "$rc" 0 "start v1: exit 0"
like "$out" 'v1-1 port [0-9]+' "two instances of v1 listed"
[ "$rc" = 0 ] || echo "# $err"
run_slipway start api v2 --weight 0
is "$rc" 0 "start v2 at weight 0"

got=$(count_versions 100 "http://127.0.0.1:$PORT/api/x")
is "$got" "v1 100" "weight 100/0: every request reaches v1"

run_slipway weight api v1=75 v2=25
is "$rc" 0 "weight v1=75 v2=25"
got=$(count_versions 400 "http://127.0.0.1:$PORT/api/x")
v1=$(echo "$got" | awk '$1=="v1"{print $2}'); v2=$(echo "$got" | awk '$1=="v2"{print $2}')
echo "# measured: $(echo $got)"
ok "$([ "${v1:-0}" -ge 290 ] && [ "${v1:-0}" -le 310 ] && [ $((v1 + v2)) = 400 ]; echo $?)" "75/25: v1 got ${v1:-0} of 400 (300 +- 10)"

run_slipway weight api v1=1 v2=99
got=$(count_versions 200 "http://127.0.0.1:$PORT/api/x")
v1=$(echo "$got" | awk '$1=="v1"{print $2}')
echo "# measured: $(echo $got)"
ok "$([ "${v1:-0}" -ge 1 ] && [ "${v1:-0}" -le 5 ]; echo $?)" "1/99: v1 got ${v1:-0} of 200 (about 2)"

# shares HAProxy cannot deliver (whole weights up to 256 per server): refused, or rounded on request
run_slipway weight api v1=99.9 v2=0.1
is "$rc" 2 "0.1% next to 99.9% (two servers each) is refused: bad input, exit 2"
like "$err" 'nearest achievable shares are v1 99.61%, v2 0.39%: ask for those, or pass --round' "the error names the nearest achievable shares"
run_slipway weight api v1=100 v2=0.1
is "$rc" 2 "shares adding up to 100.1% are refused"
like "$err" 'the shares add up to 100.1%, not 100%' "the error says what they add up to"
run_slipway weight api v1=50 v2=10
is "$rc" 2 "shares adding up to 60% are refused, not normalised to 83.3/16.7"
like "$err" 'the shares add up to 60%, not 100%' "the error says what they add up to"
run_slipway weight api v1=99.9 v2=0.1 --round
is "$rc" 0 "with --round, the nearest achievable shares are set"
is "$out" "shares set (rounded): v1 99.61%, v2 0.39%" "and said"
run_slipway instances api -o json
is "$(json_get "$out" '"%.2f %.2f" % (d["weights"]["v1"], d["weights"]["v2"])')" "99.61 0.39" "instances shows the shares achieved"
run_slipway instances api
like "$out" 'v2 +0 +[0-9]+ +[0-9]+ +running +0.39%' "in text too"

run_slipway weight api v2=100
got=$(count_versions 100 "http://127.0.0.1:$PORT/api/x")
is "$got" "v2 100" "weight 0/100: every request reaches v2"

run_slipway weight api v9=10
is "$rc" 2 "a revision with no server is refused: a name that does not exist, exit 2 (docs/exit-codes.md)"
like "$err" "revision 'v9'.*no server" "the error names the revision"
run_slipway weight api v1=150
is "$rc" 2 "a weight over 100 is a usage error"

# the config file mirrors the runtime state: HAProxy killed and restarted keeps the weights
run_slipway weight api v1=50 v2=50
run_slipway instances api -o json
hpid=$(json_get "$out" 'd["haproxy_pid"]')
ok "$([ "$hpid" -gt 0 ]; echo $?)" "HAProxy runs (pid $hpid)"
like "$(cat "$SLIPWAY_STATE_DIR/routers/api.production/haproxy.cfg")" 'server v2-1 127.0.0.1:[0-9]+ weight 50' "haproxy.cfg carries the runtime weight"
kill -9 "$hpid"; sleep 0.2
run_slipway start api v1
is "$rc" 0 "start again restarts HAProxy from the mirrored config (instances adopted)"
like "$out" '\(adopted\)' "instances were adopted, not started twice"
got=$(count_versions 100 "http://127.0.0.1:$PORT/api/x")
is "$got" "v1 50
v2 50" "after the restart traffic is still split 50/50"
mode=$(stat -c %a "$SLIPWAY_STATE_DIR/routers/api.production/admin.sock")
is "$mode" 600 "the admin socket is mode 0600"

run_slipway stop api v1
is "$rc" 0 "stop v1 (drain, remove, SIGTERM)"
got=$(count_versions 50 "http://127.0.0.1:$PORT/api/x")
is "$got" "v2 50" "after stopping v1 every request reaches v2"

# a strategy step HAProxy cannot deliver is refused before anything is recorded
make_project tiny 1 "analysis: {steps: [{weight: 0.1, hold: 1m}]}"
make_release tiny v1
make_release tiny v2
run_slipway start tiny v1
is "$rc" 0 "tiny v1 runs"
run_slipway deploy tiny v2
is "$rc" 2 "a step of 0.1% on one server each is refused: bad input, exit 2"
like "$err" 'step 1 \(weight 0.1%\) cannot be served as asked: .*nearest achievable shares are v1 99.61%, v2 0.39%' "the error names the step and the nearest achievable share"
run_slipway history tiny
unlike "$out" 'v2' "nothing was recorded for it"
done_testing
