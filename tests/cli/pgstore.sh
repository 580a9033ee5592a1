# pgstore.sh - the store on PostgreSQL (docs/records.md "PostgreSQL"): a
# throw-away PostgreSQL 15 (initdb in the test's directory, a unix socket
# there, no TCP; tests/e2e/lib/pg.sh) runs the statement layer's and the
# ported modules' cases (build/tests/test_sql, the same as on SQLite), and
# the slipway binary pointed at it with SLIPWAY_STORE refuses clearly what is
# not ported yet.  Skipped without PostgreSQL 15's server programs.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/pg.sh"
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  echo "1..0 # SKIP PostgreSQL 15 is not installed (tools/deps.sh test)"; exit 0
fi
pg_start || { echo "not ok 1 - PostgreSQL starts"; echo "1..1"; exit 1; }
"$PG_BIN/createdb" -h "$PGSOCK" -U "$PG_USER" slipway_unit && "$PG_BIN/createdb" -h "$PGSOCK" -U "$PG_USER" slipway_cli
ok $? "two databases"

# the unit cases, on both backends; their TAP lines become this test's
out=$(SLIPWAY_TEST_PG_URL=$(pg_url slipway_unit) "$SLIPWAY_BUILD/tests/test_sql" 2>&1); rc=$?
is "$rc" 0 "test_sql passes on SQLite and PostgreSQL"
unlike "$out" '^not ok' "no case failed"
unlike "$out" 'SKIP' "the PostgreSQL cases ran"
like "$out" 'ok [0-9]+ - the audit chain.s head is the same on both backends' "the audit chain is the same on both"
printf '%s\n' "$out" | grep '^not ok' -A3 | sed 's/^/#   /'
is "$(pg_sql slipway_unit "SELECT module || ' ' || version FROM schema_version ORDER BY module" | tr '\n' ,)" \
  "approvals 1,audit 1,deployments 4,emergency 1,incidents 1,lease 1,notify 1," "schema_version as psql sees it"

# the controller's own unit tests on PostgreSQL (store_open() follows SLIPWAY_STORE): deployments,
# transitions, intents, analysis results through real ticks, and the lease fencing a tick's commit
for t in test_controller test_lease; do
  "$PG_BIN/createdb" -h "$PGSOCK" -U "$PG_USER" "$t"
  out=$(SLIPWAY_STORE=$(pg_url "$t") "$SLIPWAY_BUILD/tests/$t" 2>&1); rc=$?
  is "$rc" 0 "$t passes on PostgreSQL"
  printf '%s\n' "$out" | grep '^not ok' -A3 | sed 's/^/#   /'
done

# the binary: a command whose modules are not all ported says so (exit 3, the store error)
export SLIPWAY_STORE=$(pg_url slipway_cli)
run_slipway status -o json
is "$rc" 3 "status on PostgreSQL exits 3 (store error)"
like "$err" "store module '[a-z]+' is SQLite-only yet" "naming the module not ported yet"
like "$err" "unset SLIPWAY_STORE" "and what to do"
is "$(pg_sql slipway_cli "SELECT count(*) FROM schema_version WHERE version = 0")" 0 "no module was half set up"
run_slipway audit -o json
is "$rc" 3 "audit as well (it opens every module)"
SLIPWAY_STORE="mysql://x" run_slipway status
is "$rc" 2 "a store URL of another kind is a configuration error"
like "$err" "SLIPWAY_STORE is neither empty nor a PostgreSQL URL" "saying what would be valid"
SLIPWAY_STORE="postgresql://$PG_USER@$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$T/nowhere")/x" \
  run_slipway status
is "$rc" 3 "an unreachable PostgreSQL is a store error"
like "$err" "cannot open store 'postgresql://" "naming the store"
done_testing
