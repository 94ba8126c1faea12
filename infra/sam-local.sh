#!/usr/bin/env bash
# `make sam-local`: `sam local invoke` of every sample event, as a Linux user with Docker Engine
# runs it (docs/operations.md, "Try it with Docker"), on real arm64 under qemu — and the table must end as
# `make local` leaves it for the same events.
#
# Everything runs in a network namespace of its own: dockerd (own data root,
# --userland-proxy=false), DynamoDB Local and sam. The docker bridge and the containers'
# addresses exist only in that namespace; nothing is sent outside it or this machine's loopback.
# Every process is stopped by PID and the namespace deleted at the end, also on failure.
#
# Installs what it needs on first use: docker.io and qemu-user-static from apt (Debian 12's
# current versions), arm64 binfmt, the stand-in base image (infra/standin-image.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '==> %s\n' "$*" >&2; }
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

"$root/infra/setup.sh"
export PATH="$root/.local/deploy/bin:$PATH" SAM_CLI_TELEMETRY=0

if ! command -v dockerd >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
  say "installing docker.io and qemu-user-static (apt)"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io qemu-user-static >/dev/null
fi
# arm64 executables run through qemu (F: the interpreter is opened now, so it works in containers).
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  $sudo mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  $sudo sh -c 'cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register'
fi

ns="ccs-sam-$$"
state="$root/.local/sam-local"
# Socket paths must stay short (108 bytes): the daemon's run directory is under /run.
exec_root="/run/ccs-docker-$$"
mkdir -p "$state" .local/run
dockerd_pid=""
endpoint=""
cleanup() {
  [ -z "$endpoint" ] || "$root/infra/dynamodb-local.sh" stop "$endpoint"
  # The daemon's own pid file: the shell's $! is the wrapper's. dockerd stops its containerd.
  dockerd_pid=$(cat "$exec_root/dockerd.pid" 2>/dev/null || echo "$dockerd_pid")
  containerd_pid=$(cat "$exec_root/containerd/containerd.pid" 2>/dev/null || true)
  for pid in $dockerd_pid $containerd_pid; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  done
  $sudo ip netns del "$ns" 2>/dev/null || true
  $sudo rm -rf "$exec_root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# nsenter, not `ip netns exec`: that also remounts /sys, which hides the cgroup mounts dockerd needs.
in_ns() { $sudo nsenter --net="/run/netns/$ns" -- "$@"; }

say "network namespace $ns: dockerd, DynamoDB Local and sam inside it"
$sudo ip netns add "$ns"
in_ns ip link set lo up
$sudo mkdir -p "$exec_root"
$sudo nsenter --net="/run/netns/$ns" -- dockerd --data-root "$root/.local/docker" --exec-root "$exec_root" \
  --host "unix://$exec_root/docker.sock" --pidfile "$exec_root/dockerd.pid" \
  --userland-proxy=false >"$state/dockerd.log" 2>&1 &
dockerd_pid=$!
export DOCKER_HOST="unix://$exec_root/docker.sock"
for _ in $(seq 1 120); do
  docker version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || { cat "$state/dockerd.log" >&2; exit 1; }
  sleep 0.5
done

image="connect-contact-state/provided-al2023-arm64-standin:local"
"$root/infra/standin-image.sh" "$image"

# DynamoDB Local inside the namespace (it listens on all the namespace's addresses): the
# containers reach it through the namespace's docker bridge (host.docker.internal →
# host-gateway). -sharedDb: one database whatever the credentials, so the table made here is the
# one the function sees.
endpoint=$(in_ns env DYNAMODB_LOCAL_SHARED_DB=1 "$root/infra/dynamodb-local.sh" start)
port=${endpoint##*:}
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_DYNAMODB
for table in contact-state-local contact-state-make-local; do
  in_ns env AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local .local/py/bin/python infra/create_table.py \
    --table "$table" --endpoint "$endpoint" >/dev/null
done

# make test has just built it (SAM_BUILT=1); on its own, build what is checked out.
if [ "${SAM_BUILT:-0}" != 1 ] || [ ! -x .aws-sam/build/ContactStateFunction/bootstrap ]; then
  "$root/infra/sam-build.sh"
fi

say "sam local invoke, every sample event (arm64 under qemu)"
results="$state/invokes.txt"
: >"$results"
failed=0
for file in events/*.json; do
  name=$(basename "$file")
  started=$(date +%s.%N)
  set +e
  in_ns env DOCKER_HOST="$DOCKER_HOST" PATH="$PATH" SAM_CLI_TELEMETRY=0 \
    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \
    sam local invoke ContactStateFunction -e "$file" --env-vars env.json \
      --parameter-overrides "LocalDynamoDbEndpoint=http://host.docker.internal:$port" \
      --add-host host.docker.internal:host-gateway \
      --invoke-image "$image" --skip-pull-image >"$state/$name.out" 2>"$state/$name.err"
  set -e
  seconds=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
  # sam exits 0 whatever happened: the answer (stdout's last line) says. The function answers
  # `null` when the event is applied and `{"errorType":…}` when it refuses or fails; a crash
  # leaves the emulator's "Invoke DONE failed" and no answer.
  last=$(tail -n 1 "$state/$name.out")
  if grep -q 'Invoke DONE failed' "$state/$name.err"; then
    answer=crash
  elif [ "$last" = null ]; then
    answer=ok
  elif [[ "$last" == '{"errorType"'* ]]; then
    answer=error
  else
    answer=crash
  fi
  case "$name" in refused-*) want=error ;; *) want=ok ;; esac
  verdict=pass
  if [ "$answer" != "$want" ]; then verdict=FAIL; failed=$((failed + 1)); fi
  printf '%-48s %-5s (want %-5s) %5s s  %s\n' "$name" "$answer" "$want" "$seconds" "$verdict" | tee -a "$results" >&2
  if [ "$verdict" = FAIL ]; then tail -n 5 "$state/$name.out" "$state/$name.err" >&2; fi
done

say "sam local start-api: the wallboard's page and board, as a user types it (arm64 under qemu)"
# Locally, no authorizer runs (sam skips JWT authorizers) and no sign-in (env.json empties its
# URL); the board reads the table the invokes above filled.
api_port=3001
in_ns env DOCKER_HOST="$DOCKER_HOST" PATH="$PATH" SAM_CLI_TELEMETRY=0 \
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \
  sam local start-api --env-vars env.json --port "$api_port" \
    --parameter-overrides "LocalDynamoDbEndpoint=http://host.docker.internal:$port" \
    --add-host host.docker.internal:host-gateway \
    --invoke-image "$image" --skip-pull-image >"$state/start-api.out" 2>&1 &
api_pid=$!
# Polled and stopped by PID below; not a job of this shell's, so its end is not reported.
disown "$api_pid"
api_ok=0
# The first answer takes a container's start under qemu: up to a minute and a half in all.
if in_ns python3 - "$api_port" "$api_pid" >"$state/start-api-check.out" 2>&1 <<'PY'
import json, os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
def get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as response:
        return response.read()
for _ in range(60):
    try:
        page = get("/").decode()
        break
    except OSError:
        os.kill(pid, 0)  # sam still up
        time.sleep(1)
else:
    sys.exit("sam local start-api did not answer GET /")
assert "Contact center wallboard" in page, "the page"
board = json.loads(get("/board"))
assert {"queues", "agents", "freshness", "reads"} <= set(board), sorted(board)
assert board["reads"]["requests"] == 2, board["reads"]
print("GET / and GET /board answered:", len(board["queues"]), "queues,", len(board["agents"]), "agents")
PY
then
  api_ok=1
fi
# SIGTERM (a background command of a script ignores SIGINT); the containers it started go with
# dockerd's stop at the end.
kill -TERM "$api_pid" 2>/dev/null || true
for _ in $(seq 1 40); do kill -0 "$api_pid" 2>/dev/null || break; sleep 0.25; done
kill -9 "$api_pid" 2>/dev/null || true
cat "$state/start-api-check.out" >&2
printf 'sam local start-api: GET / and GET /board %s\n' "$([ "$api_ok" = 1 ] && echo answered || echo FAILED)" >&2
if [ "$api_ok" != 1 ]; then tail -n 30 "$state/start-api.out" >&2; failed=$((failed + 1)); fi

say "the same events through the real binary as make local runs it (native), into a second table"
target_dir=$(infra/target-dir.sh)
cargo build --quiet -p connect-contact-state -p local-lambda --bins
in_ns env AWS_ENDPOINT_URL_DYNAMODB="$endpoint" RETENTION_DAYS=36500 AWS_LAMBDA_LOG_LEVEL=ERROR \
  "$target_dir/debug/local-lambda" --function "$target_dir/debug/contact-state" \
  --table contact-state-make-local events/*.json >/dev/null 2>"$state/make-local.err" || true

table_ok=1
in_ns .local/py/bin/python infra/compare_tables.py "$endpoint" contact-state-local "sam local invoke" \
  contact-state-make-local "make local" >&2 || { failed=$((failed + 1)); table_ok=0; }
total=$(( $(ls events/*.json | wc -l) + 2 ))
printf 'sam local invoke: %d of %d event files as expected; the table check %s\n' \
  "$(grep -c ' pass$' "$results")" "$((total - 2))" "$([ "$table_ok" = 1 ] && echo passed || echo FAILED)" >&2
# For make test's closing line: each event file, the start-api check and the table check count
# as one test each.
echo "$((total - failed)) $failed" >.local/run/sam-local.totals
[ "$failed" -eq 0 ]
