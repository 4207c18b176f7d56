#!/usr/bin/env bash
# The account pages in a real browser: Debian's chromium, driven by playwright-core (as the
# Swagger UI step), on the real debug binary. Registers over the API, opens the links from the
# mails, presses the buttons, and checks that a plain GET of a link spends nothing, that a link
# works once, that a weak password is refused in place and a good one replaces the old, in
# French and English. Screenshots in target/blackbox/account-pages/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
time tests/blackbox/browser.sh account_pages
