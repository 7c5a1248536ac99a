#!/usr/bin/env bash
# Builds the Release tree with the core optimized by a profile of its own work
# (profile-guided optimization, GCC; engine/core/CMakeLists.txt, ACD_PGO) and as one unit
# at link time (ACD_LTO: calls between the core's sources can be inlined):
#   1. builds acd-sim with the core instrumented (ACD_PGO=GENERATE);
#   2. trains: acd-sim plays every shipped scenario (simulators/scenarios/*.textproto, five
#      seeds each: multi-queue, skills, expansion, abandons, callbacks, RONA) and two
#      single-queue centers of its quick form, in virtual time, so the core records which
#      branches and calls a center's day takes. Nothing here runs the benchmarks;
#   3. rebuilds the core with that profile (ACD_PGO=USE), then the targets asked for.
# The profile changes code layout, inlining and branch order, never behaviour: step 3
# checks that the guided acd-sim prints the training runs' KPIs byte for byte as the
# instrumented one did, and fails otherwise. Training takes a few seconds and step 3
# recompiles only the core's sources.
#
#   scripts/build-release.sh [TARGET...]    # no target: everything
#   BUILD_DIR (default build/release, the tree scripts/test.sh builds plain), JOBS.
# Needs the build dependencies (scripts/install-deps.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build/release}
jobs=${JOBS:-$(nproc)}
profile=$build/pgo-profile
log() { echo "build-release.sh: $*" >&2; }

log "1/3 core instrumented, in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DACD_PGO=GENERATE -DACD_LTO=ON \
  -DACD_PGO_DIR="$profile" >/dev/null
cmake --build "$build" -j "$jobs" --target acd-sim >/dev/null
rm -rf "$profile"  # a profile of older sources would be refused function by function

log "2/3 training on acd-sim"
sim=$build/simulators/acd-sim
# The training runs without address-space randomization where the host allows it: absl::Hash
# seeds its hashes from an address, so each randomized run would probe the engine's hash
# tables differently, and the profile, and with it the guided build, would change from one
# build to the next. With fixed addresses, the same sources give the same build.
fixed_addresses=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  fixed_addresses=(setarch "$(uname -m)" -R)
else
  log "this host does not let setarch -R turn off address randomization: the profile, and" \
    "so the guided build, may differ a little from one build to the next"
fi
sim_run() { "${fixed_addresses[@]}" "$sim" run "$@" --json --no-timing --no-progress; }
# play OUT: the training runs with $sim, their KPIs (without wall-clock figures) written
# to OUT, so that step 3 can check the guided build against them.
play() {
  local scenario seed
  for scenario in "$root"/simulators/scenarios/*.textproto; do
    for seed in 1 2 3 4 5; do
      sim_run "$scenario" --seed "$seed"
    done
  done >"$1"
  sim_run --arrivals-per-hour 600 --aht-s 300 --agents 55 --patience-s 180 --contacts 200000 \
    --seed 11 >>"$1"
  sim_run --arrivals-per-hour 6000 --aht-s 240 --agents 420 --contacts 200000 --seed 12 >>"$1"
}
play "$build/pgo-training-kpis.instrumented"
[[ -n "$(find "$profile" -name '*engine.cc.gcda' 2>/dev/null)" ]] || {
  log "training left no profile of engine.cc in $profile"
  exit 1
}

log "3/3 core built with the profile"
cmake -S "$root" -B "$build" -DACD_PGO=USE >/dev/null
cmake --build "$build" -j "$jobs" --target acd-sim >/dev/null
# Same behaviour, checked: the guided acd-sim must print what the instrumented one did,
# byte for byte. A difference would be a compiler fault or undefined behaviour that the new
# inlining exposed; build plain (-DACD_PGO=OFF) and find it.
play "$build/pgo-training-kpis.guided"
if ! cmp -s "$build/pgo-training-kpis.instrumented" "$build/pgo-training-kpis.guided"; then
  log "the guided build's acd-sim differs from the instrumented one on the training runs"
  log "(diff $build/pgo-training-kpis.instrumented $build/pgo-training-kpis.guided)"
  exit 1
fi
if [[ $# -gt 0 ]]; then
  cmake --build "$build" -j "$jobs" --target "$@"
else
  cmake --build "$build" -j "$jobs"
fi
