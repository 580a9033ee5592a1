# fuzz-infra.sh - build the libFuzzer targets of issue 4 (service definitions,
# HAProxy request lines) with clang and run each for a bounded time.  Skips
# without clang or its fuzzer runtime, and in the sanitizer pass (the targets
# carry ASan+UBSan themselves).  If tests/cli/fuzz.sh builds every
# tests/fuzz/fuzz_*.c, this script is redundant and may go.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
targets="fuzz_service fuzz_reqlog"
if [ "${SLIPWAY_SANITIZE:-0}" = 1 ]; then
  for t in $targets; do skip "$t" "fuzzing runs in the plain pass"; done; done_testing; exit
fi
if ! command -v clang >/dev/null 2>&1; then
  for t in $targets; do skip "$t" "clang is not installed"; done; done_testing; exit
fi
cflags=$(pkg-config --cflags libfyaml 2>/dev/null)
libs=$(pkg-config --libs libfyaml 2>/dev/null)
src="$SLIPWAY_SRC/src"
base="$src/base/alloc.c $src/base/strbuf.c $src/base/err.c $src/base/timeutil.c"
for t in $targets; do
  case $t in
    fuzz_service) files="$src/core/service.c"; corpus=service ;;
    fuzz_reqlog) files="$src/core/reqlog.c"; corpus=reqlog ;;
  esac
  bin="$T/$t"
  if ! clang -std=c17 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I"$SLIPWAY_SRC" -I"$src" -I"$SLIPWAY_BUILD" $cflags -o "$bin" \
      "$SLIPWAY_SRC/tests/fuzz/$t.c" $files $base $libs -lm >"$T/$t.build" 2>&1; then
    if grep -q 'libclang_rt.fuzzer\|fuzzer.*not found\|cannot find' "$T/$t.build"; then
      skip "$t" "clang's fuzzer runtime is missing (libclang-rt-14-dev)"; continue
    fi
    ok 1 "$t builds"; sed 's/^/#   /' "$T/$t.build" | head -20; continue
  fi
  mkdir -p "$T/corpus-$t"
  cp "$SLIPWAY_SRC/tests/data/fuzz/$corpus"/* "$T/corpus-$t/" 2>/dev/null
  "$bin" -max_total_time=15 -max_len=4096 -timeout=10 "$T/corpus-$t" >"$T/$t.log" 2>&1
  rc=$?
  ok $rc "$t: 15 s of fuzzing found nothing"
  [ $rc = 0 ] || tail -30 "$T/$t.log" | sed 's/^/#   /'
done
done_testing
