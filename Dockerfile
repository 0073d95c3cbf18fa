# Tern's production image: a release build without the emulators (`--no-default-features`),
# on a slim Debian base, run as a non-root user. Configuration comes from the environment
# (docs/DEPLOY.md lists every variable); the image has no keys and no database of its own.

# ---- build ----
FROM rust:1.95-slim-bookworm AS build
WORKDIR /app
COPY . .
RUN cargo build --release --locked --no-default-features --bin tern

# ---- run ----
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 tern \
    && useradd --system --uid 10001 --gid tern --home-dir /var/lib/tern --create-home tern
# The binary finds its static files where it was built (/app/static); templates and
# migrations are compiled in.
COPY --from=build /app/target/release/tern /usr/local/bin/tern
COPY --from=build /app/static /app/static
USER 10001:10001
WORKDIR /var/lib/tern
ENV TERN_ENV=production \
    TERN_ADDR=0.0.0.0:8080 \
    TERN_DATA_DIR=/var/lib/tern \
    TERN_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/tern", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tern"]
CMD ["serve"]
