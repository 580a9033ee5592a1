# db-crash.sh - a slipway killed (kill -9) during a slow sqitch change, then
# run again: its record and sqitch's registry agree and no change runs twice
# (docs/databases.md "Crash safety").  Real PostgreSQL 15 and sqitch; no
# router (traffic: none), approvals off so that only the crash is tested.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/pg.sh"
need_pg
pg_start || { echo "not ok 1 - PostgreSQL starts"; exit 1; }
pg_sql postgres "CREATE DATABASE app_prod" && pg_sql postgres "CREATE DATABASE app_staging"
ok $? "databases created"
export SLIPWAY_PROJECT="$T/proj" SLIPWAY_USER=bob
{ cat "$SLIPWAY_SRC/examples/lab-policy.yaml"
  printf 'types:\n  database-migration:\n    approvals: []\n'; } >"$T/policy.yaml"
export SLIPWAY_POLICY="$T/policy.yaml"
mkdir -p "$T/proj/databases"
cp -r "$SLIPWAY_SRC/examples/db" "$T/proj/db"
export APP_PROD_URL APP_STAGING_URL
APP_PROD_URL=$(pg_url app_prod) APP_STAGING_URL=$(pg_url app_staging)
cat >"$T/proj/databases/app.yaml" <<'YAML'
project: db
targets:
  production: {url_env: APP_PROD_URL}
  staging: {url_env: APP_STAGING_URL}
YAML
sql() { python3 -c 'import sqlite3,sys; [print(" ".join(map(str,r))) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "$SLIPWAY_STATE_DIR/slipway.db" "$1"; }
reg() { pg_sql app_prod "SELECT change FROM sqitch.changes WHERE project = 'slipway_demo' ORDER BY committed_at DESC LIMIT 1" 2>/dev/null; }
deploys() { pg_sql app_prod "SELECT COUNT(*) FROM sqitch.events WHERE event = 'deploy' AND change = '$1'"; }

for step in "backup app" "rehearse app --to items"; do
  run_slipway db $step
  is "$rc" 0 "db $step"
done

# kill -9 while the migration is monitored (the type's hour at time scale 360: 10 s), then run again:
# verified and monitored to the same end, not deployed again
"$SLIPWAY" db migrate app --to items --time-scale 360 >"$T/m0.out" 2>"$T/m0.err" &
pid=$!
for _ in $(seq 1 300); do
  [ "$(sql "SELECT step FROM db_migrations ORDER BY deployment_id DESC LIMIT 1")" = monitor ] && break
  sleep 0.1
done
kill -9 "$pid"; wait "$pid" 2>/dev/null
id0=$(sql "SELECT deployment_id FROM db_migrations ORDER BY deployment_id DESC LIMIT 1")
is "$(sql "SELECT state FROM deployments WHERE id = $id0")" monitoring "killed while monitored: the record says monitoring"
run_slipway db migrate app --to items -o json
is "$rc" 0 "run again: the monitoring goes on to its end"
is "$(json_get "$out" 'd["recovered"]')" true "it says it recovered"
is "$(json_get "$out" 'd["state"]')" succeeded "succeeded"
like "$(json_get "$out" 'd["reason"]')" "after an interruption at step 'monitor'" "after an interruption while monitored"
is "$(deploys items)" 1 "the change ran once"
is "$(sql "SELECT COUNT(*) FROM transitions WHERE deployment_id = $id0 AND to_state = 'monitoring'")" 1 "monitoring entered once"

for step in "backup app" "rehearse app --to items_price"; do
  run_slipway db $step
  is "$rc" 0 "db $step"
done
is "$(reg)" items "production at items"

# kill -9 while sqitch runs the slow change (pg_sleep 4 s inside its transaction)
"$SLIPWAY" db migrate app --to items_price --time-scale 3600 >"$T/m1.out" 2>"$T/m1.err" &
pid=$!
for _ in $(seq 1 100); do
  [ "$(sql "SELECT step FROM db_migrations ORDER BY deployment_id DESC LIMIT 1")" = deploy ] && break
  sleep 0.1
done
sleep 1
kill -9 "$pid"; wait "$pid" 2>/dev/null
id=$(sql "SELECT deployment_id FROM db_migrations ORDER BY deployment_id DESC LIMIT 1")
is "$(sql "SELECT state FROM deployments WHERE id = $id")" progressing "killed in the middle: the record says progressing"
is "$(sql "SELECT step FROM db_migrations WHERE deployment_id = $id")" deploy "at step deploy"

run_slipway db migrate app --to items_price --time-scale 3600 -o json
is "$rc" 0 "run again: finishes the interrupted migration"
is "$(json_get "$out" 'd["recovered"]')" true "it says it recovered"
is "$(json_get "$out" 'd["deployment_id"]')" "$id" "the same deployment"
is "$(json_get "$out" 'd["state"]')" succeeded "succeeded"
is "$(reg)" items_price "sqitch's registry at items_price"
is "$(sql "SELECT state FROM deployments WHERE id = $id")" succeeded "the record agrees with the registry"
is "$(deploys items_price)" 1 "the change ran once"
is "$(sql "SELECT COUNT(*) FROM deployments WHERE service = 'db.app'")" 2 "no second deployment was made"

# after the recovery: the change is not run again by a second migrate
run_slipway db backup app
run_slipway db rehearse app --to items_broken
is "$rc" 1 "the broken change's rehearsal fails"
run_slipway db migrate app --to items_price --time-scale 3600
is "$rc" 1 "migrate to the change deployed already: refused"
like "$out" "at 'items_price' already" "says it is there already"

# ---- checksums that do not lie: a script edited after it ran is named with both
# checksums; CRLF line endings and a byte-order mark alone are not an edit
d="$T/proj/db/deploy/items.sql"
ran=$(sha1sum "$d" | cut -d' ' -f1)
is "$(pg_sql app_prod "SELECT script_hash FROM sqitch.changes WHERE change = 'items'")" "$ran" "sqitch's script_hash is the SHA-1 of the deploy script"
{ printf '\xef\xbb\xbf'; sed 's/$/\r/' "$SLIPWAY_SRC/examples/db/deploy/items.sql"; } >"$d"
run_slipway db migrate app --to items_broken --time-scale 3600
unlike "$out" "was edited" "CRLF and a BOM are not an edit"
echo "-- a comment added later" >>"$d"
run_slipway db migrate app --to items_broken --time-scale 3600
is "$rc" 1 "an edited script: refused"
like "$out" "deploy/items.sql was edited after it ran in production: sha1 $ran then, [0-9a-f]{40} now" "names the file and both checksums"
cp "$SLIPWAY_SRC/examples/db/deploy/items.sql" "$d"
# a change inserted before one that already ran
sed -i 's/^items_price /items_extra 2026-11-01T11:00:00Z slipway <slipway@example.invalid> # inserted later\nitems_price /' "$T/proj/db/sqitch.plan"
printf 'BEGIN;\nSELECT 1;\nCOMMIT;\n' >"$T/proj/db/deploy/items_extra.sql"
run_slipway db migrate app --to items_broken --time-scale 3600
is "$rc" 1 "out of order: refused"
like "$out" "change 'items_extra' was added to the plan before 'items_price', which already ran in production: out of order" "says which change and where"
done_testing
