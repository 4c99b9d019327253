#!/usr/bin/env bash
# run.sh — ingest benchmark: durable events/s of POST /v1/feedback against a private,
# durable PostgreSQL (fsync on, synchronous_commit on: the defaults), with GET /healthz as
# the HTTP ceiling. Loopback only, bounded, stops everything it started.
#
#   bench/ingest/run.sh                 # build-release, 20 s at 64 connections
#   DURATION=30 CONNECTIONS=128 bench/ingest/run.sh
#   BATCH=20 bench/ingest/run.sh        # 20 events per request to /v1/feedback/batch (a chat
#                                       # backend's way); the headline figure is BATCH=1
#   SERVE_ARGS="--threads 2 --writers 2 --batch-size 500" bench/ingest/run.sh
#   SERVE_ARGS="--stats-catch-up-ms 0" bench/ingest/run.sh   # diagnostic: no background stats
#                                            # catch-up (migration 0003) during the run
#   PG_STATS=1 bench/ingest/run.sh      # attribution: pg_stat_statements (time and rows per
#                                       # statement), CPU per PostgreSQL process and WAL bytes
#                                       # per stored event (costs a little CPU itself)
#
# Checks at the end: no request failed, and the rows in table feedback match the 201s
# (rows >= 201s, and rows <= requests sent: wrk abandons the requests still in flight at its
# deadline, which may have committed without wrk reading the answer).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO/bench/ingest"
DURATION="${DURATION:-20}"
HEALTH_DURATION="${HEALTH_DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
BATCH="${BATCH:-1}"
URL_PATH=/v1/feedback
[ "$BATCH" -gt 1 ] && URL_PATH=/v1/feedback/batch
WRK_THREADS="${WRK_THREADS:-2}"
SERVE_ARGS="${SERVE_ARGS:-}"

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }

. "$REPO/bench/lib/pg.sh"
bench_build
PG_STATS="${PG_STATS:-}"
if [ -n "$PG_STATS" ]; then
  bench_pg_start fdbench "shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track = all" "pg_stat_statements.track_planning = on" \
    "track_functions = 'all'"
else
  bench_pg_start fdbench
fi
echo "postgres: $("${PSQL[@]}" -d bench -c "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit') || ' full_page_writes=' || current_setting('full_page_writes')")"

# -- feedbackd -------------------------------------------------------------------------------------
bench_fd_setup
KEY=$("$FD" keys create --project bench --scopes ingest --label bench 2>/dev/null)
# shellcheck disable=SC2086
bench_fd_serve $SERVE_ARGS
[ -n "$PG_STATS" ] && "${PSQL[@]}" -d bench -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
echo "feedbackd: $("$FD" --version) serve $SERVE_ARGS (pid $FD_PID) on 127.0.0.1:$PORT; $(nproc) cores"

# CPU time (user+sys, clock ticks) of feedbackd and of every process of the private cluster:
# the cost per event, which unlike events/s does not depend on what else the machine runs
# ("FD PG": feedbackd's and PostgreSQL's apart). A backend that exited during the run is not
# counted: feedbackd keeps its connections open for the whole run.
server_ticks() {
  local fd pg=0 pm; pm=$(head -1 "$WORK/data/postmaster.pid")
  fd=$(awk '{print $14 + $15}' "/proc/$FD_PID/stat")
  for p in "$pm" $(pgrep -P "$pm"); do
    [ -r "/proc/$p/stat" ] && pg=$((pg + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$fd $pg"
}
field() { sed -n "s/.*[ ]$2=\([0-9]*\).*/\1/p" "$1" | head -1; }

# -- POST /v1/feedback --------------------------------------------------------------------------
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk: POST $URL_PATH ($BATCH event(s) per request), $DURATION s, $CONNECTIONS connections, $WRK_THREADS threads"
# PG_STATS: CPU ticks of every cluster process by pid, what it is (pg_stat_activity) and the WAL position
pg_procs() {
  local pm; pm=$(head -1 "$WORK/data/postmaster.pid")
  for p in "$pm" $(pgrep -P "$pm"); do
    [ -r "/proc/$p/stat" ] && echo "$p $(awk '{print $14 + $15}' "/proc/$p/stat")"
  done
}
if [ -n "$PG_STATS" ]; then
  "${PSQL[@]}" -d bench -c "SELECT pg_stat_statements_reset()" >/dev/null
  wal0=$("${PSQL[@]}" -d bench -c "SELECT pg_current_wal_lsn()")
  pg_procs >"$WORK/procs0"
fi
ticks0=$(server_ticks)
BENCH_BATCH="$BATCH" BENCH_KEY="$KEY" BENCH_RUN="$(date +%s)$RANDOM" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
  -s "$HERE/post.lua" "http://127.0.0.1:$PORT$URL_PATH" >"$WORK/post.txt" 2>"$WORK/post.err" || { cat "$WORK/post.err"; exit 1; }
# The stats tables are brought up to date after the write (migration 0003), by feedbackd's
# background catch-up: its work for the events of the run belongs in the CPU figure, so wait
# until it has caught up with every row (unless switched off) before reading the CPU time.
if [[ "$SERVE_ARGS" != *"--stats-catch-up-ms 0"* ]]; then
  t_wait=$(date +%s%N)
  for _ in $(seq 1 1200); do
    left=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM feedback f LEFT JOIN stats_watermarks w ON w.project_id = f.project_id
                                      WHERE w.snap IS NULL OR NOT pg_visible_in_snapshot(f.txid, w.snap)")
    [ "$left" = 0 ] && break
    sleep 0.05
  done
  echo "stats caught up with every stored event $(( ($(date +%s%N) - t_wait) / 1000000 )) ms after the run (rows left: $left)"
fi
ticks1=$(server_ticks)
if [ -n "$PG_STATS" ]; then
  pg_procs >"$WORK/procs1"
  wal1=$("${PSQL[@]}" -d bench -c "SELECT pg_current_wal_lsn()")
  "${PSQL[@]}" -d bench -F ' ' -c "SELECT pid, backend_type || ':' || coalesce(nullif(application_name, ''), '-') || ':' ||
    regexp_replace(left(coalesce(query, ''), 40), '\s+', ' ', 'g') FROM pg_stat_activity" >"$WORK/activity"
  "${PSQL[@]}" -d bench -F $'\t' -c "SELECT toplevel, calls, rows, round(total_exec_time::numeric, 1),
      round(total_plan_time::numeric, 1), wal_bytes, shared_blks_hit + shared_blks_read + shared_blks_dirtied,
      regexp_replace(left(query, 150), '\s+', ' ', 'g')
      FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25" >"$WORK/statements"
fi
[ -n "${DEBUG:-}" ] && echo "ticks $ticks0 -> $ticks1"
read -r fd0 pg0 <<<"$ticks0"
read -r fd1 pg1 <<<"$ticks1"
grep '^BENCH' "$WORK/post.txt" | sed 's/^/  /'
sent=$(field "$WORK/post.txt" sent); created=$(field "$WORK/post.txt" created)
other=$(field "$WORK/post.txt" other); dup=$(field "$WORK/post.txt" duplicate)
dur_us=$(field "$WORK/post.txt" duration_us)
p50=$(field "$WORK/post.txt" p50_us); p99=$(field "$WORK/post.txt" p99_us)
sock_errors=$(sed -n 's/.*errors_connect=\([0-9]*\) errors_read=\([0-9]*\) errors_write=\([0-9]*\) errors_timeout=\([0-9]*\).*/\1 \2 \3 \4/p' "$WORK/post.txt" | awk '{print $1+$2+$3+$4}')

# -- GET /healthz (ceiling) ----------------------------------------------------------------------
echo "wrk: GET /healthz, $HEALTH_DURATION s, $CONNECTIONS connections, $WRK_THREADS threads"
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${HEALTH_DURATION}s" --timeout 10s -s "$HERE/healthz.lua" \
  "http://127.0.0.1:$PORT/healthz" >"$WORK/health.txt" 2>&1
grep '^BENCH' "$WORK/health.txt" | sed 's/^/  /'
h_req=$(field "$WORK/health.txt" requests); h_dur=$(field "$WORK/health.txt" duration_us)
h_p50=$(field "$WORK/health.txt" p50_us); h_p99=$(field "$WORK/health.txt" p99_us)

rows=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM feedback")
kill -TERM "$FD_PID"; wait "$FD_PID"; code=$?; FD_PID=""

# -- report ---------------------------------------------------------------------------------------
python3 - "$created" "$dur_us" "$p50" "$p99" "$h_req" "$h_dur" "$h_p50" "$h_p99" "$((fd1 - fd0))" "$((pg1 - pg0))" "$(getconf CLK_TCK)" <<'PY'
import sys
created, dur, p50, p99, hreq, hdur, hp50, hp99, fd_ticks, pg_ticks, clk_tck = map(int, sys.argv[1:])
ticks = fd_ticks + pg_ticks
ev = created / (dur / 1e6)
hz = hreq / (hdur / 1e6)
print(f"RESULT ingest: {ev:,.0f} durable events/s (201s / wrk duration), p50 {p50/1000:.2f} ms, p99 {p99/1000:.2f} ms")
print(f"RESULT healthz: {hz:,.0f} requests/s, p50 {hp50/1000:.2f} ms, p99 {hp99/1000:.2f} ms")
print(f"RESULT ratio ingest/healthz: {ev/hz:.2f}")
cpu = ticks / clk_tck
print(f"RESULT server CPU during the POST run: {cpu:.1f} s = {cpu / max(created, 1) * 1e6:.1f} us per stored event "
      f"(feedbackd + PostgreSQL; {cpu / (dur / 1e6):.2f} cores busy)")
n = max(created, 1)
print(f"RESULT server CPU split: feedbackd {fd_ticks / clk_tck / n * 1e6:.1f} us + PostgreSQL {pg_ticks / clk_tck / n * 1e6:.1f} us per stored event")
PY
if [ -n "$PG_STATS" ]; then
  python3 - "$WORK/procs0" "$WORK/procs1" "$WORK/activity" "$WORK/statements" "$created" "$(getconf CLK_TCK)" \
    "$("${PSQL[@]}" -d postgres -c "SELECT pg_wal_lsn_diff('$wal1', '$wal0')")" <<'PY'
import sys
p0 = dict(l.split() for l in open(sys.argv[1]))
p1 = dict(l.split() for l in open(sys.argv[2]))
act = {}
for l in open(sys.argv[3]):
    pid, _, what = l.rstrip("\n").partition(" ")
    act[pid] = what
n, tck, wal = max(int(sys.argv[5]), 1), int(sys.argv[6]), float(sys.argv[7])
print(f"PGSTATS WAL: {wal / n:,.0f} bytes per stored event")
rows = sorted(((int(p1[p]) - int(p0.get(p, 0))) / tck / n * 1e6, p) for p in p1)
for us, p in reversed(rows):
    if us >= 0.5: print(f"PGSTATS cpu {us:6.1f} us/event pid {p} {act.get(p, 'postmaster or exited')}")
print("PGSTATS statements: top-level calls rows exec_ms plan_ms wal_bytes blocks | us per stored event | query")
for l in open(sys.argv[4]):
    top, calls, rws, ex, pl, wb, blk, q = l.rstrip("\n").split("\t", 7)
    print(f"PGSTATS {top[0]} {calls:>7} {rws:>8} {float(ex):10.1f} {float(pl):8.1f} {wb:>11} {blk:>9} | {float(ex) * 1000 / n:6.1f} | {q}")
PY
fi
echo "CHECK rows in feedback=$rows, 201s=$created, 200s=$dup, other statuses=$other, socket errors=$sock_errors, requests sent=$sent, serve exit=$code"
fail=0
[ "$other" = 0 ] || { echo "FAIL: $other requests got a status other than 201/200"; fail=1; }
[ "$dup" = 0 ] || { echo "FAIL: $dup duplicates although every id is new"; fail=1; }
[ "$code" = 0 ] || { echo "FAIL: feedbackd exited $code on SIGTERM"; fail=1; }
if [ "$rows" -lt "$created" ]; then echo "FAIL: fewer rows ($rows) than 201 answers ($created): acknowledged events lost"; fail=1; fi
if [ "$rows" -gt "$sent" ]; then echo "FAIL: more rows ($rows) than requests sent ($sent)"; fail=1; fi
if [ "$rows" = "$created" ]; then echo "CHECK OK: rows == 201s"
elif [ "$fail" = 0 ]; then echo "CHECK OK: rows - stored = $((rows - created)) events of requests in flight at wrk's deadline (committed; wrk does not read their answers), <= $CONNECTIONS connections x $BATCH"; fi
[ $((rows - created)) -le $((CONNECTIONS * BATCH)) ] || { echo "FAIL: rows exceed the stored answers by more than the requests in flight"; fail=1; }
exit $fail
