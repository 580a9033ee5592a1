# demo-db.sh - the database demo, tools/demo-db.sh, against a real PostgreSQL 15,
# real sqitch, real HAProxy and the demo service reading the example database
# (docs/databases.md "The application during a migration"): items_price
# migrated read-only under load with every read answered and writes refused
# only in the window, with the message; items_broken rolled back with the
# registry at items_price; the demo's records and the rehearsal's estimate
# shown; nothing left running.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/pg.sh"
need_haproxy
need_pg
command -v hey >/dev/null 2>&1 || { echo "1..0 # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }

export SLIPWAY_DEMO_DIR="$T/demo"
# as root the demo's PostgreSQL runs as 'postgres', which must reach the directory (as pg_start does)
[ "$(id -u)" = 0 ] && chmod 755 "$T"
SLIPWAY_BUILD="$SLIPWAY_BUILD" bash "$SLIPWAY_SRC/tools/demo-db.sh" >"$T/demo.out" 2>&1
rc=$?
is "$rc" 0 "tools/demo-db.sh exits 0"
[ "$rc" = 0 ] || tail -40 "$T/demo.out" | sed 's/^/# /'
out=$(cat "$T/demo.out")
like "$out" "rehearsal #[0-9]+ of app to 'items_price' on staging passed: .*estimate [0-9.]+s" "the rehearsal and its estimate"
like "$out" "expected [0-9.]+s from the rehearsal #[0-9]+ on [0-9-]+, backup #[0-9]+" "the estimate shown at the gate"
like "$out" "approve [0-9]+ --role dba" "the DBA approves"
like "$out" "api production: read-only" "the read-only window"
like "$out" "reads \\(hey\\): [1-9][0-9]* answers, 0 not 200, 0 without an answer" "every read answered"
like "$out" "405 Migrating the items table: read-only for a minute" "a refused write shows the message"
like "$out" '"traffic":"read-only"' "a read shows the mode"
like "$out" "migration #[0-9]+ of app production to 'items_price': succeeded: .*verified" "items_price migrated and verified"
like "$out" "migration #[0-9]+ of app production to 'items_broken': rolled_back: .*division by zero" "items_broken rolled back with sqitch's error"
like "$out" "items_broken: failed half way, rolled back, sqitch's registry at items_price" "the registry back at the previous change"
ok "$(! pgrep -f "$T/demo/pg/data" >/dev/null; echo $?)" "the demo's PostgreSQL is stopped"
ok "$(! pgrep -f "$T/demo/state" >/dev/null; echo $?)" "no HAProxy or service of the demo left running"
done_testing
