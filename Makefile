# The two commands of the README: `make local` runs the function on the sample events,
# `make test` runs every test. Both install what they need on first use (infra/setup.sh).
.PHONY: test check local wallboard deploy sam-build sam-local fuzz soak bench clean

# The real binary on the sample events (or EVENTS="a.json b.json") against DynamoDB Local.
local:
	SETUP=local infra/with-dynamodb-local.sh infra/local.sh $(EVENTS)

# The wallboard on loopback (http://127.0.0.1:8080/; WALLBOARD_PORT=...) over a small center
# dated now, against DynamoDB Local; Ctrl-C stops it.
wallboard:
	SETUP=local infra/with-dynamodb-local.sh infra/wallboard.sh

# Unit, property and integration tests (DynamoDB Local), the real binary, template checks.
test:
	infra/with-dynamodb-local.sh infra/test.sh

# The tests that need neither root nor Docker (format, lint, template, unit, property, DynamoDB
# Local, the real binary, the cargo-lambda loop): a few minutes on a warm build.
check:
	infra/with-dynamodb-local.sh infra/test.sh --no-root

# Build and deploy to your AWS account with only the deploy tools (.local/deploy):
# `sam deploy --guided` the first time; DEPLOY_ARGS="..." for other `sam deploy` arguments.
deploy:
	infra/deploy.sh $(DEPLOY_ARGS)

# What `sam build` makes for deployment: an arm64 bootstrap in .aws-sam/build.
sam-build:
	infra/sam-build.sh

# `sam local invoke` of every sample event in Docker (own network namespace, arm64 under qemu).
sam-local:
	infra/sam-local.sh

# A long fuzz run (make test runs 30 s): make fuzz FUZZ_SECONDS=3600
FUZZ_SECONDS ?= 600
fuzz:
	infra/setup.sh
	infra/fuzz.sh $(FUZZ_SECONDS)

# 100,000 events through the release binary (SOAK_EVENTS=...): memory, CPU, throughput.
soak:
	infra/with-dynamodb-local.sh infra/soak.sh

# The README's performance figures: criterion, cold start, RSS and CPU per event, zip size.
bench:
	infra/with-dynamodb-local.sh infra/bench.sh

clean:
	infra/dynamodb-local.sh stop
	rm -rf .local/run
