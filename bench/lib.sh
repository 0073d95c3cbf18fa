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
