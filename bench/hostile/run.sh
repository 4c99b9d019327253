#!/usr/bin/env bash
# run.sh — hostile-input benchmark: how much a victim project loses while an attacker holding
# another project's public ingest key (and its export key) sends the worst inputs at full
# speed. Loopback only, bounded in time, stops everything it started.
#
#   bench/hostile/run.sh                    # 15 s quiet, 15 s under attack, 64 victim connections
#   DURATION=30 CONNECTIONS=64 bench/hostile/run.sh
#   SERVE_ARGS="--threads 2" bench/hostile/run.sh
#
# The victim (project "victim") posts single events with wrk, first alone, then while
# bench/hostile/attack.py (project "bench", the attacker) runs: max edits against a stored
# 256 KiB original, inline-context floods, slow headers, 1 MiB bodies to GET /healthz, 20
# unread exports of CONVS seeded conversations. Printed: the victim's events/s and p99 in both
# phases, feedbackd's peak RSS, and the database connections in use at the worst moment.
# Targets (the hostile-input issue): victim p99 <= 50 ms and >= 80 % of its quiet events/s;
# RSS <= 256 MiB; connections <= pool size + 2 x export limit (two per full export).
# Also printed, for attributing the victim's loss on a shared machine (CPU seconds and the
# server's own histograms do not depend on the load the way throughput does): the CPU of the
# attack phase by feedbackd thread kind, of PostgreSQL, of the victim's wrk and of attack.py,
# and the ingest wait/commit histograms of that phase (observe.py), and the rows each project
# got written in it.
#   ATTACKS=edits,context bench/hostile/run.sh   # only some attacks (attack.py)
#   PERF=DIR bench/hostile/run.sh           # also perf record -g feedbackd during the attack
#                                            # phase into DIR/perf.data, report in DIR/report.txt
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO/bench/hostile"
DURATION="${DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-64}"
CONVS="${CONVS:-20000}"
WRK_THREADS="${WRK_THREADS:-2}"
SERVE_ARGS="${SERVE_ARGS:-}"
PERF="${PERF:-}"
PY=/usr/bin/python3

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }

. "$REPO/bench/lib/pg.sh"
bench_build
bench_pg_start fdhostile
bench_fd_setup
"$FD" projects create victim --name Victim >/dev/null
VICTIM_KEY=$("$FD" keys create --project victim --scopes ingest --label victim 2>/dev/null)
ATTACK_KEY=$("$FD" keys create --project bench --scopes ingest --label attacker 2>/dev/null)
EXPORT_KEY=$("$FD" keys create --project bench --scopes export --label attacker-export 2>/dev/null)
PROJECT=$("${PSQL[@]}" -d bench -c "SELECT id FROM projects WHERE slug = 'bench'")
echo "seeding $CONVS conversations of the attacker's project (what its exports read) ..."
PGOPTIONS="-c session_replication_role=replica" "${PSQL[@]}" -d bench -v project="$PROJECT" -v convs="$CONVS" \
  -f "$REPO/bench/export/seed.sql" >/dev/null
bench_settle  # the stats catch-up of the seeded events, so it does not run under the quiet phase
# shellcheck disable=SC2086
bench_fd_serve $SERVE_ARGS
POOL=$("$FD" config 2>/dev/null | sed -n 's/^pool_size *= *//p' | head -1)
EXPORT_LIMIT=$("$FD" config 2>/dev/null | sed -n 's/^max_concurrent_exports *= *//p' | head -1)
WRITERS=$("$FD" config 2>/dev/null | sed -n 's/^writers *= *//p' | head -1)
echo "feedbackd: $("$FD" --version) serve $SERVE_ARGS (pid $FD_PID) on 127.0.0.1:$PORT; $(nproc) cores;" \
  "pool_size=${POOL:-?} writers=${WRITERS:-?} max_concurrent_exports=${EXPORT_LIMIT:-none}"

field() { sed -n "s/.*[ ]$2=\([0-9]*\).*/\1/p" "$1" | head -1; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$FD_PID/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$FD_PID/status"; }
db_conns() { "${PSQL[@]}" -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bench' AND pid <> pg_backend_pid()"; }

PGMASTER=$(head -1 "$WORK/data/postmaster.pid")
rows_by_project() {  # slug feedback-rows message-rows, one project a line
  "${PSQL[@]}" -d bench -F ' ' -c "SELECT p.slug, (SELECT count(*) FROM feedback f WHERE f.project_id = p.id),
    (SELECT count(*) FROM messages m WHERE m.project_id = p.id) FROM projects p ORDER BY p.slug"
}
snap() {
  rows_by_project >"$WORK/rows-$1.txt"
  "${PSQL[@]}" -d postgres -c "SELECT pid, application_name, backend_type FROM pg_stat_activity" >"$WORK/pids-$1.txt"
  "$PY" "$HERE/observe.py" snap "$FD_PID" "$PGMASTER" "http://127.0.0.1:$PORT" "$WORK/pids-$1.txt" >"$WORK/snap-$1.json"
}

victim() {  # phase-name -> $WORK/victim-<phase>.txt, wrk's own CPU in $WORK/wrk-cpu-<phase>.txt
  # shellcheck disable=SC2016
  BENCH_BATCH=1 BENCH_KEY="$VICTIM_KEY" BENCH_RUN="$1$(date +%s)$RANDOM" "$PY" -c '
import os, subprocess, sys, time
t = time.monotonic(); rc = subprocess.call(sys.argv[2:]); c = os.times(); w = time.monotonic() - t
with open(sys.argv[1], "w") as f:
    f.write(f"victim client (wrk) CPU {c.children_user + c.children_system:6.2f} ({(c.children_user + c.children_system) / w:.2f} cores)\n")
sys.exit(rc)' "$WORK/wrk-cpu-$1.txt" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" \
    -d"${DURATION}s" --timeout 10s -s "$REPO/bench/ingest/post.lua" "http://127.0.0.1:$PORT/v1/feedback" \
    >"$WORK/victim-$1.txt" 2>"$WORK/victim-$1.err" || { cat "$WORK/victim-$1.err"; exit 1; }
  grep '^BENCH' "$WORK/victim-$1.txt" | sed "s/^/  $1: /"
}

echo "quiet: the victim alone, $DURATION s, $CONNECTIONS connections"
rss_quiet=$(rss_kb)
snap quiet-start
victim quiet
snap quiet-end

echo "attack: the same victim while attack.py runs (project bench's keys)"
"$PY" "$HERE/attack.py" "http://127.0.0.1:$PORT" "$ATTACK_KEY" "$EXPORT_KEY" $((DURATION + 10)) >"$WORK/attack.txt" 2>&1 &
ATTACK_PID=$!
sleep 5  # let every attack reach full strength (connections held, exports open, edits queued)
max_conns=0 max_rss=0
( while kill -0 "$ATTACK_PID" 2>/dev/null; do
    echo "$(db_conns) $(rss_kb)"; sleep 0.5
  done ) >"$WORK/samples.txt" 2>/dev/null &
SAMPLER=$!
PERF_PID=""
if [ -n "$PERF" ]; then
  mkdir -p "$PERF"
  perf record -e cpu-clock -F 499 -g -p "$FD_PID" -o "$PERF/perf.data" -- sleep "$DURATION" 2>"$PERF/record.log" &
  PERF_PID=$!
fi
snap attack-start
victim attack
snap attack-end
[ -n "$PERF_PID" ] && { wait "$PERF_PID" || true; }
wait "$ATTACK_PID" || true
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
sed 's/^/  /' "$WORK/attack.txt"
"$PY" "$HERE/observe.py" diff "$WORK/snap-quiet-start.json" "$WORK/snap-quiet-end.json" "the quiet phase" \
  "$(cat "$WORK/wrk-cpu-quiet.txt")"
"$PY" "$HERE/observe.py" diff "$WORK/snap-attack-start.json" "$WORK/snap-attack-end.json" "the attack phase" \
  "$(cat "$WORK/wrk-cpu-attack.txt")" "attack.py: see 'ATTACK client CPU' above (its whole run)"
echo "rows written per project in the attack phase (feedback, messages; the writers' share):"
join "$WORK/rows-attack-start.txt" "$WORK/rows-attack-end.txt" \
  | awk '{printf "  %-8s feedback +%d, messages +%d\n", $1, $4 - $2, $5 - $3}'
if [ -n "$PERF" ]; then
  perf report -i "$PERF/perf.data" --no-children -g none --sort comm,sym --percent-limit 0.5 --stdio 2>/dev/null \
    | grep -v '^$' >"$PERF/report.txt" || true
  perf report -i "$PERF/perf.data" --no-children --sort comm --stdio 2>/dev/null | grep '%' | head -20 | sed 's/^/  perf: /'
  echo "perf report by thread and symbol: $PERF/report.txt"
fi
read -r max_conns max_rss < <(awk '{ if ($1 > c) c = $1; if ($2 > r) r = $2 } END {print c + 0, r + 0}' "$WORK/samples.txt")
hwm=$(hwm_kb)
kill -TERM "$FD_PID"; wait "$FD_PID"; code=$?; FD_PID=""

"$PY" - "$DURATION" "$(field "$WORK/victim-quiet.txt" created)" "$(field "$WORK/victim-quiet.txt" duration_us)" \
  "$(field "$WORK/victim-quiet.txt" p99_us)" "$(field "$WORK/victim-quiet.txt" other)" \
  "$(field "$WORK/victim-attack.txt" created)" "$(field "$WORK/victim-attack.txt" duration_us)" \
  "$(field "$WORK/victim-attack.txt" p99_us)" "$(field "$WORK/victim-attack.txt" other)" \
  "$rss_quiet" "$max_rss" "$hwm" "$max_conns" "${POOL:-0}" "${EXPORT_LIMIT:-0}" "${WRITERS:-0}" "$code" <<'PY'
import sys
(dur, q_ok, q_us, q_p99, q_other, a_ok, a_us, a_p99, a_other, rss_q, rss_a, hwm, conns, pool, xlim, writers,
 code) = map(int, sys.argv[1:])
q = q_ok / (q_us / 1e6)
a = a_ok / (a_us / 1e6)
print(f"RESULT victim quiet : {q:,.0f} events/s, p99 {q_p99 / 1000:.1f} ms, non-2xx {q_other}")
print(f"RESULT victim attack: {a:,.0f} events/s, p99 {a_p99 / 1000:.1f} ms, non-2xx {a_other}")
print(f"RESULT ratio attack/quiet: {a / q:.2f}")
print(f"RESULT feedbackd RSS: {rss_q / 1024:.0f} MiB quiet, {rss_a / 1024:.0f} MiB max sampled under attack, "
      f"{hwm / 1024:.0f} MiB peak (VmHWM)")
# besides the pool and the exports (two connections each for a full export of one pass:
# server/db/export_db.h "PARALLEL"), each writer thread and the stats catch-up hold a connection
budget = pool + 2 * xlim + writers + 1
print(f"RESULT database connections in use (max sampled): {conns}; budget: pool {pool} + 2 x export limit {xlim}"
      f" + writers {writers} + stats catch-up 1 = {budget}")
checks = [("victim p99 <= 50 ms", a_ok > 0 and a_p99 <= 50_000), ("victim >= 80 % of quiet events/s", a >= 0.8 * q),
          ("peak RSS <= 256 MiB", hwm <= 256 * 1024), ("connections <= pool + 2 x export limit (+ writers, catch-up)", conns <= budget),
          ("serve exited 0 on SIGTERM", code == 0)]
for name, ok in checks:
    print(f"TARGET {'met    ' if ok else 'MISSED '} {name}")
PY
