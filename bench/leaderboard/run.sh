#!/usr/bin/env bash
# bench/leaderboard/run.sh — GET /v1/leaderboard over 50 models and 1,000,000 battles.
#
# 1. The statistics alone: fit_bench.c (50 models, 1,000,000 battles aggregated into the win
#    matrix, the Bradley–Terry fit and 200 bootstrap resamples), compiled here with -O2.
# 2. End to end: a private PostgreSQL 15 (initdb into a temp dir, unix socket only), migrated
#    by feedbackd itself, seeded by seed.sql (SQL generate_series through the normal INSERT
#    path plus the stats catch-up), `feedbackd serve` on 127.0.0.1, then GET /v1/leaderboard
#    (bootstrap=200, the default; bootstrap=0; and a window since 10.5 days ago, whose partial
#    first day is read from the counting events) timed with curl: the win matrix from the daily
#    battle counters (migrations/0013_battle_counters.sql), the fit, the resamples and the
#    answer. Also the win-matrix query alone inside PostgreSQL.
# Target (issue 14): the answer in <= 2 s. Everything it started is stopped on exit.
#
# Usage: bench/leaderboard/run.sh   (builds build-release, or $BUILD, with bench/lib/pg.sh)
#   BATTLES=1000000 RUNS=10 KEEP=1 bench/leaderboard/run.sh
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BATTLES=${BATTLES:-1000000}
RUNS=${RUNS:-10}
. "$REPO/bench/lib/pg.sh"

echo "== the statistics alone (bench/leaderboard/fit_bench.c, -O2)"
FIT_BENCH=$(mktemp /tmp/fit_bench.XXXXXX)
cc -O2 -I"$REPO/server" "$REPO/bench/leaderboard/fit_bench.c" "$REPO"/server/rank/[a-z]*.c -lm -o "$FIT_BENCH"
"$FIT_BENCH"
rm -f "$FIT_BENCH"

bench_build
# a read benchmark: the seed may skip durability
bench_pg_start fdlbbench 'fsync = off' 'synchronous_commit = off' 'shared_buffers = 512MB' 'max_wal_size = 4GB'
bench_fd_setup
KEY=$("$FD" keys create --project bench --scopes read --label bench 2>/dev/null)
PROJECT=$("${PSQL[@]}" -d bench -c "SELECT id FROM projects WHERE slug = 'bench'")

echo "== seeding $BATTLES battles"
t0=$(date +%s.%N)
"${PSQL[@]}" -d bench -v project="$PROJECT" -v battles="$BATTLES" -f "$REPO/bench/leaderboard/seed.sql" >/dev/null
"${PSQL[@]}" -d bench -c "VACUUM ANALYZE"
t1=$(date +%s.%N)
printf 'seeded in %.1f s\n' "$(echo "$t1 - $t0" | bc)"
"${PSQL[@]}" -d bench -F ' ' -c "SELECT 'counting comparisons:', count(*) FROM stats_events WHERE kind = 'comparison'" \
  -c "SELECT 'battle counter rows (day x pair):', count(*) FROM stats_battles_daily"

echo "== feedbackd serve on 127.0.0.1:$PORT"
bench_fd_serve

# CPU time (user + system) of feedbackd and of every PostgreSQL process of the private
# cluster: unlike wall time it hardly depends on what else the machine is running.
cpu_ms() {
  python3 - "$FD_PID" "$(head -1 "$WORK/data/postmaster.pid")" <<'PY'
import os, sys
fd, pm = sys.argv[1], sys.argv[2]
total = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if pid in (fd, pm) or f[1] == pm:  # f[1] = ppid
        total += int(f[11]) + int(f[12])
print(total * 1000 // os.sysconf("SC_CLK_TCK"))
PY
}

URL="http://127.0.0.1:$PORT/v1/leaderboard"
echo "== sanity: the answer"
curl -sf -H "Authorization: Bearer $KEY" "$URL" | python3 -c '
import json, sys
d = json.load(sys.stdin)
m = d["models"]
print("battles:", d["battles"], " models:", len(m), " first:", json.dumps(m[0]), " last:", m[-1]["model"], round(m[-1]["rating"], 1))'

timings() {  # name url
  local c0 c1
  c0=$(cpu_ms)
  for _ in $(seq "$RUNS"); do curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $KEY" "$2"; done |
    sort -n | awk -v n="$1" '{a[NR]=$1*1000; s+=$1*1000} END {printf "%-16s wall: mean %7.1f ms  median %7.1f ms  max %7.1f ms  min %7.1f ms  (curl, n=%d)\n", n, s/NR, a[int(NR/2)+1], a[NR], a[1], NR}'
  c1=$(cpu_ms)
  awk -v a="$c0" -v b="$c1" -v n="$RUNS" -v name="$1" \
    'BEGIN {printf "%-16s CPU (feedbackd + PostgreSQL): %.0f ms per request\n", name, (b - a) / n}'
}
echo "== end to end ($RUNS requests each)"
timings "bootstrap=200" "$URL"
timings "bootstrap=0" "$URL?bootstrap=0"
SINCE=$("${PSQL[@]}" -d bench -c "SELECT to_char((now() - interval '252 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
timings "since=-10.5d" "$URL?since=$SINCE"

echo "== the win-matrix query alone, inside PostgreSQL (EXPLAIN ANALYZE)"
Q=$(sed -n '/^static struct fd_stmt stmt_battles/,/^    0};/p' "$REPO/server/db/leaderboard_db.c" |
  sed -n 's/^ *"\(.*\)",\{0,1\}$/\1/p' | sed '1d' | tr -d '\n' | sed 's/\\"/"/g')
"${PSQL[@]}" -d bench -c "SET jit = off" -c "PREPARE q(bigint, timestamptz, timestamptz) AS $Q" \
  -c "EXPLAIN (ANALYZE, TIMING OFF) EXECUTE q($PROJECT, NULL, NULL)" \
  -c "EXPLAIN (ANALYZE, TIMING OFF) EXECUTE q($PROJECT, '$SINCE', NULL)" | grep -E 'Execution Time|Planning Time|JIT'
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
