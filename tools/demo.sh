#!/usr/bin/env bash
# tools/demo.sh - the README's first command: install the missing Debian
# packages, build, and run the main job.  Until the demo deployment exists it
# prints the policy verdict for now and the calendar of the next 14 days
# (informational: a "blocked" verdict is not a failure of this script).
set -eu
cd "$(dirname "$0")/.."
bash tools/deps.sh demo
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "== build/slipway check --type standard   (may a standard deployment start now?)"
build/slipway check --type standard || true
echo
echo "== build/slipway calendar   (when it may start in the next 14 days)"
build/slipway calendar
