#!/usr/bin/env bash
# Starts a MongoDB-protocol server for the MongoDB tests (SecantusDB, pinned with hashes in
# tests/mongo/requirements.txt, installed in a venv under target/) on a free loopback port, in
# memory, and waits until it answers. Prints the shell lines that point the tests at it:
#   eval "$(scripts/mongo-test-server.sh start)"    # exports MONGODB_TEST_URI, MONGODB_TEST_REQUIRED=1,
#                                                   # MONGODB_TEST_SERVER_BIN (tests that start their own)
#   scripts/mongo-test-server.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/mongo-test-server/venv
pid_file=target/mongo-test-server/pid
log=target/mongo-test-server/server.log

start() {
  mkdir -p target/mongo-test-server
  if [ ! -x "$venv/bin/secantusd-py" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
      -r tests/mongo/requirements.txt >&2
  fi
  local port
  port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$venv/bin/secantusd-py" --port "$port" --storage-path ':memory:' >"$log" 2>&1 &
  echo $! >"$pid_file"
  local uri="mongodb://127.0.0.1:$port/?directConnection=true"
  # Ready when it answers a ping as the primary of its replica set (transactions need it).
  if ! "$venv/bin/python" - "$uri" >&2 <<'PY'
import sys, time
from pymongo import MongoClient
deadline, last = time.monotonic() + 60, None
while True:
    try:
        hello = MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000).admin.command("hello")
        if hello.get("isWritablePrimary"):
            break
    except Exception as error:
        last = error
    if time.monotonic() > deadline:
        sys.exit(f"MongoDB test server not ready after 60 s: {last!r}")
    time.sleep(0.2)
PY
  then
    cat "$log" >&2
    exit 1
  fi
  echo "export MONGODB_TEST_URI='$uri'"
  echo "export MONGODB_TEST_REQUIRED=1"
  # The server itself, for tests that need one of their own (to freeze it, to start it
  # standalone): tests/process/mongo_server.rs.
  echo "export MONGODB_TEST_SERVER_BIN='$PWD/$venv/bin/secantusd-py'"
}

stop() {
  [ -f "$pid_file" ] || return 0
  local pid
  pid=$(cat "$pid_file")
  rm -f "$pid_file"
  kill "$pid" 2>/dev/null || return 0
  # It shuts down in a second or two; never leave it behind.
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
