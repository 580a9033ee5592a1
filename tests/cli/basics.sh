# basics.sh - the dispatcher: help, version, unknown commands, every
# command's --help (docs/ARCHITECTURE.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"

run_slipway --version
is "$rc" 0 "--version exits 0"
like "$out" '^slipway [0-9]+\.[0-9]+\.[0-9]+' "--version prints the version"

run_slipway --help
is "$rc" 0 "--help exits 0"
like "$out" 'Commands:' "--help lists commands"

run_slipway no-such-command
is "$rc" 2 "unknown command exits 2"
like "$err" "'no-such-command' is not a slipway command" "unknown command is named"

run_slipway
is "$rc" 2 "no command exits 2"

# every command in the table answers --help with exit 0 and a usage line
cmds=$("$SLIPWAY" --help | awk '/^Commands:/{f=1; next} /^$/{f=0} f{print $1}')
for c in $cmds; do
  run_slipway "$c" --help
  is "$rc" 0 "'$c --help' exits 0"
  like "$out" "^usage: slipway $c" "'$c --help' prints its usage"
done

# an error message never passes a terminal escape through (a name typed or read from a file)
run_slipway deploy "$(printf 'x\033[31mRED')" v1
is "$rc" 2 "a service name with an escape is refused"
like "$err" "'x\?\[31mRED'" "the escape shows as '?'"
if printf '%s' "$err" | grep -q "$(printf '\033')"; then ok=1; else ok=0; fi
is "$ok" 0 "no ESC byte reaches stderr"

# free text that is recorded and printed later (a reason, an actor) never carries a control byte
run_slipway deploy web v2 --type emergency --reason "$(printf 'bad\033[31mred\r\nline2')"
is "$rc" 2 "a --reason with an escape and a newline is refused"
like "$err" "--reason: control characters \(byte 0x1b\)" "the refusal names the option and the byte"
run_slipway pause 1 --by "$(printf 'ev\033[2Jil')"
is "$rc" 2 "a --by with an escape is refused"
SLIPWAY_USER="$(printf 'al\033[31mice')" run_slipway approve 1 --role team-lead
is "$rc" 2 "a \$SLIPWAY_USER with an escape is refused"
like "$err" "SLIPWAY_USER has a control character" "... and says why"

# a closed stdout is an error, not silent success
"$SLIPWAY" --help >/dev/full 2>/dev/null
is "$?" 3 "write error on stdout exits 3"
# a bad global option: the one-line error and a pointer to --help (as git), not the whole usage
run_slipway -o= version
is "$rc" 2 "-o= exits 2"
like "$err" "^slipway: error: unknown output format '='; valid: text, json \(write -o json or --output=json\)" \
  "-o=: the error names the value and the spellings"
like "$err" "run 'slipway --help' for usage" "  and points to --help"
is "$(printf '%s\n' "$err" | wc -l)" 2 "  in two lines, no usage"
run_slipway --log-format yaml version
is "$(printf '%s\n' "$err" | wc -l)" 2 "a bad --log-format: two lines"
run_slipway version -o xml
like "$err" "run 'slipway version --help' for usage" "a bad -o after the command points to its --help"
run_slipway --bogus version
is "$(printf '%s\n' "$err" | wc -l)" 2 "an unknown option before the command: two lines"
done_testing
