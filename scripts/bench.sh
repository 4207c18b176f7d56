#!/usr/bin/env bash
# `make bench`: measures the release build on loopback, once per store (SQLite, and MongoDB on
# a SecantusDB server), and writes every row of issue 13's table as ratios, side by side, into
# the report (`docs/benchmarks.md`, its `bench` section; `make bench-scale` writes its own).
#
# Once for the machine: the argon2 ceiling (benches/argon2_ceiling.rs) and mail delivery from
# the outbox to an SMTP relay on loopback (benches/mail_delivery.rs). Then, per store, on a
# fresh database and a fresh server:
#   1. resident memory a few seconds after start, before any request (VmRSS);
#   2. GET /api/v1/me and GET /health/live, wrk 32 connections 10 s each: me/live and p99;
#   3. a login flood (32 connections over 20 accounts, FLOOD_SECONDS) against the ceiling,
#      with /health/live probed alone every 20 ms meanwhile (scripts/bench/probe.py);
#   4. the solo rates of /me and of order placement (10 s each), then a mixed soak
#      (SOAK_SECONDS): /me, order placement, order listing and 4 connections logging in at
#      once; each rate against its solo rate, the logins against the ceiling;
#   5. peak resident memory over the whole run (VmHWM).
#
# Settings (environment):
#   BENCH_BINARY=/path/to/allomedia  measure that binary instead of building this tree
#   BENCH_OUTPUT=docs/benchmarks.md  where the report goes
#   BENCH_STORES="sqlite mongo"      which columns (MongoDB: MONGODB_TEST_URI, or a SecantusDB
#                                    server started here by scripts/mongo-test-server.sh)
#   FLOOD_SECONDS=20  SOAK_SECONDS=60  SOAK_CONNECTIONS=8 (each of /me, orders, listing)
#   BENCH_PORT=18080 (the next ports are used too)
# Any failed step, empty measure, non-2xx answer or socket error stops it with a message. wrk
# waits up to 30 s for an answer (not its 2 s default): a slow store (SecantusDB under a login
# flood) shows as latency and a lower rate, and only a stalled request counts as an error.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "bench: FAILED: $*" >&2
  exit 1
}
command -v wrk >/dev/null || { echo "installing wrk" >&2; apt-get install -y wrk >/dev/null; }
command -v curl >/dev/null || fail "curl is required"
command -v python3 >/dev/null || fail "python3 is required"

# The command that made the report, with the settings given (read before the defaults).
COMMAND=""
for name in BENCH_BINARY BENCH_OUTPUT BENCH_STORES FLOOD_SECONDS SOAK_SECONDS SOAK_CONNECTIONS BENCH_PORT; do
  [ -n "${!name:-}" ] && COMMAND+="$name=${!name} "
done
if [ -n "${MAKELEVEL:-}" ]; then COMMAND+="make bench"; else COMMAND+="scripts/bench.sh"; fi
STORES=${BENCH_STORES:-sqlite mongo}
OUTPUT=${BENCH_OUTPUT:-docs/benchmarks.md}
FLOOD_SECONDS=${FLOOD_SECONDS:-20}
SOAK_SECONDS=${SOAK_SECONDS:-60}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-8}
PORT=${BENCH_PORT:-18080}
# Every sign-in attempt counts toward its account's 24-hour ceiling of 100 (the lockout of
# docs/security.md, which success does not reset): past it, concurrent attempts on one
# account are refused 429 on purpose. The flood and the soak make about 2,000 + 1,000 logins,
# so they spread over enough accounts to stay well under it.
ACCOUNTS=100
PASSWORD="tulipe-marteau-orage"
IDLE_SECONDS=3
[ "$FLOOD_SECONDS" -ge 6 ] || fail "FLOOD_SECONDS must be at least 6 (the probe runs inside it)"
[ "$SOAK_SECONDS" -ge 5 ] || fail "SOAK_SECONDS must be at least 5"
for store in $STORES; do
  case $store in sqlite | mongo) ;; *) fail "BENCH_STORES: unknown store '$store' (sqlite, mongo)" ;; esac
done

WORK=$(mktemp -d)
SERVER_PID=""
SERVER_LOG=""
STARTED_MONGO=""
cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ]; then
    echo "bench: the server's last log lines ($SERVER_LOG):" >&2
    tail -n 20 "$SERVER_LOG" | cut -c1-400 >&2
  fi
  [ -n "$STARTED_MONGO" ] && scripts/mongo-test-server.sh stop
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- helpers -------------------------------------------------------------------------------

# need NAME VALUE: a measure must be a number above zero.
need() {
  if ! [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] || awk -v v="$2" 'BEGIN { exit !(v + 0 == 0) }'; then
    fail "empty measure: $1 (got '${2}')"
  fi
}
# need_text NAME VALUE: a setup value must not be empty.
need_text() { [ -n "$2" ] || fail "setup: no $1"; }

# wrk_rps FILE / wrk_p99_ms FILE: from a wrk report (--latency for the p99).
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_p99_ms() {
  awk '$1 == "99%" {
    v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
    f = (unit == "us") ? 0.001 : (unit == "ms") ? 1 : (unit == "s") ? 1000 : (unit == "m") ? 60000 : -1
    if (f > 0) printf "%.2f", v * f
  }' "$1"
}

# wrk_check WHAT FILE: every answer 2xx/3xx, no socket error, at least one request.
wrk_check() {
  local what=$1 file=$2 bad errors
  grep -q '^Requests/sec:' "$file" || { cat "$file" >&2; fail "$what: wrk printed no rate"; }
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$file")
  [ -z "$bad" ] || [ "$bad" -eq 0 ] || { cat "$file" >&2; fail "$what: $bad non-2xx answers"; }
  errors=$(sed -n 's/^ *Socket errors: *//p' "$file")
  if [ -n "$errors" ] && grep -q '[1-9]' <<<"$errors"; then
    cat "$file" >&2
    fail "$what: socket errors ($errors)"
  fi
}

# ratio A B [SCALE]: A / B × SCALE with two decimals (0 when B is 0).
ratio() { awk -v a="$1" -v b="$2" -v s="${3:-1}" 'BEGIN { if (b > 0) printf "%.2f", s * a / b; else print 0 }'; }
# verdict VALUE OP TARGET: "met" or "missed".
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "**missed**" }'; }
# kilo N: a rate for people (1234.5 → 1.23k).
kilo() { awk -v n="$1" 'BEGIN { if (n >= 1000) printf "%.2fk", n / 1000; else printf "%.1f", n }'; }
status_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }

# The URL of a fresh database of its own on the MongoDB server of MONGODB_TEST_URI.
mongo_database_url() {
  python3 - "$MONGODB_TEST_URI" "$1" <<'PY'
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(url._replace(path="/" + sys.argv[2])))
PY
}

# ---- once for the machine ------------------------------------------------------------------

if [ -n "${BENCH_BINARY:-}" ]; then
  [ -x "$BENCH_BINARY" ] || fail "BENCH_BINARY=$BENCH_BINARY is not an executable"
  BIN=$BENCH_BINARY
  BUILT="the binary \`$BENCH_BINARY\` (BENCH_BINARY)"
else
  echo "== building (release)" >&2
  cargo build --release --quiet || fail "cargo build --release"
  BIN=target/release/allomedia
  BUILT="the release build of commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' with uncommitted changes')"
fi

echo "== argon2 ceiling (5 s, every core hashing)" >&2
CEILING_OUT=$(cargo bench --quiet --bench argon2_ceiling) || fail "cargo bench --bench argon2_ceiling"
CEILING=$(sed -n 's/^argon2_ceiling_hashes_per_second=//p' <<<"$CEILING_OUT")
THREADS=$(sed -n 's/^argon2_ceiling_threads=//p' <<<"$CEILING_OUT")
need "argon2 ceiling" "$CEILING"

echo "== mail delivery to a loopback SMTP relay" >&2
MAIL_OUT=$(cargo bench --quiet --bench mail_delivery) || fail "cargo bench --bench mail_delivery"
MAIL_RATE=$(sed -n 's/^mail_delivered_per_second=//p' <<<"$MAIL_OUT")
MAIL_COUNT=$(sed -n 's/^mail_delivery_mails=//p' <<<"$MAIL_OUT")
MAIL_CONNECTIONS=$(sed -n 's/^mail_delivery_connections=//p' <<<"$MAIL_OUT")
MAIL_QUEUE_RATE=$(sed -n 's/^mail_queued_per_second=//p' <<<"$MAIL_OUT")
need "mail delivery rate" "$MAIL_RATE"

if [[ " $STORES " == *" mongo "* ]] && [ -z "${MONGODB_TEST_URI:-}" ]; then
  echo "== starting a SecantusDB server (scripts/mongo-test-server.sh)" >&2
  STARTED_MONGO=1
  eval "$(scripts/mongo-test-server.sh start)" || fail "starting the SecantusDB server"
fi

cat >"$WORK/login.lua" <<LUA
request = function()
  local body = string.format('{"email":"bench%d@example.com","password":"$PASSWORD"}',
    math.random(0, $ACCOUNTS - 1))
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
LUA

# ---- per store -----------------------------------------------------------------------------

declare -A R # R[store.key] = value

# measure_store STORE PORT
measure_store() {
  local store=$1 port=$2 base="http://127.0.0.1:$2" database_url
  local out="$WORK/$store"
  mkdir -p "$out"
  case $store in
    sqlite) database_url="sqlite://$out/bench.db" ;;
    mongo) database_url=$(mongo_database_url "allomedia_bench_$(date +%s)_$$") ;;
  esac
  R[$store.database]=$store
  export DATABASE_URL="$database_url" HTTP_ADDR="127.0.0.1:$port" METRICS_ADDR="127.0.0.1:$((port + 1))" \
    JWT_SECRET="benchmark-secret-benchmark-secret-0123" AUTH_RATE_LIMIT_PER_MINUTE=100000000 \
    RUST_LOG="warn,allomedia::adapters::mail=info,allomedia::app=info" LOG_FORMAT=json \
    MAIL_URL="console://" MAIL_MAX_PER_RECIPIENT_PER_HOUR=100000 APP_ENV=dev

  echo "== [$store] $ACCOUNTS manager accounts (create-manager)" >&2
  # The flood spreads over them as real traffic would (see ACCOUNTS). bench0 also creates the
  # product.
  for i in $(seq 0 $((ACCOUNTS - 1))); do
    echo "$PASSWORD" | "$BIN" create-manager --name "Bench $i" --email "bench$i@example.com" \
      --password-stdin >/dev/null 2>"$out/create-manager.log" ||
      { cat "$out/create-manager.log" >&2; fail "[$store] create-manager bench$i"; }
  done

  SERVER_LOG="$out/server.log"
  "$BIN" serve >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  local up=""
  for _ in $(seq 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || fail "[$store] the server exited at start"
    grep -q 'allomedia listening' "$SERVER_LOG" && { up=1; break; }
    sleep 0.1
  done
  [ -n "$up" ] || fail "[$store] the server did not start listening within 30 s"
  # Idle memory: a few seconds after start, before any request.
  sleep "$IDLE_SECONDS"
  R[$store.idle_kb]=$(status_kb "$SERVER_PID" VmRSS)
  need "[$store] idle VmRSS" "${R[$store.idle_kb]}"
  curl -fs "$base/health/live" >/dev/null || fail "[$store] /health/live does not answer"

  echo "== [$store] accounts and product over the API" >&2
  local setup
  setup=$(python3 scripts/bench/accounts.py "$base" "$SERVER_LOG" bench0@example.com "$PASSWORD" \
    bench-client@example.com) || fail "[$store] setting up the client and the product"
  local CLIENT_TOKEN="" PRODUCT_ID=""
  eval "$setup"
  need_text "[$store] client access token" "$CLIENT_TOKEN"
  need_text "[$store] product id" "$PRODUCT_ID"
  local auth="Authorization: Bearer $CLIENT_TOKEN"
  cat >"$out/order.lua" <<LUA
request = function()
  return wrk.format("POST", "/api/v1/orders",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $CLIENT_TOKEN"},
    '{"items":[{"product_id":"$PRODUCT_ID","quantity":2}],"delivery_address":"12 rue Atlas\\\\nCasablanca"}')
end
LUA

  echo "== [$store] GET /api/v1/me and GET /health/live: 32 connections, 10 s each" >&2
  wrk --timeout 30s -t1 -c32 -d10s --latency -H "$auth" "$base/api/v1/me" >"$out/me.txt"
  wrk_check "[$store] GET /me" "$out/me.txt"
  wrk --timeout 30s -t1 -c32 -d10s --latency "$base/health/live" >"$out/live.txt"
  wrk_check "[$store] GET /health/live" "$out/live.txt"
  R[$store.me_rps]=$(wrk_rps "$out/me.txt")
  R[$store.me_p99]=$(wrk_p99_ms "$out/me.txt")
  R[$store.live_rps]=$(wrk_rps "$out/live.txt")
  need "[$store] /me req/s" "${R[$store.me_rps]}"
  need "[$store] /me p99" "${R[$store.me_p99]}"
  need "[$store] /health/live req/s" "${R[$store.live_rps]}"

  echo "== [$store] login flood: 32 connections, ${FLOOD_SECONDS} s; /health/live probed every 20 ms" >&2
  wrk --timeout 30s -t1 -c32 -d"${FLOOD_SECONDS}s" -s "$WORK/login.lua" "$base/api/v1/auth/login" >"$out/flood.txt" &
  local flood=$!
  sleep 2
  python3 scripts/bench/probe.py "$base/health/live" "$((FLOOD_SECONDS - 4))" 20 >"$out/probe.txt" ||
    fail "[$store] the /health/live probe failed"
  wait "$flood" || fail "[$store] wrk (login flood) failed"
  wrk_check "[$store] login flood" "$out/flood.txt"
  R[$store.login_rps]=$(wrk_rps "$out/flood.txt")
  need "[$store] logins/s" "${R[$store.login_rps]}"
  for key in requests p50_ms p99_ms max_ms; do
    R[$store.probe_$key]=$(sed -n "s/^probe_$key=//p" "$out/probe.txt")
    need "[$store] probe $key" "${R[$store.probe_$key]}"
  done

  echo "== [$store] solo rates: /me and order placement, $SOAK_CONNECTIONS connections, 10 s each" >&2
  wrk --timeout 30s -t1 -c"$SOAK_CONNECTIONS" -d10s -H "$auth" "$base/api/v1/me" >"$out/solo-me.txt"
  wrk_check "[$store] solo /me" "$out/solo-me.txt"
  wrk --timeout 30s -t1 -c"$SOAK_CONNECTIONS" -d10s -s "$out/order.lua" "$base/api/v1/orders" >"$out/solo-order.txt"
  wrk_check "[$store] solo order placement" "$out/solo-order.txt"
  R[$store.solo_me]=$(wrk_rps "$out/solo-me.txt")
  R[$store.solo_order]=$(wrk_rps "$out/solo-order.txt")
  need "[$store] solo /me" "${R[$store.solo_me]}"
  need "[$store] solo orders" "${R[$store.solo_order]}"

  echo "== [$store] mixed soak, ${SOAK_SECONDS} s: /me, orders, listing ($SOAK_CONNECTIONS connections each), 4 logging in" >&2
  local pids=()
  wrk --timeout 30s -t1 -c"$SOAK_CONNECTIONS" -d"${SOAK_SECONDS}s" -H "$auth" "$base/api/v1/me" >"$out/soak-me.txt" &
  pids+=($!)
  wrk --timeout 30s -t1 -c"$SOAK_CONNECTIONS" -d"${SOAK_SECONDS}s" -s "$out/order.lua" "$base/api/v1/orders" >"$out/soak-order.txt" &
  pids+=($!)
  wrk --timeout 30s -t1 -c"$SOAK_CONNECTIONS" -d"${SOAK_SECONDS}s" -H "$auth" "$base/api/v1/orders?limit=20" >"$out/soak-list.txt" &
  pids+=($!)
  wrk --timeout 30s -t1 -c4 -d"${SOAK_SECONDS}s" -s "$WORK/login.lua" "$base/api/v1/auth/login" >"$out/soak-login.txt" &
  pids+=($!)
  for pid in "${pids[@]}"; do wait "$pid" || fail "[$store] a wrk of the soak failed"; done
  for part in me order list login; do
    wrk_check "[$store] soak $part" "$out/soak-$part.txt"
    R[$store.soak_$part]=$(wrk_rps "$out/soak-$part.txt")
    need "[$store] soak $part rate" "${R[$store.soak_$part]}"
  done

  R[$store.peak_kb]=$(status_kb "$SERVER_PID" VmHWM)
  need "[$store] VmHWM" "${R[$store.peak_kb]}"
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  SERVER_LOG=""
}

port=$PORT
for store in $STORES; do
  measure_store "$store" "$port"
  port=$((port + 10))
done

# ---- the report ----------------------------------------------------------------------------

title() { case $1 in sqlite) echo "SQLite" ;; mongo) echo "MongoDB (SecantusDB)" ;; esac; }
# row MEASURE TARGET CELL-FUNCTION: one line of the table, a cell per store.
row() {
  local line="| $1 | $2 |"
  for store in $STORES; do line+=" $("$3" "$store") |"; done
  echo "$line"
}
cell_me_ratio() {
  local s=$1 r
  r=$(ratio "${R[$s.me_rps]}" "${R[$s.live_rps]}")
  echo "$r ($(kilo "${R[$s.me_rps]}") ÷ $(kilo "${R[$s.live_rps]}") req/s) — $(verdict "$r" ">=" 0.45)"
}
cell_me_p99() { echo "${R[$1.me_p99]} ms — $(verdict "${R[$1.me_p99]}" "<=" 3)"; }
cell_login() {
  local s=$1 r
  r=$(ratio "${R[$s.login_rps]}" "$CEILING")
  echo "$r (${R[$s.login_rps]} logins/s) — $(verdict "$r" ">=" 0.95)"
}
cell_probe() {
  local s=$1
  echo "p99 ${R[$s.probe_p99_ms]} ms (p50 ${R[$s.probe_p50_ms]}, max ${R[$s.probe_max_ms]}; ${R[$s.probe_requests]} probes) — $(verdict "${R[$s.probe_p99_ms]}" "<=" 2)"
}
cell_soak_me() {
  local s=$1 r
  r=$(ratio "${R[$s.soak_me]}" "${R[$s.solo_me]}" 100)
  echo "$r % ($(kilo "${R[$s.soak_me]}") of $(kilo "${R[$s.solo_me]}") req/s) — $(verdict "$r" ">=" 50)"
}
cell_soak_order() {
  local s=$1 r
  r=$(ratio "${R[$s.soak_order]}" "${R[$s.solo_order]}" 100)
  echo "$r % ($(kilo "${R[$s.soak_order]}") of $(kilo "${R[$s.solo_order]}") orders/s) — $(verdict "$r" ">=" 50)"
}
cell_soak_list() { echo "$(kilo "${R[$1.soak_list]}") pages/s"; }
cell_soak_login() {
  local s=$1 r
  r=$(ratio "${R[$s.soak_login]}" "$CEILING" 100)
  echo "$r % (${R[$s.soak_login]} logins/s) — $(verdict "$r" ">=" 80)"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
cell_idle() { local m; m=$(mb "${R[$1.idle_kb]}"); echo "$m MB — $(verdict "$m" "<=" 20)"; }
cell_peak() { local m; m=$(mb "${R[$1.peak_kb]}"); echo "$m MB — $(verdict "$m" "<=" 100)"; }

header="| measure | target |"
rule="|---|---|"
for store in $STORES; do header+=" $(title "$store") |"; rule+="---|"; done
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)

python3 scripts/bench/splice.py "$OUTPUT" bench <<MD
## Service under load (\`make bench\`)

Made by \`$COMMAND\` on $(date -u '+%Y-%m-%d %H:%M UTC'), measuring $BUILT, on loopback:
$(nproc) cores ($CPU), shared by the server and the load generators (wrk, one thread each).
argon2id m=19456 KiB t=2 p=1; each store on a fresh database and a fresh server process.
Numbers vary ±10–20 % between runs on a quiet machine, more on a busy one.

Once for the machine:

| measure | result |
|---|---|
| argon2 ceiling (all $THREADS cores hashing, nothing else; \`benches/argon2_ceiling.rs\`) | $CEILING hashes/s |
| mail delivery, outbox (SQLite) → SMTP relay on loopback ($MAIL_COUNT mails, $MAIL_CONNECTIONS connections; \`benches/mail_delivery.rs\`, from this tree's code) | $MAIL_RATE mails/s delivered (queued beforehand at $MAIL_QUEUE_RATE mails/s); issue 10 asks ≥ 150 |

Per store (issue 13's table; "met"/"missed" against its target):

$header
$rule
$(row "\`GET /api/v1/me\` ÷ \`/health/live\` of the same run (wrk 32 connections, 10 s each)" "≥ 0.45" cell_me_ratio)
$(row "\`GET /api/v1/me\` p99 (same run)" "≤ 3 ms" cell_me_p99)
$(row "login flood (32 connections over $ACCOUNTS accounts, ${FLOOD_SECONDS} s) ÷ argon2 ceiling" "≥ 0.95" cell_login)
$(row "\`/health/live\` latency during the flood (one probe every 20 ms, one connection)" "p99 ≤ 2 ms" cell_probe)
$(row "mixed soak (${SOAK_SECONDS} s): \`GET /api/v1/me\` ÷ its solo rate" "≥ 50 %" cell_soak_me)
$(row "mixed soak: order placement (\`POST /api/v1/orders\`) ÷ its solo rate" "≥ 50 %" cell_soak_order)
$(row "mixed soak: order listing (\`GET /api/v1/orders\`, first page)" "(load)" cell_soak_list)
$(row "mixed soak: logins (4 connections) ÷ argon2 ceiling" "≥ 80 %" cell_soak_login)
$(row "resident memory, idle ${IDLE_SECONDS} s after start, before any request (VmRSS)" "≤ 20 MB" cell_idle)
$(row "resident memory, peak over the whole run (VmHWM)" "≤ 100 MB" cell_peak)

How each is measured (\`scripts/bench.sh\`): \`/me\` uses a client signed in over the API
(registered, address confirmed and code read from the console mail in the server's log);
\`/health/live\` follows on the same server with the same wrk settings, so their ratio
cancels most of the machine's speed. The flood signs in over $ACCOUNTS manager accounts
(\`create-manager\`); the probe (\`scripts/bench/probe.py\`) waits for each answer on one
persistent connection, so it sees what a lone cheap request waits, not a saturating load. The
solo rates are taken with the soak's connection count ($SOAK_CONNECTIONS each, 10 s), then the
soak runs /me, order placement (one product, quantity 2), the client's first page of orders
and 4 login connections at once, one wrk each. Order listing and stats against the data size
are in the next section (\`make bench-scale\`).
MD
echo "== report written to $OUTPUT" >&2
sed -n '/<!-- bench:begin -->/,/<!-- bench:end -->/p' "$OUTPUT"
