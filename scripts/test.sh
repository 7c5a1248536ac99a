#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#   1. installs the packages (scripts/install-deps.sh),
#   2. builds everything in Release with assertions on and runs every test with ctest,
#   3. builds engine/core and its tests with AddressSanitizer + UBSan and runs them.
# Build trees go to build/release and build/asan. JOBS overrides the parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"

bash scripts/install-deps.sh

# Plain (ACD_PGO=OFF, ACD_LTO=OFF): benchmarks/run.sh builds this tree with the core
# profile-guided and link-time optimized (scripts/build-release.sh); the tests check
# behaviour, which neither changes.
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DACD_PGO=OFF -DACD_LTO=OFF
cmake --build build/release -j "$JOBS"
ctest --test-dir build/release --output-on-failure -j "$JOBS" --timeout 600

# Sanitizers at -O2 (RelWithDebInfo): -O0 makes the property test ten times slower for no
# extra findings. The release run above does all property seeds; here one seed of the
# same length runs under ASan + UBSan.
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACD_SANITIZE=ON -DACD_CORE_ONLY=ON \
  -DACD_BUILD_BENCHMARKS=OFF
cmake --build build/asan -j "$JOBS"
ACD_PROPERTY_SEEDS=1 ctest --test-dir build/asan --output-on-failure -j "$JOBS" -L core --timeout 900
