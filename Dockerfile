# kick-relay in a container: a build stage with the Rust toolchain, then a slim Debian runtime
# holding only the binary, its CA certificates and a configuration for the container
# (deploy/container/kick-relay.toml). How it is checked: README.md, "Container".
#
#   docker build -t kick-relay .
#   docker run -p 3000:3000 -v kick-relay-data:/var/lib/kick-relay kick-relay
#
# The webhook listener is on port 3000 of every address; the admin listener (/metrics,
# /readyz, the admin page) on 127.0.0.1:9091 inside the container, which the HEALTHCHECK asks.
# Mount your own configuration over /etc/kick-relay/kick-relay.toml to add outputs.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# `kick-relay --version` names the commit: pass it, as .git is not copied into the image.
ARG KICK_RELAY_GIT_COMMIT="unknown commit"
ENV KICK_RELAY_GIT_COMMIT=${KICK_RELAY_GIT_COMMIT}
COPY . .
RUN cargo build --release --locked -p relay-bin \
    && install -m 0755 target/release/kick-relay /usr/local/bin/kick-relay

FROM debian:bookworm-slim
# ca-certificates: outputs and Kick's API are reached over HTTPS. Unpinned on purpose: a
# security update of the certificate store should reach the next build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 kick-relay \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/kick-relay --create-home \
       --shell /usr/sbin/nologin kick-relay
COPY --from=build /usr/local/bin/kick-relay /usr/local/bin/kick-relay
COPY deploy/container/kick-relay.toml /etc/kick-relay/kick-relay.toml
# The user made above, by number (an image's user name may not resolve on the host).
USER 10001:10001
WORKDIR /var/lib/kick-relay
VOLUME ["/var/lib/kick-relay"]
ENV KICK_RELAY_CONFIG=/etc/kick-relay/kick-relay.toml \
    RUST_LOG=info
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["kick-relay", "healthcheck"]
ENTRYPOINT ["kick-relay", "--log-format", "json"]
CMD ["serve"]
