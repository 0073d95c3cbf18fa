#!/usr/bin/env bash
# Load benchmark of the catalogue pages and endpoints against /healthz, in one run, on a
# release build with its own embedded cluster. Prints requests/s and p99 latency per path and
# each throughput as a ratio to /healthz, uncompressed and then with brotli/gzip. Only loopback traffic; bounded in time.
#
#   bench/run.sh                 # 64 connections, 10 s per path
#   CONNECTIONS=32 DURATION=5s bench/run.sh
#   TERN_BIN=/path/to/tern bench/run.sh   # that binary, not a fresh release build
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(release_bin)
data=$(mktemp -d /tmp/tern-bench.XXXXXX)
chmod 755 "$data"
TERN_DATA_DIR="$data" TERN_ADDR="127.0.0.1:$PORT" RUST_LOG=warn "$bin" &
server=$!
cleanup() { kill -INT "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

base="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$base/readyz" >/dev/null

plan=$(curl -fs "$base/api/v1/plans?destination=jp&per_page=1" | sed -E 's/.*"id":"([0-9a-f-]{36})".*/\1/')
css=$(curl -fs "$base/" | grep -o '/static/css/tern\.[0-9a-f]*\.css' | head -1)
paths=("/healthz" "/" "/destinations/jp" "/plans/$plan" "/api/v1/destinations" "$css")

# Warm up every path once.
for p in "${paths[@]}"; do curl -fs -o /dev/null "$base$p"; done

# One table per encoding: as sent to a client that accepts none, then to a browser on
# roaming data (brotli or gzip: cached pages and static files are kept compressed, so this
# should cost about nothing per request). Ratios are to /healthz of the same pass.
for encoding in identity "br, gzip"; do
  echo "== Accept-Encoding: $encoding"
  printf '%-32s %12s %10s %8s %10s\n' "path" "req/s" "p99" "ratio" "bytes"
  healthz_rps=
  for p in "${paths[@]}"; do
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Accept-Encoding: $encoding" "$base$p")
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    bytes=$(curl -fs -H "Accept-Encoding: $encoding" -o /dev/null -w '%{size_download}' "$base$p")
    [ -z "$healthz_rps" ] && healthz_rps=$rps
    ratio=$(awk -v a="$rps" -v b="$healthz_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
    label=$p
    [ "$p" = "/plans/$plan" ] && label="/plans/{id}"
    [ "$p" = "$css" ] && label="/static/css/tern.{hash}.css"
    printf '%-32s %12s %10s %8s %10s\n' "$label" "$rps" "$p99" "$ratio" "$bytes"
    [ -n "$errors" ] && echo "  $errors"
  done
done
echo "($CONNECTIONS connections, $THREADS wrk threads, $DURATION per path, $(nproc) cores)"
