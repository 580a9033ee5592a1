# fleet-rolling.sh - the `ssh` target on a fleet of 4 hosts (network
# namespaces with their own sshd, tests/e2e/lib/fleet.sh): a first release of
# 8 instances, then a rolling update with maxSurge/maxUnavailable 25% under
# load through the one HAProxy (docs/fleet.md).  Never fewer than 6 servers
# ready and serving (HAProxy's `show stat`, polled all along), no request
# failed, the engine's five batches in order, instances spread over every
# host, releases verified by digest, and a restarted controller adopts what
# runs (nothing started twice).  Skipped without root or network namespaces.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/fleet.sh"
need_haproxy
need_fleet
command -v hey >/dev/null 2>&1 || { echo "1..1"; echo "ok 1 - fleet test # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }

make_fleet 4 || { echo "not ok 1 - the fleet could not be made"; exit 1; }
ok 0 "4 hosts, each with its own sshd and host key"

make_project api 8 "target: ssh
analysis: {canary: rolling.yaml}"
# the instances listen on their host's address, not 127.0.0.1
sed -i 's|"--instance", "{instance}"\]|"--instance", "{instance}", "--bind", "0.0.0.0"]|' "$T/proj/services/api.yaml"
cat >"$T/proj/services/rolling.yaml" <<'YAML'
apiVersion: slipway/v1
kind: Strategy
spec:
  strategy: rolling
  replicas: 8
  maxSurge: 25%
  maxUnavailable: 25%
  hold: 2m
YAML
make_release api v1 0 5
# under ASan the instances answer slower and their latency tail is longer: a slower clock
# gives each step's judge three times the requests (as tests/e2e/demo.sh does)
SCALE=60
[ "${SLIPWAY_SANITIZE:-0}" = 1 ] && SCALE=20
make_release api v2 0 5
SOCK="$SLIPWAY_STATE_DIR/routers/api.production/admin.sock"
show_deploy() { [ "$_failed" = 0 ] || for f in "$T"/deploy*.out; do [ -f "$f" ] && tail -15 "$f" | cut -c1-300 | sed "s|^|# ${f##*/}: |"; done; }
at_exit show_deploy

# instances per host from the hosts' own pid files: "h1:2 h2:2 ..."
spread() {
  local i out=""
  for i in 1 2 3 4; do
    out="$out h$i:$(ls "$T/fleet/h$i/root/run/api.production/" 2>/dev/null | grep -c "^$1-.*\.pid$")"
  done
  echo $out
}

# monitoring (30 m, 30 s at x60) is ended by a person, as in first-release.sh
promote_at_monitoring() { # VERSION: once its deployment monitors, `slipway promote` it
  local i
  for i in $(seq 1 3000); do
    [ "$(deployment_row "$1" | awk '{print $2}')" = monitoring ] && break
    kill -0 "$ctl" 2>/dev/null || return 1
    sleep 0.1
  done
  "$SLIPWAY" promote "$(deployment_row "$1" | awk '{print $1}')" >/dev/null
}
"$SLIPWAY" deploy api v1 --time-scale "$SCALE" >"$T/deploy1.out" 2>&1 &
ctl=$!
promote_at_monitoring v1
wait_pid "$ctl" 300
is "$rc" 0 "the first release of v1 over the fleet succeeds"
is "$(spread v1)" "h1:2 h2:2 h3:2 h4:2" "8 instances of v1, 2 on each host"
got=$(count_versions 40 "http://127.0.0.1:$PORT/api/x")
is "$got" "v1 40" "HAProxy reaches them on their hosts"
cfg=$(cat "$SLIPWAY_STATE_DIR/routers/api.production/haproxy.cfg")
like "$cfg" "server v1-7 $(fleet_addr 4):9101 " "servers are HOST:PORT (instance 7 on h4, its second port)"
ok "$([ -s "$T/fleet/h1/root/releases/api/v1.sha256" ]; echo $?)" "the release's digest was verified on the host"

# HAProxy's view, polled every 100 ms: the service backend's servers ready and serving
# (weight > 0, not drained; the log relay's backends are not counted)
python3 - "$SOCK" "$T/stats.min" "$T/stats.stop" api.production <<'PY' &
import socket, sys, time, os
sock, out, stop, backend = sys.argv[1:5]
lo, samples = 99, 0
while not os.path.exists(stop):
    try:
        s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(sock)
        s.sendall(b"show stat\n"); data = b""
        while True:
            b = s.recv(65536)
            if not b: break
            data += b
        s.close()
        lines = data.decode().splitlines()
        hdr = lines[0].lstrip("# ").split(",")
        ix = {k: i for i, k in enumerate(hdr)}
        n = 0
        for l in lines[1:]:
            f = l.split(",")
            if len(f) < len(hdr) or f[ix["svname"]] in ("FRONTEND", "BACKEND") or f[ix["pxname"]] != backend: continue
            if f[ix["status"]] not in ("MAINT", "DRAIN") and int(f[ix["weight"]] or 0) > 0: n += 1
        lo = min(lo, n); samples += 1
    except Exception:
        pass
    time.sleep(0.1)
open(out, "w").write("%d %d\n" % (lo, samples))
PY
poller=$!
hey -z 600s -c 4 -q 25 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; touch "$T/stats.stop"; wait "$poller" 2>/dev/null; }
at_exit stop_load

"$SLIPWAY" deploy api v2 --time-scale "$SCALE" >"$T/deploy2.out" 2>&1 &
ctl=$!
# a controller restart mid-rollout: killed at the third step, started again
for i in $(seq 1 1200); do [ "$(deployment_row v2 | awk '{print $3}')" = 3 ] && break; sleep 0.1; done
kill -KILL "$ctl"; wait "$ctl" 2>/dev/null
"$SLIPWAY" deploy api v2 --time-scale "$SCALE" >"$T/deploy3.out" 2>&1 &
ctl=$!
promote_at_monitoring v2
wait_pid "$ctl" 600
is "$rc" 0 "the rolling update of v2 succeeds after a controller restart mid-rollout"
like "$(cat "$T/deploy3.out")" "adopted" "the restarted controller adopted the running instances"
stop_load
read -r lo samples <"$T/stats.min"
echo "# HAProxy samples: $samples, fewest ready and serving: $lo"
ok "$([ "$samples" -gt 20 ] && [ "$lo" -ge 6 ]; echo $?)" "never fewer than 6 of 8 ready and serving (fewest $lo over $samples samples)"
summary=$(sed -n '/Status code distribution/,$p' "$T/hey.out")
echo "$summary" | sed 's/^/# /'
total=$(echo "$summary" | awk '/responses/{n+=$2} END{print n+0}')
ok "$([ "$total" -gt 100 ]; echo $?)" "load ran through the rollout: $total responses"
unlike "$summary" '\[[013-9][0-9][0-9]\]|\[2[1-9][0-9]\]' "no response other than 200"
unlike "$summary" 'Error distribution' "no request failed (connection errors, timeouts)"
is "$(spread v2)" "h1:2 h2:2 h3:2 h4:2" "8 instances of v2, 2 on each host"
is "$(spread v1)" "h1:0 h2:0 h3:0 h4:0" "no instance of v1 is left"
got=$(count_versions 40 "http://127.0.0.1:$PORT/api/x")
is "$got" "v2 40" "all traffic on v2"
# the engine's batches (Kubernetes arithmetic, 25% of 8 = 2 up and 2 down), each carried out
steps=$(cat "$T/deploy2.out" "$T/deploy3.out" | grep -o 'step [0-9]/5: [0-9] new + [0-9] old' | awk '!seen[$0]++' | tr '\n' ',')
is "$steps" "step 1/5: 2 new + 8 old,step 2/5: 2 new + 4 old,step 3/5: 6 new + 4 old,step 4/5: 6 new + 0 old,step 5/5: 8 new + 0 old," \
  "the rollout went batch by batch: 2 up, 4 down, 4 up, 4 down, 2 up"
done_scale=0
for line in "api v2: 2 instances ready" "api v1: 4 instances ready" "api v2: 6 instances ready" \
  "api v1: drained and stopped" "api v2: 8 instances ready"; do
  grep -q "$line" "$T/deploy2.out" "$T/deploy3.out" && done_scale=$((done_scale + 1))
done
is "$done_scale" 5 "each batch was carried out on the fleet (started, drained and stopped over SSH)"
done_testing
