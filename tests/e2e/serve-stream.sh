# serve-stream.sh - GET /api/v1/stream, the Server-Sent Events stream of
# deployment transitions (docs/api.md "Live events"), read with real curl -N
# while `slipway serve --listen` drives a real deployment through HAProxy:
# the stream shows the deployment's transitions in the store's order with
# their global ids; Last-Event-ID and ?after= resume after an id; a bad
# token gets 401 problem JSON (audited); 100 streams open at once leave the
# API answering; an idle stream gets a keepalive comment.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
unset SLIPWAY_USER

# long holds: a person moves it on (promote), as in serve-intents.sh
make_project api 2 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}"
make_release api v1 0 0
make_release api v2 0 0
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"
TOK=$("$SLIPWAY" token create --user viewer 2>/dev/null)

"$SLIPWAY" serve --listen 127.0.0.1:0 >"$T/serve.log" 2>&1 &
SERVE_PID=$!
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; kill -TERM "$SERVE_PID" 2>/dev/null; wait 2>/dev/null; }
at_exit stop_all
APORT=""
for _ in $(seq 1 100); do
  APORT=$(sed -n 's/.*the HTTP API listens on .* (port \([0-9]*\)).*/\1/p' "$T/serve.log" | head -1)
  [ -n "$APORT" ] && break
  sleep 0.1
done
ok "$([ -n "$APORT" ]; echo $?)" "serve --listen serves the API"
URL="http://127.0.0.1:$APORT/api/v1"
AUTH="Authorization: Bearer $TOK"

# events FILE -> "ID TO STEP WEIGHT DEPLOYMENT SERVICE VERSION" per event, in the order received
events() { python3 - "$1" <<'PY'
import json, sys
cur = {}
for line in open(sys.argv[1]).read().split("\n"):
    if line.startswith("id: "): cur["id"] = line[4:]
    elif line.startswith("event: "): cur["event"] = line[7:]
    elif line.startswith("data: "):
        d = json.loads(line[6:])
        print(cur.get("id"), cur.get("event"), d["to"], d["step"], int(d["weight"]), d["deployment_id"], d["service"], d["env"], d["version"], d["seq"])
PY
}

# a stream of the service, opened before anything happens, and an idle one of another service (keepalives)
curl -sN -H "$AUTH" -D "$T/s1.headers" "$URL/stream?service=api&env=production" >"$T/s1.out" 2>/dev/null &
PIDS+=($!)
curl -sN -H "$AUTH" "$URL/stream?service=other" >"$T/idle.out" 2>/dev/null &
IDLE_PID=$!
PIDS+=($IDLE_PID)
for _ in $(seq 1 50); do [ -s "$T/s1.out" ] && break; sleep 0.1; done
like "$(cat "$T/s1.headers")" "Content-Type: text/event-stream" "the stream is text/event-stream"

run_slipway deploy api v2 --time-scale 120
is "$rc" 0 "deploy records the deployment for serve"
id=$(store_sql "select id from deployments where version='v2'")
wait_sql "select state, step from deployments where id=$id" "progressing 1"
run_slipway promote "$id" --full
wait_sql "select state from deployments where id=$id" monitoring
run_slipway promote "$id"
wait_sql "select state from deployments where id=$id" succeeded
is "$(store_sql "select state from deployments where id=$id")" succeeded "serve drives it to its end"
want=$(store_sql "select t.id, 'transition', t.to_state, t.step, cast(t.weight as int), t.deployment_id, 'api', 'production', 'v2' from transitions t where deployment_id=$id order by t.id")
n_want=$(printf '%s\n' "$want" | wc -l)
for _ in $(seq 1 50); do [ "$(events "$T/s1.out" | wc -l)" -ge "$n_want" ] && break; sleep 0.1; done
got=$(events "$T/s1.out" | cut -d' ' -f1-9)
is "$got" "$want" "the stream shows every transition as it happened: global id, to, step, weight, the deployment ($n_want events)"
like "$(events "$T/s1.out" | cut -d' ' -f10 | tr '\n' ' ')" "^1 2 3 " "each carries its number among the deployment's events (seq), as the events endpoint"
ok "$(printf '%s\n' "$got" | grep -q ' succeeded '; echo $?)" "the last one is the end: succeeded"

# resume: Last-Event-ID, and ?after=
second=$(printf '%s\n' "$want" | sed -n 2p | cut -d' ' -f1)
curl -sN --max-time 2 -H "$AUTH" -H "Last-Event-ID: $second" "$URL/stream?deployment=$id" >"$T/resume.out" 2>/dev/null
is "$(events "$T/resume.out" | cut -d' ' -f1-9)" "$(printf '%s\n' "$want" | sed -n '3,$p')" "Last-Event-ID: only the later transitions"
curl -sN --max-time 2 -H "$AUTH" "$URL/stream?deployment=$id&after=$second" >"$T/after.out" 2>/dev/null
is "$(events "$T/after.out" | cut -d' ' -f1-9)" "$(printf '%s\n' "$want" | sed -n '3,$p')" "?after=: the same"
curl -sN --max-time 2 -H "$AUTH" "$URL/stream?deployment=$id" >"$T/all.out" 2>/dev/null
is "$(events "$T/all.out" | cut -d' ' -f1-9)" "$want" "?deployment=ID alone: every transition of it from the first"

# refused and bad calls: problem JSON
code=$(curl -s -o "$T/bad.json" -w '%{http_code} %{content_type}' -H "Authorization: Bearer swt_$(printf '0%.0s' $(seq 1 64))" "$URL/stream")
is "$code" "401 application/problem+json" "a bad token: 401 problem JSON"
is "$(json_get "$(cat "$T/bad.json")" 'd["status"]')" 401 "with status 401"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/stream")
is "$code" 401 "no token: 401"
ok "$([ "$(store_sql "select count(*) from audit where action='api.refused' and subject like 'api:GET /api/v1/stream%'")" -ge 2 ]; echo $?)" "both refusals are audit entries api.refused"
code=$(curl -s -o "$T/bad.json" -w '%{http_code}' -H "$AUTH" "$URL/stream?deployment=999")
is "$code" 404 "no such deployment: 404"
code=$(curl -s -o "$T/bad.json" -w '%{http_code}' -H "$AUTH" "$URL/stream?deployment=$id&service=api")
is "$code" 400 "deployment and service together: 400"

# 100 streams at once: none holds a pool thread, the API still answers
for i in $(seq 1 100); do
  curl -sN -H "$AUTH" "$URL/stream?deployment=$id" >"$T/many.$i" 2>/dev/null &
  PIDS+=($!)
done
for _ in $(seq 1 100); do
  n=0; for i in $(seq 1 100); do grep -q succeeded "$T/many.$i" 2>/dev/null && n=$((n + 1)); done
  [ "$n" = 100 ] && break; sleep 0.2
done
is "$n" 100 "100 concurrent streams each got the deployment's transitions"
code=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' -H "$AUTH" "$URL/deployments/$id")
is "$code" 200 "with 100 streams open, GET /deployments/ID answers 200"

# the idle stream: a keepalive comment every 15 s
for _ in $(seq 1 200); do grep -q '^: keepalive' "$T/idle.out" && break; sleep 0.1; done
ok "$(grep -q '^: keepalive' "$T/idle.out"; echo $?)" "an idle stream gets ': keepalive'"
is "$(events "$T/idle.out" | wc -l)" 0 "and no event of another service"

kill -TERM "$SERVE_PID"
wait_pid "$SERVE_PID" 30
is "$rc" 0 "serve stops cleanly with streams open"
run_slipway down api
done_testing
