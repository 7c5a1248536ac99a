#!/usr/bin/env bash
# server_smoke.sh: the ctest smoke of the server benchmarks (label bench). Starts a server
# (acdd or echo_server) on 127.0.0.1:0, reads its "listening on HOST:PORT" line, runs a few
# hundred Enqueue+Cancel pairs through load_client, then a short blocking round trip,
# stops the server. Fails if any RPC fails.
#
#   server_smoke.sh SERVER_BINARY LOAD_CLIENT_BINARY [LOAD_CLIENT_ARGS...]
set -euo pipefail
server=$1
client=$2
shift 2

out=$(mktemp)
"$server" --listen 127.0.0.1:0 >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
target=""
for _ in $(seq 100); do
  target=$(sed -n 's/^listening on //p' "$out")
  [[ -n "$target" ]] && break
  sleep 0.05
done
[[ -n "$target" ]] || { echo "server_smoke: $server did not start" >&2; exit 1; }
"$client" --target "$target" --mode load --channels 2 --in-flight 64 --pairs 300 \
  --warmup-s 0 --duration-s 8 "$@"
"$client" --target "$target" --mode roundtrip --pairs 50 --warmup-s 0 --duration-s 8 "$@"
