#!/usr/bin/env bash
# Runs the function under `cargo lambda watch`, which emulates the Lambda Runtime API without
# Docker: the real lambda_http runtime loop, fed by HTTP requests. Then drives the smoke test
# through it against the moto server of scripts/with-moto.sh.
set -euo pipefail
: "${MOTO_ENDPOINT:?run through scripts/with-moto.sh}"

name="lambda-$$"
LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BUCKET_NAME="$name" TABLE_NAME="$name" ./setup-localstack.sh >/dev/null
# `cargo lambda watch` runs `cargo run --bin image-api` when the first request arrives. On a
# machine that has not built it yet that takes minutes, and the requests that gave up meanwhile
# jam its invocation queue. Build it first, with the same command's settings (dev profile, the
# binary's own features): watch then only starts it.
cargo build --locked --bin image-api
port=$("$(dirname "$0")/free-port")
log="${TMPDIR:-/tmp}/cargo-lambda-$port.log"

setsid cargo lambda watch -A 127.0.0.1 -P "$port" \
  --env-var "BUCKET_NAME=$name" --env-var "TABLE_NAME=$name" \
  --env-var "LOCALSTACK_ENDPOINT=$MOTO_ENDPOINT" --env-var "RUST_LOG=info" >"$log" 2>&1 &
watch_pid=$!
trap 'kill -- -"$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true' EXIT

url="http://127.0.0.1:$port/lambda-url/image-api"
echo "cargo lambda watch on $url (log: $log)"
"$(dirname "$0")/wait-for" "$url/images" "$watch_pid" "$log" 120
# watch's `cargo run` found the build fresh: nothing compiled on the first request.
! grep -q "Compiling image-api" "$log" || { echo "cargo lambda watch rebuilt the function: see $log" >&2; exit 1; }
./scripts/smoke.sh "$url"
# Logs inside the Lambda runtime are JSON lines carrying the invocation's request id.
grep -q '"lambda_request_id":"' "$log" || { echo "no JSON request log with lambda_request_id in $log" >&2; exit 1; }
echo "test-lambda passed"
