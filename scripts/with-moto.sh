#!/usr/bin/env bash
# Runs a command with a private moto server (S3 + DynamoDB over HTTP) on a free port, exported
# as MOTO_ENDPOINT (its pid as MOTO_PID), and stops the server afterwards whatever the command's outcome.
set -euo pipefail

venv="${VENV:-.venv}"
port=$("$(dirname "$0")/free-port")
log="${TMPDIR:-/tmp}/moto-$port.log"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "moto_server failed to start; its log ($log):" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done

export MOTO_ENDPOINT="http://127.0.0.1:$port" MOTO_PID="$moto_pid"
echo "moto server at $MOTO_ENDPOINT (log: $log)"
"$@"
