# ofrep.sh - OFREP (docs/flags.md) through clients nobody here wrote: the
# OpenFeature JavaScript server SDK with its OFREP provider (npm, pinned in
# tests/ofrep/package-lock.json, installed by `npm ci`), against `slipway
# serve --listen` and `slipway api`; the cases are tests/data/ofrep/.  Also,
# with curl: the bulk endpoint's ETag / If-None-Match, 401 without a token.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
export SLIPWAY_USER=alice
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "1..0 # SKIP node and npm are not installed (tools/deps.sh test)"; exit 0
fi
sdk="$SLIPWAY_SRC/tests/ofrep"
if [ ! -d "$sdk/node_modules/@openfeature/ofrep-provider" ]; then
  (cd "$sdk" && npm ci --no-audit --no-fund >/dev/null 2>&1)
fi
if [ ! -d "$sdk/node_modules/@openfeature/ofrep-provider" ]; then
  echo "1..0 # SKIP npm ci could not install tests/ofrep (no npm registry?)"; exit 0
fi
data="$SLIPWAY_SRC/tests/data/ofrep"
run_slipway flag apply "$data/flags.yaml"
is "$rc" 0 "the test's flags are applied"
TOKEN=$("$SLIPWAY" token create --user checkout-service 2>/dev/null)

# what slipway itself says for hashed evaluations, for the SDK to agree with
: >"$T/split.txt"
for u in $(seq 1 12); do
  for fl in agent:billing:enabled:boolean checkout-theme:string; do
    name=${fl%:*} type=${fl##*:}
    run_slipway flag eval "$name" --context "{\"targetingKey\": \"user-$u\"}" -o json
    echo "$name $type user-$u $(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d["value"]), d["variant"], d["reason"])')" >>"$T/split.txt"
  done
done
ok "$(grep -q ' SPLIT$' "$T/split.txt"; echo $?)" "some of those are SPLIT (the rollout and the split hash)"
ok "$(grep -q 'agent:billing:enabled .* false off DEFAULT$' "$T/split.txt"; echo $?)" "and some users are outside the 50% rollout"

# start_server NAME ARGS...: sets $PORT from the log line
start_server() {
  local name=$1; shift
  "$SLIPWAY" "$@" --listen 127.0.0.1:0 >"$T/$name.log" 2>&1 &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(sed -n -e 's/.*the HTTP API listens on .* (port \([0-9]*\)).*/\1/p' \
      -e 's/.*api: listening on https*:\/\/.*:\([0-9]*\) (.*/\1/p' "$T/$name.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.1
  done
  ok "$([ -n "$PORT" ]; echo $?)" "$name --listen serves"
}
stop_server() { kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; }
sdk_run() { # the SDK's cases, one ok line each
  local line
  (cd "$sdk" && node evaluate.mjs "http://127.0.0.1:$PORT" "$TOKEN" "$data/cases.json" "$T/split.txt") >"$T/sdk.out" 2>"$T/sdk.err"
  [ -s "$T/sdk.out" ] || { ok 1 "$1: the SDK ran ($(head -c 300 "$T/sdk.err"))"; return; }
  while IFS= read -r line; do
    case "$line" in
      PASS*) ok 0 "$1: ${line#PASS }" ;;
      FAIL*) ok 1 "$1: ${line#FAIL }" ;;
    esac
  done <"$T/sdk.out"
}

mkdir -p "$T/project"
cd "$T/project" || exit 1
start_server serve serve
at_exit stop_server
sdk_run "serve"
base="http://127.0.0.1:$PORT/ofrep/v1/evaluate/flags"
code=$(curl -s -o "$T/b" -w '%{http_code}' -D "$T/h" -H "Authorization: Bearer $TOKEN" -d '{"context": {"targetingKey": "user-1"}}' "$base")
is "$code" 200 "bulk evaluation: 200"
is "$(json_get "$(cat "$T/b")" '[f["key"] for f in d["flags"]]')" '["agent-config", "agent:billing:enabled", "checkout-theme", "killed", "max-items"]' "every flag of the environment"
etag=$(sed -n 's/^ETag: *\(.*\)\r$/\1/Ip' "$T/h")
ok "$([ -n "$etag" ]; echo $?)" "with an ETag ($etag)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" -H "Authorization: Bearer $TOKEN" -d '{"context": {"targetingKey": "user-1"}}' "$base")
is "$code" 304 "If-None-Match with that ETag: 304"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" -H "Authorization: Bearer $TOKEN" -d '{"context": {"targetingKey": "user-2"}}' "$base")
is "$code" 200 "another context: 200 (the ETag covers the context)"
# single evaluations on fresh connections (so on several of the server's threads,
# each with its own snapshot of the flags): all must see a change at once
single_values() { # single_values TOKEN FLAG: the values (or codes) of 8 evaluations
  local i
  for i in 1 2 3 4 5 6 7 8; do
    curl -s -o "$T/one" -w '%{http_code} ' -H "Authorization: Bearer $1" -d '{"context": {"targetingKey": "user-1"}}' "$base/$2"
    json_get "$(cat "$T/one")" 'd.get("value", d.get("errorCode"))'
  done | sort -u | tr '\n' ' '
}
is "$(single_values "$TOKEN" max-items)" "200 10 " "single evaluations before a change"
run_slipway flag set max-items --value 250
is "$(single_values "$TOKEN" max-items)" "200 250 " "after 'flag set', every single evaluation answers the new value"
run_slipway flag create ofrep-late --json '{"enabled": true, "default": "on"}'
is "$(single_values "$TOKEN" ofrep-late)" "200 true " "a flag created while serving is found"
run_slipway flag delete ofrep-late
is "$(single_values "$TOKEN" ofrep-late)" "404 FLAG_NOT_FOUND " "and once deleted, not found"
TOKEN2=$("$SLIPWAY" token create --user short-lived 2>/dev/null)
is "$(single_values "$TOKEN2" max-items)" "200 250 " "a second token evaluates"
id2=$("$SLIPWAY" token list -o json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print([t["id"] for t in d["items"] if t["user"] == "short-lived"][0])')
run_slipway token revoke "$id2"
is "$(single_values "$TOKEN2" max-items)" "401 GENERAL " "revoked, it is refused at once (the token's row is read on every request)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" -H "Authorization: Bearer $TOKEN" -d '{"context": {"targetingKey": "user-1"}}' "$base")
is "$code" 200 "a flag changed: 200 again"
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -d '{"context": {}}' "$base")
is "$(json_get "$(cat "$T/b")" '[f.get("errorCode") for f in d["flags"] if f["key"] == "agent:billing:enabled"]')" '["TARGETING_KEY_MISSING"]' "bulk without a targeting key: that flag's item is TARGETING_KEY_MISSING"
is "$(json_get "$(cat "$T/b")" '[f["value"] for f in d["flags"] if f["key"] == "max-items"]')" '[250]' "and the others answer"
code=$(curl -s -o "$T/b" -w '%{http_code}' -d '{"context": {}}' "$base/max-items")
is "$code" 401 "no token: 401"
run_slipway audit -o json
like "$out" '"api.refused"' "the refusal is audited (a write, after the request's read transaction)"
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "X-Slipway-Environment: ../x" -d '{"context": {}}' "$base/max-items")
is "$code:$(json_get "$(cat "$T/b")" 'd["errorCode"]')" "400:INVALID_CONTEXT" "an environment that is not a name: 400 INVALID_CONTEXT"
run_slipway flag set max-items --value 260
is "$(single_values "$TOKEN" max-items)" "200 260 " "after those, a change is still seen at once (no read transaction left open)"
run_slipway flag set max-items --value 250
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -d '{"context": ' "$base/max-items")
is "$code:$(json_get "$(cat "$T/b")" 'd["errorCode"]')" "400:PARSE_ERROR" "a body that is not JSON: 400 PARSE_ERROR"
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -d '{"context": {"targetingKey": 7}}' "$base/max-items")
is "$code:$(json_get "$(cat "$T/b")" 'd["errorCode"]')" "400:INVALID_CONTEXT" "a targeting key that is not a string: 400 INVALID_CONTEXT"
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "X-Slipway-Environment: staging" -d '{"context": {}}' "$base/max-items")
is "$code:$(json_get "$(cat "$T/b")" 'd["errorCode"]')" "404:FLAG_NOT_FOUND" "another environment (X-Slipway-Environment): not found there"
stop_server
run_slipway flag set max-items --value 10

start_server api api
sdk_run "api"
stop_server
run_slipway audit --verify
is "$rc" 0 "audit --verify holds"
done_testing
