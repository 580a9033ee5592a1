# fleet-hostfail.sh - a host lost mid-rollout (docs/fleet.md "Host failures"):
# 3 hosts (h1, h2 in eu-west, h3 in us-east; network namespaces with their
# own sshd, tests/e2e/lib/fleet.sh), one instance per host, region by region,
# load through the one HAProxy.
#  1. h1's link goes down while eu-west is at 50% (the step carried out): HAProxy's health checks
#     take h1's servers out (DOWN), the controller names the host and holds
#     (the step does not move), h1's instances never count as ready; the link
#     comes back, the held step starts over (its clock restarts), and the rollout succeeds.
#  2. h2's link goes down while a bad release (30% errors) serves there: it is
#     rolled back all the same (from h1's errors); h2's instance of it cannot
#     be stopped meanwhile and keeps running, with no server in HAProxy; when
#     h2 is back, the next controller stops it before anything else runs.
# Skipped without root or network namespaces.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/fleet.sh"
need_haproxy
need_fleet
command -v hey >/dev/null 2>&1 || { echo "1..1"; echo "ok 1 - fleet test # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }

make_fleet 3 eu-west eu-west us-east || { echo "not ok 1 - the fleet could not be made"; exit 1; }
ok 0 "3 hosts in two regions, each with its own sshd and host key"
H1=$(fleet_addr 1); H2=$(fleet_addr 2)

make_project api 3 "target: ssh
analysis: {canary: regions.yaml}"
sed -i 's|"--instance", "{instance}"\]|"--instance", "{instance}", "--bind", "0.0.0.0"]|' "$T/proj/services/api.yaml"
cp "$SLIPWAY_SRC/tests/data/configs/fleet-regions.yaml" "$T/proj/services/regions.yaml"
SCALE=20   # three times the requests per step: the hold below eats into the judge's maximum hold at 60x on a loaded machine
[ "${SLIPWAY_SANITIZE:-0}" = 1 ] && SCALE=10
for v in v1 v2 v4; do make_release api $v 0 5; done
make_release api v3 30 5
SOCK="$SLIPWAY_STATE_DIR/routers/api.production/admin.sock"
show_deploy() { [ "$_failed" = 0 ] || for f in "$T"/deploy*.out "$T"/watch*.log; do [ -f "$f" ] && tail -25 "$f" | cut -c1-300 | sed "s|^|# ${f##*/}: |"; done; }
at_exit show_deploy

alive() { # HOST VERSION: how many of VERSION's instances run on host hN (their processes, by pid file)
  local f n=0 pid
  for f in "$T/fleet/h$1/root/run/api.production/$2"-*.pid; do
    [ -f "$f" ] || continue
    read -r pid _ <"$f"
    kill -0 "$pid" 2>/dev/null && n=$((n + 1))
  done
  echo $n
}
state_of() { deployment_row "$1" | awk '{print $2, $3}'; }
promote_at_monitoring() { # VERSION
  local i
  for i in $(seq 1 3000); do
    [ "$(deployment_row "$1" | awk '{print $2}')" = monitoring ] && break
    kill -0 "$ctl" 2>/dev/null || return 1
    sleep 0.1
  done
  "$SLIPWAY" promote "$(deployment_row "$1" | awk '{print $1}')" >/dev/null
}
watch_start() { # NAME
  rm -f "$T/watch.stop"
  python3 "$SLIPWAY_SRC/tests/e2e/lib/fleet-watch.py" "$SOCK" api.production "$SLIPWAY_STATE_DIR/slipway.db" \
    "$T/watch-$1.log" "$T/watch.stop" &
  watcher=$!
}
watch_stop() { touch "$T/watch.stop"; wait "$watcher" 2>/dev/null; }
wait_for() { # SECONDS COMMAND...: until COMMAND succeeds; 0, or 1 after SECONDS
  local i n=$(( $1 * 10 ))
  shift
  for i in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

"$SLIPWAY" deploy api v1 --time-scale "$SCALE" >"$T/deploy1.out" 2>&1 &
ctl=$!
promote_at_monitoring v1
wait_pid "$ctl" 300
is "$rc" 0 "the first release of v1 over the fleet succeeds"
cfg=$(cat "$SLIPWAY_STATE_DIR/routers/api.production/haproxy.cfg")
like "$cfg" "server v1-0 $H1:9100 weight [0-9]+ check inter 1s fall 2 rise 2" "fleet servers have HAProxy health checks"

hey -z 900s -c 4 -q 25 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

# 1. h1 cut off at eu-west's first step: held, then resumed
watch_start v2
"$SLIPWAY" deploy api v2 --time-scale "$SCALE" >"$T/deploy2.out" 2>&1 &
ctl=$!
# once the step is carried out (an actuation under way places an instance whose host does
# not answer on another host of its region instead)
wait_for 120 grep -q "progressing (step 1" "$T/deploy2.out"
ok $? "v2 reached eu-west's 50% step"
fleet_cut 1
wait_for 90 grep -q "holding: .*host 'h1'" "$T/deploy2.out"
ok $? "the controller holds, naming the host"
grep -o "holding: .*" "$T/deploy2.out" | head -1 | cut -c1-240 | sed 's/^/# /'
wait_for 30 grep -q "v2-0=$H1:[0-9]*:DOWN" "$T/watch-v2.log"
ok $? "HAProxy's health checks took h1's v2 server out (DOWN)"
held=$(state_of v2)
sleep 10
is "$(state_of v2)" "$held" "the step does not move while h1 does not answer (10 s at 20x: 3 min 20 s)"
unlike "$(cat "$T/deploy2.out")" "died" "h1's instances are not counted as dead (no restart, no death)"
fleet_heal 1
wait_for 90 grep -q "can be told again.*the rollout resumes" "$T/deploy2.out"
ok $? "the controller says when the rollout resumes"
promote_at_monitoring v2
wait_pid "$ctl" 600
watch_stop
is "$rc" 0 "the rollout resumed once h1 answered, and succeeded"
for h in 1 2 3; do is "$(alive $h v2)/$(alive $h v1)" "1/0" "h$h runs v2, not v1"; done
grep -q "v2-0=$H1:[0-9]*:UP" <(sed -n '/DOWN/,$p' "$T/watch-v2.log")
ok $? "h1's server came back UP"
restart=$(python3 -c "
import sqlite3, sys
for (r,) in sqlite3.connect(sys.argv[1]).execute(\"select reason from transitions where reason like 'every host answers again%'\"):
    print(r)" "$SLIPWAY_STATE_DIR/slipway.db" | head -1)
echo "# $restart" | cut -c1-200
like "$restart" "^every host answers again after .* away: step [0-9]+/[0-9]+ at [0-9.]+% starts over" \
  "when h1 answers again the held step starts over (the hold does not count toward it)"

# 2. h2 cut off while the bad v3 serves there: rolled back; h2's v3 stopped when it is back
watch_start v3
"$SLIPWAY" deploy api v3 --time-scale "$SCALE" >"$T/deploy3.out" 2>&1 &
ctl=$!
wait_for 120 eval '[ "$(alive 2 v3)" = 1 ] && grep -q "v3-1=$H2:[1-9][0-9]*:UP" "$T/watch-v3.log"'
ok $? "v3 serves on h2"
fleet_cut 2
wait_pid "$ctl" 300
is "$(deployment_row v3 | awk '{print $2}')" rolled_back "v3 is rolled back while h2 does not answer"
is "$(alive 1 v3)" 0 "v3 is stopped on h1"
is "$(alive 2 v3)" 1 "v3 still runs on h2 (cut off: it could not be stopped)"
watch_stop
fleet_heal 2
sleep 3
st=$(echo "show stat" | python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'show stat\n'); d=b''
while True:
    b=s.recv(65536)
    if not b: break
    d+=b
print(' '.join(l.split(',')[1] for l in d.decode().splitlines()[1:] if l.startswith('api.production,')))" "$SOCK")
unlike "$st" "v3-" "back on the network, h2's v3 has no server in HAProxy: it serves nothing"
got=$(count_versions 30 "http://127.0.0.1:$PORT/api/x")
is "$got" "v2 30" "all traffic on v2"
# the next controller stops it first
watch_start v4
"$SLIPWAY" deploy api v4 --time-scale "$SCALE" >"$T/deploy4.out" 2>&1 &
ctl=$!
wait_for 120 eval '[ "$(alive 2 v3)" = 0 ]'
ok $? "the next controller stopped h2's v3"
promote_at_monitoring v4
wait_pid "$ctl" 600
watch_stop
is "$rc" 0 "v4 rolls out over the healed fleet"
like "$(cat "$T/deploy4.out")" "api v3-1 on host 'h2': stopped, a revision that should no longer run" "and said so, naming the host"
unlike "$(grep -o "v3-[0-9]*=[^ ]*" "$T/watch-v4.log")" . "no v3 server while v4 rolled out"
stop_load
summary=$(sed -n '/Status code distribution/,$p' "$T/hey.out")
echo "$summary" | sed 's/^/# /'
done_testing
