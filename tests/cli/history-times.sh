# history-times.sh - history and log report the time a deployment waited
# (pending for the gate, paused for a person) apart from the time it ran,
# in text and -o json, and their text columns line up whatever the width of
# a value (a timestamp with milliseconds, a long version).  Fixtures by SQL.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
DB="$T/state/slipway.db"
run_slipway notify flush
is "$rc" 0 "a writing command creates the store"
t0=1764320400123	# not a whole second: printed with milliseconds
m=60000
sqlite3 "$DB" <<SQL
INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state, requested_by,
  created_ms, started_ms, finished_ms, state_since_ms, reason) VALUES
 (1, 'api', 'production', 'v2', 2, 'v1', 'standard', 'canary', 'succeeded', 'alice',
  $t0, $t0 + 50*$m, $t0 + 90*$m, $t0 + 90*$m, 'promoted'),
 (2, 'api', 'production', 'v3-with-a-long-version-name', 3, 'v2', 'standard', 'canary', 'failed', 'bob',
  $t0 + 100*$m, NULL, $t0 + 100*$m + 3058000, $t0 + 100*$m + 3058000, 'approval expired'),
 (3, 'api', 'production', 'v4', 4, 'v2', 'standard', 'canary', 'progressing', 'carol',
  $t0 + 200*$m, $t0 + 201*$m, NULL, $t0 + 201*$m, 'step 1');
INSERT INTO transitions(deployment_id, at_ms, from_state, to_state, step, weight, reason) VALUES
 (1, $t0 + 50*$m, 'pending', 'progressing', 0, 0, 'started'),
 (1, $t0 + 60*$m, 'progressing', 'paused', 1, 10, 'consider: error rate 1.2% > 1%'),
 (1, $t0 + 65*$m, 'paused', 'paused', 1, 10, 'router: HAProxy restarted'),
 (1, $t0 + 70*$m, 'paused', 'progressing', 1, 10, 'resumed by alice'),
 (1, $t0 + 90*$m, 'monitoring', 'succeeded', 2, 100, 'promoted');
SQL

run_slipway history api -o json
is "$rc" 0 "history"
is "$(json_get "$out" '[(x["id"], x["waited_s"], x["ran_s"]) for x in d["items"]]')" \
   "[[3, null, null], [2, 3058, 0], [1, 3600, 1800]]" \
   "waited: pending 50m + paused 10m; ran 30m; a deployment that never started only waited; unfinished: null"
schema_ok "$out" DeploymentList "the document validates"
run_slipway show 1
like "$out" "waited 1h, ran 30m" "show says both"

# every row's cell starts where its header starts
aligned() { # TEXT -> "ok" or the first misaligned line
  printf '%s\n' "$1" | python3 -c '
import re, sys
lines = sys.stdin.read().splitlines()
head = lines[0]
starts = [m.start() for m in re.finditer(r"\S+", head)]
for l in lines[1:]:
    for s in starts[1:]:
        if l[s - 1] != " " or l[s] == " ":
            print(l); sys.exit(0)
print("ok")'
}
run_slipway history api
like "$out" '^ID +CREATED +VERSION +ENV +TYPE +STATE +WAITED +RAN +OWNER +REASON' "the text columns: WAITED and RAN apart"
is "$(aligned "$out")" ok "history's columns line up"
like "$out" '2 +2025-[^ ]+ +v3-with-a-long-version-name +production +standard +failed +50m58s +0s +bob +approval expired' "the one that never started waited 50m58s and ran 0s"
run_slipway log
like "$out" '^ID +CREATED +SERVICE +VERSION' "log has the SERVICE column"
is "$(aligned "$out")" ok "log's columns line up"
done_testing
