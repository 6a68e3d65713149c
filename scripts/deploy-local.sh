#!/usr/bin/env bash
# `make deploy-local`: builds the function with sam (cargo-lambda) and deploys the whole SAM stack
# into LocalStack (start it with `docker compose up -d`), then prints the API URL.
# `deploy-local.sh --url [STACK]` only prints the URL of an existing deployment.
# Needs Docker: LocalStack runs the Lambda in a container and applies the SAM transform.
# The function gets LOCALSTACK_ENDPOINT through the template's EmulatorEndpoint parameter:
# LocalStack's own name for itself inside its network (FUNCTION_EMULATOR_ENDPOINT overrides it).
# Not run here (LocalStack's image cannot be pulled on the development machines); kept correct
# by reading, see the README.
set -euo pipefail

endpoint="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export AWS_PAGER=""

api_url() {
  local api_id
  api_id=$(aws --endpoint-url "$endpoint" cloudformation describe-stack-resource --stack-name "$1" \
    --logical-resource-id ImageApi --query 'StackResourceDetail.PhysicalResourceId' --output text)
  # LocalStack's path-style URL for a REST API stage.
  echo "$endpoint/restapis/$api_id/Prod/_user_request_"
}

if [ "${1:-}" = "--url" ]; then
  api_url "${2:-image-api}"
  exit 0
fi
stack="${1:-image-api}"

if ! curl -fs -o /dev/null --max-time 3 "$endpoint/_localstack/health"; then
  echo "deploy-local: LocalStack does not answer at $endpoint; run 'docker compose up -d' first" >&2
  exit 1
fi

samlocal build --beta-features
samlocal deploy \
  --stack-name "$stack" \
  --region "$AWS_DEFAULT_REGION" \
  --resolve-s3 \
  --capabilities CAPABILITY_IAM \
  --no-confirm-changeset \
  --no-fail-on-empty-changeset \
  --parameter-overrides "EmulatorEndpoint=${FUNCTION_EMULATOR_ENDPOINT:-http://localhost.localstack.cloud:4566}"

url=$(api_url "$stack")
echo
echo "Deployed. API: $url/images"
echo "Try: make smoke-local    (or: scripts/smoke.sh $url)"
