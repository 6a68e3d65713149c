# Sourced by the scripts that drive the server over HTTP (schemathesis, the browser, the CLI):
# starts the API (the debug binary `cargo test` built, or IMAGE_API_BINARY) on the moto server
# of scripts/with-moto.sh, with a bucket and table of its own and MAX_UPLOAD_BYTES as given,
# waits until it answers, sets SERVER_URL (no trailing slash), and stops it on exit.
# Usage: MAX_UPLOAD_BYTES=... source scripts/serve-on-moto.sh NAME
: "${MOTO_ENDPOINT:?run through scripts/with-moto.sh}"

_scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_name="$1-$$"
_binary="${IMAGE_API_BINARY:-$("$_scripts/target-dir")/debug/image-api}"
LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BUCKET_NAME="$_name" TABLE_NAME="$_name" ./setup-localstack.sh >/dev/null
_port=$("$_scripts/free-port")
_log="${TMPDIR:-/tmp}/$1-server-$_port.log"
BUCKET_NAME="$_name" TABLE_NAME="$_name" LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BIND_ADDR="127.0.0.1:$_port" \
  RUST_LOG=warn "$_binary" >"$_log" 2>&1 &
_server=$!
trap 'kill "$_server" 2>/dev/null || true; wait "$_server" 2>/dev/null || true' EXIT
"$_scripts/wait-for" "http://127.0.0.1:$_port/openapi.json" "$_server" "$_log"
SERVER_URL="http://127.0.0.1:$_port"
