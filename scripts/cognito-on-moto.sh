# Sourced by the scripts that drive a COGNITO-mode server: makes a user pool on the moto server
# of scripts/with-moto.sh with users alice, bob and carol~, sets COGNITO_USERS to what
# scripts/cognito_users.py printed, and exports the COGNITO_* configuration that points the
# server at that pool (keys and sign-in on the emulator: only COGNITO_ENDPOINT moves them off
# Cognito).
# Usage: source scripts/cognito-on-moto.sh
: "${MOTO_ENDPOINT:?run through scripts/with-moto.sh}"

COGNITO_USERS=$("${VENV:-.venv}/bin/python" "$(dirname "${BASH_SOURCE[0]}")/cognito_users.py" "$MOTO_ENDPOINT" alice bob "carol~")
COGNITO_USER_POOL_ID=$("$(dirname "${BASH_SOURCE[0]}")/json-get" pool_id <<<"$COGNITO_USERS")
COGNITO_CLIENT_IDS=$("$(dirname "${BASH_SOURCE[0]}")/json-get" client_id <<<"$COGNITO_USERS")
COGNITO_ENDPOINT="$MOTO_ENDPOINT"
export COGNITO_USER_POOL_ID COGNITO_CLIENT_IDS COGNITO_ENDPOINT
