#!/usr/bin/env bash
# stmt_ab.sh — the writer's feedback statement alone, several ways of writing the same batches
# in interleaved runs (A B C, C B A, …): PostgreSQL's CPU per row without HTTP, queue or
# feedbackd (bench/ingest/stmt_bench.c; its header lists the ways). CPU is user+sys of every
# process of a private cluster, exited backends included (the postmaster's cutime: each run's
# clients connect anew), divided by the rows written; the cluster has no feedbackd running,
# hence no stats catch-up and no edit-ratio worker.
#
#   bench/ingest/stmt_ab.sh insert copycheck            # ROUNDS=6 SECS=5 ROWS=25 CLIENTS=2
#   ROWS=100 bench/ingest/stmt_ab.sh insert copy stage copyhook
#
# The INSERT statement is the one the build ($BUILD, default build-release) carries.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS="${ROUNDS:-6}" SECS="${SECS:-5}" ROWS="${ROWS:-25}" CLIENTS="${CLIENTS:-2}"
[ $# -ge 1 ] || { echo "usage: $0 MODE..." >&2; exit 2; }
. "$REPO/bench/lib/pg.sh"
bench_build
bench_pg_start fdstmt
bench_fd_setup
# builds before migration 0022: the COPY ways need the registry's received_at default
"${PSQL[@]}" -d bench -c "ALTER TABLE feedback_ids ALTER COLUMN received_at SET DEFAULT now()" >/dev/null
cc -O2 -I"$(pg_config --includedir)" "$REPO/bench/ingest/stmt_bench.c" -o "$WORK/stmt_bench" -lpq
strings -n 100 "$FD" >"$WORK/strings.txt" # (not piped into grep -m1: pipefail and SIGPIPE)
grep -m1 '^WITH u AS MATERIALIZED (SELECT \* FROM unnest' "$WORK/strings.txt" >"$WORK/insert.sql"
# copyhook's deliveries: the INSERT statement's webhook INSERT over the rows read back by txid
python3 - "$WORK/insert.sql" "$WORK/hook.sql" <<'PY'
import sys
s = open(sys.argv[1]).read()
head = s[s.index("hook AS (") + len("hook AS ("):s.index(" FROM (SELECT u.p AS project_id")]
rows = ("(SELECT f.project_id, f.id, f.kind, f.message_id, f.conversation_id, f.value, f.scale, f.tags,"
        " f.other_message_id, f.outcome, f.created_at, f.received_at, f.reaction, f.signal, f.signal_value,"
        " f.span_start, f.span_end, f.span_label, f.quote, f.step_index, f.seq FROM feedback f"
        " WHERE f.project_id = ANY ($1::bigint[]) AND f.received_at = now() AND f.txid = pg_current_xact_id()"
        " AND EXISTS (SELECT FROM webhook_endpoints w WHERE w.project_id = ANY ($1::bigint[])"
        " AND 'feedback.stored' = ANY (w.events)))")
open(sys.argv[2], "w").write(head + " FROM " + rows + " r JOIN webhook_endpoints e ON e.project_id = r.project_id"
                             " AND 'feedback.stored' = ANY (e.events) ORDER BY r.seq, e.id\n")
PY
CONN="host=$WORK port=$PGPORT dbname=bench user=postgres"
ticks() {
  local pm t p; pm=$(head -1 "$WORK/data/postmaster.pid")
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for p in $(pgrep -P "$pm"); do t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
echo "stmt_ab: $ROUNDS rounds of $SECS s, $ROWS rows per batch, $CLIENTS clients; load average $(cut -d' ' -f1-3 /proc/loadavg)"
modes=("$@")
: >"$WORK/figures"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order=("${modes[@]}"); else order=(); for ((i = ${#modes[@]} - 1; i >= 0; i--)); do order+=("${modes[$i]}"); done; fi
  for m in "${order[@]}"; do
    t0=$(ticks)
    rows=$(cd "$WORK" && ./stmt_bench "$m" "$CONN" "$SECS" "$ROWS" insert.sql "$CLIENTS" hook.sql | awk '{s += $1} END {print s}')
    sleep 0.3 # the backends' exit, reaped into the postmaster's cutime
    t1=$(ticks)
    us=$(awk -v a="$t0" -v b="$t1" -v n="$rows" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) * 1e6 / hz / n}')
    echo "round $r $m: $us us per row ($rows rows, load $(cut -d' ' -f1 /proc/loadavg))"
    echo "$m $us" >>"$WORK/figures"
  done
done
python3 - "$WORK/figures" "${modes[@]}" <<'PY'
import statistics, sys
f = {}
for line in open(sys.argv[1]):
    m, us = line.split()
    f.setdefault(m, []).append(float(us))
for m in sys.argv[2:]:
    print(f"RESULT {m}: median {statistics.median(f[m]):.1f} us per row over {len(f[m])} runs"
          f" ({min(f[m]):.1f}-{max(f[m]):.1f})")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
