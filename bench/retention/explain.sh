#!/usr/bin/env bash
# bench/retention/explain.sh — the plans and costs of retention's conversation step
# (migrations/0016_retention_messages.sql) on a seeded database.
#
# Seeds a private PostgreSQL 15 with bench/export/seed.sql (CONVS conversations of 7 turns and
# 10 feedback events each), spreads the conversations' receipt over 120 days (each its own
# day, its feedback received with it), keeps every 10th conversation alive by a rating
# received today, sets retention_days = 30 and prints:
#   - EXPLAIN (ANALYZE, BUFFERS) of each statement one conversation is judged with
#     (the cursor's walk, the newest turn, the counting feedback, the delete);
#   - one step fd_retention_messages(BATCH) timed, with the buffers it touched;
#   - the whole backlog worked off in steps: steps, turns deleted, ms per step.
# Usage: bench/retention/explain.sh          (CONVS=20000: 140,000 turns, ~200,000 events)
#   CONVS=100000 BATCH=5000 bench/retention/explain.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
CONVS=${CONVS:-20000}
BATCH=${BATCH:-5000}
# shellcheck source=bench/lib/pg.sh
. "$REPO/bench/lib/pg.sh"

bench_build
bench_pg_start fdbench-retention "fsync = off"
bench_fd_setup
Q=("${PSQL[@]}" -d bench -v ON_ERROR_STOP=1)
P=$("${Q[@]}" -c "SELECT id FROM projects WHERE slug = 'bench'")
"${Q[@]}" -v project="$P" -v convs="$CONVS" -f "$REPO/bench/export/seed.sql" >/dev/null
# received over 120 days, a conversation per day slot; feedback with its conversation
"${Q[@]}" <<SQL >/dev/null
UPDATE messages SET received_at = now() - make_interval(days => (abs(hashtext(conversation_id)) % 120)),
                    created_at = now() - make_interval(days => (abs(hashtext(conversation_id)) % 120));
SELECT fd_feedback_partition_ensure(now() - make_interval(days => d)) FROM generate_series(0, 125, 5) d;
UPDATE feedback f SET received_at = m.received_at, created_at = m.received_at
FROM messages m WHERE m.project_id = f.project_id AND m.id = f.message_id;
INSERT INTO feedback_ids (project_id, id, received_at) SELECT project_id, id, received_at FROM feedback
ON CONFLICT (project_id, id) DO UPDATE SET received_at = excluded.received_at;
SELECT fd_stats_catch_up($P);
-- every 10th conversation: a rating received today keeps it
INSERT INTO feedback (project_id, id, kind, message_id, conversation_id, user_ref, value, scale, created_at, content_sha256)
SELECT $P, 'keep-' || m.id, 'rating', m.id, m.conversation_id, 'keeper', 1, 2, now(), '\x00'
FROM messages m WHERE m.id LIKE 'c%-2' AND split_part(m.id, '-', 1) ~ '0\$';
INSERT INTO feedback_ids (project_id, id, received_at) SELECT project_id, id, received_at FROM feedback WHERE id LIKE 'keep-%';
SELECT fd_stats_catch_up($P);
UPDATE projects SET settings = settings || '{"retention_days": 30}' WHERE id = $P;
VACUUM ANALYZE;
SQL
echo "seed: CONVS=$CONVS ($("${Q[@]}" -c "SELECT count(*) FROM messages") turns, $("${Q[@]}" -c "SELECT count(*) FROM feedback") events), load $(cut -d' ' -f1-3 /proc/loadavg)"
# the expired feedback first, as a maintenance pass does
t0=$(date +%s.%N)
while [ "$("${Q[@]}" -c "SELECT fd_retention_delete($BATCH)")" -ge "$BATCH" ]; do :; done
echo "feedback deletes: $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
"${Q[@]}" -c "VACUUM ANALYZE" >/dev/null

C=$("${Q[@]}" -c "SELECT conversation_id FROM messages WHERE project_id = $P AND received_at < now() - interval '31 days' LIMIT 1")
E=("${PSQL[@]}" -d bench -P pager=off -c "SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off;")
echo; echo "== the cursor's walk (a stretch of $BATCH turns)"
"${E[@]}" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT m.conversation_id, m.received_at, m.seq FROM messages m
  WHERE m.project_id = $P AND m.received_at < now() - interval '30 days' AND (m.received_at, m.seq) > ('-infinity', 0)
  ORDER BY m.received_at, m.seq LIMIT $BATCH" | grep -v '^SET'
echo "== the newest turn of one conversation"
"${E[@]}" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT max(m.received_at) FROM messages m
  WHERE m.project_id = $P AND m.conversation_id = '$C'" | grep -v '^SET'
echo "== the counting feedback naming its turns"
"${E[@]}" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT max(coalesce(k.received_at, '-infinity'))
  FROM (SELECT e.id FROM messages m JOIN stats_events e ON e.project_id = $P AND e.message_id = m.id
        WHERE m.project_id = $P AND m.conversation_id = '$C'
        UNION ALL
        SELECT e.id FROM messages m JOIN stats_events e ON e.project_id = $P AND e.other_message_id = m.id
        WHERE m.project_id = $P AND m.conversation_id = '$C') x
  LEFT JOIN feedback_ids k ON k.project_id = $P AND k.id = x.id" | grep -v '^SET'
echo "== one step, BATCH=$BATCH"
"${Q[@]}" -c "SELECT pg_stat_reset()" >/dev/null
n0=$("${Q[@]}" -c "SELECT count(*) FROM messages")
t0=$(date +%s.%N)
"${Q[@]}" -c "SELECT fd_retention_messages($BATCH, clock_timestamp())" >/dev/null
t1=$(date +%s.%N)
n1=$("${Q[@]}" -c "SELECT count(*) FROM messages")
echo "deleted $((n0 - n1)) turns in $(python3 -c "print(round(($t1 - $t0) * 1000))") ms"
echo "== the rest of the backlog"
steps=1
t0=$(date +%s.%N)
while [ "$("${Q[@]}" -c "SELECT fd_retention_messages($BATCH, clock_timestamp())")" -ge "$BATCH" ]; do steps=$((steps + 1)); done
t1=$(date +%s.%N)
n2=$("${Q[@]}" -c "SELECT count(*) FROM messages")
echo "steps $steps (first included), turns left $n2 of $n0, $(python3 -c "print(round(($t1 - $t0) * 1000 / max($steps - 1, 1)))") ms per later step"
echo "conversations kept for feedback: $("${Q[@]}" -c "SELECT count(*) FROM retention_kept")"
echo "turns left received before the cutoff: $("${Q[@]}" -c "SELECT count(*) FROM messages WHERE received_at < now() - interval '30 days'")"
bench_cleanup
