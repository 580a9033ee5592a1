# serve-socket.sh - the local CLI and `slipway serve` over the unix socket
# <state dir>/serve.sock, the caller named by the socket peer's uid
# (SO_PEERCRED; docs/serve.md "The local socket"): with a controller
# answering, approve, the intents and deploy's record are made by the
# controller as the OS user (root here) with identity uid:0; approving
# without the role gets the 403 naming it, audited; $SLIPWAY_USER keeps a command in-process
# and its audit entry says so; `status --watch` follows the controller's
# event stream to the deployment's end (text and NDJSON).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP runs as root (the OS user the socket names)"; exit 0; }
unset SLIPWAY_USER
ME=$(id -un)

policy() { # policy TEAM_LEADS DEPLOYERS: the lab policy, standard deployments approved by team-lead
  { sed '/^roles:/,$d' "$SLIPWAY_SRC/examples/lab-policy.yaml"
    printf 'roles:\n  team-lead: [%s]\n  deployer: [%s]\ntypes:\n  standard:\n    approvals: [team-lead]\n' "$1" "$2"; } >"$T/policy.yaml"
}
policy bob carol
export SLIPWAY_POLICY="$T/policy.yaml"

make_project api 2 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}"
make_release api v1 0 0
make_release api v2 0 0
make_release api v3 0 0
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"

"$SLIPWAY" serve >"$T/serve.log" 2>&1 &
SERVE_PID=$!
WPID=""
stop_all() { [ -n "$WPID" ] && kill "$WPID" 2>/dev/null; kill -TERM "$SERVE_PID" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_all
for _ in $(seq 1 100); do grep -q "unix socket" "$T/serve.log" && break; sleep 0.1; done
like "$(cat "$T/serve.log")" "the API answers the local CLI on the unix socket $SLIPWAY_STATE_DIR/serve.sock" "serve listens on <state dir>/serve.sock"
ok "$([ -S "$SLIPWAY_STATE_DIR/serve.sock" ]; echo $?)" "a socket file"
is "$(curl -s --unix-socket "$SLIPWAY_STATE_DIR/serve.sock" http://localhost/api/v1/whoami | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')" \
   "$ME" "whoami over the socket: the OS user, no token"

# carol requests it (SLIPWAY_USER keeps deploy in-process: it records the deployment itself)
SLIPWAY_USER=carol "$SLIPWAY" deploy api v2 --time-scale 120 >"$T/deploy.out" 2>&1
is "$?" 0 "carol records the deployment for serve"
id=$(store_sql "select id from deployments where version='v2'")
wait_sql "select state from deployments where id=$id" pending
sleep 0.5   # five ticks: the gate says what it waits for
timeout 60 "$SLIPWAY" status --watch "$id" >"$T/watch0.out" 2>&1
is "$?" 4 "status --watch of a deployment waiting at the gate: exit 4, as deploy --wait"
like "$(cat "$T/watch0.out")" "deployment #$id: pending \(waiting for a person\): waiting: approval needed: team-lead" "saying what it waits for"

# root without team-lead: the controller refuses (403), naming the role
run_slipway approve "$id" --role team-lead
ok "$([ "$rc" != 0 ]; echo $?)" "approve as $ME without team-lead: refused (exit $rc)"
like "$err" "'$ME' does not hold the role 'team-lead'" "naming the missing role"
is "$(store_sql "select actor, json_extract(detail, '\$.identity') from audit where action='approval.refused' order by id desc limit 1")" \
   "$ME uid:0" "an approval.refused audit entry: $ME, identity uid:0"

# with the roles: recorded by the controller as root, identity uid:0
policy "bob, $ME" "carol, $ME"
kill -HUP "$SERVE_PID"   # the controller's gate reads the roles of the policy it loaded
for _ in $(seq 1 100); do grep -q "SIGHUP: reloading" "$T/serve.log" && break; sleep 0.1; done
run_slipway approve "$id" --role team-lead
is "$rc" 0 "approve over the socket"
like "$out" "approved deployment $id for team-lead as '$ME'" "as the OS user the socket named"
is "$(store_sql "select approver, identity from approvals where deployment_id=$id")" "$ME uid:0" "the approval is recorded as $ME with identity uid:0"
is "$(store_sql "select actor, json_extract(detail, '\$.identity') from audit where action='approval.approved'")" "$ME uid:0" "and so is its audit entry"
"$SLIPWAY" status --watch "$id" >"$T/watch.out" 2>"$T/watch.err" &
WPID=$!
wait_sql "select state, step from deployments where id=$id" "progressing 1" || { store_sql "select state, step, reason from deployments where id=$id"; tail -5 "$T/serve.log"; }
run_slipway promote "$id" --full
is "$rc" 0 "promote --full over the socket"
like "$out" "as '$ME' by the controller" "recorded by the controller"
is "$(store_sql "select actor, json_extract(detail, '\$.identity') from audit where action='intent.promote' order by id desc limit 1")" "$ME uid:0" "intent.promote: $ME, uid:0"
wait_sql "select state from deployments where id=$id" monitoring
SLIPWAY_USER=dave run_slipway promote "$id"
is "$rc" 0 "promote with SLIPWAY_USER set: in-process"
like "$(store_sql "select actor, json_extract(detail, '\$.identity') from audit where action='intent.promote' order by id desc limit 1")" \
   "^dave env:SLIPWAY_USER \(os user $ME\); in-process beside the controller answering on the local socket" "its audit entry says SLIPWAY_USER was used beside the controller"
wait_sql "select state from deployments where id=$id" succeeded

wait_pid "$WPID" 30; WPID=""
is "$rc" 0 "status --watch exits 0: the deployment succeeded"
w=$(cat "$T/watch.out")
like "$w" "#$id api v2 \(production\): pending \(step 0, weight 0%\)" "it printed the pending transition"
like "$w" "progressing \(step 1, weight 10%\) [0-9hms]+ left" "the step with its weight and time left"
like "$w" "monitoring \(step 1, weight 100%\)" "monitoring"
like "$w" "succeeded \(step" "the end"
is "$(grep -c '^[0-9]' "$T/watch.out")" "$(store_sql "select count(*) from transitions where deployment_id=$id")" "one line per transition"
like "$(tail -1 "$T/watch.out")" "^deployment #$id: succeeded" "and the outcome"
timeout 30 "$SLIPWAY" status --watch "$id" -o json >"$T/watch.json"
is "$?" 0 "status --watch -o json of a finished deployment: exit 0"
is "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["to"] for l in open(sys.argv[1])))' "$T/watch.json")" \
   "$(store_sql "select group_concat(to_state, ' ') from (select to_state from transitions where deployment_id=$id order by id)")" "NDJSON: one event a line, every transition"

# deploy's record through the socket: the controller records it as the OS user, at the time scale asked
run_slipway deploy api v3 --time-scale 120
is "$rc" 0 "deploy beside serve, no SLIPWAY_USER: recorded"
like "$err" "deployment #[0-9]+ of api v3 recorded \(pending\)" "it says so"
is "$(store_sql "select requested_by, time_scale from deployments where version='v3'")" "$ME 120.0" "by the controller, as $ME, at time scale 120"
id3=$(store_sql "select id from deployments where version='v3'")
run_slipway abort "$id3"
is "$rc" 0 "abort it over the socket"
wait_sql "select state in ('rolled_back', 'failed') from deployments where id=$id3" 1

# no controller: status --watch reads the store
kill -TERM "$SERVE_PID"; wait_pid "$SERVE_PID" 30
is "$rc" 0 "serve stops"
ok "$([ ! -e "$SLIPWAY_STATE_DIR/serve.sock" ]; echo $?)" "and removes its socket"
timeout 30 "$SLIPWAY" status --watch "$id" >"$T/watch2.out"
is "$?" 0 "status --watch without a controller follows the store: exit 0"
is "$(grep -c '^[0-9]' "$T/watch2.out")" "$(store_sql "select count(*) from transitions where deployment_id=$id")" "every transition"
run_slipway down api
done_testing
