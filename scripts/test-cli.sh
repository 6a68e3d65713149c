#!/usr/bin/env bash
# The command-line client end to end (cli/tests): against the server (the debug binary
# `cargo test` built) on the moto server of scripts/with-moto.sh, with a 256 KiB inline limit
# so that a few hundred KiB take the direct-upload path.
set -euo pipefail
: "${MOTO_ENDPOINT:?run through scripts/with-moto.sh}"

binary="${IMAGE_API_BINARY:-$("$(dirname "$0")/target-dir")/debug/image-api}"
name="cli-$$"
LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BUCKET_NAME="$name" TABLE_NAME="$name" ./setup-localstack.sh >/dev/null
port=$("$(dirname "$0")/free-port")
log="${TMPDIR:-/tmp}/cli-server-$port.log"
BUCKET_NAME="$name" TABLE_NAME="$name" LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BIND_ADDR="127.0.0.1:$port" \
  MAX_UPLOAD_BYTES=262144 RUST_LOG=warn "$binary" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
"$(dirname "$0")/wait-for" "http://127.0.0.1:$port/openapi.json" "$server" "$log"

IMAGE_API_TEST_URL="http://127.0.0.1:$port" cargo test --locked -p image-api-cli
