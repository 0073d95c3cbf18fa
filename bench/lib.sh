# Shared by the bench scripts (sourced, not run).

# The tern binary to measure: $TERN_BIN when set, else a release build made now.
release_bin() {
  if [ -n "${TERN_BIN:-}" ]; then
    echo "$TERN_BIN"
  else
    cargo build --release --quiet >&2
    echo "${CARGO_TARGET_DIR:-target}/release/tern"
  fi
}

# Starts `$bin emulators` on $STRIPE_PORT and $TELNYX_PORT (log in $data/emulators.log) and
# points the Stripe emulator's webhooks at Tern on $PORT. Sets emulators (its pid), stripe,
# telnyx and base (the three URLs), STRIPE_CONTROL_TOKEN and TELNYX_CONTROL_TOKEN (each
# emulator's test controls need its per-run token, as `tern emulators` printed them), and
# tern_vars: Tern's settings for $data and $PORT against these emulators (VAR=value words).
start_emulators() {
  "$bin" emulators --stripe-port "$STRIPE_PORT" --telnyx-port "$TELNYX_PORT" >"$data/emulators.log" 2>&1 &
  emulators=$!
  stripe="http://127.0.0.1:$STRIPE_PORT"
  telnyx="http://127.0.0.1:$TELNYX_PORT"
  base="http://127.0.0.1:$PORT"
  for _ in $(seq 1 100); do grep -q "Ctrl-C" "$data/emulators.log" 2>/dev/null && break; sleep 0.1; done
  local tokens
  tokens=$(sed -n 's/^  control token: *\([0-9a-f]*\).*/\1/p' "$data/emulators.log")
  STRIPE_CONTROL_TOKEN=$(echo "$tokens" | sed -n 1p)
  TELNYX_CONTROL_TOKEN=$(echo "$tokens" | sed -n 2p)
  [ -n "$STRIPE_CONTROL_TOKEN" ] && [ -n "$TELNYX_CONTROL_TOKEN" ] || { cat "$data/emulators.log" >&2; exit 2; }
  export STRIPE_CONTROL_TOKEN TELNYX_CONTROL_TOKEN
  curl -fs -X POST "$stripe/_emulator/webhooks/url" -H 'content-type: application/json' \
    -H "X-Emulator-Token: $STRIPE_CONTROL_TOKEN" -d "{\"url\": \"$base/webhooks/stripe\"}" >/dev/null
  tern_vars=(TERN_DATA_DIR="$data" TERN_ADDR="127.0.0.1:$PORT" RUST_LOG=warn
    STRIPE_SECRET_KEY=sk_test_tern_emulator STRIPE_WEBHOOK_SECRET=whsec_tern_emulator STRIPE_API_BASE="$stripe/"
    TELNYX_API_KEY=KEY_tern_emulator TELNYX_API_BASE="$telnyx/v2")
}

# Starts `$bin` (log appended to $data/tern.log) with tern_vars and any extra VAR=value
# settings given as arguments. Sets server (Tern's own pid: `env` execs it).
start_tern() {
  env "${tern_vars[@]}" "$@" "$bin" >>"$data/tern.log" 2>&1 &
  server=$!
}

# Waits up to 120 s for Tern's /readyz; exits 2 with the log's tail when it never answers.
await_tern() {
  for _ in $(seq 1 600); do curl -fs "$base/readyz" >/dev/null 2>&1 && return 0; sleep 0.2; done
  tail -20 "$data/tern.log" >&2
  exit 2
}

# Stops Tern and the emulators (SIGINT, waiting for each) and removes $data: the EXIT trap.
stop_all() {
  [ -n "${server:-}" ] && { kill -INT "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }
  [ -n "${emulators:-}" ] && { kill -INT "$emulators" 2>/dev/null; wait "$emulators" 2>/dev/null || true; }
  rm -rf "$data"
}
