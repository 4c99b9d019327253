# pgbouncer.Dockerfile — Debian 12's PgBouncer (1.18, the version the integration suite runs
# through), for docker-compose.ha.yml. Its configuration is mounted at /etc/pgbouncer.
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgbouncer \
 && rm -rf /var/lib/apt/lists/*
USER postgres
EXPOSE 6432
ENTRYPOINT ["/usr/sbin/pgbouncer"]
CMD ["/etc/pgbouncer/pgbouncer.ini"]
