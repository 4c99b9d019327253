#!/usr/bin/env bash
# run.sh — scale-out benchmark: durable events/s of POST /v1/feedback (bench/ingest/post.lua's
# mix, one event per request) through haproxy in front of 1, 2 and 3 feedbackd replicas on one
# PostgreSQL, with the server CPU per stored event; then the 3 replicas again through PgBouncer
# in transaction pooling, whose pools must be served by at most MAX_SERVER_CONNS server
# connections (SHOW POOLS / SHOW SERVERS sampled during the run). Loopback only, bounded
# (DURATION s per phase), stops everything it started.
#
#   bench/scale/run.sh                         # build-release, 10 s per phase, 32 connections
#   DURATION=20 CONNECTIONS=64 bench/scale/run.sh
#
# On a machine with few cores this is CPU-bound: the replicas share the cores with PostgreSQL,
# haproxy and wrk, so events/s stays flat while CPU per event shows the cost of each hop.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
WRK_THREADS="${WRK_THREADS:-2}"
MAX_SERVER_CONNS="${MAX_SERVER_CONNS:-20}"
PY=/usr/bin/python3  # Debian's, with requests (tests/integration/haproxy.py)

for tool in wrk haproxy pgbouncer; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool: bash scripts/setup.sh --test=integration-pgbouncer" >&2; exit 1; }
done

. "$REPO/bench/lib/pg.sh"
bench_build
bench_pg_start fdscale "max_connections = 200"
bench_fd_setup
KEY=$("$FD" keys create --project bench --scopes ingest --label bench 2>/dev/null)

REP_PIDS=() REP_PORTS=() LB_PID="" BOUNCER_PID=""
scale_cleanup() {
  set +e
  [ -n "$LB_PID" ] && kill "$LB_PID" 2>/dev/null && wait "$LB_PID"
  stop_replicas
  [ -n "$BOUNCER_PID" ] && kill "$BOUNCER_PID" 2>/dev/null && wait "$BOUNCER_PID"
  bench_cleanup
}
trap scale_cleanup EXIT INT TERM

# start_replicas N DATABASE_URL [ENV...]: N `feedbackd serve` on free ports, until /readyz
start_replicas() {
  local n=$1 url=$2 i port
  shift 2
  for i in $(seq 1 "$n"); do
    port=$(free_port)
    env "$@" FEEDBACKD_DATABASE_URL="$url" FEEDBACKD_LISTEN="127.0.0.1:$port" \
      FEEDBACKD_DATA_DIR="$WORK/var$i" "$FD" serve >"$WORK/serve$i.out" 2>"$WORK/serve$i.log" &
    REP_PIDS+=($!) REP_PORTS+=("$port")
  done
  for i in "${!REP_PORTS[@]}"; do
    for _ in $(seq 1 400); do
      curl -sf "http://127.0.0.1:${REP_PORTS[$i]}/readyz" >/dev/null 2>&1 && break
      kill -0 "${REP_PIDS[$i]}" 2>/dev/null || { cat "$WORK/serve$((i + 1)).log"; exit 1; }
      sleep 0.05
    done
  done
}
stop_replicas() {
  local p
  for p in "${REP_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${REP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  REP_PIDS=() REP_PORTS=()
}

# haproxy in front of the running replicas (the configuration of tests/integration/haproxy.py,
# which docs/operations.md shows), until every replica is UP
start_haproxy() {
  LB_PORT=$(free_port) STATS_PORT=$(free_port)
  local backends="" i
  for i in "${!REP_PORTS[@]}"; do backends="$backends rep$((i + 1)):${REP_PORTS[$i]}"; done
  "$PY" -c "import sys; sys.path.insert(0, '$REPO/tests/integration'); from haproxy import config_text
print(config_text(int(sys.argv[1]), int(sys.argv[2]), [(b.split(':')[0], int(b.split(':')[1])) for b in sys.argv[3:]]), end='')" \
    "$LB_PORT" "$STATS_PORT" $backends >"$WORK/haproxy.cfg"
  haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
  LB_PID=$!
  for _ in $(seq 1 200); do
    up=$(curl -sf "http://127.0.0.1:$STATS_PORT/stats;csv" 2>/dev/null | grep -c '^replicas,rep[0-9]*,.*,UP,' || true)
    [ "$up" = "${#REP_PORTS[@]}" ] && return 0
    sleep 0.05
  done
  echo "haproxy: not every replica UP" >&2; cat "$WORK/haproxy.log" >&2; exit 1
}
stop_haproxy() { kill "$LB_PID"; wait "$LB_PID" 2>/dev/null || true; LB_PID=""; }

# CPU time (clock ticks) of the replicas, PostgreSQL, haproxy and PgBouncer: the server side
server_ticks() {
  local t=0 pm p; pm=$(head -1 "$WORK/data/postmaster.pid")
  for p in "${REP_PIDS[@]}" "$pm" $(pgrep -P "$pm") $LB_PID $BOUNCER_PID $( [ -n "$BOUNCER_PID" ] && pgrep -P "$BOUNCER_PID"); do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}
field() { sed -n "s/.*[ ]$2=\([0-9]*\).*/\1/p" "$1" | head -1; }

# run_wrk LABEL: one phase through haproxy; prints a RESULT line, fails on lost or failed requests
run_wrk() {
  local label=$1 out="$WORK/wrk-$1.txt" t0 t1 rows0 rows1 created other sent dur
  rows0=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM feedback")
  t0=$(server_ticks)
  BENCH_KEY="$KEY" BENCH_RUN="s$(date +%s)$RANDOM" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" \
    --timeout 10s -s "$REPO/bench/ingest/post.lua" "http://127.0.0.1:$LB_PORT/v1/feedback" >"$out" 2>&1
  t1=$(server_ticks)
  rows1=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM feedback")
  created=$(field "$out" created) other=$(field "$out" other) sent=$(field "$out" sent) dur=$(field "$out" duration_us)
  "$PY" - "$label" "$created" "$dur" "$((t1 - t0))" "$(getconf CLK_TCK)" <<'PY'
import sys
label, (created, dur, ticks, hz) = sys.argv[1], map(int, sys.argv[2:])
cpu = ticks / hz
print(f"RESULT {label}: {created / (dur / 1e6):,.0f} events/s, server CPU {cpu / max(created, 1) * 1e6:.0f} us "
      f"per event ({cpu / (dur / 1e6):.2f} cores busy)")
PY
  echo "CHECK $label: 201s=$created other=$other sent=$sent new rows=$((rows1 - rows0))"
  [ "$other" = 0 ] || { grep -m 3 '^unexpected status' "$out"; echo "FAIL: $other requests got another status than 201"; exit 1; }
  [ $((rows1 - rows0)) -ge "$created" ] || { echo "FAIL: fewer new rows than 201s"; exit 1; }
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $DURATION s per phase, $CONNECTIONS connections"
for n in 1 2 3; do
  start_replicas "$n" "$FEEDBACKD_DATABASE_URL"
  start_haproxy
  run_wrk "replicas=$n"
  stop_haproxy
  stop_replicas
done

# -- 3 replicas through PgBouncer ------------------------------------------------------------
BOUNCER_PORT=$(free_port)
cat >"$WORK/pgbouncer.ini" <<INI
[databases]
bench = host=$WORK port=$PGPORT dbname=bench
[pgbouncer]
listen_addr =
listen_port = $BOUNCER_PORT
unix_socket_dir = $WORK
auth_type = trust
auth_file = $WORK/pgbouncer-users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = $MAX_SERVER_CONNS
max_db_connections = $MAX_SERVER_CONNS
max_client_conn = 1000
logfile = $WORK/pgbouncer.log
INI
echo '"postgres" ""' >"$WORK/pgbouncer-users.txt"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK/pgbouncer.ini" "$WORK/pgbouncer-users.txt"
# as root: -u, PgBouncer switches to postgres itself (so $BOUNCER_PID is PgBouncer, for kill)
/usr/sbin/pgbouncer -q $( [ "$(id -u)" = 0 ] && echo "-u postgres" ) "$WORK/pgbouncer.ini" &
BOUNCER_PID=$!
ADMIN=("$PG_BIN/psql" -X -q -A -F, -P footer=off -h "$WORK" -p "$BOUNCER_PORT" -U postgres -d pgbouncer)
for _ in $(seq 1 100); do "${ADMIN[@]}" -c "SHOW VERSION" >/dev/null 2>&1 && break; sleep 0.05; done
start_replicas 3 "host=$WORK port=$BOUNCER_PORT dbname=bench user=postgres" FEEDBACKD_PREPARED_STATEMENTS=false
start_haproxy
# sample the pooler every 0.2 s during the run (CSV with headers, parsed below)
( while sleep 0.2; do
    "${ADMIN[@]}" -c "SHOW POOLS" 2>/dev/null | sed 's/^/pools,/'
    "${ADMIN[@]}" -c "SHOW SERVERS" 2>/dev/null | sed 's/^/servers,/'
    echo "sample"
  done >"$WORK/pooler.txt" ) &
SAMPLER=$!
run_wrk "replicas=3 via pgbouncer"
kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null || true
echo "SHOW POOLS (database bench) at the end:"
"$PG_BIN/psql" -X -h "$WORK" -p "$BOUNCER_PORT" -U postgres -d pgbouncer -c "SHOW POOLS" | sed -n '1,2p;/ bench /p'
"$PY" - "$WORK/pooler.txt" "$MAX_SERVER_CONNS" <<'PY'
import sys
# per sample: clients (SHOW POOLS cl_active + cl_waiting), server connections (SHOW POOLS sv_*
# and, separately, the rows of SHOW SERVERS) of database bench; the maxima over the run
clients = sv_pools = sv_rows = 0
head = {}
cur = {"clients": 0, "sv_pools": 0, "sv_rows": 0}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split(",")
    if f[0] == "sample":
        clients, sv_pools, sv_rows = (max(clients, cur["clients"]), max(sv_pools, cur["sv_pools"]),
                                      max(sv_rows, cur["sv_rows"]))
        cur = {"clients": 0, "sv_pools": 0, "sv_rows": 0}
    elif f[1] in ("database", "type"):
        head[f[0]] = f[1:]
    elif f[0] in head:
        row = dict(zip(head[f[0]], f[1:]))
        if row.get("database") != "bench":
            continue
        if f[0] == "pools":
            cur["clients"] += int(row["cl_active"]) + int(row["cl_waiting"])
            cur["sv_pools"] += sum(int(v) for k, v in row.items() if k.startswith("sv_"))
        else:
            cur["sv_rows"] += 1
servers = max(sv_pools, sv_rows)
limit = int(sys.argv[2])
print(f"RESULT pgbouncer: 3 replicas, up to {clients} client connections (SHOW POOLS cl_active + cl_waiting) "
      f"served by at most {servers} server connections (SHOW POOLS sv_* {sv_pools}, SHOW SERVERS rows {sv_rows}; "
      f"limit {limit})")
if not (0 < servers <= limit and clients > servers):
    print("FAIL: the pooler did not serve the replicas' connections with at most the limit")
    sys.exit(1)
PY
