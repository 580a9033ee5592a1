# interrupt.sh - Ctrl-C (SIGINT) of a deploy in the middle of a canary step:
# it finishes the tick it is in, says what it leaves (deployment, state, step,
# weight) and how to go on, exits 130, and leaves the canary serving as it was;
# running deploy again goes on from there (docs/exit-codes.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 2 "analysis: {steps: [{weight: 10, hold: 15m}, {weight: 50, hold: 2m}]}"
make_release api v1 0 10
make_release api v2 0 10
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"

"$SLIPWAY" deploy api v2 --type standard --time-scale 120 >"$T/deploy.out" 2>&1 &
ctl=$!
state() { deployment_row v2; }
for i in $(seq 1 600); do case "$(state)" in *" progressing 1 10"*) break ;; esac; sleep 0.1; done
before=$(state)
like "$before" '^[0-9]+ progressing 1 10' "the deployment reached step 1 at 10% ($before)"
kill -INT "$ctl"
wait "$ctl"
rc=$?
out=$(cat "$T/deploy.out")
is "$rc" 130 "deploy interrupted by SIGINT exits 130"
id=${before%% *}
like "$out" "interrupted: deployment $id \(api v2\) is left progressing at step 1, weight 10%" "it says what it leaves"
like "$out" "run 'slipway deploy api v2' to go on, or 'slipway abort $id'" "and how to go on"
after=$(state)
is "$after" "$before" "the record is as it was"
run_slipway instances api -o json
is "$(json_get "$out" 'round(d["weights"]["v2"])')" 10 "the router still sends 10% to v2"
run_slipway down api
done_testing
