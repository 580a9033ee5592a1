# local-commands.sh - the local commands without HAProxy: service file
# errors, usage errors, and `cleanup --keep N` on release directories.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
export SLIPWAY_PROJECT="$T/proj"
mkdir -p "$T/proj/services"

run_slipway start nosuch v1
is "$rc" 2 "an unknown service is a name that does not exist: exit 2, as in every command (docs/exit-codes.md)"
like "$err" "no service 'nosuch': '.*services/nosuch.yaml' does not exist" "the error says where it looked"

printf 'command: [x]\nenvironments:\n  production: {listen: "127.0.0.1:99999"}\n' >"$T/proj/services/bad.yaml"
run_slipway start bad v1
is "$rc" 2 "an invalid service file is a usage error"
like "$err" "services/bad.yaml:3:24: 'listen' port must be 1 to 65535" "the error names FILE:LINE:COL"

head -c 300000 /dev/zero | tr '\0' '#' >"$T/proj/services/huge.yaml"
run_slipway start huge v1
is "$rc" 2 "an oversized service file is bad input: exit 2, as for every file slipway reads"
like "$err" "huge.yaml: larger than the limit" "the error says why"

run_slipway start bad
is "$rc" 2 "start without VERSION is a usage error"
run_slipway start bad 'v/1'
is "$rc" 2 "a version with a slash is refused"
run_slipway weight svc v1=abc
is "$rc" 2 "weight needs VERSION=PCT"
run_slipway cleanup svc --keep 0
is "$rc" 2 "--keep 0 is refused"

cat >"$T/proj/services/web.yaml" <<'YAML'
command: [python3, -m, http.server, "{port}"]
environments:
  production: {listen: 127.0.0.1:1}
YAML
for v in v1 v2 v3 v4; do mkdir -p "$T/proj/releases/web/$v"; done
touch -d '2026-01-01' "$T/proj/releases/web/v1"; touch -d '2026-01-02' "$T/proj/releases/web/v2"
touch -d '2026-01-03' "$T/proj/releases/web/v3"; touch -d '2026-01-04' "$T/proj/releases/web/v4"
run_slipway cleanup web -o json
is "$rc" 0 "cleanup exits 0"
is "$(json_get "$out" 'sorted(d["removed"])')" '["v1", "v2"]' "the default keeps the newest 2 (runbook --keep 2)"
is "$(ls "$T/proj/releases/web" | tr '\n' ' ')" "v3 v4 " "v3 and v4 are kept"
run_slipway cleanup web --keep 1
like "$out" "removed release v3 of web" "--keep 1 removes v3"
run_slipway cleanup web --keep 1
like "$out" "nothing to remove" "nothing left to remove"

# a second slipway on one service says at once whom it waits for, then goes on when the lock is free
run_slipway down web
is "$rc" 0 "down with nothing running exits 0"
lock="$SLIPWAY_STATE_DIR/routers/web.production.lock"
is "$(sed -n 's/^pid [0-9]* since [0-9T:.-]*Z: .*down web.*/held/p' "$lock")" "held" "the lock file says who held it, since when and its command"
flock "$lock" sh -c 'printf "pid 4242 since 2026-11-30T10:00:00Z: slipway deploy web v9\n" >"$1"
  while [ ! -e "$2" ]; do sleep 0.1; done' sh "$lock" "$T/release" &
holder=$!
for _ in $(seq 200); do grep -q 'pid 4242' "$lock" 2>/dev/null && break; sleep 0.1; done
"$SLIPWAY" down web >/dev/null 2>"$T/down.err" &
second=$!
for _ in $(seq 200); do grep -q 'waiting up to' "$T/down.err" && break; sleep 0.1; done
touch "$T/release"
wait "$holder"
wait "$second"
is "$?" 0 "the second slipway waited for the lock and went on when it was free"
like "$(cat "$T/down.err")" "warning: another slipway is changing 'web' in 'production' \(held by pid 4242 since 2026-11-30T10:00:00Z: slipway deploy web v9\); waiting up to 30 s" "it said at once who holds the lock"
done_testing
