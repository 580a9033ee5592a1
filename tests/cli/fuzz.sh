# fuzz.sh - build every libFuzzer target tests/fuzz/fuzz_NAME.c with clang
# and run each for a bounded time on a copy of its seed corpus.
#
# Adding a target: write tests/fuzz/fuzz_NAME.c (LLVMFuzzerTestOneInput),
# list what it links in tests/fuzz/fuzz_NAME.sources (one repository file per
# line, "pkg NAME" for a pkg-config package, '#' comments), and put seed
# inputs in tests/fuzz/corpus/fuzz_NAME/.  Nothing else to change.
#
# Runs in the plain suite only (the targets carry their own ASan+UBSan);
# skipped under tests/run --sanitize and when clang is absent.
# SLIPWAY_FUZZ_SECONDS sets the time per target (default 20).
. "$SLIPWAY_SRC/tests/cli/lib.sh"
secs=${SLIPWAY_FUZZ_SECONDS:-20}
if [ "${SLIPWAY_SANITIZE:-0}" = 1 ]; then
  skip "fuzz targets" "run in the plain build only"
  done_testing; exit
fi
if ! command -v clang >/dev/null 2>&1; then
  skip "fuzz targets" "clang is not installed (tools/deps.sh test)"
  done_testing; exit
fi
for src in "$SLIPWAY_SRC"/tests/fuzz/fuzz_*.c; do
  [ -f "$src" ] || continue
  name=$(basename "$src" .c)
  list="$SLIPWAY_SRC/tests/fuzz/$name.sources"
  if [ ! -f "$list" ]; then
    ok 1 "$name: tests/fuzz/$name.sources lists what to link"
    continue
  fi
  files=() pkgs=()
  while read -r a b; do
    case "$a" in ''|'#'*) continue ;; pkg) pkgs+=("$b") ;; *) files+=("$SLIPWAY_SRC/$a") ;; esac
  done <"$list"
  flags=()
  if [ ${#pkgs[@]} -gt 0 ]; then
    # shellcheck disable=SC2207
    flags=($(pkg-config --cflags --libs "${pkgs[@]}"))
  fi
  clang -std=c17 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$SLIPWAY_SRC" -I"$SLIPWAY_SRC/src" "$src" "${files[@]}" "${flags[@]}" -lm -o "$T/$name" >"$T/$name.build.log" 2>&1
  rc=$?
  ok $rc "$name: builds with clang -fsanitize=fuzzer,address,undefined"
  if [ $rc != 0 ]; then sed 's/^/#   /' "$T/$name.build.log" | head -30; continue; fi
  mkdir -p "$T/corpus-$name"
  cp "$SLIPWAY_SRC/tests/fuzz/corpus/$name/"* "$T/corpus-$name/" 2>/dev/null
  ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" LSAN_OPTIONS="suppressions=$SLIPWAY_SRC/tests/lsan.supp:${LSAN_OPTIONS:-}" \
    "$T/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -artifact_prefix="$T/" \
    -print_final_stats=1 "$T/corpus-$name" >"$T/$name.log" 2>&1
  rc=$?
  ok $rc "$name: ${secs}s of fuzzing without a crash, leak or timeout"
  if [ $rc != 0 ]; then grep -v '^#' "$T/$name.log" | tail -40 | sed 's/^/#   /'; fi
  grep -E '^stat::number_of_executed_units' "$T/$name.log" | sed 's/^/# /'
done
done_testing
