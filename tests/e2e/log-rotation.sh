# log-rotation.sh - an instance's stdout and stderr are rotated by size
# (a service file's `logs: {max_size, keep}`, docs/services.md): a chatty
# instance writing about 10 MB keeps at most `keep` files of about
# max_size each, no line is lost or cut in two among what is kept, the
# instance is never held up (it writes all of it and serves), and the log
# writer ends with the instance.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 1
# the service's command is start.sh: 200,000 numbered lines (about 10.6 MB) on
# stdout and stderr from a child running beside the server, then the demo service
cat >"$T/proj/services/api.yaml" <<YAML
command: ["sh", "start.sh", "{port}", "{version}", "{instance}"]
readiness: {path: /health, timeout: 1s, deadline: 20s}
stop: {grace: 3s, drain: 200ms}
logs: {max_size: 1MB, keep: 3}
environments:
  production: {listen: "127.0.0.1:$PORT", instances: 1}
YAML
make_release api v1
cat >"$T/proj/releases/api/v1/chatter.py" <<'PY'
import os, sys
for i in range(200000):
    # whole lines with one write each, alternating stdout and stderr
    os.write(1 + i % 2, b"line %07d %s\n" % (i, b"x" * 40))
PY
printf 'python3 chatter.py &\nexec "%s" --port "$1" --version "$2" --instance "$3"\n' "$DEMO" >"$T/proj/releases/api/v1/start.sh"

run_slipway start api v1
is "$rc" 0 "the chatty instance starts and is ready"
LOG="$SLIPWAY_STATE_DIR/logs/api.production/v1-0.log"
for i in $(seq 1 600); do grep -q 'line 0199999' "$LOG" 2>/dev/null && break; sleep 0.1; done
like "$(tail -1 "$LOG")" '^line 0199999 x+$' "it wrote everything (never held up): the last line is in the log"
got=$(count_versions 5 "http://127.0.0.1:$PORT/")
is "$got" "v1 5" "and it serves"

ok "$([ -f "$LOG.1" ] && [ -f "$LOG.2" ] && [ ! -e "$LOG.3" ]; echo $?)" "3 files kept: the log, .1 and .2 (the older ones dropped)"
sizes=$(stat -c %s "$LOG" "$LOG.1" "$LOG.2" | tr '\n' ' ')
ok "$(for s in $sizes; do [ "$s" -le $((1024 * 1024)) ] || exit 1; done; echo 0)" "none passes max_size, 1MB ($sizes bytes)"
check=$(cat "$LOG.2" "$LOG.1" "$LOG" | python3 -c '
import re, sys
for n, l in enumerate(sys.stdin.read().split("\n")[:-1]):
    if not re.fullmatch(r"line \d{7} x{40}", l):
        print("cut line %d: %r" % (n, l[:60])); sys.exit(0)
print("ok")')
is "$check" ok "every kept line is whole"
missing=$(cat "$LOG.2" "$LOG.1" "$LOG" | python3 -c '
import sys
ids = sorted(int(l.split()[1]) for l in sys.stdin.read().splitlines())
lo = ids[0]
print(len(set(range(lo, 200000)) - set(ids)))')
is "$missing" 0 "no line lost from the oldest kept to the last (stdout and stderr lines may swap places, never go missing)"

run_slipway down api
is "$rc" 0 "down"
for i in $(seq 1 50); do
  holders=$(for f in /proc/[0-9]*/fd/*; do [ "$(readlink "$f" 2>/dev/null)" = "$LOG" ] && echo "$f"; done)
  [ -z "$holders" ] && break; sleep 0.1
done
is "$holders" "" "the log writer ended with the instance"
done_testing
