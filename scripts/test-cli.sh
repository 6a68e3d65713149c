#!/usr/bin/env bash
# The command-line client end to end (cli/tests): against the server on the moto server of
# scripts/with-moto.sh, with a 256 KiB inline limit so that a few hundred KiB take the
# direct-upload path; and against a second one in COGNITO mode, with a user pool on the same
# moto, for `login`, `logout` and tokens.
set -euo pipefail
export MAX_UPLOAD_BYTES=262144
source "$(dirname "$0")/serve-on-moto.sh" cli
open_url="$SERVER_URL"
(
  cognito=$("${VENV:-.venv}/bin/python" scripts/cognito_users.py "$MOTO_ENDPOINT" alice bob "carol~")
  COGNITO_USER_POOL_ID=$(scripts/json-get pool_id <<<"$cognito")
  COGNITO_CLIENT_IDS=$(scripts/json-get client_id <<<"$cognito")
  # Keys and sign-in on the emulator: only COGNITO_ENDPOINT moves them off Cognito.
  COGNITO_ENDPOINT="$MOTO_ENDPOINT"
  export COGNITO_USER_POOL_ID COGNITO_CLIENT_IDS COGNITO_ENDPOINT
  source "$(dirname "$0")/serve-on-moto.sh" cli-cognito
  IMAGE_API_TEST_URL="$open_url" IMAGE_API_TEST_COGNITO_URL="$SERVER_URL" IMAGE_API_TEST_COGNITO="$cognito" \
    cargo test --locked -p image-api-cli
)
