#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (AddressSanitizer and UndefinedBehavior-
# Sanitizer on) into ./build-fuzz, then runs each for SECONDS (default 60) from a copy of its kept
# seed corpus (tests/fuzz/corpus/<target>). Fails when a target crashes, leaks, breaks an invariant
# or times out on an input; the input is left in build-fuzz/artifacts/<target>/.
#
#   ./scripts/fuzz.sh                 # 60 s per target (CI)
#   ./scripts/fuzz.sh 3600            # an hour per target, by hand
#   FUZZ_TARGETS=fuzz_push ./scripts/fuzz.sh 600
#   FUZZ_JOBS=2 ./scripts/fuzz.sh 3600   # that many fuzzing processes per target (-fork)
#
# Inputs found to widen coverage stay in build-fuzz/corpus/<target> and are reused by the next run;
# copy the interesting ones into tests/fuzz/corpus/<target> to keep them. Reproduce a crash with
#   ./build-fuzz/tests/fuzz/<target> build-fuzz/artifacts/<target>/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
TARGETS=${FUZZ_TARGETS:-"fuzz_codec fuzz_push fuzz_import fuzz_page"}

echo "== fuzz: building ${TARGETS} with clang into ${BUILD_DIR} (ASan + UBSan + libFuzzer)" >&2
CC=clang CXX=clang++ BUILD_DIR="$BUILD_DIR" BUILD_TYPE=RelWithDebInfo BUILD_TARGETS="$TARGETS" \
  EXTRA_PACKAGES="clang libclang-rt-14-dev" \
  RELAIS_CMAKE_ARGS="-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DRELAIS_FUZZ=ON -DRELAIS_SANITIZE=address,undefined ${RELAIS_CMAKE_ARGS:-}" \
  ./scripts/setup.sh

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
summary=()
failed=0
for target in $TARGETS; do
  corpus="$BUILD_DIR/corpus/$target"
  artifacts="$BUILD_DIR/artifacts/$target"
  log="$BUILD_DIR/$target.log"
  mkdir -p "$corpus" "$artifacts"
  cp -n tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzz: running $target for ${SECONDS_PER_TARGET} s (corpus $corpus, log $log)" >&2
  parallel=()
  if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then parallel=(-fork="$FUZZ_JOBS"); fi
  status=0
  "$BUILD_DIR/tests/fuzz/$target" "$corpus" "${parallel[@]}" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=2560 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 -close_fd_mask=1 >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
  corpus_size=$(find "$corpus" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "== fuzz: $target FAILED (exit $status); the end of its log:" >&2
    tail -n 40 "$log" >&2
    summary+=("$(printf '%-12s %6ss %12s runs %6s inputs  FAILED (see %s)' "$target" "$SECONDS_PER_TARGET" "$runs" "$corpus_size" "$artifacts")")
  else
    summary+=("$(printf '%-12s %6ss %12s runs %6s inputs  ok' "$target" "$SECONDS_PER_TARGET" "$runs" "$corpus_size")")
  fi
done
echo "== fuzz: summary" >&2
printf '%s\n' "${summary[@]}" >&2
exit "$failed"
