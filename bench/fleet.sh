#!/usr/bin/env bash
# bench/fleet.sh - the `ssh` target's cost against the number of hosts
# (docs/fleet.md "Measured: bench/fleet"): for 1, 2, 4 and 8 hosts of the
# namespace test bed (tests/e2e/lib/fleet.sh: a network namespace per host,
# its own sshd), a service with 2 instances per host is released (v1), then
# v2 goes through a canary (one step at 50%, promoted at monitoring) under
# light load through the one HAProxy.  Measured per run:
#   start  wall time of the step that starts the new revision on the fleet
#          (copy + digest, start, readiness from here, into HAProxy): from the
#          deployment's warm-up line to "api v2: N instances ready"
#   stop   wall time of the step that retires the old one (drain each server,
#          stop over SSH): from "[succeeded]" to "api v1: drained and stopped"
#   ssh    ssh processes started (every command and rsync, counted by an
#          `ssh` first in PATH that logs and runs /usr/bin/ssh), per second of
#          a hold (no actuation: the readiness listing alone), and the
#          wall time of one listing round (the hold's seconds per listing)
# The reference is the 1-host run of the same invocation: each row is also
# given as a ratio to it.  Run on demand (root, Debian's openssh-server,
# ssh, rsync, hey), never by tests/run:   bench/fleet.sh [HOSTS...]   (default 1 2 4 8)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export SLIPWAY_SRC=$top SLIPWAY_BUILD=${SLIPWAY_BUILD:-$top/build}
export SLIPWAY=${SLIPWAY:-$SLIPWAY_BUILD/slipway}

if [ "${1:-}" = --one ]; then
  H=$2
  . "$top/tests/cli/lib.sh"
  . "$top/tests/e2e/lib/local.sh"
  . "$top/tests/e2e/lib/fleet.sh"
  need_haproxy >/dev/null
  need_fleet >/dev/null
  make_fleet "$H" || { echo "fleet $H: could not be made" >&2; exit 1; }
  mkdir -p "$T/bin"
  cat >"$T/bin/ssh" <<SH
#!/bin/sh
echo "\$(date +%s.%N)" >>"$T/ssh.count"
exec /usr/bin/ssh "\$@"
SH
  chmod +x "$T/bin/ssh"
  export PATH="$T/bin:$PATH"
  make_project api $((2 * H)) "target: ssh
analysis: {canary: one-step.yaml}"
  sed -i 's|"--instance", "{instance}"\]|"--instance", "{instance}", "--bind", "0.0.0.0"]|' "$T/proj/services/api.yaml"
  printf 'apiVersion: slipway/v1\nkind: Strategy\nspec:\n  strategy: canary\n  steps: [{weight: 50, hold: 2m}]\n' \
    >"$T/proj/services/one-step.yaml"
  make_release api v1 0 5
  make_release api v2 0 5
  promote() { # VERSION
    local i
    for i in $(seq 1 3000); do
      [ "$(deployment_row "$1" | awk '{print $2}')" = monitoring ] && break
      kill -0 "$ctl" 2>/dev/null || return 1
      sleep 0.1
    done
    "$SLIPWAY" promote "$(deployment_row "$1" | awk '{print $1}')" >/dev/null
  }
  "$SLIPWAY" deploy api v1 --time-scale 60 >"$T/d1.out" 2>&1 &
  ctl=$!; promote v1; wait "$ctl" || { echo "fleet $H: v1 failed" >&2; tail "$T/d1.out" >&2; exit 1; }
  hey -z 600s -c 2 -q 25 "http://127.0.0.1:$PORT/api/x" >/dev/null 2>&1 &
  load=$!
  : >"$T/ssh.count"
  "$SLIPWAY" deploy api v2 --time-scale 60 >"$T/d2.out" 2>&1 &
  ctl=$!
  # a hold: 20 s into monitoring (30 min at 60x), nothing to actuate
  for i in $(seq 1 3000); do [ "$(deployment_row v2 | awk '{print $2}')" = monitoring ] && break; sleep 0.1; done
  sleep 2; h0=$(date +%s.%N); n0=$(wc -l <"$T/ssh.count"); sleep 20; h1=$(date +%s.%N); n1=$(wc -l <"$T/ssh.count")
  promote v2; wait "$ctl"; rc=$?
  kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null
  [ "$rc" = 0 ] || { echo "fleet $H: v2 failed" >&2; tail "$T/d2.out" >&2; exit 1; }
  python3 - "$T/d2.out" "$H" "$h0" "$h1" "$n0" "$n1" <<'PY'
import re, sys, datetime
out, H, h0, h1, n0, n1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def ts(l):
    return datetime.datetime.strptime(l[:23], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
lines = [l for l in open(out) if re.match(r"\d{4}-", l)]
first = next(ts(l) for l in lines if "[started]" in l)
ready = next(ts(l) for l in lines if re.search(r"api v2: \d+ instances ready", l))
succ = next(ts(l) for l in lines if "[succeeded]" in l)
stop = next(ts(l) for l in lines if "api v1: drained and stopped" in l)
rate = (n1 - n0) / (h1 - h0)
print("%d %.1f %.1f %.2f %.1f" % (H, ready - first, stop - succ, rate, (h1 - h0) / max(1, (n1 - n0) / H)))
PY
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "bench/fleet.sh needs root (network namespaces)" >&2; exit 2; }
echo "# hosts instances  start_s  stop_s  ssh/s(hold)  s/listing   start_ratio stop_ratio   (load $(cut -d' ' -f1-3 /proc/loadavg))"
ref_start="" ref_stop=""
for H in ${*:-1 2 4 8}; do
  row=$(bash "$0" --one "$H") || { echo "# $H hosts: failed"; continue; }
  read -r h start stop rate per <<<"$row"
  [ -n "$ref_start" ] || { ref_start=$start; ref_stop=$stop; }
  printf '%7s %9s %8s %7s %12s %10s   %11.2f %10.2f\n' "$h" $((2 * h)) "$start" "$stop" "$rate" "$per" \
    "$(python3 -c "print($start / $ref_start)")" "$(python3 -c "print($stop / $ref_stop)")"
done
