# store-readonly.sh - a store the caller may not write says so and what to do,
# instead of SQLite's bare "attempt to write a readonly database".  Needs root
# (to run slipway as another user); otherwise skipped.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v su >/dev/null 2>&1; then
  skip "a read-only store as another user" "not root"
  done_testing
  exit 0
fi
ro="$T/ro"
mkdir -p "$ro"
run_slipway --state-dir "$ro" incident open api --title "make the store"
is "$rc" 0 "the store is made"
chmod 711 "$T"; chmod 555 "$ro"; chmod 444 "$ro"/*
out=$(su nobody -s /bin/sh -c "'$SLIPWAY' --state-dir '$ro' incident open api --title again" 2>&1); rc=$?
chmod 755 "$ro"; chmod 644 "$ro"/*
is "$rc" 3 "writing to a read-only store exits 3"
like "$out" "read-only for this user" "the error says the store is read-only"
like "$out" "run slipway as a user who may write there" "and what to do"
done_testing
