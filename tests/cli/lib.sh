# tests/cli/lib.sh - TAP helpers for command-level tests (sourced).
#
#   . "$SLIPWAY_SRC/tests/cli/lib.sh"
#   run_slipway check --type standard      # sets $out, $err, $rc
#   is "$rc" 0 "standard is allowed"
#   like "$out" '"allowed": true' "json says allowed"
#   done_testing
# Every test gets a fresh temporary directory $T (removed at exit) and runs
# slipway with the state directory inside it.
set -u
: "${SLIPWAY:?run through tests/run}"
T=$(mktemp -d "${TMPDIR:-/tmp}/slipway-test.XXXXXX")
export SLIPWAY_STATE_DIR="$T/state"
_n=0
_failed=0
_cleanup_fns=()
at_exit() { _cleanup_fns+=("$1"); }
_finish() {
  local f
  for f in "${_cleanup_fns[@]}"; do $f || true; done
  rm -rf "$T"
}
trap _finish EXIT

ok() { # ok COND_EXIT_STATUS NAME
  _n=$((_n + 1))
  if [ "$1" = 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=$((_failed + 1)); fi
}
is() { # is GOT WANT NAME
  _n=$((_n + 1))
  if [ "$1" = "$2" ]; then echo "ok $_n - $3"
  else echo "not ok $_n - $3"; echo "#   got '$1'"; echo "#   want '$2'"; _failed=$((_failed + 1)); fi
}
like() { # like TEXT REGEX NAME (grep -E)
  _n=$((_n + 1))
  if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $_n - $3"
  else echo "not ok $_n - $3"; echo "#   no match for /$2/ in:"; printf '%s\n' "$1" | head -20 | sed 's/^/#   /'; _failed=$((_failed + 1)); fi
}
unlike() { # unlike TEXT REGEX NAME
  _n=$((_n + 1))
  if printf '%s' "$1" | grep -Eq -- "$2"; then echo "not ok $_n - $3"; echo "#   unexpected /$2/"; _failed=$((_failed + 1))
  else echo "ok $_n - $3"; fi
}
skip() { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP ${2:-}"; }
run_slipway() { # run_slipway ARGS... -> $out $err $rc
  local ef="$T/.stderr"
  out=$("$SLIPWAY" "$@" 2>"$ef"); rc=$?
  err=$(cat "$ef")
}
# jq is not required: json_get uses python3 if present, else a grep.
json_get() { # json_get JSON PYTHON_EXPR_ON_d  (e.g. 'd["allowed"]')
  printf '%s' "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); v=$2; print(json.dumps(v) if not isinstance(v,str) else v)"
}
done_testing() { echo "1..$_n"; [ "$_failed" = 0 ]; }
# schema_ok JSON KIND NAME: JSON is a slipway/v1 document of KIND that
# validates against docs/schema/KIND.json (tests/helpers/schema-check, a real
# JSON Schema validator); the validator's errors are shown on failure.
schema_ok() {
  local msg r
  msg=$(printf '%s' "$1" | /usr/bin/python3 "$SLIPWAY_SRC/tests/helpers/schema-check" "$SLIPWAY_SRC/docs/schema" "$2" 2>&1); r=$?
  _n=$((_n + 1))
  if [ $r = 0 ]; then echo "ok $_n - $3"
  else echo "not ok $_n - $3"; printf '%s\n' "$msg" | head -10 | sed 's/^/#   /'; _failed=$((_failed + 1)); fi
}
