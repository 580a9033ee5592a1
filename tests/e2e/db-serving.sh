# db-serving.sh - the application serving through a migration (docs/databases.md
# "The demo service and the database"): the demo service reads and writes the
# example database's `items` table (libpq, DEMO_DATABASE_URL) behind a real
# HAProxy, on a real PostgreSQL 15 with real sqitch; under load from hey
# (reads) and a curl loop (writes):
#   - backup -> rehearse -> migrate (read-only, the slow change) -> verify:
#     0 failed reads, the reads say "read-only" while it lasts, writes refused
#     with 405 and the mode's message only while read-only, one contiguous
#     window, served before and after; the new column shows in the answers;
#   - a change that passes its rehearsal (staging has no rows) and fails in
#     production half way: sqitch reverts, the registry is back at the
#     previous change, the application serving throughout (0 failed reads),
#     writes served again after it.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/pg.sh"
need_haproxy
need_pg
command -v hey >/dev/null 2>&1 || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }
pg_start || { echo "not ok 1 - PostgreSQL starts"; exit 1; }
pg_sql postgres "CREATE DATABASE app_prod" && pg_sql postgres "CREATE DATABASE app_staging"
ok $? "production and staging databases created"

export APP_PROD_URL APP_STAGING_URL
APP_PROD_URL=$(pg_url app_prod) APP_STAGING_URL=$(pg_url app_staging)
make_project api 2 "env: {DEMO_DATABASE_URL: \"$APP_PROD_URL\"}"
make_release api v1
run_slipway start api v1
is "$rc" 0 "start api v1 (two instances) with the production database"
url="http://127.0.0.1:$PORT/api/items"
is "$(curl -s -o /dev/null -w '%{http_code}' "$url")" 404 "before the first change: no table, 404 (not a server error)"

mkdir -p "$T/proj/databases"
cp -r "$SLIPWAY_SRC/examples/db" "$T/proj/db"
MSG="Migrating the items table: read-only until it is done"
dbfile() { # USING: the database file, rehearsing on a restore of production or on staging itself
  cat >"$T/proj/databases/app.yaml" <<YAML
engine: pg
project: db
services: [api]
traffic: read-only
message: "$MSG"
rehearsal: {env: staging, using: $1}
targets:
  production: {url_env: APP_PROD_URL}
  staging: {url_env: APP_STAGING_URL}
YAML
}
dbfile restore
reg() { pg_sql app_prod "SELECT change FROM sqitch.changes WHERE project = 'slipway_demo' ORDER BY committed_at DESC LIMIT 1" 2>/dev/null; }
approve() {
  SLIPWAY_USER=carol "$SLIPWAY" approve "$1" --role engineering-manager >/dev/null 2>&1
  SLIPWAY_USER=erin "$SLIPWAY" approve "$1" --role dba >/dev/null 2>&1
}
export SLIPWAY_USER=bob
# migrate_to CHANGE: record the migration, approve it, run it; leaves rc, out (json)
migrate_to() {
  local id
  "$SLIPWAY" db migrate app --to "$1" --time-scale 3600 >/dev/null 2>&1
  id=$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")
  [ -n "$id" ] && approve "$id"
  run_slipway db migrate app --to "$1" -o json
  MIG_ID=$id
}

# ---- the first change, without load: the table the service reads
for step in "backup app" "rehearse app --to items"; do
  run_slipway db $step
  is "$rc" 0 "db $step"
done
migrate_to items
is "$rc" 0 "migrate to items"
body=$(curl -s "$url")
like "$body" '"traffic":"normal","items":\[\{"id":1,"name":"anchor"\}' "the service reads the table: $body"
body=$(curl -s -X POST "$url?name=dock")
like "$body" '"item":\{"id":4,"name":"dock"\}' "and writes to it: $body"
is "$(pg_sql app_prod "SELECT name FROM items WHERE id = 4")" dock "the row is in the database"

# ---- load: hey reads, a curl loop writes and reads (code, then the body's traffic)
HEY_PID="" W_PID=""
load_start() { # TAG
  hey -z 600s -c 4 -q 25 "$url" >"$T/hey-$1.out" 2>&1 &
  HEY_PID=$!
  : >"$T/writes-$1"; rm -f "$T/stop-writes"
  ( while [ ! -f "$T/stop-writes" ]; do
      c=$(curl -s -o "$T/w.body" -w '%{http_code}' -X POST "$url")
      echo "$c $(tr -d '\n' <"$T/w.body")" >>"$T/writes-$1"
      r=$(curl -s "$url" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("traffic"))' 2>/dev/null)
      echo "READ ${r:-failed}" >>"$T/writes-$1"
      sleep 0.05
    done ) &
  W_PID=$!
  sleep 1
}
# after the migration: until the writer has made a write that was served (at most 20 s), so the
# record shows writes served again after the window, however slow the loop runs on a loaded machine
writes_resume() { # TAG
  local n i
  n=$(wc -l <"$T/writes-$1")
  for i in $(seq 1 200); do
    tail -n +$((n + 1)) "$T/writes-$1" | grep -q '^201 ' && return 0
    sleep 0.1
  done
  return 1
}
load_stop() { # the write loop ends after its request in flight (every write it made is in its file)
  [ -n "$W_PID" ] && { touch "$T/stop-writes"; wait "$W_PID" 2>/dev/null; }
  [ -n "$HEY_PID" ] && { kill -INT "$HEY_PID" 2>/dev/null; wait "$HEY_PID" 2>/dev/null; }
  W_PID="" HEY_PID=""
}
at_exit load_stop
# hey's report: "Status code distribution:" then "  [CODE]<tab>N responses" lines;
# "Error distribution:" then "  [N]<tab>ERROR" lines (no answer at all)
hey_codes() { awk '/^Status code distribution:/ { s = 1; next } /^[^ \t]/ { s = 0 } s && /\[[0-9]+\]/ { gsub(/[][]/, "", $1); print $1, $2 }' "$1"; }
hey_non200() { hey_codes "$1" | awk '$1 != 200 { n += $2 } END { print n + 0 }'; }
hey_total() { hey_codes "$1" | awk '{ n += $2 } END { print n + 0 }'; }
hey_errors() { awk '/^Error distribution:/ { e = 1; next } /^[^ \t]/ { e = 0 } e && /\[[0-9]+\]/ { gsub(/[][]/, "", $1); n += $1 } END { print n + 0 }' "$1"; }
# the writes' codes in order on one line, e.g. "201 201 405 405 201"
write_codes() { awk '$1 != "READ" { printf "%s ", $1 }' "$1"; }

# ---- the slow change, read-only meanwhile, under load
run_slipway db backup app
is "$rc" 0 "backup at items"
run_slipway db rehearse app --to items_price
is "$rc" 0 "rehearse items_price: deploy, verify, revert, verify on a restore of production"
load_start price
migrate_to items_price
mrc=$rc mout=$out
writes_resume price
load_stop
is "$mrc" 0 "migrate to items_price under load"
is "$(json_get "$mout" 'd["state"]')" succeeded "succeeded (monitored without an error)"
is "$(reg)" items_price "sqitch's registry at items_price"
total=$(hey_total "$T/hey-price.out")
ok "$([ "$total" -gt 50 ]; echo $?)" "hey read through the migration ($total answers)"
is "$(hey_non200 "$T/hey-price.out") $(hey_errors "$T/hey-price.out")" "0 0" "0 failed reads (hey: every answer 200, no connection error)"
[ "$(hey_non200 "$T/hey-price.out")" = 0 ] || sed -n '/Status code/,$p' "$T/hey-price.out" | sed 's/^/# /'
codes=$(write_codes "$T/writes-price")
like "$codes" "^(201 )+(405 )+(201 )+$" "writes: served, refused in one window, served again ($(echo "$codes" | tr ' ' '\n' | sort | uniq -c | tr '\n' ' '))"
unlike "$(grep -c '^405 ' "$T/writes-price" || true)" "^0$" "some writes were refused"
is "$(grep '^405 ' "$T/writes-price" | sort -u | cut -d' ' -f2-)" "$MSG" "each refused write has the mode's message"
like "$(grep '^READ ' "$T/writes-price" | uniq | tr '\n' ' ')" "^READ normal (READ read-only )+READ normal" "the reads say read-only while it lasts, normal around it"
is "$(grep -c '^READ failed' "$T/writes-price")" 0 "no read of the loop failed either"
# a refused write is HAProxy's: it never reached the database (every 201 is one row)
is "$(pg_sql app_prod "SELECT COUNT(*) FROM items")" "$(( 4 + $(grep -c '^201 ' "$T/writes-price") ))" "the table has one row per served write, none for a refused one"
like "$(curl -s "$url")" '"price_cents":' "the new column shows in the service's answers"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")" 201 "writes served after the migration (the column's default)"

# ---- a change that passes its rehearsal and fails in production: rolled back, serving throughout
# staging has the schema and no rows: there the backfill divides nothing by zero
dbfile target
( cd "$T/proj/db" && SQITCH_TARGET=$APP_STAGING_URL sqitch deploy --to items_price >"$T/staging.log" 2>&1 ) &&
  pg_sql app_staging "DELETE FROM items" >/dev/null
ok $? "staging at items_price with an empty table"
run_slipway db backup app
is "$rc" 0 "backup at items_price"
run_slipway db rehearse app --to items_broken
is "$rc" 0 "the rehearsal of items_broken passes on staging (no rows)"
load_start broken
migrate_to items_broken
mrc=$rc mout=$out
writes_resume broken
load_stop
is "$mrc" 1 "the migration fails in production: exit 1"
is "$(json_get "$mout" 'd["state"]')" rolled_back "rolled back"
is "$(json_get "$mout" 'd["failed_step"]')" deploy "at deploy"
like "$(json_get "$mout" 'd["reason"]')" "division by zero" "with sqitch's error"
is "$(reg)" items_price "sqitch's registry back at items_price"
is "$(pg_sql app_prod "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'weight_g'")" 0 "the half-done column is gone"
total=$(hey_total "$T/hey-broken.out")
ok "$([ "$total" -gt 50 ]; echo $?)" "hey read through the failing migration ($total answers)"
is "$(hey_non200 "$T/hey-broken.out") $(hey_errors "$T/hey-broken.out")" "0 0" "0 failed reads through the failure and the rollback"
codes=$(write_codes "$T/writes-broken")
like "$codes" "^(201 )+(405 )*(201 )+$" "writes refused only in the read-only window, served after the rollback"
is "$(grep '^405 ' "$T/writes-broken" | sort -u | cut -d' ' -f2- | grep -vx "$MSG" | wc -l)" 0 "each refused write has the mode's message"
is "$(grep -c '^READ failed' "$T/writes-broken")" 0 "no read of the loop failed"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")" 201 "traffic normal after the rollback"
done_testing
