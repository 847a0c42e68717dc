#!/usr/bin/env bash
# The whole test suite once more, built with AddressSanitizer and UndefinedBehaviorSanitizer into
# ./build-asan (its own folder: the normal build is untouched), PostgreSQL passes included: like
# ./scripts/test.sh it starts a throwaway cluster (scripts/pg_cluster.sh) unless RELAIS_TEST_PG_URL
# names one, and stops it whatever happens. Any report fails: ASan aborts on the first error, UB
# stops the program (-fno-sanitize-recover=undefined), leaks fail at exit.
# Environment: BUILD_DIR (default build-asan), JOBS (default 2), RELAIS_CMAKE_ARGS (added to the
# sanitizer flags, e.g. -DRELAIS_WERROR=ON in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan}
echo "== sanitizers: building into $BUILD_DIR with -DRELAIS_SANITIZE=address,undefined" >&2
BUILD_DIR="$BUILD_DIR" BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  RELAIS_CMAKE_ARGS="-DRELAIS_SANITIZE=address,undefined ${RELAIS_CMAKE_ARGS:-}" ./scripts/setup.sh

# verify_asan_link_order=0: the clock-skew tests run `relais` under faketime, which preloads
# libfaketime ahead of the ASan runtime; its clock_gettime then calls through to ASan's, which is fine.
export ASAN_OPTIONS="verify_asan_link_order=0:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -f scripts/sanitizers.supp ]; then
  export LSAN_OPTIONS="suppressions=$(pwd)/scripts/sanitizers.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
echo "== sanitizers: running the test suite (ASAN_OPTIONS=$ASAN_OPTIONS)" >&2
# Every entry, the PostgreSQL passes (test_server_pg, test_e2e_pg) included: they run the store's
# PostgreSQL code (group commit, pools, libpq results) that the SQLite passes never reach.
started=$(date +%s)
./scripts/pg_cluster.sh run ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}"
echo "== sanitizers: suite run in $(($(date +%s) - started)) s" >&2
echo "== sanitizers: no finding" >&2
