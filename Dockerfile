# tokengate container image: the release binary built in one stage, run as a non-root user in a
# small runtime image. Mount your routes.yaml at /etc/tokengate/routes.yaml (or set
# TOKENGATE_CONFIG) and pass secrets as environment variables referenced from it.
FROM rust:1-bookworm AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends cmake && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin tokengate

FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home tokengate \
    && mkdir -p /etc/tokengate
COPY --from=build /src/target/release/tokengate /usr/local/bin/tokengate
COPY routes.yaml /etc/tokengate/routes.yaml
USER 10001
ENV TOKENGATE_CONFIG=/etc/tokengate/routes.yaml
# proxy listener, admin listener (set server.listen / server.admin_listen to 0.0.0.0:... in the container)
EXPOSE 8080 9901
ENTRYPOINT ["/usr/local/bin/tokengate"]
CMD ["run"]
