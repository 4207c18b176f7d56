#!/usr/bin/env bash
# Generates the Python client of the committed openapi/openapi.yaml into target/blackbox/client
# (never committed) with the pinned openapi-python-client, and refuses a generation that warns:
# a warning means an operation, a model or a response left out of the client — a spec problem.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(tests/blackbox/venv.sh)
OUT=target/blackbox/client
rm -rf "$OUT"
mkdir -p "$OUT"
# The venv's bin first: the generator's post-hooks run ruff, which the venv has.
PATH="$BIN:$PATH" "$BIN/openapi-python-client" generate --path openapi/openapi.yaml \
  --output-path "$OUT/allomedia_client" --meta none --config tests/blackbox/client-config.yaml \
  >"$OUT/generate.log" 2>&1 || { cat "$OUT/generate.log"; exit 1; }
if grep -qiE 'warning|unable to|error' "$OUT/generate.log"; then
  cat "$OUT/generate.log"
  echo "generate_client.sh: the generator warned about openapi/openapi.yaml (see above)" >&2
  exit 1
fi
echo "$PWD/$OUT"
