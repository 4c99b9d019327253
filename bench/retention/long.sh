#!/usr/bin/env bash
# bench/retention/long.sh — retention's walk over conversations that go on for months
# (the functions of migrations 0016, 0017 and 0019 in turn), on a seeded database.
#
# CONVS conversations of TURNS turns each (user/assistant alternating, a chain), their turns
# received evenly over 120 days up to today: every conversation is active, so retention
# (retention_days = 30) deletes nothing and only walks the ~3/4 of the turns that are older
# than the window. Prints, for the functions of 0016 (restored from the migration file), of
# 0017 and of 0019: the time pg_stat_user_functions gives the retention functions and the
# stats catch-up, the steps of the walk (BATCH turns each), their total time and the shared buffers they
# touched (pg_stat_database blks_hit + blks_read of the run). VARIANT=file.sql: a fourth run
# with the functions of that file.
# Usage: bench/retention/long.sh    (CONVS=500 TURNS=200: 100,000 turns)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
CONVS=${CONVS:-500}
TURNS=${TURNS:-200}
BATCH=${BATCH:-5000}
# shellcheck source=bench/lib/pg.sh
. "$REPO/bench/lib/pg.sh"

bench_build
bench_pg_start fdbench-retention-long "fsync = off" "track_functions = all"
bench_fd_setup
Q=("${PSQL[@]}" -d bench -v ON_ERROR_STOP=1)
P=$("${Q[@]}" -c "SELECT id FROM projects WHERE slug = 'bench'")
"${Q[@]}" <<SQL >/dev/null
INSERT INTO messages (project_id, id, conversation_id, parent_id, role, content, model, content_sha256, created_at,
                      received_at)
SELECT $P, 'c' || c || '-' || k, 'conv-' || c, CASE WHEN k > 0 THEN 'c' || c || '-' || (k - 1) END,
       CASE WHEN k % 2 = 0 THEN 'user' ELSE 'assistant' END, 'turn ' || k || ' of ' || c,
       CASE WHEN k % 2 = 1 THEN 'm' END, sha256(convert_to(c || '-' || k, 'UTF8')),
       now() - make_interval(secs => (120 * 86400.0) * ($TURNS - 1 - k) / $TURNS + c),
       now() - make_interval(secs => (120 * 86400.0) * ($TURNS - 1 - k) / $TURNS + c)
FROM generate_series(1, $CONVS) c, generate_series(0, $TURNS - 1) k
ORDER BY k, c;  -- in order of receipt, as they arrive: a conversation's turns spread over the heap
INSERT INTO conversations (project_id, id, created_at) SELECT $P, 'conv-' || c, now() - interval '120 days'
FROM generate_series(1, $CONVS) c;
UPDATE projects SET settings = settings || '{"retention_days": 30}' WHERE id = $P;
SELECT fd_stats_catch_up($P);
VACUUM ANALYZE;
SQL
old=$(mktemp)
# 0016's two functions, as that migration created them
python3 - "$REPO/migrations/0016_retention_messages.sql" >"$old" <<'PY'
import sys
s = open(sys.argv[1]).read()
a = s.index("CREATE FUNCTION fd_retention_conversation")
b = s.index("-- fd_maintenance of 0012")
print(s[a:b].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
PY
echo "seed: $CONVS conversations x $TURNS turns, $("${Q[@]}" -c "SELECT count(*) FROM messages WHERE received_at < now() - interval '30 days'") older than the window; load $(cut -d' ' -f1-3 /proc/loadavg)"
run() {
  "${Q[@]}" -c "DELETE FROM retention_cursors; DELETE FROM retention_kept" >/dev/null
  local b0 b1 t0 t1 steps=0 done
  b0=$("${Q[@]}" -c "SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = 'bench'")
  t0=$(date +%s.%N)
  while :; do
    steps=$((steps + 1))
    done=$("${Q[@]}" -c "SELECT fd_retention_messages($BATCH, clock_timestamp())")
    [ "$done" -ge "$BATCH" ] || break
  done
  t1=$(date +%s.%N)
  sleep 1  # pg_stat_database is updated when a backend reports
  b1=$("${Q[@]}" -c "SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = 'bench'")
  "${Q[@]}" -c "SELECT funcname, calls, round(total_time), round(self_time) FROM pg_stat_user_functions
                WHERE funcname LIKE 'fd_retention%' OR funcname = 'fd_stats_catch_up' ORDER BY 1" | sed 's/^/  /'
  "${Q[@]}" -c "SELECT pg_stat_reset()" >/dev/null
  echo "$1: $steps steps, $(python3 -c "print(round($t1 - $t0, 2))") s, $((b1 - b0)) buffers, turns left $("${Q[@]}" -c "SELECT count(*) FROM messages"), noted $("${Q[@]}" -c "SELECT count(*) FROM retention_kept")"
}
"${Q[@]}" -f "$old" >/dev/null
run "0016"
"${Q[@]}" -f "$REPO/migrations/0017_retention_active_conversations.sql" >/dev/null
run "0017"
"${Q[@]}" -f "$REPO/migrations/0019_retention_walk_probe.sql" >/dev/null
run "0019"
if [ -n "${VARIANT:-}" ]; then
  "${Q[@]}" -f "$VARIANT" >/dev/null
  run "variant $VARIANT"
fi
rm -f "$old"
bench_cleanup
