# fuzz_notify.sh - until the general runner tests/cli/fuzz.sh is merged here
# (then this skips): build the notifications-config fuzz target with clang's
# libFuzzer (ASan + UBSan) and run it for a bounded time from the seed
# corpus.  Skipped without clang, and under --sanitize (the target is a
# sanitizer build of its own; running it twice adds nothing).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
if [ -f "$SLIPWAY_SRC/tests/cli/fuzz.sh" ]; then skip "fuzz notifications config" "tests/cli/fuzz.sh runs every target"; done_testing; exit 0; fi
if [ "${SLIPWAY_SANITIZE:-0}" = 1 ]; then skip "fuzz notifications config" "runs in the plain suite"; done_testing; exit 0; fi
if ! command -v clang >/dev/null 2>&1; then skip "fuzz notifications config" "clang not installed"; done_testing; exit 0; fi
cd "$SLIPWAY_SRC" || exit 2
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c17 -D_GNU_SOURCE \
  -I. -Isrc -I"$SLIPWAY_BUILD" tests/fuzz/fuzz_notify_config.c src/adapters/notify_config.c \
  src/base/alloc.c src/base/strbuf.c src/base/err.c src/base/timeutil.c \
  $(pkg-config --cflags --libs libfyaml) -lm -o "$T/fuzz_notify_config" 2>"$T/build.log"
ok $? "fuzz target builds"
[ -x "$T/fuzz_notify_config" ] || { cat "$T/build.log"; done_testing; exit 1; }
mkdir -p "$T/corpus"
cp tests/fuzz/corpus/fuzz_notify_config/* "$T/corpus/"
LSAN_OPTIONS="suppressions=$SLIPWAY_SRC/tests/lsan.supp:${LSAN_OPTIONS:-}" \
"$T/fuzz_notify_config" -max_total_time="${SLIPWAY_FUZZ_SECONDS:-15}" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
  -detect_leaks=1 -artifact_prefix="$T/" "$T/corpus" >"$T/fuzz.log" 2>&1
rc=$?
ok "$rc" "no crash, leak or undefined behaviour in ${SLIPWAY_FUZZ_SECONDS:-15}s of fuzzing"
[ "$rc" = 0 ] || tail -40 "$T/fuzz.log"
grep -E '^#[0-9]+ +DONE' "$T/fuzz.log" | sed 's/^/# /'
done_testing
