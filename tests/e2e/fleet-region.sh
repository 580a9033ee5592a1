# fleet-region.sh - region by region across a fleet (docs/fleet.md "Region by
# region"): 3 hosts in two regions (h1, h2 in eu-west, h3 in us-east, network
# namespaces with their own sshd, tests/e2e/lib/fleet.sh), one instance per
# host, load through the one HAProxy.  A healthy release goes region by region:
# its instances start in eu-west only, and us-east's server keeps its weight
# until eu-west is done.  A bad one (30% errors) is stopped in eu-west and
# rolled back there: the reason names the region, us-east never gets its
# release nor an instance, and the server on h3 keeps its weight all along.
# Skipped without root or network namespaces.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/fleet.sh"
need_haproxy
need_fleet
command -v hey >/dev/null 2>&1 || { echo "1..1"; echo "ok 1 - fleet test # SKIP hey is not installed (tools/deps.sh test)"; exit 0; }

make_fleet 3 eu-west eu-west us-east || { echo "not ok 1 - the fleet could not be made"; exit 1; }
ok 0 "3 hosts in two regions, each with its own sshd and host key"
H3=$(fleet_addr 3)

make_project api 3 "target: ssh
analysis: {canary: regions.yaml}"
sed -i 's|"--instance", "{instance}"\]|"--instance", "{instance}", "--bind", "0.0.0.0"]|' "$T/proj/services/api.yaml"
cp "$SLIPWAY_SRC/tests/data/configs/fleet-regions.yaml" "$T/proj/services/regions.yaml"
SCALE=60
[ "${SLIPWAY_SANITIZE:-0}" = 1 ] && SCALE=20
make_release api v1 0 5
make_release api v2 0 5
make_release api v3 30 5
SOCK="$SLIPWAY_STATE_DIR/routers/api.production/admin.sock"
show_deploy() { [ "$_failed" = 0 ] || for f in "$T"/deploy*.out "$T"/watch*.log; do [ -f "$f" ] && tail -25 "$f" | cut -c1-300 | sed "s|^|# ${f##*/}: |"; done; }
at_exit show_deploy

spread() { # VERSION: "h1:N h2:N h3:N" of its live pid files
  local i out=""
  for i in 1 2 3; do
    out="$out h$i:$(ls "$T/fleet/h$i/root/run/api.production/" 2>/dev/null | grep -c "^$1-.*\.pid$")"
  done
  echo $out
}
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

"$SLIPWAY" deploy api v1 --time-scale "$SCALE" >"$T/deploy1.out" 2>&1 &
ctl=$!
promote_at_monitoring v1
wait_pid "$ctl" 300
is "$rc" 0 "the first release of v1 over the fleet succeeds"
is "$(spread v1)" "h1:1 h2:1 h3:1" "one instance of v1 per host"

hey -z 600s -c 4 -q 25 "http://127.0.0.1:$PORT/api/x" >"$T/hey.out" 2>&1 &
load=$!
stop_load() { kill -INT "$load" 2>/dev/null; wait "$load" 2>/dev/null; }
at_exit stop_load

# the healthy release, region by region
watch_start v2
"$SLIPWAY" deploy api v2 --time-scale "$SCALE" >"$T/deploy2.out" 2>&1 &
ctl=$!
promote_at_monitoring v2
wait_pid "$ctl" 600
watch_stop
is "$rc" 0 "the region-by-region update to v2 succeeds"
is "$(spread v2)" "h1:1 h2:1 h3:1" "v2 runs on every host at the end"
is "$(spread v1)" "h1:0 h2:0 h3:0" "no instance of v1 is left"
like "$(cat "$T/deploy2.out")" "api v2: 2 instances ready on 2 hosts in region eu-west " \
  "v2 started in eu-west first (2 instances on its 2 hosts)"
# while eu-west was rolled (steps 1 and 2: 50%, then 100% for groupHold), h3 had no v2 server
early=$(awk '$1 == "v2" && $2 == "progressing" && ($3 == 1 || $3 == 2)' "$T/watch-v2.log")
ok "$([ -n "$early" ]; echo $?)" "the watcher saw eu-west's steps ($(echo "$early" | wc -l) samples)"
unlike "$(echo "$early" | grep -o "v2-[0-9]*=$H3:[^ ]*")" . "no v2 server on h3 (us-east) while eu-west was rolled"
like "$(echo "$early" | grep -o "v1-[0-9]*=$H3:[0-9]*:UP" | sort -u)" "^v1-2=$H3:67:UP$" \
  "us-east's v1 server kept its weight (67: one of 3 at 100%) while eu-west was rolled"
like "$(grep "^v2 progressing 1 " "$T/watch-v2.log" | grep -o "v2-0=[^ ]*" | sort -u)" ":34:UP" \
  "eu-west at 50%: each v2 server there has half of its region's weight"
got=$(count_versions 30 "http://127.0.0.1:$PORT/api/x")
is "$got" "v2 30" "all traffic on v2"

# the bad release: stopped in the first region and rolled back there
watch_start v3
"$SLIPWAY" deploy api v3 --time-scale "$SCALE" >"$T/deploy3.out" 2>&1 &
ctl=$!
wait_pid "$ctl" 300
watch_stop
ok "$([ "$rc" != 0 ]; echo $?)" "the deployment of v3 ends in a rollback (exit $rc)"
is "$(deployment_row v3 | awk '{print $2}')" rolled_back "v3 is rolled back"
like "$(cat "$T/deploy3.out")" "region 'eu-west'" "the reason names the region that failed"
is "$(spread v3)" "h1:0 h2:0 h3:0" "no instance of v3 is left"
is "$(spread v2)" "h1:1 h2:1 h3:1" "v2 still runs on every host"
ok "$([ -d "$T/fleet/h1/root/releases/api/v3" ] && [ ! -e "$T/fleet/h3/root/releases/api/v3" ]; echo $?)" \
  "v3 was copied to eu-west's hosts, never to h3 (us-east)"
unlike "$(grep -o "v3-[0-9]*=$H3:[^ ]*" "$T/watch-v3.log")" . "no v3 server on h3 at any time"
h3w=$(grep -o "v2-[0-9]*=$H3:[^ ]*" "$T/watch-v3.log" | sort -u)
is "$h3w" "v2-2=$H3:67:UP" "us-east's server kept its weight and state through the whole rollout and rollback"
ok "$(grep -q "v3-[0-9]*=[^ ]*:[1-9][0-9]*:UP" "$T/watch-v3.log"; echo $?)" "v3 served in eu-west before it was stopped"
got=$(count_versions 30 "http://127.0.0.1:$PORT/api/x")
is "$got" "v2 30" "all traffic back on v2"
stop_load
done_testing
