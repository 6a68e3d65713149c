#!/usr/bin/env bash
# `make run`: the API on 127.0.0.1:3000 against an emulator on 127.0.0.1:4566. Reuses an
# emulator already answering there (LocalStack from docker compose, say), else starts moto.
# Ctrl-C stops everything this script started.
set -euo pipefail

venv="${VENV:-.venv}"
export LOCALSTACK_ENDPOINT="${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566}"
export BUCKET_NAME="${BUCKET_NAME:-images}"
export TABLE_NAME="${TABLE_NAME:-images}"
export BIND_ADDR="${BIND_ADDR:-127.0.0.1:3000}"
# Direct uploads in one part up to MAX_DIRECT_UPLOAD_BYTES (64 MiB): completing a multipart
# upload needs each part's ETag, and moto's CORS does not let a browser read it, so the gallery
# page could not upload past one part here. Against S3 the template's CORS exposes ETag.
export DIRECT_UPLOAD_PART_BYTES="${DIRECT_UPLOAD_PART_BYTES:-67108864}"
export PATH="$PWD/$venv/bin:$PATH"

hostport="${LOCALSTACK_ENDPOINT#*://}"
host="${hostport%%:*}"
port="${hostport##*:}"
moto_pid=""
cleanup() {
  if [ -n "$moto_pid" ]; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

if curl -s -o /dev/null --max-time 2 "$LOCALSTACK_ENDPOINT"; then
  echo "using the emulator already answering at $LOCALSTACK_ENDPOINT"
else
  echo "starting moto_server on $host:$port"
  "$venv/bin/moto_server" -H "$host" -p "$port" >"${TMPDIR:-/tmp}/image-api-moto.log" 2>&1 &
  moto_pid=$!
  "$(dirname "$0")/wait-for" "$LOCALSTACK_ENDPOINT" "$moto_pid" "${TMPDIR:-/tmp}/image-api-moto.log"
fi

./setup-localstack.sh
# AUTH=cognito: sign-in with a user pool on the emulator (moto serves cognito-idp), and a demo
# user to sign in as. Without it, the API is open and every image is IMAGE_OWNER's.
if [ "${AUTH:-}" = cognito ]; then
  cognito=$("$venv/bin/python" scripts/cognito_users.py "$LOCALSTACK_ENDPOINT" demo)
  COGNITO_USER_POOL_ID=$(scripts/json-get pool_id <<<"$cognito")
  COGNITO_CLIENT_IDS=$(scripts/json-get client_id <<<"$cognito")
  password=$(scripts/json-get users.demo <<<"$cognito")
  # Keys and sign-in on the emulator: only COGNITO_ENDPOINT moves them off Cognito.
  COGNITO_ENDPOINT="$LOCALSTACK_ENDPOINT"
  export COGNITO_USER_POOL_ID COGNITO_CLIENT_IDS COGNITO_ENDPOINT
  echo "sign-in: user pool $COGNITO_USER_POOL_ID, app client $COGNITO_CLIENT_IDS"
  echo "sign in as: demo / $password"
elif [ -n "${AUTH:-}" ]; then
  echo "AUTH=$AUTH: expected AUTH=cognito, or no AUTH for an open API" >&2
  exit 1
fi
echo "image-api on http://$BIND_ADDR (Ctrl-C stops it)"
cargo run --quiet --bin image-api
