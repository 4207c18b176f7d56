# allomedia in a container: `docker build -t allomedia .` — see docker-compose.yml for a full stack.
# Build stage: the release binary (no OpenSSL anywhere: rustls for SMTP and MongoDB).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
# The test-support crate is never built here, but Cargo reads every manifest of the workspace.
COPY testkit ./testkit
RUN cargo build --release --locked --bin allomedia

# Run stage: a small Debian with CA certificates (SMTP over TLS, mongodb+srv) and no shell tools
# beyond the base image; runs as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/allomedia --create-home allomedia
COPY --from=build /src/target/release/allomedia /usr/local/bin/allomedia
USER allomedia
WORKDIR /var/lib/allomedia
# prod by default: the server then refuses console mail, a missing or guessable JWT_SECRET and
# a PUBLIC_URL that is not https (ALLOW_HTTP_PUBLIC_URL=true behind a local TLS proxy).
# Metrics are served only if METRICS_ADDR is set, on that separate port (9090 below), which
# must not be published to the internet.
ENV APP_ENV=prod \
    HTTP_ADDR=0.0.0.0:8080 \
    LOG_FORMAT=json
EXPOSE 8080 9090
ENTRYPOINT ["allomedia"]
CMD ["serve"]
