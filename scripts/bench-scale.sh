#!/usr/bin/env bash
# `make bench-scale`: what an order listing and the stats call cost as the orders grow
# (benches/listing_scale.rs fills the store through the store port and times each call), for
# SQLite and MongoDB (SecantusDB), written as tables into the report's `bench-scale` section
# (`docs/benchmarks.md`; `make bench` writes its own section).
#
# Settings (environment):
#   BENCH_OUTPUT=docs/benchmarks.md   where the report goes
#   BENCH_STORES="sqlite mongo"       which stores (MongoDB: MONGODB_TEST_URI, or a SecantusDB
#                                     server started here by scripts/mongo-test-server.sh)
#   SCALE_SIZES="1000 100000 1000000" SQLite sizes, growing one store
#   SCALE_SIZES_MONGO="1000 10000 20000"  MongoDB sizes (SecantusDB fills only ~200-500
#                                     orders/s here, slower as it grows)
#   SCALE_RUNS=15                     timed calls per measure (the median is reported; fewer,
#                                     at least 3, once one measure has taken 10 s)
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "bench-scale: FAILED: $*" >&2
  exit 1
}
STORES=${BENCH_STORES:-sqlite mongo}
OUTPUT=${BENCH_OUTPUT:-docs/benchmarks.md}
for store in $STORES; do
  case $store in sqlite | mongo) ;; *) fail "BENCH_STORES: unknown store '$store' (sqlite, mongo)" ;; esac
done
COMMAND=""
for name in BENCH_OUTPUT BENCH_STORES SCALE_SIZES SCALE_SIZES_MONGO SCALE_RUNS; do
  [ -n "${!name:-}" ] && COMMAND+="$name=${!name} "
done
if [ -n "${MAKELEVEL:-}" ]; then COMMAND+="make bench-scale"; else COMMAND+="scripts/bench-scale.sh"; fi

WORK=$(mktemp -d)
STARTED_MONGO=""
cleanup() {
  [ -n "$STARTED_MONGO" ] && scripts/mongo-test-server.sh stop
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ " $STORES " == *" mongo "* ]] && [ -z "${MONGODB_TEST_URI:-}" ]; then
  echo "== starting a SecantusDB server (scripts/mongo-test-server.sh)" >&2
  STARTED_MONGO=1
  eval "$(scripts/mongo-test-server.sh start)" || fail "starting the SecantusDB server"
fi

echo "== building benches/listing_scale.rs (release)" >&2
cargo bench --quiet --bench listing_scale --no-run || fail "cargo bench --bench listing_scale --no-run"
SCALE_STORES="$STORES" cargo bench --quiet --bench listing_scale | tee "$WORK/scale.txt" ||
  fail "benches/listing_scale.rs failed"

python3 - "$WORK/scale.txt" "$STORES" "$COMMAND" "$(nproc)" >"$WORK/section.md" <<'PY'
import sys, time

lines, stores, command, cores = open(sys.argv[1]).read().splitlines(), sys.argv[2].split(), sys.argv[3], sys.argv[4]
fills, scales = {}, {}
for line in lines:
    kind, _, rest = line.partition(" ")
    fields = dict(field.split("=", 1) for field in rest.split())
    if kind == "scale_fill":
        fills.setdefault(fields["store"], []).append(fields)
    elif kind == "scale":
        scales.setdefault(fields["store"], []).append(fields)

titles = {"sqlite": "SQLite", "mongo": "MongoDB (SecantusDB)"}
rows = [
    ("first page (limit 20, unfiltered)", "first_page_ms", 3),
    ("deep page (cursor from the middle of the year)", "deep_page_ms", 3),
    ("a client's first page", "client_page_ms", 3),
    ("a client's page filtered by a status (`ready`)", "client_status_page_ms", 3),
    ("a courier's first page", "courier_page_ms", 3),
    ("a page filtered by a status nothing has (`failed`)", "empty_status_page_ms", 3),
    ("stats over everything", "stats_all_ms", None),
    ("stats over 30 days (odd start and end times)", "stats_30_days_ms", None),
]
missing = [store for store in stores if store not in scales]
if missing:
    sys.exit(f"bench-scale: FAILED: no measure for {', '.join(missing)} in the bench's output")


def size(n):
    n = int(n)
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))


out = [
    "## Order listing and stats against the data size (`make bench-scale`)",
    "",
    f"Made by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cores} cores; "
    "`benches/listing_scale.rs` fills one store through the store port "
    "(`OrderStore::insert_order`, 8 inserts in flight) with orders spread over 365 days, 50 clients, "
    "10 couriers and a mix of statuses (never `failed`), growing it through the sizes below, and "
    "times each call at each size: the median of "
    f"{scales[stores[0]][0]['runs']} calls after a warm-up (fewer, but at least 3, once one "
    "measure has taken 10 s), in milliseconds, through the port "
    "(no HTTP). Targets: every listing ≤ 3 ms a page and flat from 1k to 1M orders; the stats "
    "on 1M orders ≤ 100 ms.",
]
for store in stores:
    measured = scales[store]
    largest = max(int(m["orders"]) for m in measured)
    out += ["", f"### {titles[store]}", ""]
    out.append("| call (ms) | " + " | ".join(size(m["orders"]) for m in measured) + " | target |")
    out.append("|---|" + "---|" * len(measured) + "---|")
    for label, key, limit in rows:
        cells = [m[key] for m in measured]
        if limit is not None:
            worst = max(float(c) for c in cells)
            verdict = "met" if worst <= limit else "**missed**"
            target = f"≤ {limit} ms: {verdict}"
        else:
            at = [m for m in measured if int(m["orders"]) >= 1_000_000]
            if at:
                target = "≤ 100 ms on 1M: " + ("met" if float(at[-1][key]) <= 100 else "**missed**")
            else:
                target = f"≤ 100 ms on 1M: not measured (largest {size(largest)})"
        out.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    fill = ", ".join(f"{size(f['added'])} in {f['seconds']} s ({f['orders_per_second']}/s)" for f in fills.get(store, []))
    out += ["", f"Filling ({titles[store]}, through the port): {fill}."]
if "mongo" in stores:
    out += ["", "SecantusDB's sizes (`SCALE_SIZES_MONGO`) stop where a fill still takes a few "
            "minutes: it is a Python server, so its insert rate above, not MongoDB's, sets "
            "them. The MongoDB column shows the adapter's queries and indexes at work, not "
            "MongoDB's speed."]
print("\n".join(out))
PY
python3 scripts/bench/splice.py "$OUTPUT" bench-scale <"$WORK/section.md"
echo "== report written to $OUTPUT" >&2
cat "$WORK/section.md"
