# serve-handover.sh - an in-process deploy and `slipway serve` on one store:
# serve started while a deploy drives a service environment leaves it alone
# (it says who holds the service environment's lock) and picks the
# deployment up where the deploy left it when that deploy stops (Ctrl-C)
# (docs/serve.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 2 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}"
make_release api v1 0 0
make_release api v2 0 0
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"

SERVE_PID=""; ctl=""
stop_all() { local p; for p in $ctl $SERVE_PID; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; ctl=""; SERVE_PID=""; }
at_exit stop_all
wait_log() { local i; for i in $(seq 1 300); do grep -Eq -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

"$SLIPWAY" deploy api v2 --time-scale 120 >"$T/deploy.out" 2>&1 &
ctl=$!
for i in $(seq 1 300); do case "$(deployment_row v2)" in *" progressing 1 10"*) break ;; esac; sleep 0.1; done
like "$(deployment_row v2)" " progressing 1 10" "the in-process deploy drives v2 to step 1"
id=$(deployment_row v2); id=${id%% *}

"$SLIPWAY" serve >"$T/serve.log" 2>&1 &
SERVE_PID=$!
wait_log "$T/serve.log" "cannot drive it now"
like "$(cat "$T/serve.log")" "api/production: controller: cannot drive it now: another slipway is changing 'api' in 'production' \(held by pid $ctl since" \
  "serve leaves the service environment a deploy drives alone, and names that deploy"
unlike "$(cat "$T/serve.log")" "driving deployment" "and does not drive it"

kill -INT "$ctl"; wait "$ctl"; drc=$?; ctl=""
is "$drc" 130 "the deploy stops on Ctrl-C (exit 130), leaving the deployment as it was"
wait_log "$T/serve.log" "driving deployment #$id"
like "$(cat "$T/serve.log")" "driving deployment #$id of api v2 \(progressing, step 1, weight 10%\)" "serve picks it up where the deploy left it"
run_slipway promote "$id" --full
for i in $(seq 1 300); do case "$(deployment_row v2)" in *" monitoring "*) break ;; esac; sleep 0.1; done
run_slipway promote "$id"
for i in $(seq 1 300); do case "$(deployment_row v2)" in *" succeeded "*) break ;; esac; sleep 0.1; done
like "$(deployment_row v2)" "^$id succeeded" "serve finishes it on the intents"
run_slipway instances api -o json
is "$(json_get "$out" 'round(d["weights"]["v2"])')" 100 "v2 has all the traffic"

kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; SERVE_PID=""
run_slipway down api
done_testing
