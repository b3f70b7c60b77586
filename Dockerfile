# syntax=docker/dockerfile:1
# tokengate container image: the binary built in one stage, run in a small distroless runtime
# image (glibc, CA certificates, no shell) as a non-root user.
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
#
# Size: the image ships a stripped binary of 16.5 MB (x86-64) on the distroless cc base (about
# 25 MB), so the image is about 42 MB, about 14 MB to pull
# (docs/supply-chain.md#binary-and-image-size). The binary's debug info and symbols, for perf
# and for symbolising a crash, are kept apart:
#
#   docker build --target debug-symbols --output type=local,dest=symbols .
#
# writes symbols/tokengate.debug (about 31 MB), which matches the shipped binary by its GNU
# build-id.
#
# Base images are pinned by digest so that a rebuild uses the bytes that were reviewed. These
# two digests were taken from public Dockerfiles pinned in late 2026 (each seen pinned by several
# independent projects); no registry was reachable where this file was written, so run
# `scripts/pin-images.sh --check` where docker can reach the registries to confirm them, and
# `scripts/pin-images.sh` to move both pins to what the tags point to now (review, then commit).
# docs/supply-chain.md#base-images has the procedure.

FROM rust:1-bookworm@sha256:93ce27a88655056a51dbdd8f5f2d7ddc071c7b0070fb288a37b5a285fc83971e AS build
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Cargo.toml declares the benches; the manifest does not load without their sources.
COPY benches ./benches
# The caches keep the crates.io index and compiled dependencies between builds; the binaries are
# copied out of the cached target directory because cache mounts are not part of the image.
# The profiling profile is the release build with debug info (Cargo.toml); objcopy then moves
# the debug info and symbols into tokengate.debug and strips the shipped binary, leaving a
# .gnu_debuglink to the symbol file.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --profile profiling --locked --bin tokengate \
    && objcopy --only-keep-debug --compress-debug-sections=zlib \
        target/profiling/tokengate /tokengate.debug \
    && objcopy --strip-all --add-gnu-debuglink=/tokengate.debug \
        target/profiling/tokengate /tokengate

# The symbol file on its own, for `docker build --target debug-symbols --output ...`.
FROM scratch AS debug-symbols
COPY --from=build /tokengate.debug /tokengate.debug

FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
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
