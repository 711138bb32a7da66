# syntax=docker/dockerfile:1
#
# newsflow container image.
#
#   docker build -t ghcr.io/newsflow/newsflow:0.1.0 .
#   docker run --rm -p 9898:9898 ghcr.io/newsflow/newsflow:0.1.0 --config /etc/newsflow/default.toml
#
# Two stages: a Debian builder with the toolchain and the C build tools that
# librdkafka needs, and a distroless runtime holding only the binary and the
# default configuration.

# Keep in step with the toolchain the project is built and tested with.
ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-slim-bookworm AS builder

# rdkafka-sys builds librdkafka from source with its own ./configure script:
#   build-essential  C and C++ compilers and make (configure insists on a C++ compiler)
#   pkg-config       lets openssl-sys and the configure script find OpenSSL
#   libssl-dev       the `ssl` feature links the system OpenSSL 3 (libssl3 is in the runtime image)
#   python3          librdkafka's configure uses it to generate the linker script
# zlib and zstd are compiled from the bundled sources of libz-sys and zstd-sys
# and linked statically (see LIBZ_SYS_STATIC below), so no -dev packages for them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential \
        pkg-config \
        libssl-dev \
        python3 \
    && rm -rf /var/lib/apt/lists/*

# The distroless runtime has no libz.so.1: force libz-sys to build and link its
# bundled zlib statically instead of picking up a system copy.
ENV LIBZ_SYS_STATIC=1 \
    CARGO_TERM_COLOR=never

WORKDIR /build

# Dependency layer: build every dependency against placeholder crate roots so
# that this layer is reused until Cargo.toml or Cargo.lock change. Only the
# library and the binary are built; keep any target declared explicitly in
# Cargo.toml (a [[bin]] or [[bench]] with a path) stubbed here as well.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src \
    && echo 'fn main() {}' > src/main.rs \
    && : > src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# Source layer: the whole build context, less what .dockerignore keeps out
# (the crate embeds files from config/ and samples/ with include_str!).
# `touch` makes the real sources newer than the placeholder build, so cargo
# rebuilds the newsflow crate itself and nothing else.
COPY . .
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked

# Runtime: distroless "cc" carries glibc, libgcc, libstdc++, OpenSSL 3
# (libssl3, the same Debian 12 package the builder linked against) and the CA
# certificates, and no shell or package manager. The binary's remaining
# dependencies (librdkafka, zlib, zstd) are linked in statically.
# Pin the digest (tag@sha256:...) when promoting a release.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime

COPY --from=builder /build/target/release/newsflow /usr/local/bin/newsflow
COPY config/default.toml /etc/newsflow/default.toml

# The distroless "nonroot" user, numerically so that Kubernetes can verify
# runAsNonRoot without reading /etc/passwd.
USER 65532:65532

# /metrics, /healthz and /readyz.
EXPOSE 9898

# Arguments after `run` can be replaced as a whole (Kubernetes `args`, compose
# `command`), e.g. to point --config at a mounted file.
ENTRYPOINT ["/usr/local/bin/newsflow", "run"]
CMD ["--config", "/etc/newsflow/default.toml"]
