#!/usr/bin/env bash
# The test suite once more, built with AddressSanitizer and UndefinedBehaviorSanitizer at -O1 into
# ./build-asan (its own folder: the normal build is untouched; no benchmarks), PostgreSQL passes
# included, the end-to-end tests of the daily commands only (RELAIS_SANITIZE_E2E=all: all): like
# ./scripts/test.sh it starts a throwaway cluster (scripts/pg_cluster.sh) unless RELAIS_TEST_PG_URL
# names one, and stops it whatever happens. Any report fails: ASan aborts on the first error, UB
# stops the program (-fno-sanitize-recover=undefined), leaks fail at exit.
# Environment: BUILD_DIR (default build-asan), JOBS (default 2), RELAIS_SANITIZE_E2E (all: every
# end-to-end test, both stores), RELAIS_CMAKE_ARGS (added to the
# sanitizer flags, e.g. -DRELAIS_WERROR=ON in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan}
echo "== sanitizers: building into $BUILD_DIR with -DRELAIS_SANITIZE=address,undefined" >&2
BUILD_DIR="$BUILD_DIR" BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  RELAIS_CMAKE_ARGS="-DRELAIS_SANITIZE=address,undefined -DRELAIS_BENCH=OFF ${RELAIS_CMAKE_ARGS:-}" ./scripts/setup.sh

# verify_asan_link_order=0: the clock-skew tests run `relais` under faketime, which preloads
# libfaketime ahead of the ASan runtime; its clock_gettime then calls through to ASan's, which is fine.
export ASAN_OPTIONS="verify_asan_link_order=0:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -f scripts/sanitizers.supp ]; then
  export LSAN_OPTIONS="suppressions=$(pwd)/scripts/sanitizers.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
echo "== sanitizers: running the test suite (ASAN_OPTIONS=$ASAN_OPTIONS)" >&2
# Every program but the end-to-end ones, the PostgreSQL passes included (test_server_pg runs the
# store's PostgreSQL code: group commit, pools, libpq results). The end-to-end programs start
# thousands of sanitized `relais` and `relais-central` processes: whole, they take over half an hour
# under the sanitizers on a 2-core machine (test_e2e: 2,250 s, against 200 s plain), more than CI
# has. So the sanitizers see the end-to-end tests of the commands people run every day (below);
# RELAIS_SANITIZE_E2E=all runs them all, both stores, as CI did before (by hand, an hour or so).
E2E_TAGS=(cli sync conflicts rgpd referrals agenda visits erasure permanences rectification stats report ui)
e2e_filter=""
for tag in "${E2E_TAGS[@]}"; do e2e_filter+="${e2e_filter:+,}[$tag]~[pg]~[.]"; done
started=$(date +%s)
if [ "${RELAIS_SANITIZE_E2E:-daily}" = all ]; then
  ./scripts/pg_cluster.sh run ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}"
else
  ./scripts/pg_cluster.sh run ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}" -E '^test_e2e'
  echo "== sanitizers: end-to-end tests of the daily commands (${E2E_TAGS[*]}), on SQLite" >&2
  (cd "$BUILD_DIR/tests" && ./test_e2e --reporter console "$e2e_filter")
fi
echo "== sanitizers: suite run in $(($(date +%s) - started)) s" >&2
echo "== sanitizers: no finding" >&2
