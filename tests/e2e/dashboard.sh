# dashboard.sh - the web dashboard (docs/dashboard.md) in a real headless
# Chromium (Debian's chromium, driven by playwright-core from npm:
# tests/dashboard/), served by `slipway serve --listen` with HAProxy and the
# demo service on 127.0.0.1: a wrong token gets the API's own message; a
# token without the role sees no approve or abort button; a team lead signs
# in, approves a deployment waiting at the gate and watches it move (state
# and weight shown change; the approval is in the store); a deployer watches
# the canary-vs-stable chart fill and aborts a deployment (rolled back in the
# store); the calendar and DORA pages render.  No page runs anything the
# Content-Security-Policy refuses.  Screenshots (PNG) of each page are kept
# in $SLIPWAY_BUILD/test-output/dashboard/ (docs/dashboard.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
CHROMIUM=${SLIPWAY_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "1..0 # SKIP $CHROMIUM is not installed (tools/deps.sh test)"; exit 0; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "1..0 # SKIP node and npm are not installed"; exit 0; }
command -v hey >/dev/null || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }
if [ ! -d "$SLIPWAY_SRC/tests/dashboard/node_modules/playwright-core" ]; then
  (cd "$SLIPWAY_SRC/tests/dashboard" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
    { echo "1..0 # SKIP npm ci could not install tests/dashboard (no npm registry?)"; exit 0; }
fi
OUT="$SLIPWAY_BUILD/test-output/dashboard"
rm -rf "$OUT"
mkdir -p "$OUT"

{ sed '/^roles:/,$d' "$SLIPWAY_SRC/examples/lab-policy.yaml"
  printf 'roles:\n  team-lead: [bob]\n  deployer: [carol]\ntypes:\n  standard:\n    approvals: [team-lead]\n'; } >"$T/policy.yaml"
export SLIPWAY_POLICY="$T/policy.yaml"
unset SLIPWAY_USER

# web: long holds, so it stays at its first step once approved; shop: 2 s
# analysis intervals at 30x, so its chart fills while the test looks
make_project web 1 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}"
WEB_PORT=$PORT
make_project shop 1 "analysis: {steps: [{weight: 20, hold: 60m}, {weight: 50, hold: 60m}]}"
SHOP_PORT=$PORT
for s in web shop; do make_release "$s" v1 0 5; make_release "$s" v2 0 5; done
run_slipway start web v1
is "$rc" 0 "web v1 is the stable revision"
run_slipway start shop v1
is "$rc" 0 "shop v1 is the stable revision"
BOB=$("$SLIPWAY" token create --user bob 2>/dev/null)
CAROL=$("$SLIPWAY" token create --user carol 2>/dev/null)
DAVE=$("$SLIPWAY" token create --user dave 2>/dev/null)

"$SLIPWAY" serve --listen 127.0.0.1:0 >"$T/serve.log" 2>&1 &
SERVE_PID=$!
SERVE_RC=""
stop_serve() { [ -n "$SERVE_RC" ] && return 0; kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; SERVE_RC=$?; }
at_exit stop_serve
APORT=""
for _ in $(seq 1 300); do
  APORT=$(sed -n 's/.*the HTTP API listens on .* (port \([0-9]*\)).*/\1/p' "$T/serve.log" | head -1)
  [ -n "$APORT" ] && break
  sleep 0.1
done
ok "$([ -n "$APORT" ]; echo $?)" "serve --listen serves the API and the dashboard"
URL="http://127.0.0.1:$APORT"
hey -z 600s -c 2 -q 40 "http://127.0.0.1:$WEB_PORT/x" >/dev/null 2>&1 &
LOAD1=$!
hey -z 600s -c 2 -q 40 "http://127.0.0.1:$SHOP_PORT/x" >/dev/null 2>&1 &
LOAD2=$!
stop_load() { kill -INT "$LOAD1" "$LOAD2" 2>/dev/null; wait "$LOAD1" "$LOAD2" 2>/dev/null; }
at_exit stop_load

# ---- the static files: no token, a strict CSP
hdr=$(curl -s -D - -o /dev/null "$URL/")
like "$hdr" "^HTTP/1.1 302" "GET / redirects"
like "$hdr" "Location: /ui/" "to /ui/"
hdr=$(curl -s -D - -o "$T/index.html" "$URL/ui/")
like "$hdr" "^HTTP/1.1 200" "GET /ui/ needs no token"
like "$hdr" "Content-Type: text/html; charset=utf-8" "text/html"
like "$hdr" "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';" "a strict Content-Security-Policy"
unlike "$(grep -v 'src=' "$T/index.html" | tr -d '\n')" "<script>|<script [^>]*>[^<]" "index.html has no inline script"
like "$(curl -s -D - -o /dev/null "$URL/ui/app.js")" "Content-Type: text/javascript" "app.js: text/javascript"
like "$(curl -s -D - -o /dev/null "$URL/ui/vendor/uplot/uPlot.min.css")" "Content-Type: text/css" "uPlot's CSS: text/css"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/ui/no-such-file.js")" 404 "an unknown file: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$URL/ui/../api/v1/deployments")" 404 "../ leads nowhere"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/ui/")" 405 "POST to the dashboard: 405"
cmp -s <(curl -s "$URL/ui/vendor/uplot/uPlot.iife.min.js") "$SLIPWAY_SRC/src/server/ui/vendor/uplot/uPlot.iife.min.js"
ok $? "the vendored uPlot is served as committed"

api() { # api METHOD PATH TOKEN [BODY] -> $body, $code
  local args=(-s -o "$T/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(--data-binary "$4")
  code=$(curl "${args[@]}" "$URL/api/v1$2")
  body=$(cat "$T/body")
}

# ---- shop: approved over the API, its analysis fills the chart
run_slipway deploy shop v2 --time-scale 30
is "$rc" 0 "deploy beside serve records shop v2 (30x)"
SHOP_ID=$(store_sql "SELECT id FROM deployments WHERE service = 'shop' AND version = 'v2'")
api POST "/deployments/$SHOP_ID/approve" "$BOB" '{"role": "team-lead"}'
is "$code" 201 "bob approves shop over the API"
wait_sql "SELECT state FROM deployments WHERE id = $SHOP_ID" progressing
ok $? "shop progresses"

# ---- web: recorded over the API, it waits at the gate for the browser
api POST /deployments "$CAROL" '{"service": "web", "version": "v2"}'
is "$code" 201 "carol records web v2 over the API"
WEB_ID=$(json_get "$body" 'd["id"]')
wait_sql "SELECT COUNT(*) FROM transitions WHERE deployment_id = $WEB_ID" 1
is "$(store_sql "SELECT state FROM deployments WHERE id = $WEB_ID")" pending "web waits at the gate for team-lead"
api GET "/deployments/$WEB_ID/analysis" "$DAVE"
is "$code" 200 "GET /deployments/ID/analysis with a token and no role: 200"
is "$(json_get "$body" 'd["kind"] + " " + str(len(d["items"]))')" "DeploymentAnalysis 0" "web: no analysis yet"

# ---- the browser
(cd "$SLIPWAY_SRC/tests/dashboard" && URL="$URL" OUT="$OUT" CHROMIUM="$CHROMIUM" BOB="$BOB" CAROL="$CAROL" \
  DAVE="$DAVE" WEB_ID="$WEB_ID" SHOP_ID="$SHOP_ID" timeout 600 node dashboard.mjs) >"$T/browser.out" 2>&1
brc=$?
while IFS= read -r line; do
  case "$line" in
    "ok - "*) ok 0 "browser: ${line#ok - }" ;;
    "not ok - "*) ok 1 "browser: ${line#not ok - }" ;;
    "#"*) echo "$line" ;;
  esac
done <"$T/browser.out"
is "$brc" 0 "the browser script ends well"
[ "$brc" = 0 ] || tail -30 "$T/browser.out" | sed 's/^/# /'

# ---- the store agrees with what the browser saw
is "$(store_sql "SELECT approver || ' ' || role || ' ' || decision || ' ' || identity FROM approvals WHERE deployment_id = $WEB_ID")" \
   "bob team-lead approved token:1" "the store: bob's approval of web, made in the browser"
like "$(store_sql "SELECT state FROM deployments WHERE id = $WEB_ID")" "^(progressing|paused|promoting|monitoring|succeeded)$" \
     "the gate opened: web went on"
wait_sql "SELECT state FROM deployments WHERE id = $SHOP_ID" rolled_back
ok $? "the store: shop, aborted in the browser, rolled back"
is "$(store_sql "SELECT requested_by FROM intents WHERE deployment_id = $SHOP_ID AND kind = 'abort'")" carol \
   "the abort is carol's"
n=$(ls "$OUT"/*.png 2>/dev/null | wc -l)
ok "$([ "$n" -ge 6 ]; echo $?)" "screenshots of every page kept in $OUT ($n PNG)"
stop_load
stop_serve
is "$SERVE_RC" 0 "serve stops cleanly on SIGTERM (under ASan: no leak or error report)"
[ "$SERVE_RC" = 0 ] || grep -A12 -E "Sanitizer|runtime error" "$T/serve.log" | head -30 | sed 's/^/# /'
run_slipway down web
run_slipway down shop
done_testing
