#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI document with schemathesis (`--checks all`): every
# documented operation with generated valid and invalid input, checking statuses, content
# types, headers and bodies against the document. A manual check, not run by CI:
#
#   bench/fuzz-api.sh                  # 100 examples per operation
#   MAX_EXAMPLES=300 bench/fuzz-api.sh
#
# Three runs: anonymous, with an account's token, and with an integrator key. Needs schemathesis (`pip install schemathesis`; run from a venv with SCHEMATHESIS=path/to/st).
# Tern runs as `cargo run` does (emulators, embedded PostgreSQL in a throwaway data directory)
# with the write limit raised, so the fuzzer's writes reach the handlers instead of 429s.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18090}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
ST=${SCHEMATHESIS:-st}
cargo build --quiet
bin=${CARGO_TARGET_DIR:-target}/debug/tern
data=$(mktemp -d /tmp/tern-fuzz.XXXXXX)
chmod 755 "$data"
TERN_DATA_DIR="$data" TERN_ADDR="127.0.0.1:$PORT" TERN_API_WRITES_PER_MINUTE=1000000 RUST_LOG=warn \
  "$bin" >"$data/tern.log" 2>&1 &
server=$!
cleanup() {
  kill -INT "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$base/readyz" >/dev/null

# An account and its API token, for the operations that need one.
jar="$data/cookies"
csrf=$(curl -fs -c "$jar" "$base/account/sign-up" | sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -1)
curl -fs -b "$jar" -c "$jar" -o /dev/null -X POST "$base/account/sign-up" \
  --data-urlencode "email=fuzz@example.com" --data-urlencode "password=fuzzing the api" --data-urlencode "csrf_token=$csrf"
token=$(curl -fs -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
  -d '{"email": "fuzz@example.com", "password": "fuzzing the api"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')

# An integrator API key, for webhook management.
key=$(TERN_DATA_DIR="$data" "$bin" api-key create --name fuzz --role integrator 2>/dev/null | tail -1)

export SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$PWD/bench${PYTHONPATH:+:$PYTHONPATH}"
run() { "$ST" run "$base/api/v1/openapi.json" --url "$base/api/v1" --checks all \
  --max-examples "$MAX_EXAMPLES" --seed "${SEED:-1}" "$@"; }
status=0
echo "== anonymous"
run "$@" || status=1
# Signed in: every operation but DELETE /auth/token, which would revoke the token mid-run.
echo "== with an account's bearer token"
run -H "Authorization: Bearer $token" --exclude-method DELETE "$@" || status=1
echo "== with an integrator API key (webhook management)"
run -H "Authorization: Bearer $key" --include-path-regex '^/webhook' "$@" || status=1
exit $status
