#!/usr/bin/env bash
# Everything `make test` checks; run inside infra/with-dynamodb-local.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '==> %s\n' "$*" >&2; }

say "cargo fmt --check"
cargo fmt --all --check
say "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
say "cfn-lint template.yaml"
.local/venv/bin/cfn-lint template.yaml
say "cargo test (unit, property, DynamoDB Local, real binary)"
cargo test --workspace
