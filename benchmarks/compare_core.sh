#!/usr/bin/env bash
# Compares two builds of core_benchmark on a shared, noisy host: runs them at the same
# time, one on each of two CPUs (swapping CPUs every pair), so both see the same minute of
# the host, and prints each pair's decisions/s and ratio (new / old), then the median.
# Alternating runs (ABBA) could not resolve a 5% change on the 2-core VM this was written
# on: one pair of binaries spread 0.85-1.29 that way, while a binary run beside itself
# spread 0.92-1.04 this way.
#
#   benchmarks/compare_core.sh OLD NEW [FILTER] [PAIRS]
#     OLD, NEW   core_benchmark binaries (e.g. one built from a git worktree of the base)
#     FILTER     --benchmark_filter regex, one benchmark (default BM_Skills: scale 2)
#     PAIRS      how many side-by-side pairs (default 16)
#     MIN_TIME   environment: --benchmark_min_time of each run, seconds (default 1)
#     CPUS       environment: the two CPUs to use (default "0 1")
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
old=$1
new=$2
filter=${3:-BM_Skills}
pairs=${4:-16}
min_time=${MIN_TIME:-1}
read -r cpu_a cpu_b <<<"${CPUS:-0 1}"
for binary in "$old" "$new"; do
  [[ -x $binary ]] || { echo "compare_core.sh: $binary is not an executable" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# decisions_per_s of the first benchmark the filter selects, from Google Benchmark's JSON.
rate() {
  python3 -c '
import json, sys
try:
    runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"] if "decisions_per_s" in b]
except (ValueError, KeyError):
    runs = []
if not runs:
    sys.exit("compare_core.sh: no decisions_per_s in the output (check the filter)")
print(runs[0]["decisions_per_s"])' "$1"
}

ratios=()
for ((i = 1; i <= pairs; i++)); do
  if ((i % 2)); then c_old=$cpu_a c_new=$cpu_b; else c_old=$cpu_b c_new=$cpu_a; fi
  taskset -c "$c_old" "$old" --benchmark_filter="$filter" --benchmark_min_time="$min_time" \
    --benchmark_format=json >"$work/old.json" 2>/dev/null &
  taskset -c "$c_new" "$new" --benchmark_filter="$filter" --benchmark_min_time="$min_time" \
    --benchmark_format=json >"$work/new.json" 2>/dev/null
  wait
  a=$(rate "$work/old.json")
  b=$(rate "$work/new.json")
  ratio=$(python3 -c "print(f'{$b / $a:.3f}')")
  ratios+=("$ratio")
  printf 'pair %2d: old %10.0f  new %10.0f  new/old %s\n' "$i" "$a" "$b" "$ratio"
done
python3 -c '
import statistics, sys
r = sorted(float(x) for x in sys.argv[1:])
faster = sum(x > 1 for x in r)
print(f"median new/old {statistics.median(r):.3f} (min {r[0]:.3f}, max {r[-1]:.3f});"
      f" new faster in {faster} of {len(r)} pairs")' "${ratios[@]}"
