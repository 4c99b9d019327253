# bench/lib/pg.sh — what the benchmarks share: a release build of feedbackd and a private
# PostgreSQL 15 in a temp dir (unix socket only, loopback only), stopped and removed on exit.
# Source it from a bench script after setting REPO; then call:
#   bench_build                      -> $FD (build-release/feedbackd, or $BUILD)
#   bench_pg_start PREFIX [CONF...]  -> $WORK, $PGPORT, PSQL=(psql ...), database "bench";
#                                       extra postgresql.conf lines as arguments
#   bench_fd_setup                   -> $PORT and the FEEDBACKD_* environment for the cluster,
#                                       schema migrated, project "bench" created
#   bench_fd_serve [FLAGS...]        -> `feedbackd serve` in the background until /readyz, $FD_PID
#   bench_settle                     -> after a seed with triggers off: the stats catch-up of every
#                                       seeded event and VACUUM ANALYZE, done before measuring
# A script that starts feedbackd sets FD_PID so the exit trap stops it first. KEEP=1 keeps $WORK.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
BUILD="${BUILD:-$REPO/build-release}"
FD_PID=""

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_build() {
  if [ ! -d "$BUILD" ]; then meson setup "$BUILD" "$REPO" --buildtype=release >/dev/null; fi
  ninja -C "$BUILD" feedbackd >/dev/null
  FD="$BUILD/feedbackd"
}

bench_cleanup() {
  set +e
  if [ -n "$FD_PID" ] && kill -0 "$FD_PID" 2>/dev/null; then kill -TERM "$FD_PID"; wait "$FD_PID"; fi
  [ -f "$WORK/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null
  if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}

bench_pg_start() {
  local prefix=$1 line
  shift
  WORK=$(mktemp -d "/tmp/$prefix-XXXXXX")
  chmod 755 "$WORK"
  [ "$(id -u)" = 0 ] && chown postgres: "$WORK"
  trap bench_cleanup EXIT INT TERM
  PGPORT=$(free_port)
  as_pg "$PG_BIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C --no-instructions >/dev/null
  {
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$WORK'"
    echo "port = $PGPORT"
    for line in "$@"; do echo "$line"; done
  } >>"$WORK/data/postgresql.conf"
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w start >/dev/null
  PSQL=("$PG_BIN/psql" -X -q -t -A -h "$WORK" -p "$PGPORT" -U postgres)
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE bench" >/dev/null
}

bench_fd_setup() {
  PORT=$(free_port)
  export FEEDBACKD_DATABASE_URL="host=$WORK port=$PGPORT dbname=bench user=postgres"
  export FEEDBACKD_LISTEN="127.0.0.1:$PORT"
  export FEEDBACKD_DATA_DIR="$WORK/var"
  export FEEDBACKD_LOG_LEVEL=warn
  "$FD" migrate >/dev/null
  # its own address as an allowed origin, as a project behind a chat page has one
  "$FD" projects create bench --name Bench --origins "http://127.0.0.1:$PORT" >/dev/null
}

# A seed written with triggers off (session_replication_role = replica) leaves every event to
# the stats catch-up, which `feedbackd serve` starts within a second: for bench/export's 1,000,000
# events it took ~30 s and ~25 s of PostgreSQL CPU on 2 cores, alongside whatever was measured
# first. Autovacuum of the fresh tables follows within a minute. Do both before measuring.
bench_settle() {
  "${PSQL[@]}" -d bench -c "CALL fd_stats_catch_up_all()" >/dev/null
  "${PSQL[@]}" -d bench -c "VACUUM ANALYZE" >/dev/null
}

bench_fd_serve() {
  "$FD" serve "$@" >"$WORK/serve.out" 2>"$WORK/serve.log" &
  FD_PID=$!
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$FD_PID" 2>/dev/null || { cat "$WORK/serve.log"; exit 1; }
    sleep 0.05
  done
}
