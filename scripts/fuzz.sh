#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for FUZZ_SECONDS seconds each (default 30), with libFuzzer
# under AddressSanitizer on the nightly toolchain. Stops at the first target that finds a
# crash; cargo-fuzz then prints the input, saved under fuzz/artifacts/<target>/.
# Needs cargo-fuzz on PATH (`make fuzz` puts it there through scripts/rust-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-30}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

cargo "+$toolchain" fuzz build
for target in $(cargo "+$toolchain" fuzz list); do
  echo "== fuzz $target for ${seconds}s"
  # -max_len keeps inputs near the sizes the HTTP layer lets through to these parsers.
  if ! cargo "+$toolchain" fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096 \
    -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target failed: the input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E "^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
done
echo "fuzz: every target ran ${seconds}s without a crash"
