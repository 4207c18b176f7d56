#!/usr/bin/env bash
# The server's build reuses the test build: the dev-dependencies turn on no feature in a shared
# crate that the server's own build lacks (else `make run` after `make test` recompiles ~46
# crates). Reads the lock file only.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/check-dev-features.sh
