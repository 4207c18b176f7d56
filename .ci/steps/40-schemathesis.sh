#!/usr/bin/env bash
# Contract fuzzing: schemathesis (pinned in tests/blackbox/requirements.txt) against the spec the
# real debug binary serves, as an anonymous caller, a client and a manager, with every check.
# Fails on any 5xx, undocumented status, schema-breaking answer, or fault in the server's log.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
BIN=$(tests/blackbox/venv.sh)
time "$BIN/python" tests/blackbox/fuzz_api.py --venv-bin "$BIN"
