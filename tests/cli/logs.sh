# logs.sh - log lines of long-running commands (here `metrics --receive`,
# which runs without HAProxy; the controller's lines during a deploy are
# checked in tests/e2e/long-names.sh) carry an RFC 3339 UTC time and a
# level, as text or as JSON (--log-format), and -q keeps warnings and errors.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
receive() { "$SLIPWAY" "$@" metrics --receive --for 200ms; }

receive 2>"$T/text.err"
is "$?" 0 "metrics --receive --for 200ms exits 0"
like "$(cat "$T/text.err")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z info  receiving HAProxy' \
  "a text line: RFC 3339 UTC time, level, message"
is "$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (error|warn |info |debug) ' "$T/text.err")" 0 "every line has them"

receive --log-format json 2>"$T/json.err"
bad=$(python3 - "$T/json.err" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
bad = 0 if lines else 1
for line in lines:
    try:
        j = json.loads(line)
        bad += not (j["level"] in ("error", "warn", "info", "debug") and j["msg"] and
                    re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$", j["time"]))
    except (ValueError, KeyError):
        bad += 1
print(bad)
PY
)
is "$bad" 0 "--log-format json: each line an object with time, level and msg"

receive -q 2>"$T/quiet.err"
is "$(grep -c . "$T/quiet.err")" 0 "-q drops info lines"
"$SLIPWAY" metrics --receive --for 200ms --log-format=json -v 2>"$T/v.err"
like "$(cat "$T/v.err")" '"level": ?"info"' "options after the command work too"
done_testing
