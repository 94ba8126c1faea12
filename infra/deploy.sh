#!/usr/bin/env bash
# `make deploy`: build and deploy with only the deploy tools (SAM CLI, cargo-lambda, Zig, pinned,
# into .local/deploy), none of the test tools. Arguments go to `sam deploy`; without any it is
# `sam deploy --guided` (asks each parameter, grouped, and can save the answers in samconfig.toml).
#   make deploy                             first deploy, guided
#   make deploy DEPLOY_ARGS=--no-confirm-changeset    again, with the saved answers
#   make deploy DEPLOY_ARGS="--config-env dev"        the development stack (samconfig.toml)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
infra/sam-build.sh
export PATH="$root/.local/deploy/bin:$PATH" SAM_CLI_TELEMETRY=0
if [ $# -eq 0 ]; then
  set -- --guided
fi
echo "==> sam deploy $*" >&2
sam deploy "$@"
