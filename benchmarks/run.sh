#!/usr/bin/env bash
# run.sh: every figure of issue 7 with one command. Builds Release in build/release with
# the core profile-guided and link-time optimized (scripts/build-release.sh) and a plain
# core benchmark beside it (build/core-plain, the same-run baseline of that gain), runs
# the core benchmark (and counts its decisions under callgrind) and the acd-sim quick
# form, starts acdd and benchmarks/echo_server on loopback (port 0), runs load_client
# against both in the same run (alternating, so noise hits both alike), h2load against
# both (and the enqueue run against an echo server that rejects repeated ids as acdd
# does), the WatchEvents fan-out test and the unloaded round trip (beside the host's
# loopback TCP floor, and again held to one CPU), then writes benchmarks/results/*.json
# and benchmarks/RESULTS.md (benchmarks/report.py).
#
#   benchmarks/run.sh                 # about 8 minutes on 2 cores
#   JOBS=2 DURATION_S=8 ROUNDS=3 H2LOAD_ROUNDS=3 CORE_REPS=5 benchmarks/run.sh
#   PGO_PAIRS=6                       # side-by-side pairs, plain core against guided + LTO
#   PERF=1 benchmarks/run.sh          # also perf profiles of acdd and of the core
#                                     # benchmark's scales 1 and 2 (results/perf_*.txt)
#
# Needs: the build dependencies, h2load (Debian nghttp2-client; skipped with a note if
# missing), valgrind (the callgrind counts; skipped if missing) and python3 (report). Run
# as root it installs them first (scripts/install-deps.sh; SKIP_DEPS=1 skips that). Only
# loopback addresses are used.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ "$(id -u)" == 0 && "${SKIP_DEPS:-0}" != 1 ]]; then
  bash "$root/scripts/install-deps.sh"
fi
build=${BUILD_DIR:-$root/build/release}
results=$root/benchmarks/results
jobs=${JOBS:-2}
duration_s=${DURATION_S:-8}
rounds=${ROUNDS:-3}
h2load_rounds=${H2LOAD_ROUNDS:-3}
core_reps=${CORE_REPS:-5}
pgo_pairs=${PGO_PAIRS:-6}
in_flight=${IN_FLIGHT:-128}
channels=${CHANNELS:-4}
mkdir -p "$results"
rm -f "$results"/*.json "$results"/*.txt "$results"/*.log

log() { echo "run.sh: $*" >&2; }

# The machine, before anything of ours runs (the load average says how shared it is).
machine() {
  python3 - "$@" <<'PY'
import json, os, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(json.dumps({"nproc": os.cpu_count(), "cpu": cpu, "loadavg": open("/proc/loadavg").read().split()[:3],
                  "kernel": os.uname().release}))
PY
}
echo "{\"start\": $(machine), \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" >"$results/machine_start.json"

# ---- build ----
# Release with the core built from its own profile and link-time optimized
# (scripts/build-release.sh: trained on acd-sim's scenarios, not on these benchmarks), as
# we ship it; and, for the same-run baseline of that, a plain build of the core benchmark
# alone (core only, no profile, no link-time optimization).
log "building Release in $build (core profile-guided, link-time optimized)"
BUILD_DIR="$build" JOBS="$jobs" bash "$root/scripts/build-release.sh" \
  acdd echo_server load_client core_benchmark acd-sim >/dev/null
echo '{"core": "profile-guided and link-time optimized (scripts/build-release.sh: trained on acd-sim playing the shipped scenarios and two quick-form centers of other sizes than the three below; core_benchmark plays no part)"}' \
  >"$results/build.json"
plain=${PLAIN_BUILD_DIR:-$root/build/core-plain}
log "building the plain core benchmark in $plain"
cmake -S "$root" -B "$plain" -DCMAKE_BUILD_TYPE=Release -DACD_CORE_ONLY=ON \
  -DACD_BUILD_TESTS=OFF -DACD_PGO=OFF -DACD_LTO=OFF >/dev/null
cmake --build "$plain" -j"$jobs" --target core_benchmark >/dev/null
bin_acdd=$build/engine/server/acdd
bin_echo=$build/benchmarks/echo_server
bin_load=$build/benchmarks/load_client
bin_core=$build/benchmarks/core_benchmark
bin_sim=$build/simulators/acd-sim

# ---- core ----
# CORE_REPS repetitions, each a fresh engine; the report takes the fastest and lists all
# (the machine is shared, and other tenants' work only ever slows a repetition down).
log "core_benchmark ($core_reps repetitions)"
"$bin_core" --benchmark_out="$results/core.json" --benchmark_out_format=json \
  --benchmark_repetitions="$core_reps" --benchmark_counters_tabular=true >"$results/core.txt"
# What the profile and link-time optimization give scale 1: the plain and the shipped build
# side by side, one per CPU, in PGO_PAIRS pairs (compare_core.sh), so both see the same
# seconds of the host.
log "core_benchmark: plain build against profile-guided + LTO ($pgo_pairs pairs)"
MIN_TIME=1 bash "$root/benchmarks/compare_core.sh" "$plain/benchmarks/core_benchmark" \
  "$bin_core" BM_OneQueue "$pgo_pairs" >"$results/core_pgo_pairs.txt"

# What a decision costs in instructions and simulated cache misses (callgrind, the shipped
# build): counts that do not move with the host's load, for comparing runs and changes.
if command -v valgrind >/dev/null; then
  log "core_benchmark under callgrind (count_core.sh, about two minutes)"
  OUT="$results/core_counts.json" bash "$root/benchmarks/count_core.sh" "$bin_core" \
    >"$results/core_counts.txt"
else
  log "valgrind is not installed: no callgrind counts"
fi

# ---- acd-sim quick form (issue 6's speed goal: >= 1,000,000 contacts/s of wall clock) ----
# Three M/M/N(+M) cases, 2,000,000 contacts each; every decision by the real core.
sim_case() {  # sim_case NAME ACD_SIM_ARGS...
  local name=$1
  shift
  log "acd-sim: $name"
  "$bin_sim" run "$@" --contacts "${SIM_CONTACTS:-2000000}" --json --no-progress \
    >"$results/sim_$name.json"
}
sim_case small --arrivals-per-hour 180 --aht-s 240 --agents 14
sim_case medium --arrivals-per-hour 3600 --aht-s 180 --agents 200 --patience-s 120
sim_case large --arrivals-per-hour 20000 --aht-s 300 --agents 1700

# ---- servers ----
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# start_server NAME BINARY ARGS...: starts it on 127.0.0.1:0; sets $target and $server_pid.
start_server() {
  local name=$1 bin=$2
  shift 2
  local out=$results/$name.server.txt
  "$bin" --listen 127.0.0.1:0 "$@" >"$out" 2>"$results/$name.server.log" &
  server_pid=$!
  pids+=("$server_pid")
  target=""
  for _ in $(seq 200); do
    target=$(sed -n 's/^listening on //p' "$out")
    [[ -n "$target" ]] && return 0
    sleep 0.05
  done
  log "$name did not start"
  exit 1
}

start_server echo "$bin_echo"
echo_target=$target
echo_pid=$server_pid
# acdd logs a warning per cut-off subscriber; keep the rest of its log quiet.
start_server acdd "$bin_acdd" --log-level warn
acdd_target=$target
acdd_pid=$server_pid
# For h2load's EnqueueContact run only: an echo server that answers ALREADY_EXISTS to a
# repeated id, as acdd does (see below).
start_server echo_dup "$bin_echo" --reject-duplicate-enqueues
echo_dup_target=$target
log "echo on $echo_target, acdd on $acdd_target (pid $acdd_pid)"

cpu_ticks() {  # user + system CPU of a process, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# Runs COMMAND... and writes the CPU server PID used meanwhile to OUT, with CLIENT_S (a
# Python expression: the client's run in seconds, warm-up included) for CPU per RPC.
with_server_cpu() {  # with_server_cpu PID OUT CLIENT_S COMMAND...
  local pid=$1 out=$2 client_s=$3 before after
  shift 3
  before=$(cpu_ticks "$pid")
  "$@"
  after=$(cpu_ticks "$pid")
  python3 -c "import json, os; print(json.dumps({'cpu_s': ($after - $before) / os.sysconf('SC_CLK_TCK'), 'client_s': $client_s}))" \
    >"$out"
}

load() {  # load NAME TARGET EXTRA_ARGS...
  local name=$1 t=$2
  shift 2
  "$bin_load" --target "$t" --label "$name" --duration-s "$duration_s" --warmup-s 1 \
    --channels "$channels" --in-flight "$in_flight" "$@" >/dev/null
}

# ---- unary load, alternating echo and acdd ----
# Each round also records the server's CPU time over the whole client run (warm-up
# included), for CPU per RPC: a figure that other load on the machine moves far less than
# throughput.
unary_round() {  # unary_round NAME TARGET PID ROUND
  with_server_cpu "$3" "$results/cpu_$1_$4.json" "$duration_s + 1" \
    load "$1" "$2" --out "$results/unary_$1_$4.json"
}
for r in $(seq "$rounds"); do
  log "unary load round $r: echo"
  unary_round echo "$echo_target" "$echo_pid" "$r"
  log "unary load round $r: acdd"
  unary_round acdd "$acdd_target" "$acdd_pid" "$r"
done

# ---- h2load ----
# h2load_call OUT TARGET METHOD BODY H2LOAD_ARGS...: one h2load run of a gRPC call with the
# pre-framed BODY, one h2load thread; its summary goes to OUT.txt, its per-request log to
# OUT.log (report.py reads both).
h2load_call() {
  local out=$1 t=$2 method=$3 body=$4
  shift 4
  h2load "$@" -t 1 --warm-up-time=1 -d "$body" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    --log-file="$out.log" "http://$t/acd.v1.Gateway/$method" >"$out.txt" 2>&1 || true
}
if command -v h2load >/dev/null; then
  # Two calls, each with one body for every request (h2load cannot vary it): EnqueueContact
  # of contact h2load-1 (acdd: only the first succeeds, then ALREADY_EXISTS, gRPC's error
  # path) and GetContact of that same contact (OK every time, on both servers). The
  # enqueue run also goes to echo_dup, which answers as acdd does: the ratio over it is
  # what acdd adds when both take gRPC's error path.
  # Each call runs in rounds, the servers alternating within a round (as the unary load
  # does), so the report's ratio is a median of ratios measured in the same minutes.
  h2load_run() {  # h2load_run FILE_PREFIX METHOD BODY SERVER...
    local prefix=$1 method=$2 body=$3 name t r
    shift 3
    for r in $(seq "$h2load_rounds"); do
      for name in "$@"; do
        t=${name}_target
        log "h2load round $r: $method, $name"
        # 4 connections x 32 streams = 128 in flight, like load_client.
        h2load_call "$results/${prefix}_${name}_$r" "${!t}" "$method" "$body" \
          -c 4 -m 32 -D "$duration_s"
      done
    done
  }
  body=$results/enqueue_body.bin
  "$bin_load" --mode h2load-body --body "$body"
  h2load_run h2load EnqueueContact "$body" echo acdd echo_dup
  "$bin_load" --mode h2load-body --h2load-call get-contact --body "$body"
  # h2load sees only HTTP statuses: check that acdd really has the contact to read.
  "$build/engine/server/acdctl" --target "$acdd_target" contact get h2load-1 >/dev/null ||
    log "h2load: acdd has no contact h2load-1, so its GetContact answers are NOT_FOUND"
  h2load_run h2load_get GetContact "$body" echo acdd
  rm -f "$body"
else
  log "h2load not found (Debian package nghttp2-client): skipped"
fi

# ---- WatchEvents fan-out: 100 subscribers, each on its own connection ----
# acdd's --max-streams-per-client (16) stays as it is: every subscriber has its own
# connection, as 100 wallboards would. Each Enqueue+Cancel pair makes two engine events,
# so at STREAM_RATE pairs/s each subscriber must take 2 x STREAM_RATE events/s; 1,250
# pairs/s is exactly the issue's 250,000 events/s for 100 subscribers, so the default asks
# for 20% more (300,000): a run paced exactly at the target lands a hair above or below it.
stream_rate=${STREAM_RATE:-1500}
# A low rate that acdd's fan-out keeps up with here (100 x 2 x 100 = 20,000 events/s), to
# show the streams work and where the capacity lies.
stream_rate_low=${STREAM_RATE_LOW:-100}
client_prefix=()  # a command the load client runs under (taskset, below)
stream() {  # stream NAME TARGET separate|shared EXTRA_ARGS...
  local name=$1 t=$2 kind=$3
  shift 3
  log "stream: $name"
  "${client_prefix[@]}" "$bin_load" --target "$t" --label "$name" --mode stream --subscribers 100 \
    --subscriber-channels "$kind" --duration-s "$duration_s" --warmup-s 1 \
    --channels "$channels" --allow-errors --out "$results/stream_$name.json" "$@" \
    >/dev/null || true
}
# acdd's CPU over the paced run (all its threads), for its CPU per delivered event.
with_server_cpu "$acdd_pid" "$results/cpu_stream_acdd_paced.json" "$duration_s + 1" \
  stream acdd_paced "$acdd_target" separate --in-flight "$in_flight" --rate "$stream_rate"
stream acdd_low "$acdd_target" separate --in-flight "$in_flight" --rate "$stream_rate_low"
stream acdd_full "$acdd_target" separate --in-flight "$in_flight"
# The same with acdd held to one CPU and the load client (100 subscribers and the unary
# load) to the other, so neither takes CPU from the other: a diagnostic of the server's
# capacity. Sharing both CPUs, as above, a client that gets smaller batches spends more
# CPU per event, and that CPU comes out of acdd's.
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
  taskset -a -p -c 0 "$acdd_pid" >/dev/null
  client_prefix=(taskset -c 1)
  with_server_cpu "$acdd_pid" "$results/cpu_stream_acdd_full_split.json" "$duration_s + 1" \
    stream acdd_full_split "$acdd_target" separate --in-flight "$in_flight"
  client_prefix=()
  taskset -a -p -c "0-$(($(nproc) - 1))" "$acdd_pid" >/dev/null
fi
# The ceiling: echo_server writes synthetic events back to back, no unary load.
stream echo_ceiling "$echo_target" separate --in-flight 0
stream echo_ceiling_shared "$echo_target" shared --in-flight 0

# ---- unloaded round trip ----
# First the host's own floor: a loopback TCP ping-pong between two processes, no gRPC.
log "unloaded round trip: loopback TCP floor"
"$bin_load" --mode tcp-floor --label floor --duration-s 5 --warmup-s 1 \
  --out "$results/roundtrip_floor.json" >/dev/null
# The server's CPU over the whole client run (warm-up included) gives its CPU per RPC.
for name in echo acdd; do
  t=${name}_target
  p=${name}_pid
  log "unloaded round trip: $name"
  with_server_cpu "${!p}" "$results/cpu_roundtrip_$name.json" 6 \
    "$bin_load" --target "${!t}" --label "$name" --mode roundtrip --duration-s 5 --warmup-s 1 \
    --out "$results/roundtrip_$name.json" >/dev/null
done

# The same with h2load as the client (nghttp2: one thread, one connection, one request at
# a time, GetContact of contact h2load-1, OK on both servers): a lean third-party client, so
# the figure does not rest on gRPC C++'s client (a diagnostic; the target's figure is above).
if command -v h2load >/dev/null; then
  body=$results/get_contact_body.bin
  "$bin_load" --mode h2load-body --h2load-call get-contact --body "$body"
  for name in echo acdd; do
    t=${name}_target
    log "unloaded round trip, h2load as the client: $name"
    h2load_call "$results/h2load_rtt_${name}_1" "${!t}" GetContact "$body" -c 1 -m 1 -D 5
  done
  rm -f "$body"
fi

# The same three with the servers and the client held to one CPU, so no wake-up crosses
# CPUs (each one that does costs an interrupt between virtual CPUs on a VM): a diagnostic
# of where the round trip goes, not the target's figure.
if command -v taskset >/dev/null; then
  all_cpus=0-$(($(nproc) - 1))
  log "unloaded round trip on one CPU: floor"
  taskset -c 0 "$bin_load" --mode tcp-floor --label floor_onecpu --duration-s 5 --warmup-s 1 \
    --out "$results/roundtrip_floor_onecpu.json" >/dev/null
  for name in echo acdd; do
    t=${name}_target
    p=${name}_pid
    log "unloaded round trip on one CPU: $name"
    taskset -a -p -c 0 "${!p}" >/dev/null
    taskset -c 0 "$bin_load" --target "${!t}" --label "${name}_onecpu" --mode roundtrip \
      --duration-s 5 --warmup-s 1 --out "$results/roundtrip_${name}_onecpu.json" >/dev/null
    taskset -a -p -c "$all_cpus" "${!p}" >/dev/null
  done
fi

# ---- perf (PERF=1): where acdd's time goes in the fan-out and in the round trip ----
# A separate acdd whose subscribers may fall a million events behind, so they are not cut
# off and the profile shows the fan-out itself.
if [[ "${PERF:-0}" == 1 ]] && command -v perf >/dev/null; then
  start_server acdd_perf "$bin_acdd" --log-level warn --stream-buffer 1000000
  perf_target=$target
  perf_pid=$server_pid
  # perf_top DATA LINES PERF_REPORT_ARGS...: the first LINES lines of a perf report of
  # DATA, without comments and blank lines. The report goes to a file first (a pipe from
  # perf report into head hung this script once), bounded in time.
  perf_top() {
    local data=$1 lines=$2
    shift 2
    timeout 120 perf report -i "$data" "$@" --stdio -g none >"$data.report" 2>/dev/null || true
    grep -v '^#' "$data.report" | grep -v '^$' | head -"$lines" || true
    rm -f "$data.report"
  }
  profile() {  # profile NAME LOAD_CLIENT_ARGS...
    local name=$1
    shift
    log "perf: $name"
    "$bin_load" --target "$perf_target" --label "perf_$name" --duration-s "$duration_s" \
      --warmup-s 1 --allow-errors --out "$results/perf_$name.json" "$@" >/dev/null &
    local client=$!
    sleep 2
    perf record -g -o "$results/perf_$name.data" -p "$perf_pid" -- sleep 5 >/dev/null 2>&1 || true
    wait "$client" || true
    local data=$results/perf_$name.data
    {
      echo "== threads"
      perf_top "$data" 8 --no-children --sort comm
      echo "== core thread (comm acdd), inclusive"
      perf_top "$data" 40 --comm acdd --children --sort sym
    } >"$results/perf_$name.txt"
    rm -f "$data"
  }
  profile stream --mode stream --subscribers 100 --channels "$channels" \
    --in-flight "$in_flight" --rate "$stream_rate"
  profile roundtrip --mode roundtrip
  # The core benchmark's scales 1 and 2, by function (self time; the engine's setup and
  # warm-up cycles are in the samples too).
  for scale in OneQueue Skills; do
    log "perf: core $scale"
    data=$results/perf_core_$scale.data
    perf record -e cpu-clock -o "$data" "$bin_core" --benchmark_filter="BM_$scale" \
      >/dev/null 2>&1 || true
    perf_top "$data" 40 --no-children --sort sym >"$results/perf_core_$scale.txt"
    rm -f "$data"
  done
fi

cleanup
trap - EXIT
pids=()
machine >"$results/machine_end.json"

# ---- report ----
export RUN_COMMAND="benchmarks/run.sh  # JOBS=$jobs DURATION_S=$duration_s ROUNDS=$rounds H2LOAD_ROUNDS=$h2load_rounds CORE_REPS=$core_reps IN_FLIGHT=$in_flight CHANNELS=$channels STREAM_RATE=$stream_rate STREAM_RATE_LOW=$stream_rate_low PGO_PAIRS=$pgo_pairs"
python3 "$root/benchmarks/report.py" "$results" "$root/benchmarks/RESULTS.md"
log "wrote $root/benchmarks/RESULTS.md"
