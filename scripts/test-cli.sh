#!/usr/bin/env bash
# The command-line client end to end (cli/tests): against the server on the moto server of
# scripts/with-moto.sh, with a 256 KiB inline limit so that a few hundred KiB take the
# direct-upload path.
set -euo pipefail
export MAX_UPLOAD_BYTES=262144
source "$(dirname "$0")/serve-on-moto.sh" cli

IMAGE_API_TEST_URL="$SERVER_URL" cargo test --locked -p image-api-cli
