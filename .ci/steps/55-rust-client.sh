#!/usr/bin/env bash
# A generated Rust client: tests/blackbox/rust-client generates a client from the committed
# openapi/openapi.yaml at build time with progenitor (pinned; its Cargo.lock committed) and that
# client alone walks register → verify email → login → 2FA code → order → logout → the old token
# refused, against the real debug binary that tests/blackbox/server.py starts. The crate is not
# in the server's workspace, so it is formatted and checked here; it builds into target/rust-client.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
CRATE=tests/blackbox/rust-client/Cargo.toml
export CARGO_TARGET_DIR=target/rust-client
cargo fmt --manifest-path "$CRATE" -- --check
# Warnings of the walk itself fail the build (cargo caps the dependencies' lints); no separate
# clippy pass, which on a clean clone compiled its ~130 dependencies a second time.
RUSTFLAGS="-D warnings" cargo build --quiet --locked --manifest-path "$CRATE"
time python3 tests/blackbox/server.py -- "$CARGO_TARGET_DIR/debug/client_walk"
