#!/usr/bin/env bash
# clang-tidy (the checks of .clang-tidy) over the C++ files changed since a base revision; fails on
# any finding. Reads build/compile_commands.json: run ./scripts/setup.sh first (CMake writes it).
#
#   scripts/tidy.sh [BASE]     files changed between BASE and the work tree (committed or not)
#   TIDY_ALL=1 scripts/tidy.sh every C++ file of the build (slow: about 30 s per file on two cores)
#
# The base, the first that applies:
#   1. BASE, or the environment's TIDY_BASE;
#   2. `git merge-base HEAD origin/main`, when there is a remote: what a branch adds to main;
#   3. the newest tag `ci-green-*` that HEAD contains — CI may tag a commit whose run was green;
#      everything committed since was never checked;
#   4. HEAD~1: the last commit. CI runs on a fresh clone of main without remote nor tag, so it checks
#      what the last commit changed; a merge commit's first parent is its base, so a merged branch is
#      checked whole.
# A changed header is checked through one translation unit that includes it, and its findings are
# reported (those of unchanged headers are not: they belong to the commits that changed them).
# Environment: BUILD_DIR (default build), JOBS (default 2), TIDY (default clang-tidy).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
TIDY=${TIDY:-clang-tidy}
DB="$BUILD_DIR/compile_commands.json"
if [ ! -f "$DB" ]; then
  echo "tidy: $DB is missing: run ./scripts/setup.sh first" >&2
  exit 2
fi
command -v "$TIDY" >/dev/null || { echo "tidy: $TIDY is missing (Debian: apt-get install clang-tidy)" >&2; exit 2; }

base=${1:-${TIDY_BASE:-}}
if [ -z "$base" ] && git rev-parse -q --verify origin/main >/dev/null; then
  base=$(git merge-base HEAD origin/main)
fi
if [ -z "$base" ]; then
  base=$(git describe --tags --abbrev=0 --match 'ci-green-*' HEAD 2>/dev/null || true)
fi
if [ -z "$base" ] && git rev-parse -q --verify HEAD~1 >/dev/null; then
  base=HEAD~1
fi

# The translation units of the build, as paths relative to the repository.
units=$(python3 - "$DB" "$(pwd)" <<'EOF'
import json, os, sys
root = sys.argv[2]
for entry in json.load(open(sys.argv[1])):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if path.startswith(root + "/"):
        print(os.path.relpath(path, root))
EOF
)
units=$(sort -u <<<"$units")

if [ "${TIDY_ALL:-0}" = 1 ] || [ -z "$base" ]; then
  echo "tidy: every file of the build" >&2
  changed=$units
else
  echo "tidy: files changed since $(git rev-parse --short "$base") ($base)" >&2
  changed=$(git diff --name-only --diff-filter=ACMR "$base" -- '*.cc' '*.h' | sort -u)
fi

files=()
headers=()
for f in $changed; do
  case "$f" in
    *.cc) grep -qxF "$f" <<<"$units" && files+=("$f") ;;
    *.h)
      headers+=("$f")
      # One translation unit that includes it, by the path the project writes includes with.
      unit=$(grep -lF "#include \"$f\"" $units 2>/dev/null | head -n 1 || true)
      [ -n "$unit" ] && files+=("$unit")
      ;;
  esac
done
if [ ${#files[@]} -eq 0 ]; then
  echo "tidy: no C++ file of the build changed: nothing to check" >&2
  exit 0
fi
mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u)

# Findings in the changed headers only.
header_filter='^$'
if [ ${#headers[@]} -gt 0 ]; then
  header_filter="(^|/)($(printf '%s\n' "${headers[@]}" | sed 's/[.]/[.]/g' | paste -sd '|'))$"
fi

echo "tidy: ${#files[@]} files: ${files[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The build is GCC's: clang does not know some of its warning options, which is no finding.
status=0
printf '%s\n' "${files[@]}" |
  xargs -P "${JOBS:-2}" -n 1 "$TIDY" -p "$BUILD_DIR" --quiet --warnings-as-errors='*' \
    --header-filter="$header_filter" --extra-arg=-Wno-unknown-warning-option >"$log" 2>&1 || status=$?
grep -v -e '^[0-9]* warnings\? generated' -e '^Suppressed [0-9]* warnings' \
  -e '^Use -header-filter=' "$log" >&2 || true
# A header's finding is reported by every unit that includes it: counted once.
findings=$({ grep -E '(warning|error): .*\[[a-z0-9.,-]+\]$' "$log" || true; } | sort -u | wc -l)
if [ "$status" -ne 0 ]; then
  echo "tidy: $findings findings in ${#files[@]} files" >&2
  exit 1
fi
echo "tidy: no finding in ${#files[@]} files" >&2
