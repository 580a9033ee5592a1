# long-names.sh - a service name and a version of 64 characters, the most a
# name may have (base/limits.h), go through start, deploy, status, history and
# the HAProxy router whole; the commands that drive live processes print
# -o json documents that validate against docs/schema/; the controller's log
# lines carry a level and an RFC 3339 UTC time (--log-format json).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v hey >/dev/null 2>&1 || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || { echo "1..0 # SKIP python3-jsonschema is not installed (tools/deps.sh test)"; exit 0; }

SVC=s$(printf 'e%.0s' $(seq 1 62))9          # 64 characters
VER=v1.$(printf "0%.0s" $(seq 1 59))-2        # 64 characters
OLD=v1
is "${#SVC}:${#VER}" "64:64" "a 64-character service name and version"
make_project "$SVC" 1 "analysis: {steps: [{weight: 50, hold: 1m}]}"
make_release "$SVC" $OLD 0 10     # 10 ms: the p99 comparison above scheduling noise
make_release "$SVC" "$VER" 0 10

run_slipway start "$SVC" $OLD -o json
is "$rc" 0 "start the stable revision of the long-named service"
[ "$rc" = 0 ] || echo "# $err"
schema_ok "$out" RevisionStart "start: RevisionStart validates"
is "$(json_get "$out" 'd["service"]')" "$SVC" "start names the service whole"

hey -z 120s -c 4 -q 100 "http://127.0.0.1:$PORT/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

"$SLIPWAY" deploy "$SVC" "$VER" --type standard --time-scale 120 --log-format json -o json >"$T/deploy.json" 2>"$T/deploy.log"
rc=$?
is "$rc" 0 "deploy of the 64-character version succeeds"
[ "$rc" = 0 ] || tail -20 "$T/deploy.log" | sed 's/^/# /'
out=$(cat "$T/deploy.json")
schema_ok "$out" Deployment "deploy: Deployment validates"
is "$(json_get "$out" 'd["service"] + " " + d["version"] + " " + d["from_version"]')" "$SVC $VER $OLD" \
  "the deployment record holds both names whole"
bad=$(/usr/bin/python3 - "$T/deploy.log" <<'PY'
import json, re, sys
bad = 0
for line in open(sys.argv[1]):
    try:
        j = json.loads(line)
        ok = set(j) >= {"time", "level", "msg"} and j["level"] in ("error", "warn", "info", "debug") \
             and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$", j["time"])
    except ValueError:
        ok = False
    bad += not ok
print(bad)
PY
)
is "$bad" 0 "every controller log line is JSON with a time, a level and the message"
like "$(cat "$T/deploy.log")" "\"msg\": ?\"deployment #[0-9]+: $SVC $OLD -> $VER" "the log names the service and versions whole"

run_slipway status "$SVC" -o json
schema_ok "$out" Status "status SERVICE: Status validates"
is "$(json_get "$out" 'd["deployments"][0]["version"]')" "$VER" "status shows the version whole"
run_slipway history "$SVC" -o json
is "$(json_get "$out" '[x["version"] for x in d["items"]]')" "[\"$VER\"]" "history shows the version whole"
run_slipway history "$SVC"
like "$out" "$VER" "history's text shows it whole too"
like "$(cat "$SLIPWAY_STATE_DIR/routers/$SVC.production/haproxy.cfg")" "server $VER-[0-9]+ 127.0.0.1:[0-9]+" \
  "the router's HAProxy config names the server after the whole version"

run_slipway instances "$SVC" -o json
schema_ok "$out" InstanceList "instances: InstanceList validates"
is "$(json_get "$out" 'round(d["weights"]["'"$VER"'"])')" 100 "the new version has all the traffic, by its whole name"
got=$(count_versions 20 "http://127.0.0.1:$PORT/x")
is "$got" "$VER 20" "requests reach the new version"
run_slipway traffic "$SVC" -o json
schema_ok "$out" TrafficMode "traffic: TrafficMode validates"
run_slipway metrics "$SVC" -o json
schema_ok "$out" MetricsReport "metrics: MetricsReport validates"
stop_load
done_testing
