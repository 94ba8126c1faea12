#!/usr/bin/env bash
# Everything `make test` checks; run inside infra/with-dynamodb-local.sh.
#   infra/test.sh            all of it (make test): adds the fuzz run, sam build, the offline
#                            deploy and sam local invoke in Docker (root: apt, a network namespace)
#   infra/test.sh --no-root  what needs neither root nor Docker (make check)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '==> %s\n' "$*" >&2; }
full=1
[ "${1:-}" = --no-root ] && full=0
mkdir -p .local/run
rm -f .local/run/*-test.log .local/run/cargo-test.log .local/run/cargo-lambda.totals .local/run/sam-local.totals

say "cargo fmt --check"
cargo fmt --all --check
say "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
say "cfn-lint template.yaml (with the serverless rules)"
.local/venv/bin/cfn-lint template.yaml -a cfn_lint_serverless.rules
say "checkov template.yaml"
.local/checkov/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml
say "template tests (the role, the rule, the table as SAM generates them)"
AWS_DEFAULT_REGION=us-east-1 .local/venv/bin/python -m unittest discover -s infra/tests \
  -p 'test_template.py' -v 2>&1 | tee .local/run/template-test.log
say "the rule's pattern with EventBridge's matching (moto server)"
AWS_DEFAULT_REGION=us-east-1 .local/venv/bin/python -m unittest discover -s infra/tests \
  -p 'test_pattern.py' -v 2>&1 | tee .local/run/pattern-test.log
say "the docs' figures against the bench output they cite; the README's length"
.local/venv/bin/python -m unittest discover -s infra/tests -p 'test_doc_figures.py' -v 2>&1 \
  | tee .local/run/doc-figures-test.log
say "cargo test (unit, property, DynamoDB Local, real binaries, faults, hostile input, logs, reconciler)"
# The reconciler's tests run its binary, which is another package's: built first.
cargo build --quiet -p contact-state-reconciler
cargo test --workspace 2>&1 | tee .local/run/cargo-test.log
say "redrive tests (moto SQS, the binary behind local-lambda's Invoke API, DynamoDB Local)"
cargo build --quiet -p connect-contact-state -p local-lambda --bins
target_dir=$(infra/target-dir.sh)
CONTACT_STATE_BINARY="$target_dir/debug/contact-state" LOCAL_LAMBDA_BINARY="$target_dir/debug/local-lambda" \
  .local/venv/bin/python -m unittest discover -s infra/tests -p 'test_redrive.py' -v 2>&1 \
  | tee .local/run/redrive-test.log
say "the wallboard in headless chromium, its JSON, its read cost (DynamoDB Local, the Connect stand-in)"
cargo build --quiet -p connect-standin -p cloudwatch-standin -p contact-state-wallboard --bins
CONTACT_STATE_BINARY="$target_dir/debug/contact-state" LOCAL_LAMBDA_BINARY="$target_dir/debug/local-lambda" \
  CONNECT_STANDIN_BINARY="$target_dir/debug/connect-standin" WALLBOARD_SERVE_BINARY="$target_dir/debug/wallboard-serve" \
  CLOUDWATCH_STANDIN_BINARY="$target_dir/debug/cloudwatch-standin" \
  AWS_DEFAULT_REGION=us-east-1 .local/venv/bin/python -m unittest discover -s infra/tests -p 'test_wallboard.py' -v 2>&1 \
  | tee .local/run/wallboard-test.log
say "cargo lambda watch / invoke of every sample event (DynamoDB Local with -sharedDb)"
infra/cargo-lambda.sh
if [ "$full" = 1 ]; then
  say "fuzzing reading and planning for ${FUZZ_SECONDS:-30} s"
  infra/fuzz.sh "${FUZZ_SECONDS:-30}"
  say "sam build: an arm64 bootstrap"
  infra/sam-build.sh
  say "the deploy, offline: sam package, the SAM transform, sam deploy create/update, sam delete (moto)"
  AWS_DEFAULT_REGION=us-east-1 .local/venv/bin/python -m unittest discover -s infra/tests \
    -p 'test_deploy.py' -v 2>&1 | tee .local/run/deploy-test.log
  say "sam local invoke of every sample event, in Docker (own network namespace, arm64 under qemu)"
  SAM_BUILT=1 infra/sam-local.sh
fi
# The closing line CI reads: the tests' totals (sam build and the linters have none).
{
  awk '/^test result:/ { passed += $4; failed += $6 } END { print passed + 0, failed + 0 }' \
    .local/run/cargo-test.log
  for log in .local/run/template-test.log .local/run/pattern-test.log .local/run/doc-figures-test.log \
    .local/run/redrive-test.log .local/run/wallboard-test.log \
    .local/run/deploy-test.log; do
    [ -f "$log" ] || continue
    awk '/^Ran [0-9]+ test/ { ran = $2 } /^FAILED/ { split($0, f, /[=,)]/); failed = f[2] + f[4] }
         END { print ran - failed, failed + 0 }' "$log"
  done
  cat .local/run/cargo-lambda.totals
  [ "$full" = 0 ] || cat .local/run/sam-local.totals
} | awk '{ passed += $1; failed += $2 } END { printf "%d passed, %d failed\n", passed, failed }'

