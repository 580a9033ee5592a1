# notify.sh - notifications end to end against a real HTTP receiver on
# 127.0.0.1 (tests/helpers/http_receiver.c): the Slack and CloudEvents
# payloads, retries on 429 with Retry-After (seconds and HTTP date) and on
# 500, giving up when the receiver is down, and webhook URLs kept secret.
# Delivery times are driven with `notify flush --at`, never by sleeping.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
RECV="$SLIPWAY_BUILD/tests/http_receiver"
export SLIPWAY_USER=ci-bot

pids=()
stop_receivers() { local p; for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
at_exit stop_receivers

start_receiver() { # start_receiver NAME SCRIPT -> $port, requests saved in $T/NAME/
  mkdir -p "$T/$1"
  "$RECV" --port-file "$T/$1.port" --dir "$T/$1" --script "$2" &
  pids+=($!)
  local i
  for i in $(seq 1 100); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
  port=$(cat "$T/$1.port")
}
# an RFC 3339 time from -o json (times are RFC 3339 everywhere) as ms since the epoch
ms_of() { python3 -c "import datetime,sys; s=sys.argv[1].replace('Z','+00:00'); print(round(datetime.datetime.fromisoformat(s).timestamp()*1000))" "$1"; }
iso() { python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1])/1000, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]+'Z')" "$1"; }

# a deployment record to talk about
run_slipway notify flush   # creates the store (a reading command would not)
sqlite3 "$T/state/slipway.db" "INSERT INTO deployments(id, service, env, version, revision, from_version, type,
  strategy, state, requested_by, created_ms, started_ms, finished_ms, state_since_ms, reason)
  VALUES (1, 'api-server', 'production', 'v1.2.3', 3, 'v1.2.2', 'standard', 'canary', 'succeeded', 'alice',
  1764424800000, 1764424800000, 1764427500000, 1764427500000, 'promoted after 4 steps');"

start_receiver ok ""
ok_port=$port
SECRET="services/T0000/B0000/SeCrEtToKeN42"
export SLACK_URL="http://127.0.0.1:$ok_port/$SECRET"
echo "http://127.0.0.1:$ok_port/events/$SECRET" > "$T/events.url"
cat > "$T/notifications.yaml" <<YAML
# other top-level keys belong to the policy and are ignored here
timezone: UTC
notifications:
  sinks:
    slack: { type: slack, url_env: SLACK_URL }
    events: { type: cloudevents, url_file: $T/events.url, source: /slipway/test }
    log: { type: file, path: $T/notify.log }
  channels:
    deployments: [slack, events, log]
    all-engineering: [slack]
  retry: { max_attempts: 4, initial_backoff: 10s, max_backoff: 1m }
  timeout: 2s
  budget: 3s
YAML
export SLIPWAY_NOTIFICATIONS="$T/notifications.yaml"

run_slipway notify config
is "$rc" 0 "notify config reads the file"
unlike "$out$err" "SeCrEtToKeN42" "notify config never shows a webhook URL"
like "$out" 'url from \$SLACK_URL' "notify config names the variable instead"

run_slipway notify test --channel deployments --kind complete --deployment 1 -o json
is "$rc" 0 "DEPLOYMENT COMPLETE delivered to every sink"
is "$(json_get "$out" '[d["state"] for d in d["deliveries"]]')" '["sent", "sent", "sent"]' "three sinks sent"
is "$(ls "$T/ok"/*.body | wc -l | tr -d ' ')" 2 "the receiver got two requests (Slack, CloudEvents)"

slack=$(grep -l '"blocks"' "$T/ok"/*.body | head -1)
ce=$(grep -l '"specversion"' "$T/ok"/*.body | head -1)
sj=$(cat "$slack")
is "$(json_get "$sj" 'd["text"].splitlines()[0]')" "DEPLOYMENT COMPLETE" "Slack text starts with the runbook title"
like "$sj" 'Duration: 45 minutes' "Slack text has the runbook's Duration line"
like "$sj" 'Status: SUCCESS' "Slack text has Status: SUCCESS"
is "$(json_get "$sj" 'd["blocks"][0]["type"]+":"+d["blocks"][0]["text"]["text"]')" "header:DEPLOYMENT COMPLETE" "Slack header block"
is "$(json_get "$sj" '[f["text"].split(":")[0] for f in d["blocks"][1]["fields"]]')" '["*Service", "*Version", "*Duration", "*Status"]' "Slack fields are the template's"
like "$(cat "${slack%.body}.meta")" 'content-type application/json' "Slack Content-Type"
like "$(cat "${slack%.body}.meta")" "path /$SECRET" "Slack posted to the webhook path"

cj=$(cat "$ce")
is "$(json_get "$cj" 'd["specversion"]')" "1.0" "CloudEvents specversion 1.0"
is "$(json_get "$cj" 'd["type"]')" "dev.cdevents.service.upgraded.0.3.0" "CDEvents type for an upgrade"
is "$(json_get "$cj" 'd["source"]')" "/slipway/test" "configured source"
is "$(json_get "$cj" 'all(k in d for k in ("id","source","type","time","data"))')" "true" "required attributes present"
is "$(json_get "$cj" 'd["data"]["subject"]["content"]["artifactId"]')" "pkg:generic/api-server@v1.2.3" "subject artifactId (purl)"
is "$(json_get "$cj" 'd["data"]["subject"]["content"]["environment"]["id"]')" "production" "subject environment"
is "$(json_get "$cj" 'd["data"]["slipway"]["status"]')" "SUCCESS" "slipway fields in data"
like "$(cat "${ce%.body}.meta")" 'content-type application/cloudevents\+json' "structured-mode Content-Type"
like "$(cat "$T/notify.log")" 'DEPLOYMENT COMPLETE' "file sink got the text"

# rollback -> service.rolledback; emergency -> both channels, Slack once
run_slipway notify test --channel deployments --kind rollback --deployment 1 -o json
is "$rc" 0 "ROLLBACK INITIATED delivered"
ce=$(ls -t "$T/ok"/*.body | xargs grep -l '"specversion"' | head -1)
is "$(json_get "$(cat "$ce")" 'd["type"]')" "dev.cdevents.service.rolledback.0.3.0" "CDEvents type for a rollback"
like "$(json_get "$(cat "$ce")" 'd["data"]["slipway"]["title"]')" "ROLLBACK INITIATED" "rollback title"

# ---- 429 with Retry-After seconds, then 500, then 200 --------------------
start_receiver flaky "429:120,500,200"
export SLACK_URL="http://127.0.0.1:$port/$SECRET"
run_slipway notify test --channel all-engineering -o json
is "$rc" 1 "first attempt answered 429: not sent yet (exit 1)"
d0=$(json_get "$out" 'd["deliveries"][0]')
is "$(json_get "$d0" 'd["state"]')" "queued" "still queued after 429"
is "$(json_get "$d0" 'd["last_status"]')" "429" "status 429 recorded"
created=$(sqlite3 "$T/state/slipway.db" "SELECT updated_ms FROM notify_deliveries ORDER BY id DESC LIMIT 1")
next=$(ms_of "$(json_get "$d0" 'd["next_attempt_at"]')")
is "$((next - created))" 120000 "next attempt honours Retry-After: 120 (seconds)"

run_slipway notify flush --at "$(iso $((created + 60000)))" -o json
is "$(json_get "$out" 'd["attempted"]')" 0 "not retried before Retry-After has passed"
run_slipway notify flush --at "$(iso $((created + 121000)))" -o json
is "$(json_get "$out" 'd["retrying"]')" 1 "second attempt answered 500: retrying"
run_slipway notify list -o json
d0=$(json_get "$out" 'd["items"][0]')
is "$(json_get "$d0" 'd["last_status"]')" "500" "status 500 recorded"
is "$(( $(ms_of "$(json_get "$d0" 'd["next_attempt_at"]')") - (created + 121000) ))" 20000 "backoff after the 2nd attempt is 2 x 10s"
run_slipway notify flush --at "$(iso $((created + 141000)))" -o json
is "$(json_get "$out" 'd["sent"]')" 1 "third attempt sent"
is "$(ls "$T/flaky"/*.body | wc -l | tr -d ' ')" 3 "the receiver saw exactly three attempts"

# ---- 429 with an HTTP-date Retry-After ---------------------------------
start_receiver dated "429:date:300"
export SLACK_URL="http://127.0.0.1:$port/$SECRET"
run_slipway notify test --channel all-engineering -o json
d0=$(json_get "$out" 'd["deliveries"][0]')
upd=$(sqlite3 "$T/state/slipway.db" "SELECT updated_ms FROM notify_deliveries ORDER BY id DESC LIMIT 1")
delay=$(( $(ms_of "$(json_get "$d0" 'd["next_attempt_at"]')") - upd ))
ok "$([ "$delay" -ge 290000 ] && [ "$delay" -le 301000 ]; echo $?)" "HTTP-date Retry-After honoured (delay ${delay} ms, about 300 s)"

# ---- receiver down: retried with backoff, then given up with an audit entry
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null
export SLACK_URL="http://127.0.0.1:$port/$SECRET"
run_slipway notify test --channel all-engineering -o json
is "$rc" 1 "down receiver: not sent"
d0=$(json_get "$out" 'd["deliveries"][0]')
like "$(json_get "$d0" 'd["last_error"]')" "connect" "the error says it could not connect"
base=$(sqlite3 "$T/state/slipway.db" "SELECT updated_ms FROM notify_deliveries ORDER BY id DESC LIMIT 1")
for k in 1 2 3; do run_slipway notify flush --at "$(iso $((base + k * 3600000)))" -o json; done
run_slipway notify list -o json
is "$(json_get "$out" '[x["state"] + "/" + str(x["attempts"]) for x in d["items"]][0]')" "gave_up/4" "given up after max_attempts (4)"
run_slipway audit -o json
like "$out" '"notify.gave_up"' "giving up is an audit entry"
unlike "$out" "SeCrEtToKeN42" "the audit entry has no URL"
run_slipway notify list
unlike "$out$err" "SeCrEtToKeN42" "notify list has no URL"
ok "$(grep -c SeCrEtToKeN42 "$T/state/slipway.db" >/dev/null; [ $? = 1 ]; echo $?)" "the store never holds a webhook URL"

# ---- configuration errors name FILE:LINE:COL --------------------------
cat > "$T/bad.yaml" <<'YAML'
notifications:
  sinks:
    slack: { type: slack, url: "https://hooks.slack.com/services/x" }
  channels: { deployments: [slack] }
YAML
SLIPWAY_NOTIFICATIONS="$T/bad.yaml" run_slipway notify config
is "$rc" 2 "a literal url is refused"
like "$err" "bad.yaml:3:27: sink 'slack': webhook URLs are secrets" "error names FILE:LINE:COL and says why"
unlike "$err" "hooks.slack.com" "the refused URL is not echoed"
printf 'notifications:\n  channels: { deploymnts: [x] }\n' > "$T/bad2.yaml"
SLIPWAY_NOTIFICATIONS="$T/bad2.yaml" run_slipway notify config
like "$err" "bad2.yaml:2:15: unknown channel 'deploymnts'; valid: deployments, all-engineering" "unknown channel"
printf 'notifications: [\n' > "$T/bad3.yaml"
SLIPWAY_NOTIFICATIONS="$T/bad3.yaml" run_slipway notify config
is "$rc" 2 "invalid YAML exits 2"
like "$err" "bad3.yaml:[0-9]+:[0-9]+: invalid YAML" "invalid YAML names its position"
printf 'notifications:\n  sinks:\n%%TAG ! tag:x\n' > "$T/bad4.yaml"
SLIPWAY_NOTIFICATIONS="$T/bad4.yaml" run_slipway notify config
like "$err" "bad4.yaml:3:1: a line starting with '%' is a YAML directive" "directives other than %YAML refused"
printf 'notifications:\n  sinks: {a: {type: \377}}\n' > "$T/bad5.yaml"
SLIPWAY_NOTIFICATIONS="$T/bad5.yaml" run_slipway notify config
like "$err" "bad5.yaml:2:21: not valid UTF-8" "invalid UTF-8 refused with its position"
printf 'notifications:\n  ? c:\t? e:\n' > "$T/bad6.yaml"
SLIPWAY_NOTIFICATIONS="$T/bad6.yaml" run_slipway notify config
is "$rc" 2 "a tab is refused (libfyaml 0.7.12 crashes on this input)"
like "$err" "bad6.yaml:2:7: tab character" "with its position"
done_testing
