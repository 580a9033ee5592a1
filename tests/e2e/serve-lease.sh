# serve-lease.sh - two `slipway serve` on one store: exactly one acts, the
# other waits and says who holds the controller lease and since when; kill -9
# of the holder, and the other takes over once the lease expires (--lease 3:
# 3 s after the holder's last renewal) and resumes the deployment where it
# was, on the same instances and weights, to its end; a holder stopped
# (SIGSTOP) longer than the lease loses it and, resumed, stands by
# (docs/serve.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 2 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}"
make_release api v1 0 0
make_release api v2 0 0
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"

A=""; B=""
stop_all() { local p; for p in $A $B; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; A=""; B=""; }
at_exit stop_all
wait_log() { # FILE REGEX: until FILE has a line matching (at most 30 s)
  local i; for i in $(seq 1 300); do grep -Eq -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1
}
"$SLIPWAY" serve --lease 3 >"$T/a.log" 2>&1 &
A=$!
wait_log "$T/a.log" "holding the controller lease"
"$SLIPWAY" serve --lease 3 >"$T/b.log" 2>&1 &
B=$!
wait_log "$T/b.log" "waiting: another slipway serve holds"
like "$(cat "$T/a.log")" "holding the controller lease" "the first serve holds the lease"
like "$(cat "$T/b.log")" "waiting: another slipway serve holds the controller lease of store .* \(pid $A on [^)]*\) since [0-9T:.-]+Z" \
  "the second waits and says who holds the lease (pid $A) and since when"
run_slipway serve --status -o json
is "$rc" 0 "serve --status: a controller holds the lease"
schema_ok "$out" Controller "serve --status -o json is a Controller document"
is "$(json_get "$out" 'd["lease"]["pid"]')" "$A" "and it is the first serve"

run_slipway deploy api v2 --time-scale 120
is "$rc" 0 "deploy records the deployment for the controller"
id=$(sqlite3 "$SLIPWAY_STATE_DIR/slipway.db" "select max(id) from deployments")
for i in $(seq 1 300); do case "$(deployment_row v2)" in *" progressing 1 10"*) break ;; esac; sleep 0.1; done
like "$(deployment_row v2)" "^$id progressing 1 10" "the holder drives it to step 1 at 10%"
blog=$(cat "$T/b.log")
unlike "$blog" "holding the controller lease|driving deployment|\[started\]|\[step\]" "the waiting serve has done nothing"
run_slipway instances api -o json
pids_before=$(json_get "$out" '" ".join(str(i["pid"]) for i in d["instances"] if i["version"]=="v2")')

kill -9 "$A"; wait "$A" 2>/dev/null; A=""
t_kill=$(date +%s.%N)
echo "# killed the holder at: $(deployment_row v2)"
wait_log "$T/b.log" "holding the controller lease"
echo "# the second serve took over $(python3 -c "import time; print('%.1f' % (time.time() - $t_kill))") s after the kill (lease 3 s, renewed every second; a measurement, not a check)"
blog=$(cat "$T/b.log")
like "$blog" "holding the controller lease of store .* \(pid $B on" "the second serve takes the lease over once it expired"
wait_log "$T/b.log" "driving deployment #$id"
like "$(cat "$T/b.log")" "driving deployment #$id of api v2 \(progressing, step 1, weight 10%\)" "and resumes the deployment where it was"
run_slipway serve --status -o json
is "$(json_get "$out" 'd["lease"]["pid"]')" "$B" "serve --status names the new holder"
wait_log "$T/b.log" "unix socket .*taken over"
like "$(cat "$T/b.log")" "the API answers the local CLI on the unix socket .*serve.sock \(taken over\)" \
  "the new holder takes over the local socket the dead one left"
like "$(curl -s --unix-socket "$SLIPWAY_STATE_DIR/serve.sock" http://localhost/api/v1/whoami)" '"user": *"'"$(id -un)"'"' \
  "the CLI's socket answers again, naming the caller by its uid"
run_slipway instances api -o json
is "$(json_get "$out" '" ".join(str(i["pid"]) for i in d["instances"] if i["version"]=="v2")')" "$pids_before" "on the very same v2 processes"
is "$(json_get "$out" 'round(d["weights"]["v2"])')" 10 "at the same weight"

run_slipway promote "$id" --full
for i in $(seq 1 300); do case "$(deployment_row v2)" in *" monitoring "*|*" succeeded "*) break ;; esac; sleep 0.1; done
like "$(deployment_row v2)" "^$id (monitoring|succeeded)" "the new holder applies promote --full"
run_slipway promote "$id"
for i in $(seq 1 300); do case "$(deployment_row v2)" in *" succeeded "*) break ;; esac; sleep 0.1; done
like "$(deployment_row v2)" "^$id succeeded" "and ends the monitoring on promote: the deployment succeeded"
run_slipway deployments api -o json
is "$(json_get "$out" 'len(d["items"])')" 1 "one deployment record"
run_slipway instances api -o json
is "$(json_get "$out" 'round(d["weights"]["v2"])')" 100 "v2 has all the traffic"

# a holder stopped (SIGSTOP) longer than the lease: another takes over; resumed, it stands by
C=""
stop_c() { [ -n "$C" ] && { kill -TERM "$C" 2>/dev/null; wait "$C" 2>/dev/null; }; C=""; }
at_exit stop_c
"$SLIPWAY" serve --lease 3 >"$T/c.log" 2>&1 &
C=$!
wait_log "$T/c.log" "waiting: another slipway serve holds"
kill -STOP "$B"
wait_log "$T/c.log" "holding the controller lease"
like "$(cat "$T/c.log")" "holding the controller lease" "a holder stopped longer than the lease loses it to the one waiting"
kill -CONT "$B"
wait_log "$T/b.log" "lost the controller lease"
like "$(cat "$T/b.log")" "lost the controller lease to .*\(pid $C on [^)]*\).*standing by" "resumed, the old holder learns it lost the lease and stands by"
run_slipway serve --status -o json
is "$(json_get "$out" 'd["lease"]["pid"]')" "$C" "one holder: the third serve"

kill -TERM "$B"; wait "$B"; brc=$?; B=""
is "$brc" 0 "SIGTERM: the one standing by exits 0"
kill -TERM "$C"; wait "$C"; crc=$?; C=""
is "$crc" 0 "SIGTERM: the holder exits 0"
run_slipway serve --status
is "$rc" 1 "and no controller holds the lease"
like "$out" "expired|no controller" "serve --status says so"
run_slipway down api
done_testing
