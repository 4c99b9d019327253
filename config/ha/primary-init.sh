#!/bin/sh
# primary-init.sh — run once by the postgres image on the primary's first start (mounted into
# /docker-entrypoint-initdb.d by docker-compose.ha.yml): the standby's replication role, its
# physical slot (the primary keeps the WAL the standby has not received yet), a pg_hba.conf
# line for its replication connection, and synchronous replication. The last is set with
# ALTER SYSTEM so that it starts with the real server: this init server has no standby, and a
# synchronous commit here would wait for one forever. The same settings as
# tests/integration/replication.py (test_compose.py checks they agree).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<EOSQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD';
SELECT pg_create_physical_replication_slot('standby_slot');
ALTER SYSTEM SET synchronous_commit = on;
ALTER SYSTEM SET synchronous_standby_names = '*';
EOSQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
