#!/usr/bin/env bash
# Uploads, lists, fetches and deletes one image through a running API, checking every answer.
# Usage: scripts/smoke.sh BASE_URL   (e.g. http://127.0.0.1:3000, or a deployed stage URL)
# Extra curl arguments (an API key header, say) can be passed in SMOKE_CURL_ARGS.
set -euo pipefail

base="${1:?usage: scripts/smoke.sh BASE_URL}"
base="${base%/}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
read -r -a extra <<<"${SMOKE_CURL_ARGS:-}"

fail() { echo "smoke: $*" >&2; exit 1; }
request() { # METHOD PATH EXPECTED_STATUS [curl args...]; body lands in $work/body
  local method=$1 path=$2 expected=$3
  shift 3
  local status
  status=$(curl -sS -o "$work/body" -w '%{http_code}' -X "$method" "${extra[@]}" "$@" "$base$path") || fail "$method $path: no answer"
  [ "$status" = "$expected" ] || fail "$method $path: expected $expected, got $status: $(head -c 300 "$work/body")"
  echo "ok  $method $path -> $status"
}
field() { "$(dirname "$0")/json-get" "$1" <"$work/body"; }

# A 1x1 PNG.
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82' >"$work/image.png"

request POST "/images?file_name=smoke.png" 201 -H 'Content-Type: image/png' --data-binary "@$work/image.png"
id=$(field id)
[ "$(field content_type)" = "image/png" ] || fail "upload: wrong content_type"

request GET "/images?file_name=smoke.png" 200
grep -q "$id" "$work/body" || fail "list: the new image is missing"

request GET "/images/$id" 200
[ "$(field file_name)" = "smoke.png" ] || fail "get: wrong file_name"

request GET "/images/$id/content" 200
cmp -s "$work/body" "$work/image.png" || fail "content: bytes differ from the upload"

request DELETE "/images/$id" 204
request GET "/images/$id" 404
request DELETE "/images/$id" 404

# A photo too large for the API's own body, sent straight to S3 in parts (scripts/upload-large.sh).
if command -v jq >/dev/null; then
  # A JPEG frame header (4000 x 3000) and 9 MiB of noise: its size is all the service reads.
  { printf '\xff\xd8\xff\xc0\x00\x11\x08\x0b\xb8\x0f\xa0\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01'
    head -c $((9 * 1024 * 1024)) /dev/urandom; } >"$work/photo.jpg"
  API_CURL_ARGS="${SMOKE_CURL_ARGS:-}" "$(dirname "$0")/upload-large.sh" "$work/photo.jpg" "$base" >"$work/body" ||
    fail "direct upload failed"
  id=$(field id)
  [ "$(field content_type)" = "image/jpeg" ] || fail "direct upload: wrong content_type"
  [ "$(field width)x$(field height)" = "4000x3000" ] || fail "direct upload: wrong dimensions"
  echo "ok  direct upload of $(wc -c <"$work/photo.jpg") bytes -> $id"
  request GET "/images/$id/content" 200 -L
  cmp -s "$work/body" "$work/photo.jpg" || fail "direct upload: downloaded bytes differ"
  request DELETE "/images/$id" 204
else
  echo "skip direct upload: jq is not installed"
fi
echo "smoke test passed against $base"
