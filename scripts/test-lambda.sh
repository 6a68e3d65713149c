#!/usr/bin/env bash
# Runs the function under `cargo lambda watch`, which emulates the Lambda Runtime API without
# Docker: the real lambda_http runtime loop, fed by HTTP requests. Then drives the smoke test
# through it against the moto server of scripts/with-moto.sh.
set -euo pipefail
: "${MOTO_ENDPOINT:?run through scripts/with-moto.sh}"

name="lambda-$$"
LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BUCKET_NAME="$name" TABLE_NAME="$name" ./setup-localstack.sh >/dev/null
port=$("$(dirname "$0")/free-port")
log="${TMPDIR:-/tmp}/cargo-lambda-$port.log"

setsid cargo lambda watch -A 127.0.0.1 -P "$port" \
  --env-var "BUCKET_NAME=$name" --env-var "TABLE_NAME=$name" \
  --env-var "LOCALSTACK_ENDPOINT=$MOTO_ENDPOINT" --env-var "RUST_LOG=info" >"$log" 2>&1 &
watch_pid=$!
trap 'kill -- -"$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true' EXIT

url="http://127.0.0.1:$port/lambda-url/image-api"
echo "cargo lambda watch on $url (log: $log); the first request builds the function"
# The first invocation compiles the function: allow for a cold build.
"$(dirname "$0")/wait-for" "$url/images" "$watch_pid" "$log" 900
./scripts/smoke.sh "$url"
# Logs inside the Lambda runtime are JSON lines carrying the invocation's request id.
grep -q '"lambda_request_id":"' "$log" || { echo "no JSON request log with lambda_request_id in $log" >&2; exit 1; }
echo "test-lambda passed"
