#!/usr/bin/env bash
# `make bench`: the figures of docs/performance.md, on this machine. Run inside
# infra/with-dynamodb-local.sh. Benchmarks, not tests: they print figures and fail only when a
# step breaks (the 5 MB zip budget is enforced by `make test`'s sam build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '\n==> %s\n' "$*" >&2; }
# Everything below goes to the terminal and to the log docs/performance.md is written from.
mkdir -p .local/run
log=.local/run/bench.log
if [ -z "${BENCH_LOGGING:-}" ]; then
  BENCH_LOGGING=1 "$0" "$@" 2>&1 | tee "$log"
  python3 infra/bench_report.py "$log" docs/performance.md
  exit 0
fi
target_dir=$(infra/target-dir.sh)

say "criterion: one event read and planned (no I/O) vs serde_json::from_slice::<Value> (goal <= 2)"
cargo bench --quiet -p contact-state-core --bench event -- --warm-up-time 1 --measurement-time 3 \
  >/dev/null 2>&1
.local/venv/bin/python - "$target_dir/criterion" <<'PY'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
def mean(group, fn):
    return json.loads((root / group / fn / "new" / "estimates.json").read_text())["mean"]["point_estimate"]
worst = 0
for group in sorted(p.name for p in root.iterdir() if (p / "process").is_dir()):
    process, floor = mean(group, "process"), mean(group, "serde_json_value")
    worst = max(worst, process / floor)
    print(f"  {group:<42} {process / 1000:6.2f} µs  vs {floor / 1000:6.2f} µs   ratio {process / floor:4.2f}")
print(f"  worst ratio {worst:.2f}")
PY

say "release builds of the function and of the harness"
cargo build --release --quiet --bin contact-state
cargo build --release --quiet -p local-lambda
table="bench-$$"
.local/py/bin/python infra/create_table.py --table "$table" >/dev/null

say "cold start (stand-in Runtime API, DynamoDB Local)"
"$target_dir/release/local-lambda" --bench-cold-start 20 --function "$target_dir/release/contact-state" \
  --table "$table" events/02-voice-queued.json

say "1,000 and 11,000 events through one process: peak RSS (goal <= 16 MB), CPU per event (goal <= 0.5 ms)"
CONTACT_STATE_BINARY="$target_dir/release/contact-state" SOAK_EVENTS=10000 \
  cargo test --quiet --test integration load::soak -- --ignored --nocapture 2>&1 | grep -E '^after|panicked'

say "arm64 deployment package (goal <= 5 MB zipped)"
infra/sam-build.sh 2>&1 | grep -E 'aarch64 ELF|budget'

for views in on off; do
  say "what a million events cost, live views $views: the release binary, 4 instances, 2,000 contacts in live order, then shuffled"
  CONTACT_STATE_BINARY="$target_dir/release/contact-state" COST_CONTACTS="${COST_CONTACTS:-2000}" \
    COST_LIVE_VIEWS=$views \
    cargo test --quiet --test integration cost::cost_per_million_events -- --ignored --nocapture 2>&1 \
    | grep -vE '^(running|test |$)|test result'
done
