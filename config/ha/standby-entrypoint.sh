#!/bin/sh
# standby-entrypoint.sh — the streaming standby of docker-compose.ha.yml (runs as `postgres`).
# On first start (no cluster in $PGDATA) it clones the primary with pg_basebackup over the slot
# primary-init.sh made (-R writes standby.signal and primary_conninfo), as
# tests/integration/replication.py does, then runs PostgreSQL on the clone: a hot standby that
# confirms every commit to the primary (synchronous) and serves feedbackd's routed reads.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -q -h db-primary -p 5432; do sleep 1; done
  pg_basebackup -h db-primary -p 5432 -U replicator -D "$PGDATA" -R -X stream -S standby_slot
  # the clone copied the primary's synchronous_standby_names: promoted with it, the new primary
  # would wait forever for a standby it does not have, so every commit would hang
  echo "synchronous_standby_names = ''" >> "$PGDATA/postgresql.auto.conf"
fi
exec postgres -D "$PGDATA"
