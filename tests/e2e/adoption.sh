# adoption.sh - instances survive the slipway that started them being killed
# with -9, and the next slipway adopts them (pid + start time in the store)
# instead of starting them twice (docs/services.md).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy

make_project api 2
make_release api v1 0 0 3000    # a slow start: slipway is still waiting for readiness when killed
rel="$T/proj/releases/api/v1"
procs_in_release() { # processes whose working directory is the release
  local n=0 p
  for p in /proc/[0-9]*; do [ "$(readlink "$p/cwd" 2>/dev/null)" = "$rel" ] && n=$((n + 1)); done
  echo $n
}

"$SLIPWAY" start api v1 >"$T/start1.out" 2>&1 &
starter=$!
pids=""
for i in $(seq 1 300); do
  out=$("$SLIPWAY" instances api -o json 2>/dev/null)
  pids=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(str(i["pid"]) for i in d["instances"] if i["pid"] > 0))' 2>/dev/null)
  [ "$(echo $pids | wc -w)" = 2 ] && break
  sleep 0.05
done
is "$(echo $pids | wc -w)" 2 "both instances recorded with their pids while slipway waits for readiness"
kill -9 "$starter"; wait "$starter" 2>/dev/null
is "$(procs_in_release)" 2 "after kill -9 of slipway both instances still run"

run_slipway start api v1
is "$rc" 0 "a new slipway finishes the start"
like "$out" 'v1-0 port [0-9]+ pid [0-9]+ \(adopted\)' "instance 0 adopted"
like "$out" 'v1-1 port [0-9]+ pid [0-9]+ \(adopted\)' "instance 1 adopted"
new=$(printf '%s\n' "$out" | sed -n 's/.* pid \([0-9]*\).*/\1/p' | tr '\n' ' ')
is "$(echo $new)" "$(echo $pids)" "the same processes (same pids) serve"
is "$(procs_in_release)" 2 "nothing was started twice"
got=$(count_versions 10 "http://127.0.0.1:$PORT/api/x")
is "$got" "v1 10" "the adopted instances get the traffic"

# a recorded instance whose process died is replaced, not adopted
victim=$(echo $pids | cut -d' ' -f1)
kill -9 "$victim"; sleep 0.1
run_slipway start api v1
is "$rc" 0 "start after one instance died"
is "$(printf '%s\n' "$out" | grep -c adopted)" 1 "one adopted, one started anew"
is "$(procs_in_release)" 2 "still exactly two instances"

run_slipway down api
is "$rc" 0 "down stops everything"
sleep 0.1
is "$(procs_in_release)" 0 "no instance left"
done_testing
