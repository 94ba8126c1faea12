#!/usr/bin/env bash
# The Rust Lambda developer's loop, as docs/testing.md shows it: DynamoDB Local with -sharedDb
# (cargo-lambda's emulator hands the function credentials of its own, so the table must be
# visible whatever the access key), `cargo lambda watch` with the variables the function needs,
# and `cargo lambda invoke --data-file` for every file in events/: `refused-*` must be refused,
# the others applied, and the table must end as the native binary behind local-lambda (make
# local's way) leaves it. Stops the watcher and DynamoDB Local by PID, also on failure.
# Writes its totals (each event file and the table check count as a test) for make test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '==> %s\n' "$*" >&2; }
infra/setup.sh >&2
export PATH="$root/.local/deploy/bin:$PATH"
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_DYNAMODB
state=.local/run/cargo-lambda
rm -rf "$state"
mkdir -p "$state"

endpoint=""
watch_pid=""
cleanup() {
  if [ -n "$watch_pid" ]; then kill -- -"$watch_pid" 2>/dev/null || true; fi
  if [ -n "$endpoint" ]; then infra/dynamodb-local.sh stop "$endpoint"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
endpoint=$(DYNAMODB_LOCAL_SHARED_DB=1 infra/dynamodb-local.sh start)
say "DynamoDB Local (-sharedDb) at $endpoint"
.local/py/bin/python infra/create_table.py --table contact-state-local --endpoint "$endpoint" >/dev/null
.local/py/bin/python infra/create_table.py --table contact-state-make-local --endpoint "$endpoint" >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
say "cargo lambda watch on 127.0.0.1:$port"
setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" --bin contact-state \
  --env-vars "TABLE_NAME=contact-state-local,AWS_ENDPOINT_URL_DYNAMODB=$endpoint,RETENTION_DAYS=36500" \
  >"$state/watch.log" 2>&1 &
watch_pid=$!
for _ in $(seq 1 600); do
  if python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
    break
  fi
  kill -0 "$watch_pid" 2>/dev/null || { tail -n 20 "$state/watch.log" >&2; exit 1; }
  sleep 0.5
done

failed=0
passed=0
for file in events/*.json; do
  name=$(basename "$file")
  if cargo lambda invoke contact-state --invoke-address 127.0.0.1 --invoke-port "$port" \
    --data-file "$file" >"$state/$name.out" 2>"$state/$name.err"; then
    answer=ok
  elif grep -q 'Refused' "$state/$name.out" "$state/$name.err"; then
    answer=refused
  else
    answer=error
  fi
  case "$name" in refused-*) want=refused ;; *) want=ok ;; esac
  if [ "$answer" = "$want" ]; then
    passed=$((passed + 1))
    printf '%-48s %-8s pass\n' "$name" "$answer" >&2
  else
    failed=$((failed + 1))
    printf '%-48s %-8s (want %s) FAIL\n' "$name" "$answer" "$want" >&2
    tail -n 5 "$state/$name.out" "$state/$name.err" >&2
  fi
done

say "the same events through the native binary behind local-lambda (make local's way)"
cargo build --quiet -p connect-contact-state -p local-lambda --bins
target_dir=$(infra/target-dir.sh)
AWS_ENDPOINT_URL_DYNAMODB="$endpoint" RETENTION_DAYS=36500 AWS_LAMBDA_LOG_LEVEL=ERROR \
  "$target_dir/debug/local-lambda" --function "$target_dir/debug/contact-state" \
  --table contact-state-make-local events/*.json >/dev/null 2>"$state/make-local.err" || true
if .local/py/bin/python infra/compare_tables.py "$endpoint" contact-state-local "cargo lambda invoke" \
  contact-state-make-local "make local" >&2; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
say "the wallboard under cargo lambda watch: its function URL serves the page and the board"
cargo build --quiet -p connect-standin --bins
.local/py/bin/python infra/wallboard_center.py "$state/wallboard" --center small >/dev/null
"$target_dir/debug/connect-standin" "$state/wallboard/names.json" >"$state/standin.out" &
standin_pid=$!
trap 'kill "$standin_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do [ -s "$state/standin.out" ] && break; sleep 0.1; done
wallboard_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
kill -- -"$watch_pid" 2>/dev/null || true
# The sample events are dated 2024: no horizon, or every entry would be left out.
connect_endpoint=$(head -n 1 "$state/standin.out")
(cd wallboard && exec setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$wallboard_port" \
  --env-vars "TABLE_NAME=contact-state-local,AWS_ENDPOINT_URL_DYNAMODB=$endpoint,AWS_ENDPOINT_URL_CONNECT=$connect_endpoint,WALLBOARD_HORIZON_HOURS=0" \
  >"$root/$state/wallboard-watch.log" 2>&1) &
watch_pid=$!
url="http://127.0.0.1:$wallboard_port/lambda-url/contact-state-wallboard/"
if python3 - "$url" "$watch_pid" >&2 <<'PY'
import json, os, sys, time, urllib.request
url, watcher = sys.argv[1], int(sys.argv[2])
for _ in range(600):  # the first request waits for the build
    try:
        os.kill(watcher, 0)
    except ProcessLookupError:
        sys.exit("cargo lambda watch exited")
    try:
        with urllib.request.urlopen(url + "board", timeout=300) as response:
            board = json.load(response)
        break
    except OSError:
        time.sleep(0.5)
else:
    sys.exit(f"{url}board never answered")
with urllib.request.urlopen(url, timeout=60) as response:
    page = response.read().decode()
assert "Contact center wallboard" in page, "the page"
# The sample task (events 10-12) is with its agent; nothing waits.
agents = [c["contactId"] for a in board["agents"] for c in a["contacts"]]
assert agents == ["33333333-3333-4333-8333-333333333333"], agents
print(f"{url}: the page, and a board with {len(board['agents'])} agent: pass")
PY
then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  tail -n 20 "$state/wallboard-watch.log" >&2
fi
printf 'cargo lambda watch/invoke: %d passed, %d failed\n' "$passed" "$failed" >&2
echo "$passed $failed" >.local/run/cargo-lambda.totals
[ "$failed" -eq 0 ]
