#!/usr/bin/env bash
# End-to-end order benchmark on a release build: `tern emulators` and `tern` as separate
# processes (the real clients over loopback), then 16 and 48 concurrent buyers, each doing
# create -> pay -> wait until ready (crates/order-load: `GET /api/v1/orders/{id}?wait=20`). Then
# the same with 300 ms per Telnyx call and one purchase hanging. In between, the kill -9 run:
# IN_FLIGHT orders paid, each purchase hanging at Telnyx, Tern killed with SIGKILL and started
# again on the same data directory; bench/restart.py prints the time from the restart to every
# one of them ready. The first run keeps Telnyx's default rate limit, which caps the shop at
# (limit / calls per order) orders a minute; the others lift it. Prints orders/s and paid ->
# ready p50/p95/p99 per run.
# After each run it also prints the emails still queued when the buyers stopped (the worker
# runs an eSIM's provisioning before the messages due beside it, so under full load the
# messages fall behind), how long they took to go out, and orders/s counting that time, read
# from the embedded cluster with psql; the next run starts once they are all sent.
#
#   bench/orders.sh                 # 20 s per run
#   DURATION=10 bench/orders.sh
#   TERN_BIN=/path/to/tern bench/orders.sh   # that binary, not a fresh release build
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
IN_FLIGHT=${IN_FLIGHT:-16}
PORT=${PORT:-18081}
STRIPE_PORT=${STRIPE_PORT:-12111}
TELNYX_PORT=${TELNYX_PORT:-12112}

# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(release_bin)
# The buyers: crates/order-load, built here too (one thread, kept-alive connections: it takes
# about 0.35 ms of CPU an order on these 2 cores, where the Python driver before it took 1.6-2.2).
cargo build --release --quiet -p order-load >&2
driver="${CARGO_TARGET_DIR:-target}/release/order-load"
data=$(mktemp -d /tmp/tern-bench-orders.XXXXXX)
chmod 755 "$data"
server='' emulators=''
trap stop_all EXIT
start_emulators
# Stripe sends events concurrently, in no promised order; the emulator's default of one at a
# time (what tests rely on for order) would make its own delivery queue the bottleneck.
curl -fs -X POST "$stripe/_emulator/webhooks/concurrency" -H 'content-type: application/json' \
  -H "X-Emulator-Token: $STRIPE_CONTROL_TOKEN" -d '{"n": 32}' >/dev/null

# Every buyer here comes from 127.0.0.1, so the per-client write limit (20 a minute by default)
# is lifted: the limit is still checked on every create, as for real clients, but never refuses.
start_tern TERN_API_WRITES_PER_MINUTE=1000000
await_tern

# The messages (emails) queued or being sent now.
messages_left() {
  psql -X -At -h "$data/postgres" -p 5432 -U tern tern \
    -c "select count(*) from jobs where kind = 'send_email' and status in ('queued', 'running')"
}

# One driver run of $1 buyers, then the messages it left behind: how many, how long until every
# one was sent (up to 5 minutes), and orders/s over the run and that wait together.
run() {
  local line left started waited
  line=$("$driver" "$base" "$stripe" "$1" "$DURATION")
  echo "$line"
  left=$(messages_left)
  started=$(date +%s.%N)
  for _ in $(seq 1 3000); do [ "$(messages_left)" = 0 ] && break; sleep 0.1; done
  waited=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
  echo "$line" | awk -v left="$left" -v waited="$waited" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    run = v["orders"] / v["orders/s"]
    printf "  emails still queued at the end: %d, all sent %.1f s later; orders/s counting that wait: %.1f\n",
      left, waited, v["orders"] / (run + waited) }'
}

inject() {
  curl -fs -X POST "$telnyx/_emulator/inject" -H 'content-type: application/json' \
    -H "X-Emulator-Token: $TELNYX_CONTROL_TOKEN" -d "$1" >/dev/null
}

echo "== Telnyx's default rate limit (1,000 requests a minute), latency 0"
run 48

# The targets are about Tern, not Telnyx's quota: lift the limit for the runs below.
curl -fs -X POST "$telnyx/_emulator/rate_limit" -H 'content-type: application/json' \
  -H "X-Emulator-Token: $TELNYX_CONTROL_TOKEN" \
  -d '{"limit": 100000000, "window_seconds": 60}' >/dev/null
sleep 1
echo "== no rate limit, Telnyx latency 0"
run 16
run 48

echo "== kill -9 mid-provisioning (${IN_FLIGHT} orders, each purchase hanging), then restart"
inject "{\"target\": \"purchase\", \"fault\": \"hang\", \"delay_ms\": 600000, \"times\": $IN_FLIGHT}"
python3 bench/restart.py prepare "$base" "$stripe" "$IN_FLIGHT" "$data/in-flight.json"
kill -KILL "$server"
wait "$server" 2>/dev/null || true
start_tern TERN_API_WRITES_PER_MINUTE=1000000
python3 bench/restart.py wait "$base" "$data/in-flight.json" 300

echo "== Telnyx 300 ms per call, one purchase hanging"
inject '{"target": "purchase", "fault": "hang", "delay_ms": 600000, "times": 1}'
inject '{"target": "any", "fault": "hang", "delay_ms": 300, "times": 1000000}'
run 16
run 48
