#!/usr/bin/env bash
# `make browser`: installs Debian's chromium (apt) and playwright-core (npm, from the lockfile;
# it never downloads a browser) if missing, starts the real server, and runs swagger_ui.mjs.
# The screenshot lands in target/blackbox/swagger-ui.png (not committed).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v chromium >/dev/null; then
  echo "browser.sh: installing chromium (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d tests/blackbox/node_modules/playwright-core ]; then
  (cd tests/blackbox && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi
mkdir -p target/blackbox
python3 tests/blackbox/server.py -- node tests/blackbox/swagger_ui.mjs "$PWD/target/blackbox/swagger-ui.png"
