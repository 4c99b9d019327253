#!/usr/bin/env bash
# bench/stats/run.sh — GET /v1/stats over 1,000,000 feedback events.
#
# Starts a private PostgreSQL 15 (initdb into a temp dir, unix socket only), migrates it with
# feedbackd itself, seeds the events with bench/stats/seed.sql (SQL generate_series, through
# the normal INSERT path plus the stats catch-up), starts `feedbackd serve` on 127.0.0.1 and times
#   - a 30-day daily series (the dashboard's default view),
#   - the same grouped by model (what the dashboard really asks for),
#   - group_by=tag, and an hourly series over 7 days,
# with hyperfine when installed (else a curl timing loop), printing the figures. Everything it
# started is stopped on exit.
#
# Usage: bench/stats/run.sh [path/to/feedbackd]   (default build/feedbackd)
#   EVENTS=1000000 RUNS=50 bench/stats/run.sh build-stats/feedbackd
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$ROOT/build/feedbackd}")
EVENTS=${EVENTS:-1000000}
RUNS=${RUNS:-50}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$BIN" ] || { echo "no feedbackd binary at $BIN (build it first)" >&2; exit 1; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

DIR=$(mktemp -d /tmp/fdbench-stats.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
FD_PID=
cleanup() {
  [ -n "$FD_PID" ] && kill "$FD_PID" 2>/dev/null && wait "$FD_PID" 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

echo "== private PostgreSQL in $DIR"
as_pg "$PG_BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/pg.log" -w \
  -o "-k $DIR -c listen_addresses='' -c shared_buffers=512MB -c fsync=off -c synchronous_commit=off -c max_wal_size=4GB" \
  start >/dev/null
PSQL=(psql -h "$DIR" -U postgres -v ON_ERROR_STOP=1 -q -X)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench"

export FEEDBACKD_DATABASE_URL="host=$DIR user=postgres dbname=bench"
export FEEDBACKD_DATA_DIR="$DIR/var"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export FEEDBACKD_LISTEN="127.0.0.1:$PORT"
"$BIN" migrate >/dev/null
"$BIN" projects create bench --name Bench >/dev/null
KEY=$("$BIN" keys create --project bench --scopes read --label bench)
PROJECT=$("${PSQL[@]}" -d bench -At -c "SELECT id FROM projects WHERE slug = 'bench'")

echo "== seeding $EVENTS events"
t0=$(date +%s.%N)
"${PSQL[@]}" -d bench -v project="$PROJECT" -v events="$EVENTS" -f "$ROOT/bench/stats/seed.sql" >/dev/null
"${PSQL[@]}" -d bench -c "VACUUM ANALYZE"
t1=$(date +%s.%N)
printf 'seeded in %.1f s\n' "$(echo "$t1 - $t0" | bc)"
"${PSQL[@]}" -d bench -At -F ' ' -c "SELECT 'feedback rows:', count(*) FROM feedback" \
  -c "SELECT 'counting events (stats_events):', count(*) FROM stats_events" \
  -c "SELECT 'in the last 30 days:', count(*) FROM stats_events WHERE created_at >= now() - interval '30 days'" \
  -c "SELECT 'hourly counter rows:', (SELECT count(*) FROM stats_hourly), '+ tag rows:', (SELECT count(*) FROM stats_hourly_tags)"

echo "== feedbackd serve on $FEEDBACKD_LISTEN"
"$BIN" serve >"$DIR/feedbackd.log" 2>&1 &
FD_PID=$!
for _ in $(seq 200); do curl -sf "http://$FEEDBACKD_LISTEN/readyz" >/dev/null && break; sleep 0.1; done

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SINCE30=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
SINCE7=$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)
BASE="http://$FEEDBACKD_LISTEN/v1/stats"
declare -A URLS=(
  [healthz]="http://$FEEDBACKD_LISTEN/healthz"
  [daily30]="$BASE?since=$SINCE30&until=$NOW&bucket=day"
  [daily30_model]="$BASE?since=$SINCE30&until=$NOW&bucket=day&group_by=model"
  [daily30_tag]="$BASE?since=$SINCE30&until=$NOW&bucket=day&group_by=tag"
  [hourly7]="$BASE?since=$SINCE7&until=$NOW&bucket=hour"
)
echo "== sanity: the 30-day daily answer"
curl -sf -H "Authorization: Bearer $KEY" "${URLS[daily30_model]}" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("totals:", json.dumps(d["totals"]))
print("buckets:", len(d["series"]), " groups:", [g["key"] for g in d["groups"]], " top tag:", d["top_tags"][:1])'

# CPU time (user + system) of feedbackd and of every PostgreSQL process of the private
# cluster: unlike wall time it hardly depends on what else the machine is running.
cpu_ms() {
  python3 - "$FD_PID" "$(head -1 "$DIR/data/postmaster.pid")" <<'PY'
import os, sys
fd, pm = sys.argv[1], sys.argv[2]
tick = os.sysconf("SC_CLK_TCK")
total = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if pid in (fd, pm) or f[1] == pm:   # f[1] = ppid
        total += int(f[11]) + int(f[12])  # utime + stime (children's are not needed)
print(total * 1000 // tick)
PY
}

echo "== timings ($RUNS requests each, 3 warm-up)"
for name in healthz daily30 daily30_model daily30_tag hourly7; do
  url=${URLS[$name]}
  c0=$(cpu_ms)
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs "$RUNS" --style basic --export-json "$DIR/$name.json" \
      "curl -sf -o /dev/null -H 'Authorization: Bearer $KEY' '$url'" >/dev/null 2>&1
    python3 - "$DIR/$name.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = sorted(r["times"])
pct = lambda p: t[min(len(t) - 1, int(p * len(t)))] * 1000
print(f"{sys.argv[2]:14s} mean {r['mean']*1000:7.1f} ms  median {r['median']*1000:7.1f} ms  p95 {pct(0.95):7.1f} ms  min {r['min']*1000:7.1f} ms  (curl incl., n={len(t)})")
PY
  else
    for _ in 1 2 3; do curl -sf -o /dev/null -H "Authorization: Bearer $KEY" "$url"; done
    for _ in $(seq "$RUNS"); do curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $KEY" "$url"; done |
      sort -n | awk -v n="$name" '{a[NR]=$1*1000; s+=$1*1000} END {printf "%-14s mean %7.1f ms  median %7.1f ms  p95 %7.1f ms  min %7.1f ms  (curl, n=%d)\n", n, s/NR, a[int(NR/2)+1], a[int(NR*0.95)], a[1], NR}'
  fi
  c1=$(cpu_ms)
  # hyperfine/the loop made RUNS + 3 requests
  awk -v a="$c0" -v b="$c1" -v n="$((RUNS + 3))" -v name="$name" \
    'BEGIN {printf "%-14s server CPU (feedbackd + PostgreSQL) %.1f ms per request\n", name, (b - a) / n}'
done
echo "   (healthz: the floor of starting one curl process + one HTTP request on this machine)"

# The same requests from one curl process over one keep-alive connection: the latency of
# the request itself, without a process start per request.
echo "== keep-alive: $RUNS requests in one curl process, per-request time_total"
for name in healthz daily30 daily30_model daily30_tag hourly7; do
  url=${URLS[$name]}
  args=()
  for _ in $(seq $((RUNS + 3))); do args+=(-o /dev/null "$url"); done
  curl -s -H "Authorization: Bearer $KEY" -w '%{time_total}\n' "${args[@]}" | tail -n +4 |
    sort -n | awk -v n="$name" '{a[NR]=$1*1000; s+=$1*1000} END {printf "%-14s mean %7.2f ms  median %7.2f ms  p95 %7.2f ms  min %7.2f ms  (n=%d)\n", n, s/NR, a[int(NR/2)+1], a[int(NR*0.95)], a[1], NR}'
done

echo "== the query alone, inside PostgreSQL (fd_stats_query, 50 calls each)"
for gb in "NULL" "'model'" "'tag'"; do
  "${PSQL[@]}" -d bench -c "DO \$\$
  DECLARE t0 timestamptz := clock_timestamp();
  BEGIN
    FOR i IN 1..50 LOOP
      PERFORM fd_stats_query($PROJECT, now() - interval '30 days', now(), 'day', $gb, NULL);
    END LOOP;
    RAISE NOTICE '30-day daily, group_by %: % ms per call', $gb,
      round(extract(epoch FROM clock_timestamp() - t0) * 1000 / 50, 2);
  END \$\$" 2>&1 | sed 's/^.*NOTICE: *//'
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
