#!/usr/bin/env bash
# The gallery page in Chromium (tests/browser/gallery.py), against the server (the debug
# binary `cargo test` built) on the moto server of scripts/with-moto.sh. Screenshots go to
# the target directory's screenshots/.
set -euo pipefail
: "${MOTO_ENDPOINT:?run through scripts/with-moto.sh}"

target="$("$(dirname "$0")/target-dir")"
binary="${IMAGE_API_BINARY:-$target/debug/image-api}"
name="browser-$$"
LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BUCKET_NAME="$name" TABLE_NAME="$name" ./setup-localstack.sh >/dev/null
port=$("$(dirname "$0")/free-port")
log="${TMPDIR:-/tmp}/browser-server-$port.log"
# A low inline limit, so that a few hundred KiB take the direct-upload path.
export MAX_UPLOAD_BYTES=262144
BUCKET_NAME="$name" TABLE_NAME="$name" LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BIND_ADDR="127.0.0.1:$port" \
  RUST_LOG=warn "$binary" >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
"$(dirname "$0")/wait-for" "http://127.0.0.1:$port/openapi.json" "$server" "$log"

"${BROWSER_VENV:-.venv-browser}/bin/python" tests/browser/gallery.py "http://127.0.0.1:$port/" "$target/screenshots"
