#!/usr/bin/env bash
# The soak (`make soak`): SOAK_EVENTS (default 100,000) through one process of the release
# binary against DynamoDB Local; prints peak RSS, CPU per event and throughput at checkpoints,
# and fails if memory grows or an item is wrong. Run inside infra/with-dynamodb-local.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --quiet --bin contact-state
target_dir=$(infra/target-dir.sh)
CONTACT_STATE_BINARY="$target_dir/release/contact-state" SOAK_EVENTS="${SOAK_EVENTS:-100000}" \
  cargo test --quiet --test integration load::soak -- --ignored --nocapture
