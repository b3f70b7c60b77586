# syntax=docker/dockerfile:1
# tokengate container image: the release binary built in one stage, run in a small distroless
# runtime image (glibc, CA certificates, no shell) as a non-root user.
#
#   docker build -t tokengate:0.1.0 .
#   docker run --rm -p 8080:8080 -p 9901:9901 \
#     -v "$PWD/routes.yaml:/etc/tokengate/routes.yaml:ro" \
#     -e TOKENGATE_CLIENT_ID -e TOKENGATE_CLIENT_SECRET -e TOKENGATE_SESSION_KEY \
#     tokengate:0.1.0
#
# The config is read from /etc/tokengate/routes.yaml (TOKENGATE_CONFIG). To have edits picked up
# by the reload, mount the directory rather than the single file: a bind mount of one file keeps
# showing the old file once an editor replaces it. Inside a container, listen on 0.0.0.0: set
# server.listen: "0.0.0.0:8080" and server.admin_listen: "0.0.0.0:9901". Secrets come from the
# environment, referenced as ${VAR} in routes.yaml. See docs/operations.md.

FROM rust:1-bookworm AS build
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Cargo.toml declares the benches; the manifest does not load without their sources.
COPY benches ./benches
# The caches keep the crates.io index and compiled dependencies between builds; the binary is
# copied out of the cached target directory because cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin tokengate \
    && cp target/release/tokengate /tokengate

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /tokengate /usr/local/bin/tokengate
ENV TOKENGATE_CONFIG=/etc/tokengate/routes.yaml
# uid 65532 ("nonroot" in distroless).
USER 65532:65532
# 8080: the proxy listener (server.listen). 9901: /healthz, /readyz, /metrics (server.admin_listen).
EXPOSE 8080 9901
# SIGTERM drains in-flight requests (server.grace_period), then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tokengate"]
CMD ["run", "--log-format", "json"]
