# haproxy-cfg.sh - the golden haproxy.cfg files (tests/data/haproxy-cfg/,
# checked byte for byte against the renderer by build/tests/test_haproxy_cfg)
# are configurations HAProxy itself accepts: `haproxy -c` on each, with its
# flags.map path pointed at a copy of the case's map and its lua-load at a copy
# of the case's relay Lua.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
hap=${SLIPWAY_HAPROXY:-/usr/sbin/haproxy}
[ -x "$hap" ] || hap=$(command -v haproxy || true)
if [ -z "$hap" ]; then
  skip "haproxy -c on the golden files" "no haproxy"
  done_testing
  exit 0
fi
for json in "$SLIPWAY_SRC"/tests/data/haproxy-cfg/*.json; do
  name=$(basename "$json" .json)
  cfg="${json%.json}.cfg"
  map=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["map"])' "$json")
  if [ -f "${json%.json}.map" ]; then cp "${json%.json}.map" "$T/$name.map"; else : >"$T/$name.map"; fi
  # the relay's Lua (golden too: tests/data/haproxy-cfg/NAME.lua) where the config loads it
  relay=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["relay_dir"])' "$json")
  cp "${json%.json}.lua" "$T/$name.lua"
  sed -e "s|$map|$T/$name.map|g" -e "s|$relay/wait-receiver.lua|$T/$name.lua|g" "$cfg" >"$T/$name.cfg"
  out=$("$hap" -c -f "$T/$name.cfg" 2>&1); rc=$?
  is "$rc" 0 "$name.cfg: haproxy -c accepts it"
  [ "$rc" = 0 ] || echo "$out" | sed 's/^/#   /'
done
done_testing
