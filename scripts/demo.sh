#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine, as root:
#   1. installs the packages (scripts/install-deps.sh),
#   2. builds acdd, acdctl and acd-sim in Release (build/release, the tree scripts/test.sh uses),
#   3. starts acdd on a free local port with routing_rules/healthcare_psc.textproto, its
#      clock set to the scenario's: starting at the scenario's start (a Monday, 07:00
#      Eastern) and running SPEED times as fast, so business hours, offer timeouts, wrap-ups
#      and maximum waits are the scenario's whatever the time of day the demo runs,
#   4. plays the healthcare normal Monday against it in the background with `acd-sim load`
#      at the same speed,
#   5. shows the live wallboard (`acdctl watch`, in the scenario's time zone) until you
#      press Ctrl-C,
#   6. then stops the load and the server and prints the final KPIs and RPC latencies.
# SPEED (default 10) is how many times faster than real time the scenario plays; JOBS the
# build parallelism; BUILD the build tree; SKIP_DEPS=1 skips step 1. Logs go to a temporary
# folder, named at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SPEED="${SPEED:-10}"
JOBS="${JOBS:-$(nproc)}"
BUILD="${BUILD:-build/release}"

if [ "${SKIP_DEPS:-0}" = 1 ]; then
  :
elif [ "$(id -u)" -eq 0 ]; then
  bash scripts/install-deps.sh
else
  echo "demo.sh: not root, so not installing packages (scripts/install-deps.sh needs root)" >&2
fi
# The same configuration as scripts/test.sh, so both share one build tree.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DACD_PGO=OFF -DACD_LTO=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target acdd acdctl acd-sim

SCENARIO=simulators/scenarios/healthcare_normal_monday.textproto
RULES=routing_rules/healthcare_psc.textproto
# The scenario's `start` (a local time) and `time_zone`, for acdd's clock and the wallboard.
scenario_field() { sed -n "s/^$1: *\"\([^\"]*\)\".*/\1/p" "$SCENARIO" | head -n 1; }
ZONE="$(scenario_field time_zone)"
START_LOCAL="$(scenario_field start)"
if [ -z "$ZONE" ] || [ -z "$START_LOCAL" ]; then
  echo "demo.sh: $SCENARIO must give start and time_zone" >&2
  exit 1
fi
CLOCK_START="$(TZ="$ZONE" date -d "$START_LOCAL" +%Y-%m-%dT%H:%M:%S%:z)"

ACDD="$BUILD/engine/server/acdd"
ACDCTL="$BUILD/engine/server/acdctl"
ACD_SIM="$BUILD/simulators/acd-sim"
LOGS="$(mktemp -d /tmp/acd-demo.XXXXXX)"
ACDD_PID=""
LOAD_PID=""

stop_all() {
  trap - INT TERM EXIT
  if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
    kill -TERM "$LOAD_PID" 2>/dev/null || true  # acd-sim load ends cleanly and reports
    wait "$LOAD_PID" 2>/dev/null || true
  fi
  if [ -n "$ACDD_PID" ] && kill -0 "$ACDD_PID" 2>/dev/null; then
    kill -TERM "$ACDD_PID" 2>/dev/null || true
    wait "$ACDD_PID" 2>/dev/null || true
  fi
  echo
  echo "==== final KPIs (acd-sim load) ===="
  cat "$LOGS/load.out" 2>/dev/null || true
  if [ -s "$LOGS/load.err" ]; then
    echo "---- acd-sim load said ----"
    tail -n 5 "$LOGS/load.err"
  fi
  echo "(logs: $LOGS)"
}

# Starts acdd with the given arguments; sets TARGET from its "listening on HOST:PORT" line.
# Returns 1 if it exits or does not listen within 10 s.
start_acdd() {
  : >"$LOGS/acdd.out"
  # setsid: a session of its own, so Ctrl-C at the wallboard does not reach the server
  # (this script stops it once the load has reported).
  setsid "$ACDD" --listen 127.0.0.1:0 "$@" >"$LOGS/acdd.out" 2>"$LOGS/acdd.err" &
  ACDD_PID=$!
  for _ in $(seq 100); do
    TARGET="$(sed -n 's/^listening on //p' "$LOGS/acdd.out")"
    [ -n "$TARGET" ] && return 0
    kill -0 "$ACDD_PID" 2>/dev/null || { ACDD_PID=""; return 1; }
    sleep 0.1
  done
  kill -TERM "$ACDD_PID" 2>/dev/null || true
  ACDD_PID=""
  return 1
}

trap stop_all EXIT
trap 'exit 130' INT TERM

start_acdd --rules "$RULES" --clock-start "$CLOCK_START" --clock-speed "$SPEED" ||
  { echo "demo.sh: acdd did not start; see $LOGS/acdd.err" >&2; cat "$LOGS/acdd.err" >&2; exit 1; }
echo "acdd on $TARGET with $RULES, its clock from $CLOCK_START at ${SPEED}x"

setsid "$ACD_SIM" load "$SCENARIO" --target "$TARGET" --speed "$SPEED" --progress-s 10 \
  >"$LOGS/load.out" 2>"$LOGS/load.err" &
LOAD_PID=$!
echo "playing $SCENARIO at ${SPEED}x; wallboard follows, Ctrl-C to stop"
sleep 1
# The wallboard in the foreground until Ctrl-C (or until it ends on its own).
TZ="$ZONE" "$ACDCTL" --target "$TARGET" watch || true
