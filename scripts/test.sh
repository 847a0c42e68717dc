#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, starts a throwaway PostgreSQL cluster on a
# loopback port (the server and end-to-end tests run once per store), runs every Catch2 program
# under ctest, and stops the cluster whatever happens. RELAIS_TEST_PG_URL, when set, names a cluster
# to use instead (its role must be allowed to CREATE DATABASE).
set -euo pipefail
cd "$(dirname "$0")/.."
"$(pwd)/scripts/setup.sh"
python3 scripts/check_doc_refs.py # the references to docs sections name headings that exist
BUILD_DIR=${BUILD_DIR:-build}
./scripts/pg_cluster.sh run ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}"
