#!/usr/bin/env bash
# The API suites with exactly the permissions template.yaml grants, on a moto server that
# enforces IAM as AWS does (INITIAL_NO_AUTH_ACTION_COUNT): the first three actions make an
# administrator, and every request after them is authorised against its signer's policy. Each
# test app then runs as an IAM user whose policy is the function role's (reconcile as one with
# the OperatorPolicy), read from the template and resolved to that app's bucket and table.
# What moto cannot check is listed in tests/api/helpers/iam.rs.
#
# usage: [IAM_TEST_TEMPLATE=FILE] test-iam.sh [TEST FILTER...]
#   IAM_TEST_TEMPLATE: another template (make test-iam gives it one without s3:ListBucket, and
#   expects a failure); the filters narrow the suites, as cargo test's do.
set -euo pipefail
cd "$(dirname "$0")/.."
template=${IAM_TEST_TEMPLATE:-template.yaml}
venv="${VENV:-.venv}"

port=$(./scripts/free-port)
log="${TMPDIR:-/tmp}/moto-iam-$port.log"
INITIAL_NO_AUTH_ACTION_COUNT=3 "$venv/bin/python" scripts/moto_iam_server.py -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
work=$(mktemp -d)
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
./scripts/wait-for "http://127.0.0.1:$port/moto-api/" "$moto_pid" "$log"
endpoint="http://127.0.0.1:$port"

"$venv/bin/python" scripts/template_policies.py "$template" >"$work/policies.json"

# The three unauthenticated actions: an administrator and its key.
aws() { AWS_ACCESS_KEY_ID=${key_id:-bootstrap} AWS_SECRET_ACCESS_KEY=${key_secret:-bootstrap} \
  AWS_DEFAULT_REGION=us-east-1 "$venv/bin/aws" --endpoint-url "$endpoint" "$@"; }
aws iam create-user --user-name admin >/dev/null
aws iam put-user-policy --user-name admin --policy-name all \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
aws iam create-access-key --user-name admin >"$work/admin.json"
key_id=$(./scripts/json-get AccessKey.AccessKeyId <"$work/admin.json")
key_secret=$(./scripts/json-get AccessKey.SecretAccessKey <"$work/admin.json")

# Enforced from here on: an unsigned or unknown caller is refused.
key_id=AKIAUNKNOWNUNKNOWN00 key_secret=x
if aws s3api list-buckets >/dev/null 2>&1; then
  echo "test-iam: moto does not enforce IAM (an unknown key listed the buckets)" >&2
  exit 1
fi

# The suites of every route the function serves, and reconcile: upload, list, get, content,
# dimensions, thumbnails, delete, direct uploads, idempotency, owners.
export MOTO_ENDPOINT="$endpoint" IAM_TEST_POLICIES="$work/policies.json"
export IAM_TEST_ADMIN_KEY="$(./scripts/json-get AccessKey.AccessKeyId <"$work/admin.json"):$(./scripts/json-get AccessKey.SecretAccessKey <"$work/admin.json")"
echo "IAM-enforcing moto at $endpoint (log: $log), policies from $template"
filters=("$@")
((${#filters[@]})) || filters=(upload:: list:: read:: dimensions:: thumbnails:: delete:: uploads:: idempotency:: reconcile:: owners::)
cargo test --locked -p image-api --test api -- "${filters[@]}"
echo "test-iam passed with the permissions of $template"

# The test of this test: the template without the function's s3:ListBucket must fail it (a
# delete cannot list the image's thumbnails). Only on the real template's run.
if [[ -z "${IAM_TEST_TEMPLATE:-}" ]]; then
  mutant="$work/without-list-bucket.yaml"
  "$venv/bin/python" - "$template" "$mutant" <<'PY'
import sys
text = open(sys.argv[1]).read()
function = text.index("\n  ImageApiFunction:\n")
start = text.index("            - Sid: ImageKeys\n", function)
end = text.index("              Resource: !GetAtt ImagesBucket.Arn\n", start)
end = text.index("\n", end) + 1
open(sys.argv[2], "w").write(text[:start] + text[end:])
PY
  if IAM_TEST_TEMPLATE="$mutant" "$0" delete:: thumbnails::thumbnails_are_fitted >"$work/mutant.log" 2>&1; then
    echo "test-iam: the suites passed without the function's s3:ListBucket; they must not" >&2
    exit 1
  fi
  grep -q "test result: FAILED" "$work/mutant.log" || { cat "$work/mutant.log" >&2; exit 1; }
  echo "test-iam: without the function's s3:ListBucket the suites fail, as they must:"
  grep -E "^    [a-z_]+::" "$work/mutant.log" || true
fi
