#!/usr/bin/env bash
# bench/rollback.sh [ROUNDS] - time from the rollback decision to the moment
# all new requests reach stable (goal < 50 ms).  Prints numbers, asserts nothing.
. "$(dirname "$0")/lib.sh"
bench_project 2 v1 v2
"$B" start api v1 >/dev/null || exit 1
"$B" start api v2 --weight 0 >/dev/null || exit 1
echo "stable v1 (2 instances) and canary v2 (2 instances) behind HAProxy on 127.0.0.1:$PORT"
"$build/bench/bench_rollback" "$SLIPWAY_STATE_DIR" "$SLIPWAY_PROJECT" api v1 v2 "${1:-20}"
