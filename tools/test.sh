#!/usr/bin/env bash
# tools/test.sh - the README's second command: install what the tests need,
# then run the whole suite twice, as built and under ASan+UBSan, and end with
# one line "N passed, N failed, N skipped" for both together.
# Two tests run side by side ($SLIPWAY_TEST_JOBS, default 2: tests/run -j):
# an end-to-end test spends most of its time waiting on its scaled clock, so
# a 2-core machine finishes the suite in about half the time.
set -u
cd "$(dirname "$0")/.." || exit 2
tools/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }
total_p=0 total_f=0 total_s=0
for mode in plain sanitize; do
  echo "== suite: $mode build"
  args=(-j "${SLIPWAY_TEST_JOBS:-2}")
  [ $mode = sanitize ] && args+=(--sanitize)
  log=$(mktemp)
  tests/run "${args[@]}" 2>&1 | tee "$log"
  out=$(tail -n 1 "$log")
  rm -f "$log"
  p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1/p')
  f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\2/p')
  s=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\3/p')
  if [ -z "$p" ]; then p=0; f=1; s=0; fi
  total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
