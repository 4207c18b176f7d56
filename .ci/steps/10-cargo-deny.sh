#!/usr/bin/env bash
# Supply chain: cargo-deny judges the dependency tree against deny.toml — licenses on the
# allow-list, no duplicate version without its listed reason, crates only from crates.io, and
# no known advisory. The RustSec database is a git repository this CI's network may not reach:
# the live one is used where it can be fetched, else a dated offline copy
# (RUSTSEC_DB_ARCHIVE, by default ../shared/supply-chain/rustsec-advisory-db.tar.gz, beside the
# clone). Without either, a line says advisories were skipped: the step never pretends they
# passed. The project itself needs no such copy to build or test.
set -euo pipefail
cd "$(dirname "$0")/../.."

PATH="$(scripts/rust-tools.sh):$PATH"
cargo deny --version

cargo deny --locked check bans licenses sources

# The ignores of deny.toml hold only while their vulnerable code stays unreachable.
scripts/check-unreachable-advisories.sh

# deny.toml: db-path = "target/advisory-dbs"; the directory name is cargo-deny's for the
# default database URL.
db_dir=target/advisory-dbs/advisory-db-3157b0e258782691
archive="${RUSTSEC_DB_ARCHIVE:-../shared/supply-chain/rustsec-advisory-db.tar.gz}"

# Bounded: a network that drops packets instead of refusing must not stall CI.
if timeout 120 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny --locked check advisories
elif [ -f "$archive" ]; then
  rm -rf "$db_dir" target/advisory-dbs/advisory-db
  mkdir -p target/advisory-dbs
  tar xzf "$archive" -C target/advisory-dbs
  mv target/advisory-dbs/advisory-db "$db_dir"
  echo "cargo-deny: the live RustSec database cannot be fetched; checking advisories against the offline copy $archive ($(git -C "$db_dir" log -1 --format='commit %h of %cs' 2>/dev/null || echo 'undated'))"
  cargo fetch --locked --quiet
  cargo deny --locked --offline check advisories
else
  echo "cargo-deny: advisories SKIPPED — the RustSec advisory database (a git repository) cannot be fetched from this network and no offline copy was found at $archive (set RUSTSEC_DB_ARCHIVE); bans, licenses and sources were checked."
fi
