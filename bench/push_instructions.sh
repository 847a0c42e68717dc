#!/bin/bash
# Instructions per record of a push, centre and device, counted by callgrind: a figure that does not
# move with the load of a shared machine, where sync_bench's rates and CPU times move by ±25 % from
# one run to the next. For each build directory given (default: build), on loopback: a centre on a
# fresh store, a device importing the generator's cases and contacts, then `relais sync --json`;
# the centre's instructions are counted from just before the sync to just after it, the device's
# over its whole sync (push, then its pull, which has nothing to bring back).
#
#   bench/push_instructions.sh [--cases N] [DIR...]      # N cases and N/10 contacts (default 20,000)
#
# What callgrind counts is the program's own work: not the kernel's (commits' fsync, page faults),
# and not as the real CPU runs vectorised code. Under valgrind, OpenSSL's SHA-256 and libdeflate
# take their generic paths, so the request's hash and compression weigh more here than in `perf`.
# Compare builds with it; do not read it as time. Needs valgrind (EXTRA_PACKAGES=valgrind
# ./scripts/setup.sh), curl and python3.
set -euo pipefail

cases=20000
dirs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) cases="$2"; shift 2 ;;
    -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) dirs+=("$1"); shift ;;
  esac
done
[ ${#dirs[@]} -gt 0 ] || dirs=(build)
for tool in valgrind callgrind_annotate callgrind_control curl python3; do
  command -v "$tool" >/dev/null || { echo "push_instructions: $tool is missing (EXTRA_PACKAGES=valgrind ./scripts/setup.sh)" >&2; exit 1; }
done
root=$(cd "$(dirname "$0")/.." && pwd)
contacts=$((cases / 10))
work=$(mktemp -d /tmp/relais-push-instructions.XXXXXX)
centre=
# A step that fails stops the script; the centre under valgrind must not outlive it.
trap '[ -n "$centre" ] && kill "$centre" 2>/dev/null; rm -rf "$work"' EXIT
python3 "$root/../shared/data/gen_dataset.py" "$cases" "$contacts" "$work/data" 7 >/dev/null
territories=$(python3 -c "
import json
print(' '.join(sorted({'--territory ' + json.loads(l)['territory'] for l in open('$work/data/cases.jsonl')})))")

total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}'; }

printf 'instructions per record pushed (callgrind; %s cases + %s contacts)\n\n' "$cases" "$contacts"
printf '%-40s %12s %12s\n' build centre relais
for dir in "${dirs[@]}"; do
  run="$work/run"
  rm -rf "$run" && mkdir -p "$run"
  port=$((20000 + RANDOM % 20000))
  valgrind --tool=callgrind --callgrind-out-file="$run/centre.out" "$dir/relais-central" serve --db "$run/central.db" \
    --listen "127.0.0.1:$port" >"$run/centre.log" 2>&1 &
  centre=$!
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.2; done
  # shellcheck disable=SC2086
  token=$("$dir/relais-central" device add --db "$run/central.db" --name bench $territories --json |
          python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  "$dir/relais" --db "$run/a.db" init --server "http://127.0.0.1:$port" --token "$token" >/dev/null
  "$dir/relais" --db "$run/a.db" import "$work/data/cases.jsonl" >/dev/null
  "$dir/relais" --db "$run/a.db" import "$work/data/contacts.jsonl" >/dev/null
  callgrind_control -z "$centre" >/dev/null 2>&1
  valgrind --tool=callgrind --callgrind-out-file="$run/relais.out" "$dir/relais" --db "$run/a.db" sync --json \
    >"$run/sync.json" 2>/dev/null
  callgrind_control -d "$centre" >/dev/null 2>&1
  sleep 1
  kill "$centre" && wait "$centre" 2>/dev/null || true
  centre=
  pushed=$(python3 -c "import json; print(json.load(open('$run/sync.json'))['pushed'])")
  # The dump asked for after the sync is the last numbered file (the one at exit holds the shutdown).
  dump=$(ls "$run"/centre.out.* | sort -t. -k3 -n | tail -1)
  printf '%-40s %12s %12s\n' "$dir" \
    "$(python3 -c "print(f'{$(total "$dump") / $pushed:,.0f}')")" \
    "$(python3 -c "print(f'{$(total "$run/relais.out") / $pushed:,.0f}')")"
done
