# engine-crash.sh - crash safety of the rollout engine (docs/engine.md).
#
# A fleet of deployments (every strategy, rule and control; tests/data/
# engine-sim/fleet.txt, several copies) runs under `slipway engine-sim run`,
# the real controller on a stepped simulated clock kept in the store.  The
# run is SIGKILLed at random instants and restarted until it finishes.  The
# outcome must equal an uninterrupted run's exactly: the same transitions
# (same order, times, steps, weights, reasons), every intent applied exactly
# once with the same result, the same analysis results, the same final rows.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
fleet="$SLIPWAY_SRC/tests/data/engine-sim/fleet.txt"
copies=3
seed=${SLIPWAY_CRASH_SEED:-$$}
RANDOM=$seed
echo "# seed $seed (SLIPWAY_CRASH_SEED to repeat)"

sim() { SLIPWAY_STATE_DIR="$1" "$SLIPWAY" engine-sim "${@:2}"; }

sim "$T/ref" setup --fleet "$fleet" --copies $copies >/dev/null
ok $? "setup the reference fleet"
out=$(sim "$T/ref" run --step-ms 5000 2>"$T/ref.err"); rc=$?
is "$rc" 0 "uninterrupted run finishes"
like "$out" '^done at' "uninterrupted run reports done"
sim "$T/ref" dump >"$T/ref.dump"

sim "$T/crash" setup --fleet "$fleet" --copies $copies >/dev/null
# Phase 1, deterministic: the engine kills itself (SIGKILL) right after a
# random tick 1..8 has been committed and acted on, before the simulated
# clock moves on; every run then makes some progress and is killed again.
kills=0 runs=0 finished=0
for i in 1 2 3 4 5 6; do
  runs=$((runs + 1))
  SLIPWAY_STATE_DIR="$T/crash" "$SLIPWAY" engine-sim run --step-ms 5000 --crash-after-ticks $((1 + RANDOM % 8)) \
    >"$T/run.out" 2>>"$T/crash.err"
  rc=$?
  if [ "$rc" = 137 ]; then kills=$((kills + 1)); fi
  if grep -q '^done at' "$T/run.out" 2>/dev/null; then finished=1; break; fi
done
# Phase 2, at random instants (mid-transaction, between commit and
# actuation): killed from outside after 20-400 ms, restarted until done.
# On a loaded machine a run may not get past its start in 400 ms: when a
# run committed no transition, the next one's window doubles (up to 8 s);
# when it did, the window halves again (not below 400 ms).
window=380 last=-1
while [ $finished = 0 ] && [ $runs -lt 400 ]; do
  runs=$((runs + 1))
  SLIPWAY_STATE_DIR="$T/crash" "$SLIPWAY" engine-sim run --step-ms 5000 >"$T/run.out" 2>>"$T/crash.err" &
  pid=$!
  sleep "$(awk -v ms=$((20 + RANDOM % window)) 'BEGIN { printf "%.3f", ms / 1000 }')"
  if kill -9 $pid 2>/dev/null; then
    wait $pid 2>/dev/null
    kills=$((kills + 1))
  else
    wait $pid; rc=$?
    if [ "$rc" = 0 ] && grep -q '^done at' "$T/run.out"; then finished=1; break; fi
  fi
  if grep -q '^done at' "$T/run.out" 2>/dev/null; then finished=1; break; fi
  now=$(sqlite3 "$T/crash/slipway.db" 'SELECT count(*) FROM transitions' 2>/dev/null || echo "$last")
  if [ "$now" = "$last" ]; then
    window=$((window * 2 > 7980 ? 7980 : window * 2))
  else
    window=$((window / 2 < 380 ? 380 : window / 2))
  fi
  last=$now
done
echo "# $kills SIGKILLs over $runs runs"
is "$finished" 1 "the killed and restarted engine finishes"
ok $([ $kills -ge 5 ] && echo 0 || echo 1) "it was killed at least 5 times ($kills)"
sim "$T/crash" dump >"$T/crash.dump"

n_ref=$(grep -c '^T|' "$T/ref.dump")
n_crash=$(grep -c '^T|' "$T/crash.dump")
is "$n_crash" "$n_ref" "as many transitions as the uninterrupted run ($n_ref): none lost, none twice"
if diff "$T/ref.dump" "$T/crash.dump" >"$T/diff"; then ok 0 "transitions, intents, analysis results and final states are identical"
else ok 1 "transitions, intents, analysis results and final states are identical"; head -20 "$T/diff" | sed 's/^/#   /'; fi
unlike "$(grep '^I|' "$T/crash.dump")" '\|pending\|' "every intent was applied"
n_final=$(grep '^D|' "$T/crash.dump" | grep -cE '\|(succeeded|rolled_back|failed)\|')
n_all=$(grep -c '^D|' "$T/crash.dump")
is "$n_final" "$n_all" "every deployment reached a final state ($n_all)"
outcome() { grep "^D|[0-9]*|0|$1|" "$T/crash.dump" | cut -d'|' -f5; }
is "$(outcome healthy-0)" succeeded "a healthy canary succeeds"
is "$(outcome errors-0)" rolled_back "6% errors roll back"
is "$(outcome canary-stuck-1)" rolled_back "a revision that never gets ready rolls back"
is "$(outcome controls-2)" succeeded "pause, resume and promote intents, then success"
done_testing
