#!/usr/bin/env bash
# Uploads a file of any size (up to MAX_DIRECT_UPLOAD_BYTES) the direct way: plan it, PUT each
# part straight to S3, complete it. Prints the image record. Needs curl and jq.
# Usage: scripts/upload-large.sh FILE [BASE_URL]   (BASE_URL defaults to http://127.0.0.1:3000)
# Extra curl arguments for the API (an API key header, say) can be passed in API_CURL_ARGS.
set -euo pipefail

file="${1:?usage: scripts/upload-large.sh FILE [BASE_URL]}"
api="${2:-http://127.0.0.1:3000}"
api="${api%/}"
read -r -a extra <<<"${API_CURL_ARGS:-}"
size=$(wc -c <"$file")

# 1. Plan: the service answers the upload's id and one presigned request per part.
plan=$(jq -n --arg name "$(basename "$file")" --argjson size "$size" '{file_name: $name, size: $size}' |
  curl -sSf "${extra[@]}" -X POST "$api/uploads" -H 'Content-Type: application/json' --data-binary @-)
id=$(jq -r .id <<<"$plan")
part_size=$(jq -r .part_size <<<"$plan")

# 2. Send each part's bytes to its URL with exactly its headers; keep each answer's ETag.
completed=$(jq -c '.parts[]' <<<"$plan" | while read -r part; do
  number=$(jq -r .number <<<"$part")
  # Every header, Content-Length included: it is signed, and `-T -` then sends exactly it.
  mapfile -t headers < <(jq -r '.headers | to_entries[] | "-H", "\(.key): \(.value)"' <<<"$part")
  etag=$(tail -c +$(((number - 1) * part_size + 1)) "$file" | head -c "$part_size" |
    curl -sSf -X "$(jq -r .method <<<"$part")" "${headers[@]}" -T - -D - -o /dev/null "$(jq -r .url <<<"$part")" |
    tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
  jq -n --argjson number "$number" --arg etag "$etag" '{number: $number, etag: $etag}'
done | jq -s '{parts: .}')

# 3. Complete: the service checks the bytes and makes the image.
curl -sSf "${extra[@]}" -X POST "$api/uploads/$id/complete" -H 'Content-Type: application/json' --data-binary "$completed"
echo
