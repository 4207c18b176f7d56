#!/usr/bin/env bash
# Supply chain: cargo-deny judges the dependency tree against deny.toml — licenses on the
# allow-list, no duplicate version without its listed reason, crates only from crates.io.
# The RustSec advisories run too wherever their database can be fetched (it lives in a git
# repository that this CI's network does not reach); where it cannot, a line says so and
# the step does not pretend they passed. docs/decisions.md, "Supply chain", has the why.
set -euo pipefail
cd "$(dirname "$0")/../.."

PATH="$(scripts/rust-tools.sh):$PATH"
cargo deny --version

cargo deny --locked check bans licenses sources

# Bounded: a network that drops packets instead of refusing must not stall CI.
if timeout 120 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --locked check advisories
else
  echo "cargo-deny: advisories SKIPPED — the RustSec advisory database (a git repository) cannot be fetched from this network; bans, licenses and sources were checked. Run 'make deny' where it can be fetched."
fi
