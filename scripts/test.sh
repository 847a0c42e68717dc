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
if [ -z "${RELAIS_TEST_PG_URL:-}" ]; then
  cluster=$(./scripts/pg_cluster.sh start)
  PG_DIR=${cluster%% *}
  trap './scripts/pg_cluster.sh stop "$PG_DIR"' EXIT
  export RELAIS_TEST_PG_URL=${cluster#* }
  echo "PostgreSQL de test : $RELAIS_TEST_PG_URL" >&2
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-2}"
