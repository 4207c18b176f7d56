#!/usr/bin/env bash
# Fails when the dev-dependencies turn on a feature that the server's own build does not: then
# `cargo build` (`make run`) after `make test` recompiles every crate downstream of it instead of
# reusing the test build. Compares the features `cargo tree` resolves without the
# dev-dependencies (what `cargo build` compiles) with those it resolves with them (what
# `cargo test` compiles), crate by crate, and names each feature to add to Cargo.toml's
# alignment block (under `[dependencies]`). Reads the lock file only; builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

features() {
  cargo tree --locked -e "$1" --prefix none --no-dedupe --format '{p} {f}' |
    # "name vX.Y.Z [(path)] [(proc-macro)] feat,feat" → "name vX.Y.Z feat" per feature
    awk '{ f = ""; for (i = 3; i <= NF; i++) if ($i !~ /^\(/) f = $i;
           n = split(f, a, ","); if (n == 0) print $1, $2, "-";
           for (i = 1; i <= n; i++) print $1, $2, a[i] }' |
    sort -u
}

server=$(features normal,build)
tests=$(features normal,build,dev)
servers_crates=$(awk '{ print $1, $2 }' <<<"$server" | sort -u)
# Features the tests add to crates the server compiles too (crates only the tests use do not
# matter: the server never builds them).
drift=$(comm -13 <(echo "$server") <(echo "$tests") | grep -v ' -$' |
  awk 'NR == FNR { keep[$1 " " $2] = 1; next } ($1 " " $2) in keep' <(echo "$servers_crates") - || true)

if [ -n "$drift" ]; then
  echo "The test build turns on features the server's build does not (crate, version, feature):"
  echo "$drift"
  echo "Add them to the alignment block of Cargo.toml, or drop them from the dev-dependencies."
  exit 1
fi
echo "dev-dependencies turn on no feature the server's build lacks"
