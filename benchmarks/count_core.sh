#!/usr/bin/env bash
# Counts what the core benchmark's measured cycles cost under callgrind, per decision:
# instructions, level-1 cache misses and last-level cache misses on a simulated cache of
# fixed size. The counts do not depend on the host's load, so they show a change of a few
# percent that timings on a shared machine cannot resolve (compare_core.sh spread
# 0.69-1.29 running one binary against itself), and they say where the work is. They are
# not a time: a miss costs what the real memory makes it cost.
#
#   benchmarks/count_core.sh BINARY [BINARY...]
#     BINARY     core_benchmark binaries; with more than one, each after the first also gets
#                its ratios to the first (e.g. a build of the base against one of a change)
#     FILTERS    environment: the benchmarks, space-separated (default "BM_OneQueue BM_Skills")
#     OUT        environment: also write the counts to this JSON file
#     MIN_TIME   environment: --benchmark_min_time of each run, seconds of the slowed run
#                (default 0.5; scale 2 runs its fixed 200,000 cycles regardless)
#
# Only the measured cycles count: core_benchmark zeroes callgrind's counters as they start
# and dumps them as they end (its BeginCounted, EndCounted), so set-up and warm-up are left
# out. The simulated caches are the same everywhere: 32 KiB 8-way level-1 instruction and
# data caches and a 32 MiB 16-way last level, 64-byte lines, no other tenant. Needs valgrind
# (Debian package valgrind); scale 2 takes about two minutes.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
for binary in "$@"; do
  [[ -x $binary ]] || { echo "count_core.sh: $binary is not an executable" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "count_core.sh: valgrind is not installed" >&2; exit 2; }
read -r -a filters <<<"${FILTERS:-BM_OneQueue BM_Skills}"
min_time=${MIN_TIME:-0.5}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
index=0
for binary in "$@"; do
  index=$((index + 1))
  for filter in "${filters[@]}"; do
    n=$((n + 1))
    dir=$work/$n
    mkdir -p "$dir"
    printf '%s\n%s\n%s\n' "$binary" "$filter" "$index" >"$dir/what"
    valgrind --tool=callgrind --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 \
      --LL=33554432,16,64 --callgrind-out-file="$dir/callgrind.out" \
      "$binary" --benchmark_filter="^$filter/" --benchmark_min_time="$min_time" \
      --benchmark_out="$dir/benchmark.json" --benchmark_out_format=json \
      >"$dir/benchmark.txt" 2>"$dir/valgrind.log" ||
      { echo "count_core.sh: $binary $filter failed under valgrind:" >&2;
        cat "$dir/valgrind.log" >&2; exit 1; }
  done
done

python3 - "$work" "${OUT:-}" <<'PY'
import glob, json, os, re, subprocess, sys

work, out = sys.argv[1], sys.argv[2]

def measured_dump(d, binary):
    """The last 'measured cycles' dump: Google Benchmark runs a benchmark a few times to
    size it, and the last run is the one its JSON reports."""
    dumps = []
    for path in glob.glob(os.path.join(d, "callgrind.out*")):
        text = open(path).read()
        if "Client Request: measured cycles" in text:
            m = re.search(r"^part: (\d+)$", text, re.M)
            dumps.append((int(m.group(1)) if m else 0, path, text))
    if not dumps:
        sys.exit(f"count_core.sh: {binary} wrote no 'measured cycles' dump (built without "
                 "valgrind's header, valgrind/callgrind.h?)")
    return max(dumps)[1:]

rows = []
for d in sorted(glob.glob(os.path.join(work, "*")), key=lambda p: int(os.path.basename(p))):
    binary, name, index = open(os.path.join(d, "what")).read().split("\n")[:3]
    runs = [b for b in json.load(open(os.path.join(d, "benchmark.json")))["benchmarks"]
            if b.get("run_type", "iteration") == "iteration"]
    path, text = measured_dump(d, binary)
    if not runs or "decisions" not in runs[-1]:
        sys.exit(f"count_core.sh: {binary} reports no 'decisions' counter for {name}")
    decisions = runs[-1]["decisions"]
    events = re.search(r"^events: (.*)$", text, re.M).group(1).split()
    summary = [int(x) for x in re.search(r"^summary: (.*)$", text, re.M).group(1).split()]
    summary += [0] * (len(events) - len(summary))  # callgrind leaves out trailing zeros
    e = dict(zip(events, summary))
    per = {
        "instructions": e["Ir"] / decisions,
        "l1_data_misses": (e["D1mr"] + e["D1mw"]) / decisions,
        "l1_instruction_misses": e["I1mr"] / decisions,
        "last_level_misses": (e["DLmr"] + e["DLmw"] + e["ILmr"]) / decisions,
    }
    # Where the instructions go: the functions with the largest self counts.
    annotate = subprocess.run(["callgrind_annotate", "--show=Ir", "--sort=Ir", "--threshold=100", path],
                              capture_output=True, text=True).stdout
    top = []
    for line in annotate.splitlines():
        m = re.match(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+\S+?:(.*?)(?: \[.*\])?$", line)
        # Functions on the stack at the dump (main, the benchmark's) show the whole count.
        if m and "PROGRAM TOTALS" not in line and float(m.group(2)) < 99.9:
            fn = m.group(3).replace("(anonymous namespace)::", "").replace("acd::core::", "")
            fn = re.sub(r"\(.*", "", fn.replace("absl::debian3::", "absl::")).strip()
            top.append([fn, float(m.group(2)) / 100])
        if len(top) == 8:
            break
    rows.append({"binary": binary, "index": int(index), "benchmark": name, "decisions": decisions,
                 "per_decision": per, "top_instructions": top})

first = {}
shown = 0
for r in rows:
    if r["index"] != shown:
        shown = r["index"]
        print(f"binary {shown}: {r['binary']}")
    base = first.setdefault(r["benchmark"], r)
    p = r["per_decision"]
    print(f"  {r['benchmark']:12s} per decision: {p['instructions']:6.0f} instructions, "
          f"{p['l1_data_misses']:5.1f} L1d misses, {p['l1_instruction_misses']:5.1f} L1i misses, "
          f"{p['last_level_misses']:5.2f} last-level misses")
    if base is not r:
        b = base["per_decision"]
        r["ratio_to_first"] = {k: p[k] / b[k] if b[k] else None for k in p}
        q = {k: "n/a" if v is None else f"{v:.3f}" for k, v in r["ratio_to_first"].items()}
        print(f"  {'':12s} over binary 1: {q['instructions']} instructions, {q['l1_data_misses']} "
              f"L1d misses, {q['l1_instruction_misses']} L1i misses, {q['last_level_misses']} "
              f"last-level misses")
if out:
    json.dump({"cache": "level-1 instruction and data caches of 32 KiB, 8-way; a last level of "
                        "32 MiB, 16-way; 64-byte lines", "runs": rows}, open(out, "w"), indent=1)
PY
