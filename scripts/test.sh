#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every Catch2 program under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
"$(pwd)/scripts/setup.sh"
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}"
