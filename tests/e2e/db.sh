# db.sh - database migrations as the runbook runs them, on a real PostgreSQL
# 15 and real sqitch (docs/databases.md): backup -> rehearse -> migrate ->
# verify with the demo service read-only through HAProxy meanwhile; the
# change that fails half way rolled back with sqitch's registry at the
# previous change; migrate refused without a backup or a rehearsal, naming
# what is missing; the default policy's DBA approval required.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/pg.sh"
need_haproxy
need_pg
pg_start || { echo "not ok 1 - PostgreSQL starts"; exit 1; }
pg_sql postgres "CREATE DATABASE app_prod" && pg_sql postgres "CREATE DATABASE app_staging"
ok $? "production and staging databases created"

# the demo service behind HAProxy, and the database it uses
make_project api 1
make_release api v1
run_slipway start api v1
is "$rc" 0 "start api v1"
url="http://127.0.0.1:$PORT/api/items"
mkdir -p "$T/proj/databases" "$T/proj/secrets"
cp -r "$SLIPWAY_SRC/examples/db" "$T/proj/db"
export APP_PROD_URL; APP_PROD_URL=$(pg_url app_prod)
pg_url app_staging >"$T/proj/secrets/staging.url"
cat >"$T/proj/databases/app.yaml" <<YAML
engine: pg
project: db
services: [api]
traffic: read-only
backup: {keep: 2, max_age: 1h}
rehearsal: {env: staging, using: restore}
targets:
  production: {url_env: APP_PROD_URL}
  staging: {url_file: secrets/staging.url}
YAML
run_slipway db check app -o json
is "$rc" 0 "db check"
schema_ok "$out" Database "db check: Database validates"
unlike "$out$err" "postgresql://" "the connection is never printed"

# ---- nothing before the first change: a backup, a rehearsal, a migration to 'items'
reg() { pg_sql app_prod "SELECT change FROM sqitch.changes WHERE project = 'slipway_demo' ORDER BY committed_at DESC LIMIT 1" 2>/dev/null; }

export SLIPWAY_USER=bob
run_slipway db migrate app --to items --time-scale 3600
is "$rc" 1 "migrate without a backup or a rehearsal: refused (exit 1)"
like "$out" "refused before anything ran: no backup of app production: run 'slipway db backup app --env production'" "names the missing backup"
like "$out" "no passing rehearsal of 'items'.*slipway db rehearse app --to items" "and the missing rehearsal"
is "$(store_sql "SELECT COUNT(*) FROM deployments WHERE service = 'db.app'")" 0 "nothing recorded, nothing ran"

run_slipway db backup app -o json
is "$rc" 0 "db backup"
schema_ok "$out" DatabaseBackup "db backup: DatabaseBackup validates"
bpath=$(json_get "$out" 'd["path"]')
is "$(sha256sum "$bpath" | cut -d' ' -f1)" "$(json_get "$out" 'd["sha256"]')" "the recorded sha256 is the file's"
is "$(stat -c %s "$bpath")" "$(json_get "$out" 'd["size_bytes"]')" "the recorded size is the file's"
unlike "$out$err" "postgresql://" "the connection is never printed"

run_slipway db migrate app --to items --time-scale 3600
is "$rc" 1 "migrate with a backup but no rehearsal: refused"
unlike "$out" "no backup" "the backup is not missing any more"
like "$out" "no passing rehearsal of 'items'" "the rehearsal is"

run_slipway db rehearse app --to items -o json
is "$rc" 0 "rehearse to items on a scratch copy of production"
schema_ok "$out" DatabaseRehearsal "db rehearse: DatabaseRehearsal validates"
is "$(json_get "$out" 'd["ok"]')" true "the rehearsal passed (deploy, verify, revert, verify)"
is "$(pg_sql postgres "SELECT COUNT(*) FROM pg_database WHERE datname LIKE 'slipway_rehearsal%'")" 0 "the scratch database is dropped"
is "$(reg)" "" "production untouched by the rehearsal"

# ---- the default policy: engineering-manager and dba approve a database-migration
run_slipway db migrate app --to items --time-scale 3600
is "$rc" 4 "migrate waits for approvals (exit 4)"
like "$out" "approval needed: .*dba" "the DBA's approval is required by default"
like "$out" "expected [0-9.]+s from the rehearsal #1" "the estimate from the rehearsal is shown"
id=$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")
is "$(store_sql "SELECT type FROM deployments WHERE id = $id")" database-migration "recorded as a deployment of type database-migration"
SLIPWAY_USER=carol run_slipway approve "$id" --role engineering-manager
is "$rc" 0 "the engineering manager approves"
run_slipway db migrate app --to items --time-scale 3600
is "$rc" 4 "still waiting"
like "$out" "approval needed: dba" "for the DBA alone"
SLIPWAY_USER=erin run_slipway approve "$id" --role dba
is "$rc" 0 "the DBA approves"
run_slipway db migrate app --to items --time-scale 3600 -o json
is "$rc" 0 "migrate to items"
schema_ok "$out" DatabaseMigration "db migrate: DatabaseMigration validates"
is "$(json_get "$out" 'd["state"]')" succeeded "succeeded"
is "$(reg)" items "sqitch's registry is at items"
is "$(pg_sql app_prod "SELECT COUNT(*) FROM items")" 3 "the table is there with its rows"

# ---- the slow change, read-only meanwhile: GETs served throughout, writes refused only while read-only
run_slipway db backup app
is "$rc" 0 "a backup at items"
run_slipway db rehearse app --to items_price
is "$rc" 0 "rehearse items_price"
like "$out" "estimate [0-9.]+s" "an estimate"
run_slipway db migrate app --to items_price --time-scale 3600
is "$rc" 4 "the new migration waits for its own approvals"
id2=$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")
SLIPWAY_USER=carol "$SLIPWAY" approve "$id2" --role engineering-manager >/dev/null 2>&1
SLIPWAY_USER=erin "$SLIPWAY" approve "$id2" --role dba >/dev/null 2>&1
"$SLIPWAY" db migrate app --to items_price --time-scale 3600 >"$T/mig.out" 2>"$T/mig.err" &
mig=$!
gets_failed=0 post_codes=""
while kill -0 "$mig" 2>/dev/null; do
  c=$(curl -s -o /dev/null -w '%{http_code}' "$url"); [ "$c" = 200 ] || gets_failed=$((gets_failed + 1))
  p=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url"); post_codes="$post_codes $p"
  sleep 0.2
done
wait "$mig"; mrc=$?
is "$mrc" 0 "migrate to items_price"
is "$gets_failed" 0 "0 failed reads while migrating"
like "$post_codes" "405" "writes refused (405) while read-only"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")" 200 "writes served again after the migration"
is "$(reg)" items_price "the registry is at items_price"
ok "$([ -s "$T/state/db/app/migrate-$id2.log" ] && grep -q 'items_price' "$T/state/db/app/migrate-$id2.log"; echo $?)" "sqitch's log is kept with the deployment"

# ---- the change that fails half way: rolled back, registry at the previous change
run_slipway db backup app
run_slipway db rehearse app --to items_broken
is "$rc" 1 "the rehearsal of the broken change fails"
like "$out" "failed at deploy" "at deploy"
run_slipway db migrate app --to items_broken --time-scale 3600
is "$rc" 1 "migrate refused: no passing rehearsal"
like "$out" "no passing rehearsal of 'items_broken' with this plan \\(the last one failed\\)" "says the last rehearsal failed"
# force past the rehearsal (a rehearsal against a staging that differs): record a passing one
plan=$(store_sql "SELECT plan_sha256 FROM db_rehearsals ORDER BY id DESC LIMIT 1")
sqlite3 "$SLIPWAY_STATE_DIR/slipway.db" "INSERT INTO db_rehearsals(database, env, to_change, from_change, plan_sha256, ok, deploy_ms, verify_ms, revert_ms, failed_step, reason, log_path, created_ms) VALUES ('app', 'staging', 'items_broken', 'items_price', '$plan', 1, 1000, 100, 100, '', 'test', '', strftime('%s','now') * 1000)"
run_slipway db migrate app --to items_broken --time-scale 3600
is "$rc" 4 "waits for approvals"
id3=$(store_sql "SELECT id FROM deployments WHERE service = 'db.app' AND state = 'pending'")
SLIPWAY_USER=carol "$SLIPWAY" approve "$id3" --role engineering-manager >/dev/null 2>&1
SLIPWAY_USER=erin "$SLIPWAY" approve "$id3" --role dba >/dev/null 2>&1
run_slipway db migrate app --to items_broken --time-scale 3600 -o json
is "$rc" 1 "the failing migration exits 1"
is "$(json_get "$out" 'd["state"]')" rolled_back "rolled back"
is "$(json_get "$out" 'd["failed_step"]')" deploy "the failing step is named"
like "$(json_get "$out" 'd["reason"]')" "division by zero" "with sqitch's error"
is "$(reg)" items_price "sqitch's registry is back at the previous change"
is "$(pg_sql app_prod "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'weight_g'")" 0 "the half-done column is gone"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")" 200 "traffic normal after the rollback"
is "$(store_sql "SELECT COUNT(*) FROM transitions WHERE deployment_id = $id3 AND to_state = 'rolling_back'")" 1 "the rollback is in the record"

# ---- listings
run_slipway db backups app -o json
is "$rc" 0 "db backups"
schema_ok "$out" DatabaseBackupList "db backups: DatabaseBackupList validates"
is "$(json_get "$out" 'len(d["items"])')" 2 "backup.keep: 2 kept"
run_slipway db rehearsals app -o json
schema_ok "$out" DatabaseRehearsalList "db rehearsals: DatabaseRehearsalList validates"
run_slipway history db.app
like "$out" "items_broken" "history of db.app lists the migrations"
done_testing
