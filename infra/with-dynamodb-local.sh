#!/usr/bin/env bash
# Runs a command with DynamoDB Local up, and stops it afterwards, also on failure or Ctrl-C.
# The command sees the standard AWS SDK variables pointing at it (endpoint, region, dummy
# credentials: DynamoDB Local accepts any), so the real binary and the tests need no flags.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# SETUP=local: only what a local run needs (make local).
"$root/infra/setup.sh" "${SETUP:-all}"
endpoint=""
trap '[ -z "$endpoint" ] || "$root/infra/dynamodb-local.sh" stop "$endpoint"' EXIT
trap 'exit 130' INT TERM
endpoint=$("$root/infra/dynamodb-local.sh" start)
echo "==> DynamoDB Local at $endpoint" >&2
export AWS_ENDPOINT_URL_DYNAMODB="$endpoint"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
unset AWS_PROFILE AWS_SESSION_TOKEN
export CONTACT_STATE_PYTHON="$root/.local/py/bin/python"
"$@"
