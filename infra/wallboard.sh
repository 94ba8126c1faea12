#!/usr/bin/env bash
# `make wallboard`: the wallboard on loopback, no AWS account, no Docker. DynamoDB Local (from
# infra/with-dynamodb-local.sh) holds a small center dated now, put there by the real
# contact-state binary behind the local Runtime API; the Connect stand-in names its queues and
# agents; wallboard-serve answers as the function does (no authorizer: loopback only).
# WALLBOARD_PORT (8080) sets the port. Ctrl-C stops it all.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '==> %s\n' "$*" >&2; }

say "building contact-state, the local Runtime API, the Connect stand-in and the wallboard"
cargo build --bin contact-state -p connect-contact-state
cargo build --bin local-lambda -p local-lambda
cargo build --bin connect-standin -p connect-standin
cargo build --bin wallboard-serve -p contact-state-wallboard
target=$(infra/target-dir.sh)
table=contact-state-wallboard
work=.local/run/wallboard
say "creating table $table from template.yaml"
.local/py/bin/python infra/create_table.py --table "$table"
say "a small center dated now: its events through contact-state"
.local/py/bin/python infra/wallboard_center.py "$work" --center small >/dev/null
AWS_LAMBDA_LOG_LEVEL=WARN "$target/debug/local-lambda" --function "$target/debug/contact-state" \
  --table "$table" "$work"/events/*.json >/dev/null

standin=""
trap '[ -z "$standin" ] || kill "$standin" 2>/dev/null || true' EXIT
"$target/debug/connect-standin" "$work/names.json" >"$work/standin.out" &
standin=$!
for _ in $(seq 50); do [ -s "$work/standin.out" ] && break; sleep 0.1; done
export AWS_ENDPOINT_URL_CONNECT
AWS_ENDPOINT_URL_CONNECT=$(head -n 1 "$work/standin.out")
say "Connect stand-in (queue and agent names) at $AWS_ENDPOINT_URL_CONNECT"
say "open the URL below; Ctrl-C stops it"
TABLE_NAME=$table WALLBOARD_PORT="${WALLBOARD_PORT:-8080}" "$target/debug/wallboard-serve"
