#!/usr/bin/env bash
# A generated client: openapi-python-client (pinned) generates a client from the committed
# openapi/openapi.yaml without a warning, and that client alone walks register → verify email →
# login → 2FA code → order → logout against the real debug binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
BIN=$(tests/blackbox/venv.sh)
GENERATED=$(tests/blackbox/generate_client.sh)
time "$BIN/python" tests/blackbox/client_walk.py "$GENERATED"
