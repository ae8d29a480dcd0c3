# syntax=docker/dockerfile:1
# The ecs-operator image: a static-enough Rust binary on distroless, running as non-root.
#
#   docker build -t ghcr.io/ecs-operator/ecs-operator:0.1.0 .
#
# The tag is what the Helm chart (charts/ecs-operator) deploys by default: its appVersion, which is
# the version in Cargo.toml. Build on the platform you run on (docker buildx build --platform ...
# for another one); the builder compiles natively, no cross toolchain.
# CI does not build this image (no container engine there); see the README.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
# aws-lc-rs (TLS for kube and the AWS SDK) builds its C library; cmake as CI installs it. Debian
# bookworm's own cmake is fine, whatever its point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0 \
    CARGO_PROFILE_RELEASE_STRIP=symbols

# Dependencies first, in their own layer: rebuilt only when Cargo.toml or Cargo.lock change, not
# on every source change. Stub sources stand in for the real ones while they compile.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked --bin ecs-operator \
    && rm -rf src

# The operator itself. touch: the stubs' build outputs must not look newer than the real sources.
COPY src ./src
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin ecs-operator \
    && ./target/release/ecs-operator version

# glibc, libgcc and CA certificates, no shell, no package manager; user nonroot (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="ecs-operator" \
      org.opencontainers.image.description="Kubernetes operator that runs AWS ECS clusters, task definitions and services from custom resources" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /build/target/release/ecs-operator /ecs-operator
# Numeric, so that the kubelet can verify runAsNonRoot.
USER 65532:65532
# Admin server: /livez, /readyz, /metrics.
EXPOSE 8080
ENTRYPOINT ["/ecs-operator"]
CMD ["run"]
