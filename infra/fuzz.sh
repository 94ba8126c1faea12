#!/usr/bin/env bash
# Fuzzes reading and planning (fuzz/fuzz_targets/event.rs) for SECONDS (default 30), seeded from
# events/. `make test` runs the short run; `make fuzz SECONDS=3600` a long one. Runs on the
# stable toolchain (`--sanitizer none`: safe Rust needs no AddressSanitizer; a panic is the bug
# looked for). A crash leaves its input in fuzz/artifacts/event/ and fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source infra/versions.env
seconds=${1:-30}
corpus=.local/fuzz/corpus
mkdir -p "$corpus" .local/run
cp events/*.json "$corpus"/
target_dir=$(infra/target-dir.sh)/fuzz
status=0
.local/cargo/bin/cargo-fuzz run --fuzz-dir fuzz --sanitizer none --target-dir "$target_dir" \
  event "$corpus" -- -dict=fuzz/event.dict -max_total_time="$seconds" -max_len=262144 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >.local/run/fuzz.log 2>&1 || status=$?
if [ "$status" != 0 ]; then
  tail -n 60 .local/run/fuzz.log >&2
  echo "fuzzing found a failure (input in fuzz/artifacts/event/); full log: .local/run/fuzz.log" >&2
  exit "$status"
fi
# The figures: runs, speed, coverage, corpus, memory.
grep -E '^Done |^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
  .local/run/fuzz.log >&2 || true
