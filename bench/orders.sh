#!/usr/bin/env bash
# End-to-end order benchmark on a release build: `tern emulators` and `tern` as separate
# processes (the real clients over loopback), then 16 and 48 concurrent buyers, each doing
# create -> pay -> poll until ready (bench/orders.py). Then the same with 300 ms per Telnyx
# call and one purchase hanging. In between, the kill -9 run: IN_FLIGHT orders paid, each
# purchase hanging at Telnyx, Tern killed with SIGKILL and started again on the same data
# directory; bench/restart.py prints the time from the restart to every one of them ready. The
# first run keeps Telnyx's default rate limit, which caps the shop at (limit / calls per order)
# orders a minute; the others lift it. Prints orders/s and paid -> ready p50/p95/p99 per run.
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
data=$(mktemp -d /tmp/tern-bench-orders.XXXXXX)
chmod 755 "$data"
"$bin" emulators --stripe-port "$STRIPE_PORT" --telnyx-port "$TELNYX_PORT" >"$data/emulators.log" 2>&1 &
emulators=$!
stripe="http://127.0.0.1:$STRIPE_PORT"
telnyx="http://127.0.0.1:$TELNYX_PORT"
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do grep -q "Ctrl-C" "$data/emulators.log" 2>/dev/null && break; sleep 0.1; done
# Each emulator's test controls need its per-run token, as `tern emulators` printed them.
tokens=$(sed -n 's/^  control token: *\([0-9a-f]*\).*/\1/p' "$data/emulators.log")
STRIPE_CONTROL_TOKEN=$(echo "$tokens" | sed -n 1p)
TELNYX_CONTROL_TOKEN=$(echo "$tokens" | sed -n 2p)
export STRIPE_CONTROL_TOKEN
curl -fs -X POST "$stripe/_emulator/webhooks/url" -H 'content-type: application/json' \
  -H "X-Emulator-Token: $STRIPE_CONTROL_TOKEN" \
  -d "{\"url\": \"$base/webhooks/stripe\"}" >/dev/null
# Stripe sends events concurrently, in no promised order; the emulator's default of one at a
# time (what tests rely on for order) would make its own delivery queue the bottleneck.
curl -fs -X POST "$stripe/_emulator/webhooks/concurrency" -H 'content-type: application/json' \
  -H "X-Emulator-Token: $STRIPE_CONTROL_TOKEN" -d '{"n": 32}' >/dev/null

# Every buyer here comes from 127.0.0.1, so the per-client write limit (20 a minute by default)
# is lifted: the limit is still checked on every create, as for real clients, but never refuses.
start_tern() {
  TERN_DATA_DIR="$data" TERN_ADDR="127.0.0.1:$PORT" RUST_LOG=warn TERN_API_WRITES_PER_MINUTE=1000000 \
    STRIPE_SECRET_KEY=sk_test_tern_emulator STRIPE_WEBHOOK_SECRET=whsec_tern_emulator STRIPE_API_BASE="$stripe/" \
    TELNYX_API_KEY=KEY_tern_emulator TELNYX_API_BASE="$telnyx/v2" \
    "$bin" >>"$data/tern.log" 2>&1 &
  server=$!
}
start_tern
cleanup() {
  kill -INT "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
  kill -INT "$emulators" 2>/dev/null; wait "$emulators" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 300); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$base/readyz" >/dev/null

inject() {
  curl -fs -X POST "$telnyx/_emulator/inject" -H 'content-type: application/json' \
    -H "X-Emulator-Token: $TELNYX_CONTROL_TOKEN" -d "$1" >/dev/null
}

echo "== Telnyx's default rate limit (1,000 requests a minute), latency 0"
python3 bench/orders.py "$base" "$stripe" 48 "$DURATION"

# The targets are about Tern, not Telnyx's quota: lift the limit for the runs below.
curl -fs -X POST "$telnyx/_emulator/rate_limit" -H 'content-type: application/json' \
  -H "X-Emulator-Token: $TELNYX_CONTROL_TOKEN" \
  -d '{"limit": 100000000, "window_seconds": 60}' >/dev/null
sleep 1
echo "== no rate limit, Telnyx latency 0"
python3 bench/orders.py "$base" "$stripe" 16 "$DURATION"
python3 bench/orders.py "$base" "$stripe" 48 "$DURATION"

echo "== kill -9 mid-provisioning (${IN_FLIGHT} orders, each purchase hanging), then restart"
inject "{\"target\": \"purchase\", \"fault\": \"hang\", \"delay_ms\": 600000, \"times\": $IN_FLIGHT}"
python3 bench/restart.py prepare "$base" "$stripe" "$IN_FLIGHT" "$data/in-flight.json"
kill -KILL "$server"
wait "$server" 2>/dev/null || true
start_tern
python3 bench/restart.py wait "$base" "$data/in-flight.json" 300

echo "== Telnyx 300 ms per call, one purchase hanging"
inject '{"target": "purchase", "fault": "hang", "delay_ms": 600000, "times": 1}'
inject '{"target": "any", "fault": "hang", "delay_ms": 300, "times": 1000000}'
python3 bench/orders.py "$base" "$stripe" 16 "$DURATION"
python3 bench/orders.py "$base" "$stripe" 48 "$DURATION"
