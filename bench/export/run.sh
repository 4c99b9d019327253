#!/usr/bin/env bash
# run.sh — export benchmark: records/s of GET /v1/export?format=trl (over loopback HTTP) and
# of `feedbackd export` (CLI), against a ceiling: psql COPY of the same joined rows the
# export reads (its two cursor queries, same ORDER BY) to /dev/null. Also the peak RSS of
# feedbackd (serve: VmHWM from /proc; CLI: /usr/bin/time). Not a test: prints figures and
# appends them to bench/README.md ("export" section). Loopback only, bounded, stops
# everything it started.
#
#   bench/export/run.sh                      # 100,000 conversations = ~1,000,000 events
#   CONVS=10000 bench/export/run.sh          # a quick run
#   NO_README=1 bench/export/run.sh          # do not append to bench/README.md
#
# Targets (issue 15): format=trl >= 0.8 x and include_meta=true >= 0.5 x the COPY ceiling; feedbackd
# peak RSS <= 64 MiB. bench/export/ab.sh compares the CPU of two builds on a shared machine.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO/bench/export"
BUILD="${BUILD:-$REPO/build-release}"
CONVS="${CONVS:-100000}"
MAX_SECONDS="${MAX_SECONDS:-900}" # per timed command

. "$REPO/bench/lib/pg.sh"
bench_build
# a read benchmark: the seed may skip durability
bench_pg_start fdexpbench 'fsync = off' 'synchronous_commit = off' 'shared_buffers = 256MB'

# -- schema, project, seed -------------------------------------------------------------------
bench_fd_setup
KEY=$("$FD" keys create --project bench --scopes export --label bench 2>/dev/null)
PROJECT=$("${PSQL[@]}" -d bench -c "SELECT id FROM projects WHERE slug = 'bench'")
echo "seeding $CONVS conversations ..."
t0=$(date +%s.%N)
# Triggers off for the seed (session_replication_role): the stats tables are not read here.
PGOPTIONS="-c session_replication_role=replica" "${PSQL[@]}" -d bench -v project="$PROJECT" -v convs="$CONVS" \
  -f "$HERE/seed.sql" >/dev/null
t1=$(date +%s.%N)
N_MSG=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM messages")
N_EV=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM feedback")
# format=trl reads every kind but reactions and signals (server/db/export_db.c FEEDBACK_SELECT)
N_EVX=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM feedback WHERE kind NOT IN ('reaction', 'signal')")
printf 'seeded %s messages, %s feedback events (%s read by the export) in %.0f s\n' "$N_MSG" "$N_EV" "$N_EVX" \
  "$(echo "$t1 - $t0" | bc)"
# the stats catch-up of the seeded events and VACUUM now, not during the first exports
bench_settle
printf 'stats catch-up and VACUUM ANALYZE in %.0f s\n' "$(echo "$(date +%s.%N) - $t1" | bc)"

# -- the ceiling: COPY of the rows the export reads, in its order -----------------------------
. "$HERE/queries.sh"
now() { date +%s.%N; }
copy_ceiling() {
  local a b
  a=$(now)
  timeout "$MAX_SECONDS" "${PSQL[@]}" -d bench -c "COPY ($Q_MSG) TO STDOUT" >/dev/null
  timeout "$MAX_SECONDS" "${PSQL[@]}" -d bench -c "COPY ($Q_FB) TO STDOUT" >/dev/null
  b=$(now)
  echo "$b - $a" | bc
}
copy_ceiling >/dev/null # warm the cache, so every measurement below starts equal
T_COPY=$(copy_ceiling)
N_ROWS=$(( N_MSG + N_EVX ))

# -- feedbackd serve ---------------------------------------------------------------------------
bench_fd_serve
RSS_IDLE=$(awk '/VmHWM/ {print $2}' "/proc/$FD_PID/status")

# GET /v1/export with the given query; prints "<seconds> <records> <bytes>"
http_export() {
  local out
  out=$(curl -sS --max-time "$MAX_SECONDS" -o /dev/null -D "$WORK/headers" -H "Authorization: Bearer $KEY" \
    -w '%{time_total} %{size_download}' "http://127.0.0.1:$PORT/v1/export?$1")
  local id
  id=$(tr -d '\r' <"$WORK/headers" | awk -F': ' 'tolower($1) == "x-export-id" {print $2}')
  local records
  records=$(curl -sS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/exports/$id" |
    python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["records"] if m.get("finished_at") else "unfinished")')
  set -- $out
  echo "$1 $records $2"
}

read -r T_HTTP REC_HTTP BYTES_HTTP < <(http_export "format=trl")
read -r T_META REC_META _ < <(http_export "format=trl&include_meta=true")
read -r T_KTO REC_KTO _ < <(http_export "format=kto")
RSS_SERVE=$(awk '/VmHWM/ {print $2}' "/proc/$FD_PID/status")

# -- the CLI -----------------------------------------------------------------------------------
/usr/bin/time -f '%e %M' -o "$WORK/cli.time" timeout "$MAX_SECONDS" "$FD" export --project bench --format trl \
  -o /dev/null 2>"$WORK/cli.err" || { cat "$WORK/cli.err"; exit 1; }
read -r T_CLI RSS_CLI <"$WORK/cli.time"
REC_CLI=$(sed -n 's/.*: \([0-9]*\) records.*/\1/p' "$WORK/cli.err")

# -- report --------------------------------------------------------------------------------------
ratio() { printf '%.2f' "$(echo "scale=4; $1 / $2" | bc)"; }
rate() { echo "$1 / $2" | bc; }
secs() { printf '%.2f' "$1"; }
REPORT=$(cat <<TXT
data: $CONVS conversations, $N_MSG messages, $N_EV feedback events ($N_EVX read by the export: all but reactions and signals)
machine: $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg) at the end: other work on the machine skews every figure), $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $("${PSQL[@]}" -d bench -c "SHOW server_version"); feedbackd $("$FD" --version | awk '{print $2}') (release build)

| what | seconds | records | records/s | joined rows/s | vs COPY |
|---|---|---|---|---|---|
| COPY ceiling (psql, same two queries, same order) | $(secs "$T_COPY") | – | – | $(rate "$N_ROWS" "$T_COPY") | 1.00 |
| GET /v1/export?format=trl (curl -o /dev/null) | $(secs "$T_HTTP") | $REC_HTTP | $(rate "$REC_HTTP" "$T_HTTP") | $(rate "$N_ROWS" "$T_HTTP") | $(ratio "$T_COPY" "$T_HTTP") |
| feedbackd export --format trl -o /dev/null | $(secs "$T_CLI") | $REC_CLI | $(rate "$REC_CLI" "$T_CLI") | $(rate "$N_ROWS" "$T_CLI") | $(ratio "$T_COPY" "$T_CLI") |
| GET /v1/export?format=trl&include_meta=true | $(secs "$T_META") | $REC_META | $(rate "$REC_META" "$T_META") | $(rate "$N_ROWS" "$T_META") | $(ratio "$T_COPY" "$T_META") |
| GET /v1/export?format=kto | $(secs "$T_KTO") | $REC_KTO | $(rate "$REC_KTO" "$T_KTO") | $(rate "$N_ROWS" "$T_KTO") | $(ratio "$T_COPY" "$T_KTO") |

peak RSS: feedbackd serve $(( RSS_SERVE / 1024 )) MiB after the three HTTP exports ($(( RSS_IDLE / 1024 )) MiB idle); feedbackd export (CLI) $(( RSS_CLI / 1024 )) MiB; trl body $(( BYTES_HTTP / 1048576 )) MiB.
targets: format=trl >= 0.80 x COPY ceiling, include_meta=true >= 0.50 x, peak RSS <= 64 MiB.
TXT
)
echo
echo "$REPORT"

if [ -z "${NO_README:-}" ]; then
  {
    echo
    echo "## export ($(date -u +%Y-%m-%d), bench/export/run.sh, CONVS=$CONVS)"
    echo
    echo "$REPORT"
  } >>"$REPO/bench/README.md"
  echo
  echo "appended to bench/README.md"
fi
