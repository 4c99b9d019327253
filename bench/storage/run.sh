#!/usr/bin/env bash
# bench/storage/run.sh — bytes on disk per feedback event and per logged message, for the
# capacity model (docs/capacity.md).
#
# Seeds a private PostgreSQL 15 with bench/export/seed.sql (CONVS conversations of 7 turns with
# ~300-byte answers and 10 feedback events each, the mix of bench/export), written through the
# normal INSERT path, then runs the stats catch-up (what the background thread does), VACUUM
# ANALYZE, and prints for every table: rows, heap (incl. TOAST and the free-space and
# visibility maps), indexes, total (pg_total_relation_size, summed over the partitions of a
# partitioned table), and bytes per row; then the figures per event and per message, and the
# WAL written by the seed per event (what a standby receives and a WAL archive keeps).
#
# Usage: bench/storage/run.sh           (CONVS=10000: 70,000 messages, ~101,000 events; ~30 s)
#   IDS=uuid bench/storage/run.sh       event and message ids as 36-character UUIDs (what the
#                                       clients generate) instead of the seed's ~8 characters
#   CONVS=100000 BUILD=build-release bench/storage/run.sh
# Any build of feedbackd will do (it only migrates): default build/.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
CONVS=${CONVS:-10000}
IDS=${IDS:-short}
# shellcheck source=bench/lib/pg.sh
. "$REPO/bench/lib/pg.sh"

bench_build
bench_pg_start fdbench-storage "fsync = off"
bench_fd_setup
Q=("${PSQL[@]}" -d bench -v ON_ERROR_STOP=1)
PROJECT=$("${Q[@]}" -c "SELECT id FROM projects WHERE slug = 'bench'")

wal0=$("${Q[@]}" -c "SELECT pg_current_wal_insert_lsn()")
seed=$(cat "$REPO/bench/export/seed.sql")
if [ "$IDS" = uuid ]; then
  # every event and message id of the seed ('e' || c || '-' || j, 'c' || c || '-2', ...) through
  # a UUID-shaped function of itself: the same rows, ids of a client's length
  "${Q[@]}" -c "CREATE FUNCTION fd_bench_uuid(text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT md5(\$1)::uuid::text'"
  seed=$(sed -E "s/('[ce]' \|\| c \|\| '-' \|\| [a-z]+)/fd_bench_uuid(\1)/g; s/('[ce]' \|\| c \|\| '-[0-9r]')/fd_bench_uuid(\1)/g" <<<"$seed")
fi
"${Q[@]}" -v project="$PROJECT" -v convs="$CONVS" -f - <<<"$seed" >/dev/null
# the seed writes feedback directly; the writer also registers every id in feedback_ids (the
# idempotency registry of partitioned feedback, migration 0011): do what it does
"${Q[@]}" -c "DO \$\$ BEGIN IF to_regclass('feedback_ids') IS NOT NULL THEN
                INSERT INTO feedback_ids (project_id, id, received_at)
                SELECT project_id, id, received_at FROM feedback ON CONFLICT DO NOTHING; END IF; END \$\$"
"${Q[@]}" -c "SELECT fd_stats_catch_up($PROJECT)" >/dev/null
wal=$("${Q[@]}" -c "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$wal0')")
"${Q[@]}" -c "VACUUM ANALYZE" >/dev/null

echo "seed: bench/export/seed.sql, CONVS=$CONVS, IDS=$IDS; PostgreSQL $("${Q[@]}" -c "SHOW server_version")"
printf '%-22s %10s %12s %12s %12s %10s\n' table rows heap indexes total bytes/row
tables=$("${Q[@]}" -c "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                       ORDER BY 1")
declare -A ROWS TOTAL
for t in $tables; do
  rows=$("${Q[@]}" -c "SELECT count(*) FROM \"$t\"")
  read -r heap idx total < <("${Q[@]}" -F ' ' -c "SELECT coalesce(sum(pg_table_size(relid)), 0),
      coalesce(sum(pg_indexes_size(relid)), 0), coalesce(sum(pg_total_relation_size(relid)), 0)
      FROM (SELECT relid FROM pg_partition_tree('\"$t\"') WHERE isleaf AND relid <> '\"$t\"'::regclass
            UNION ALL SELECT '\"$t\"'::regclass WHERE NOT EXISTS (SELECT FROM pg_partition_tree('\"$t\"') p
                                                            WHERE p.relid <> '\"$t\"'::regclass)) r")
  ROWS[$t]=$rows TOTAL[$t]=$total
  [ "$rows" -gt 0 ] || continue
  printf '%-22s %10d %12d %12d %12d %10d\n' "$t" "$rows" "$heap" "$idx" "$total" $((total / rows))
done

events=${ROWS[feedback]} messages=${ROWS[messages]}
event_tables=0
for t in feedback feedback_ids stats_events stats_slots stats_hourly stats_hourly_tags stats_daily stats_daily_tags; do
  event_tables=$((event_tables + ${TOTAL[$t]:-0}))
done
message_tables=$((TOTAL[messages] + TOTAL[conversations] + ${TOTAL[stats_messages]:-0}))
echo
echo "per feedback event: $((TOTAL[feedback] / events)) bytes in feedback alone," \
  "$((event_tables / events)) with the stats tables and the id registry ($events events)"
echo "per message: $((message_tables / messages)) bytes with its share of conversations and stats_messages ($messages messages)"
echo "WAL written by the seed and the catch-up: $wal bytes, $((wal / (events + messages))) per row written"
