#!/usr/bin/env bash
# catch_up_ab.sh — CPU and WAL per event of the stats catch-up alone (fd_stats_catch_up), for
# the schema a build migrates to and for variants of it, in interleaved rounds on one private
# PostgreSQL. Each database gets the same N feedback rows per round (bench/ingest/post.lua's
# mix, in 27-row INSERTs like the writer's statements at 64 connections), then one catch-up,
# timed by its backend's user+sys CPU (/proc) and pg_current_wal_lsn() before/after.
#
#   bench/stats/catch_up_ab.sh [VARIANT.sql ...]     # db "a": the build's schema; v1, v2 ...:
#                                                    # the schema plus each file, applied by psql
#   N=10000 ROUNDS=10 BUILD=build-release bench/stats/catch_up_ab.sh
#   EXPLAIN=1 ROUNDS=2 bench/stats/catch_up_ab.sh    # last round: auto_explain of every statement
#                                                    # inside the catch-up (times, buffers, WAL)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/bench/lib/pg.sh"
bench_build
bench_pg_start fdcatchup
export FEEDBACKD_DATA_DIR="$WORK/var" FEEDBACKD_LOG_LEVEL=warn
setup_db() { # name [variant.sql]
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $1" >/dev/null
  FEEDBACKD_DATABASE_URL="host=$WORK port=$PGPORT dbname=$1 user=postgres" "$FD" migrate >/dev/null
  FEEDBACKD_DATABASE_URL="host=$WORK port=$PGPORT dbname=$1 user=postgres" "$FD" projects create p --name P >/dev/null
  [ -z "${2:-}" ] || "${PSQL[@]}" -d "$1" -v ON_ERROR_STOP=1 -f "$2" >/dev/null
}
dbs=(a)
setup_db a
i=0
for v in "$@"; do
  i=$((i + 1))
  dbs+=("v$i")
  setup_db "v$i" "$v"
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
PGHOST=$WORK PGPORT=$PGPORT /usr/bin/python3 "$REPO/bench/stats/catch_up_ab.py" "${dbs[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
