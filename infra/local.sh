#!/usr/bin/env bash
# `make local`: the real contact-state binary, behind a local Lambda Runtime API, on the sample
# events (or the event files given), against DynamoDB Local; then the resulting items.
# Run inside infra/with-dynamodb-local.sh, which starts and stops DynamoDB Local.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '==> %s\n' "$*" >&2; }

if [ $# -eq 0 ]; then set -- events/*.json; fi
table=contact-state-local
say "building contact-state and the local Runtime API (first build: a few minutes)"
cargo build --bin contact-state --bin contact-views -p connect-contact-state
cargo build --bin local-lambda -p local-lambda
target=$(infra/target-dir.sh)
say "creating table $table from template.yaml"
.local/py/bin/python infra/create_table.py --table "$table"
# The sample events are dated 2024: keep their items for a century instead of the default 90 days,
# or DynamoDB Local's TTL would delete them at once.
export RETENTION_DAYS=36500 AWS_LAMBDA_LOG_LEVEL="${AWS_LAMBDA_LOG_LEVEL:-INFO}"
say "invoking contact-state once per event (its JSON log lines are interleaved)"
"$target/debug/local-lambda" --function "$target/debug/contact-state" --table "$table" "$@"
# The live views, as `contact-views` prints them for any table. The sample events are dated
# 2024, so no horizon: with the default (24 hours) every entry would be left out as stale.
for view in queues agents; do
  printf '\n== contact-views %s (every entry: --horizon-hours 0)\n' "$view"
  "$target/debug/contact-views" --table "$table" --horizon-hours 0 "$view"
done
