# Dockerfile — feedbackd in two stages: build with meson on Debian 12, run on a slim
# Debian 12 with only the runtime libraries, as an unprivileged user.
#   docker build -t feedbackd .
#   docker run -e FEEDBACKD_DATABASE_URL=postgresql://... -p 8080:8080 feedbackd
# (docker-compose.yml runs it together with PostgreSQL 15.)

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential meson ninja-build pkgconf python3 \
      libmicrohttpd-dev libjansson-dev libpq-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release -Dwerror=true \
 && ninja -C /build feedbackd \
 && install -D -m 0755 /build/feedbackd /out/usr/local/bin/feedbackd \
 && install -D -m 0644 config/feedbackd.conf /out/etc/feedbackd/feedbackd.conf.example

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libmicrohttpd12 libjansson4 libpq5 libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system feedbackd \
 && useradd --system --gid feedbackd --home-dir /var/lib/feedbackd --create-home --shell /usr/sbin/nologin feedbackd
COPY --from=build /out/ /
USER feedbackd
WORKDIR /var/lib/feedbackd
# An external PostgreSQL is expected (FEEDBACKD_DATABASE_URL); this image has no server
# binaries for the embedded mode. Listen on all interfaces inside the container.
ENV FEEDBACKD_LISTEN=0.0.0.0:8080 \
    FEEDBACKD_DATA_DIR=/var/lib/feedbackd
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM (docker stop) drains in-flight requests and exits 0
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/feedbackd"]
CMD ["serve"]
