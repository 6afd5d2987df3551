# syntax=docker/dockerfile:1
# threatd container image, multi-stage on Debian 12 (bookworm).
#
#   docker build -t threatd .
#   docker run --rm -p 8000:8000 threatd           # SQLite under /var/lib/threatd
#   docker compose -f docker-compose.full.yml up   # with PostgreSQL and Kafka
#
# Stage "build" uses the project's own tooling: scripts/setup.sh installs the
# Debian packages, npm fetches the bundled web assets (Swagger UI), the CMake
# `release` preset builds the binary. The runtime stage holds only the binary,
# its assets (<prefix>/share/threatd: API docs, default models, traffic
# profile) and the shared libraries it links, and runs as an unprivileged user.

FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Packages first (cached until setup.sh changes).
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/*
COPY web/package.json web/package-lock.json web/
RUN cd web && npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN cmake --preset release -DTHREATD_BUILD_TESTS=OFF -DTHREATD_BUILD_BENCH=OFF \
 && cmake --build --preset release --target threatd -j "$(nproc)"

FROM debian:bookworm-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# The runtime halves of the -dev packages in scripts/setup.sh, plus curl for
# the health check and nftables for the nftables enforcement backend.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates curl nftables \
      libfmt9 libspdlog1.10 libyaml-cpp0.7 libssl3 zlib1g libgomp1 \
      libsqlite3-0 libpq5 libpqxx-6.4 librdkafka1 libsimdjson14 \
      libxgboost0 libonnx1 libprotobuf32 libnftables1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/threatd --shell /usr/sbin/nologin threatd \
 && install -d -o threatd -g threatd -m 0750 /var/lib/threatd

# The binary finds its assets at <dir of the binary>/../share/threatd.
COPY --from=build /src/build/release/bin/threatd /opt/threatd/bin/threatd
COPY --from=build /src/build/release/share/threatd /opt/threatd/share/threatd

ENV THREATD_DATA_DIR=/var/lib/threatd \
    THREATD_HTTP_HOST=0.0.0.0 \
    THREATD_HTTP_PORT=8000
USER threatd
WORKDIR /var/lib/threatd
VOLUME ["/var/lib/threatd"]
EXPOSE 8000
# /health answers within a second of start, whatever the state of Kafka.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/health || exit 1
ENTRYPOINT ["/opt/threatd/bin/threatd"]
CMD ["serve"]
