#!/usr/bin/env bash
# Runs setup-localstack.sh against the moto server of scripts/with-moto.sh and compares the
# table it made with the one template.yaml declares.
set -euo pipefail
: "${MOTO_ENDPOINT:?run through scripts/with-moto.sh}"
table="template-check-$$"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
LOCALSTACK_ENDPOINT="$MOTO_ENDPOINT" BUCKET_NAME="$table" TABLE_NAME="$table" ./setup-localstack.sh >/dev/null
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
  aws --endpoint-url "$MOTO_ENDPOINT" dynamodb describe-table --table-name "$table" >"$out"
"${DEPLOY_VENV:-.venv-deploy}/bin/python" scripts/check_template_table.py template.yaml "$out"
