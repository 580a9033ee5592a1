# bench/lib.sh - a throw-away project with the demo service behind HAProxy
# (sourced by bench/*.sh).  Sets $B (slipway), $W (work dir), $PORT.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
[ -x "$build/slipway" ] || { meson setup "$build" >/dev/null && ninja -C "$build" >/dev/null; } || exit 1
ninja -C "$build" >/dev/null || exit 1
B="$build/slipway"
W=$(mktemp -d /tmp/slipway-bench.XXXXXX)
export SLIPWAY_STATE_DIR="$W/state" SLIPWAY_PROJECT="$W/proj"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bench_project() { # INSTANCES VERSIONS...
  local n=$1 v; shift
  mkdir -p "$W/proj/services"
  cat >"$W/proj/services/api.yaml" <<YAML
command: ["$build/examples/demo-service/demo-service", "--port", "{port}", "--version", "{version}"]
readiness: {path: /health, timeout: 1s, deadline: 20s}
stop: {grace: 3s, drain: 1s}
environments:
  production: {listen: "127.0.0.1:$PORT", instances: $n}
YAML
  for v in "$@"; do mkdir -p "$W/proj/releases/api/$v"; echo 0 >"$W/proj/releases/api/$v/error_rate"; done
}
RECEIVER=""
bench_cleanup() {
  [ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null && wait "$RECEIVER" 2>/dev/null
  "$B" down api >/dev/null 2>&1
  rm -rf "$W"
}
trap bench_cleanup EXIT
