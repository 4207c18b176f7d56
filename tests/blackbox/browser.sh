#!/usr/bin/env bash
# `make browser` / `make account-pages`: installs Debian's chromium (apt) and playwright-core
# (npm, from the lockfile; it never downloads a browser) if missing, starts the real server, and
# runs swagger_ui.mjs (no argument, or `swagger_ui`) or account_pages.mjs (`account_pages`).
# Screenshots land in target/blackbox/ (not committed).
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
case "${1:-swagger_ui}" in
  swagger_ui)
    python3 tests/blackbox/server.py -- node tests/blackbox/swagger_ui.mjs "$PWD/target/blackbox/swagger-ui.png" ;;
  account_pages)
    python3 tests/blackbox/server.py -- node tests/blackbox/account_pages.mjs "$PWD/target/blackbox/account-pages" ;;
  *)
    echo "browser.sh: unknown proof $1 (swagger_ui, account_pages)" >&2; exit 2 ;;
esac
