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

"$(dirname "$0")/wait-for" "http://127.0.0.1:$port/moto-api/" "$moto_pid" "$log"

export MOTO_ENDPOINT="http://127.0.0.1:$port" MOTO_PID="$moto_pid"
echo "moto server at $MOTO_ENDPOINT (log: $log)"
"$@"
