#!/usr/bin/env bash
# Swagger UI in a real browser: Debian's chromium, driven by playwright-core (npm, pinned by
# tests/blackbox/package-lock.json; it never downloads a browser), opens /docs on the real
# debug binary, finds every tag of the spec, runs "Try it out" → "Execute" on GET
# /api/v1/products and sees a 200; fails on a blank page or any request that did not load.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
time tests/blackbox/browser.sh
