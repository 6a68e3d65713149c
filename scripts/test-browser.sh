#!/usr/bin/env bash
# The gallery page in Chromium (tests/browser/gallery.py), against the server on the moto
# server of scripts/with-moto.sh. Screenshots go to the target directory's screenshots/.
set -euo pipefail
# A low inline limit, so that a few hundred KiB take the direct-upload path.
export MAX_UPLOAD_BYTES=262144
source "$(dirname "$0")/serve-on-moto.sh" browser

"${BROWSER_VENV:-.venv-browser}/bin/python" tests/browser/gallery.py "$SERVER_URL/" "$("$(dirname "$0")/target-dir")/screenshots"
