#!/usr/bin/env bash
# The gallery page in Chromium (tests/browser/gallery.py), against the server on the moto
# server of scripts/with-moto.sh; then the page with Cognito sign-in (tests/browser/sign_in.py)
# against a second server that takes a user pool's tokens. Screenshots go to the target
# directory's screenshots/.
set -euo pipefail
screenshots="$("$(dirname "$0")/target-dir")/screenshots"
# A low inline limit, so that a few hundred KiB take the direct-upload path.
export MAX_UPLOAD_BYTES=262144
(
  source "$(dirname "$0")/serve-on-moto.sh" browser
  "${BROWSER_VENV:-.venv-browser}/bin/python" tests/browser/gallery.py "$SERVER_URL/" "$screenshots"
)
(
  source "$(dirname "$0")/cognito-on-moto.sh"
  source "$(dirname "$0")/serve-on-moto.sh" browser-cognito
  "${BROWSER_VENV:-.venv-browser}/bin/python" tests/browser/sign_in.py "$SERVER_URL/" "$COGNITO_USERS" "$screenshots"
)
