#!/usr/bin/env bash
# Creates the S3 bucket and the DynamoDB table (with its two listing indexes) that image-api
# needs, at $LOCALSTACK_ENDPOINT. Idempotent: exits 0 when everything already exists.
# Works from a developer's shell (against moto or LocalStack) and as a LocalStack init hook
# (/etc/localstack/init/ready.d), where the defaults below point at LocalStack itself.
# The table definition must match template.yaml; a test compares the two.
set -euo pipefail

ENDPOINT="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
BUCKET="${BUCKET_NAME:-images}"
TABLE="${TABLE_NAME:-images}"
export AWS_DEFAULT_REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
# Emulators accept any credentials; real ones in the environment are left alone.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_PAGER=""

# The aws CLI (make run installs it into .venv); inside the LocalStack container, awslocal.
if command -v aws >/dev/null 2>&1; then
  awsx() { aws --endpoint-url "$ENDPOINT" --cli-connect-timeout 3 --cli-read-timeout 10 "$@"; }
elif command -v awslocal >/dev/null 2>&1; then
  export AWS_ENDPOINT_URL="$ENDPOINT" DISABLE_DEPRECATION_NOTICE=1
  awsx() { awslocal --cli-connect-timeout 3 --cli-read-timeout 10 "$@"; }
else
  echo "setup-localstack.sh: neither the aws CLI nor awslocal is on PATH (make run installs the aws CLI into .venv)" >&2
  exit 1
fi

if ! awsx s3api list-buckets --query 'Buckets[0].Name' >/dev/null 2>&1; then
  echo "setup-localstack.sh: no S3 endpoint answers at $ENDPOINT; start the emulator first (make run, or docker compose up)" >&2
  exit 1
fi

if awsx s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1; then
  echo "bucket $BUCKET: exists"
else
  if [ "$AWS_DEFAULT_REGION" = "us-east-1" ]; then
    awsx s3api create-bucket --bucket "$BUCKET" >/dev/null
  else
    awsx s3api create-bucket --bucket "$BUCKET" \
      --create-bucket-configuration "LocationConstraint=$AWS_DEFAULT_REGION" >/dev/null
  fi
  echo "bucket $BUCKET: created"
fi
# As template.yaml: direct uploads nobody completes are aborted, and their objects expire.
awsx s3api put-bucket-lifecycle-configuration --bucket "$BUCKET" --lifecycle-configuration '{
  "Rules": [
    {"ID": "AbortUnfinishedMultipartUploads", "Status": "Enabled", "Filter": {"Prefix": "images/"},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    {"ID": "ExpireUploadsNeverCompleted", "Status": "Enabled",
     "Filter": {"Tag": {"Key": "pending", "Value": "true"}}, "Expiration": {"Days": 2}}
  ]}' >/dev/null

if awsx dynamodb describe-table --table-name "$TABLE" >/dev/null 2>&1; then
  echo "table $TABLE: exists"
else
  # A concurrent run may create it between the check and here: then describe-table succeeds.
  awsx dynamodb create-table \
    --table-name "$TABLE" \
    --billing-mode PAY_PER_REQUEST \
    --attribute-definitions \
      AttributeName=id,AttributeType=S \
      AttributeName=owner,AttributeType=S \
      AttributeName=owner_file_name,AttributeType=S \
      AttributeName=created_key,AttributeType=S \
    --key-schema AttributeName=id,KeyType=HASH \
    --global-secondary-indexes \
      'IndexName=by_owner,KeySchema=[{AttributeName=owner,KeyType=HASH},{AttributeName=created_key,KeyType=RANGE}],Projection={ProjectionType=ALL}' \
      'IndexName=by_owner_file_name,KeySchema=[{AttributeName=owner_file_name,KeyType=HASH},{AttributeName=created_key,KeyType=RANGE}],Projection={ProjectionType=ALL}' \
    >/dev/null 2>&1 || awsx dynamodb describe-table --table-name "$TABLE" >/dev/null
  echo "table $TABLE: created"
fi

for _ in $(seq 1 60); do
  status=$(awsx dynamodb describe-table --table-name "$TABLE" --query 'Table.TableStatus' --output text)
  if [ "$status" = "ACTIVE" ]; then
    echo "table $TABLE: ACTIVE"
    # As template.yaml: pending direct uploads expire by `ttl` (an error means it is already on).
    awsx dynamodb update-time-to-live --table-name "$TABLE" \
      --time-to-live-specification Enabled=true,AttributeName=ttl >/dev/null 2>&1 || true
    exit 0
  fi
  sleep 1
done
echo "setup-localstack.sh: table $TABLE did not become ACTIVE within 60 s" >&2
exit 1
