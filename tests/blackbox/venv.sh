#!/usr/bin/env bash
# Makes target/blackbox/venv with tests/blackbox/requirements.txt installed, once per version of
# that file (a stamp holds its hash), and prints the venv's bin directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/blackbox/venv
STAMP="$VENV/.requirements.sha256"
WANT=$(sha256sum tests/blackbox/requirements.txt | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "venv.sh: installing tests/blackbox/requirements.txt into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/blackbox/requirements.txt >&2
  echo "$WANT" >"$STAMP"
fi
echo "$PWD/$VENV/bin"
