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
ENV HTTP_ADDR=0.0.0.0:8080 \
    LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["allomedia"]
CMD ["serve"]
