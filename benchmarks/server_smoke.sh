#!/usr/bin/env bash
# server_smoke.sh: the ctest smoke of the server benchmarks (label bench). Starts a server
# (acdd or echo_server) on 127.0.0.1:0, reads its "listening on HOST:PORT" line, runs a few
# hundred Enqueue+Cancel pairs through load_client, then a short blocking round trip and
# half a second of WatchEvents to 4 subscribers under STREAM_IN_FLIGHT pairs of load
# (default 8; 0 for echo_server, whose streams need no load and starve it; none may be
# cut off),
# then (when h2load is installed) 200 requests of each h2load body run.sh sends
# (EnqueueContact, then GetContact of the contact it created), stops the server. Fails if
# any RPC fails (h2load: any request without an HTTP 200). With ACDCTL set (the acdctl
# binary), it also enqueues one id twice and fails unless the second answer is
# ALREADY_EXISTS: acdd always, echo_server when SERVER_ARGS=--reject-duplicate-enqueues.
#
#   [SERVER_ARGS=...] [ACDCTL=...] [STREAM_IN_FLIGHT=N] server_smoke.sh SERVER_BINARY LOAD_CLIENT_BINARY \
#       [LOAD_CLIENT_ARGS...]
set -euo pipefail
server=$1
client=$2
shift 2

out=$(mktemp)
# shellcheck disable=SC2086  # SERVER_ARGS is a list of flags
"$server" --listen 127.0.0.1:0 ${SERVER_ARGS:-} >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
target=""
for _ in $(seq 100); do
  target=$(sed -n 's/^listening on //p' "$out")
  [[ -n "$target" ]] && break
  sleep 0.05
done
[[ -n "$target" ]] || { echo "server_smoke: $server did not start" >&2; exit 1; }
# Each phase says when it starts, so a run that hangs (ctest's TIMEOUT) shows where.
phase() { echo "server_smoke: $(date +%T.%N | cut -c1-12) $*"; }
phase load
"$client" --target "$target" --mode load --channels 2 --in-flight 64 --pairs 300 \
  --warmup-s 0 --duration-s 8 "$@"
phase roundtrip
"$client" --target "$target" --mode roundtrip --pairs 50 --warmup-s 0 --duration-s 8 "$@"
phase stream
"$client" --target "$target" --mode stream --subscribers 4 --channels 2 \
  --in-flight "${STREAM_IN_FLIGHT:-8}" \
  --warmup-s 0 --duration-s 0.5 "$@"
if [[ -n "${ACDCTL:-}" ]]; then
  phase acdctl
  "$ACDCTL" --target "$target" enqueue smoke-duplicate >/dev/null
  if answer=$("$ACDCTL" --target "$target" enqueue smoke-duplicate 2>&1); then
    echo "server_smoke: a repeated enqueue was accepted" >&2
    exit 1
  fi
  [[ "$answer" == *ALREADY_EXISTS* ]] || { echo "server_smoke: $answer" >&2; exit 1; }
  echo "repeated enqueue: $answer"
fi
if command -v h2load >/dev/null; then
  body=$(mktemp)
  trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out" "$body"' EXIT
  for call in enqueue:EnqueueContact get-contact:GetContact; do
    phase "h2load ${call#*:}"
    "$client" --mode h2load-body --h2load-call "${call%%:*}" --body "$body"
    summary=$(h2load -c 2 -m 8 -n 200 -d "$body" -H 'content-type: application/grpc' \
      -H 'te: trailers' "http://$target/acd.v1.Gateway/${call#*:}" | grep '^requests:')
    echo "h2load ${call#*:}: $summary"
    [[ "$summary" == *"200 succeeded, 0 failed"* ]] || { echo "server_smoke: h2load failed" >&2; exit 1; }
  done
fi
