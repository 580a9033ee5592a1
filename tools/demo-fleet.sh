#!/usr/bin/env bash
# tools/demo-fleet.sh - slipway on a fleet (docs/fleet.md): three hosts in
# two regions made on this machine (network namespaces, each with its own
# address and its own sshd: tests/e2e/lib/fleet.sh), the `ssh` target
# starting the service's instances on them over SSH, one HAProxy here in
# front of all of them.
#   1. v1, the first release, on every host (h1, h2 in eu-west, h3 in us-east)
#   2. v2 (healthy) region by region: eu-west at 50%, then 100% held, then
#      us-east: promoted
#   3. v3 (its release answers 30% of requests with 500): stopped in eu-west
#      and rolled back there; us-east never got it (no copy, no instance, its
#      server's weight untouched)
# Real HAProxy, real processes on the hosts, requests from hey during the
# rollouts.  Needs root (network namespaces), Debian's openssh-server, ssh,
# rsync, haproxy and hey (tools/deps.sh test).  The engine runs 60 times
# faster (--time-scale 60); it takes about three minutes.  Everything it
# started is stopped at the end (namespaces, processes, HAProxy).  Exit 0
# only if v2 was promoted and v3 rolled back in eu-west with us-east untouched.
#   SLIPWAY_DEMO_SCALE=N   another time scale
set -u
cd "$(dirname "$0")/.." || exit 2
top=$PWD
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ "$(id -u)" = 0 ] || { echo "demo-fleet: needs root (it makes network namespaces for its hosts)" >&2; exit 2; }
build=${SLIPWAY_BUILD:-$top/build}
if [ ! -f "$build/build.ninja" ]; then meson setup "$build" >/dev/null || exit 1; fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }
export SLIPWAY="$build/slipway" SLIPWAY_SRC="$top" SLIPWAY_BUILD="$build"
scale=${SLIPWAY_DEMO_SCALE:-60}
. "$top/tests/cli/lib.sh"
. "$top/tests/e2e/lib/local.sh"
. "$top/tests/e2e/lib/fleet.sh"
need_haproxy >/dev/null
need_fleet
command -v hey >/dev/null 2>&1 || { echo "demo-fleet: needs hey (tools/deps.sh test)" >&2; exit 2; }

say "three hosts in two regions (network namespaces, each with its own sshd)"
make_fleet 3 eu-west eu-west us-east || { echo "demo-fleet: the hosts could not be made" >&2; exit 1; }
make_project api 3 "target: ssh
analysis: {canary: regions.yaml}"
sed -i 's|"--instance", "{instance}"\]|"--instance", "{instance}", "--bind", "0.0.0.0"]|' "$T/proj/services/api.yaml"
cp "$top/tests/data/configs/fleet-regions.yaml" "$T/proj/services/regions.yaml"
make_release api v1 0 5
make_release api v2 0 5
make_release api v3 30 5
sed 's/^/    /' "$T/proj/hosts.yaml"
SOCK="$SLIPWAY_STATE_DIR/routers/api.production/admin.sock"
servers() { # the service's servers in HAProxy: name address weight status
  python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n"); d = b""
while True:
    b = s.recv(65536)
    if not b: break
    d += b
lines = d.decode().splitlines(); h = lines[0].lstrip("# ").split(","); ix = {k: i for i, k in enumerate(h)}
for l in lines[1:]:
    x = l.split(",")
    if len(x) < len(h) or x[0] != "api.production" or x[1] in ("FRONTEND", "BACKEND"): continue
    print("    %-6s %-18s weight %3s  %s" % (x[1], x[ix["addr"]], x[ix["weight"]], x[ix["status"]]))
PY
}
follow() { # VERSION: run the deployment, promote it at monitoring, print its story
  "$SLIPWAY" deploy api "$1" --time-scale "$scale" >"$T/deploy-$1.out" 2>&1 &
  local ctl=$! i
  for i in $(seq 1 6000); do
    st=$(deployment_row "$1" | awk '{print $2}')
    [ "$st" = monitoring ] && { "$SLIPWAY" promote "$(deployment_row "$1" | awk '{print $1}')" >/dev/null; break; }
    kill -0 "$ctl" 2>/dev/null || break
    sleep 0.1
  done
  wait "$ctl"
  grep -E "instances ready|drained and stopped|\[step\]|\[promoted\]|\[rolled|rolling back|region '|succeeded \(|deployment #" \
    "$T/deploy-$1.out" | cut -c25-260 | sed 's/^/    /'
}

say "1. v1, the first release, on every host"
follow v1
servers
hey -z 900s -c 4 -q 25 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

say "2. v2 (healthy), region by region: eu-west, then us-east"
follow v2
servers
v2=$(deployment_row v2 | awk '{print $2}')

say "3. v3 (30% of its answers are 500): stopped in eu-west, rolled back there"
follow v3
servers
v3=$(deployment_row v3 | awk '{print $2}')
h3_release=absent
[ -e "$T/fleet/h3/root/releases/api/v3" ] && h3_release=present
echo "    v3's release on h3 (us-east): $h3_release"
stop_load
say "result"
echo "    v2: $v2    v3: $v3"
[ "$v2" = succeeded ] && [ "$v3" = rolled_back ] && [ "$h3_release" = absent ] && grep -q "region 'eu-west'" "$T/deploy-v3.out"
