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
  source "$(dirname "$0")/cognito-on-moto.sh"
  source "$(dirname "$0")/serve-on-moto.sh" cli-cognito
  IMAGE_API_TEST_URL="$open_url" IMAGE_API_TEST_COGNITO_URL="$SERVER_URL" IMAGE_API_TEST_COGNITO="$COGNITO_USERS" \
    cargo test --locked -p image-api-cli
)
