#!/usr/bin/env bash
# ab.sh — export CPU and wall time of two feedbackd builds in interleaved rounds (A B B A …)
# on ONE seeded private PostgreSQL, so the load of a shared machine drifts over both alike.
# Each round times, per build, the exports in $CASES (HTTP: GET /v1/export?<query> through
# that build's `feedbackd serve`; "cli:<flags>": `feedbackd export <flags> -o FILE`) and, once
# per round, the COPY ceiling of bench/export/run.sh. Figures per export: wall seconds,
# feedbackd CPU (user+sys: /proc/<pid>/stat of serve, the CLI's rusage) and cluster
# CPU (user+sys of every PostgreSQL process: the postmaster's own plus its reaped children's,
# from /proc/<postmaster>/stat, so the export's backend counts once it has exited — the export
# connection is closed at the end of each export), and feedbackd's run-queue wait (seconds
# runnable but not running, from schedstat: the CLI's own via bench/lib/runstat.py, the sum
# over serve's threads for HTTP): on a loaded machine most of a wall difference can be that,
# so `wall - runq` and the min-max of the walls are printed with the medians.
#
# It also checks that both builds write byte-identical bodies: every export's body is kept
# and compared (sha256) between A and B; a difference stops the run.
#
#   bench/export/ab.sh BUILD_A BUILD_B                 # two meson build dirs
#   CONVS=20000 ROUNDS=4 bench/export/ab.sh /tmp/old/build-release build-release
#   CASES="format=trl format=trl&include_meta=true cli:--format=trl" bench/export/ab.sh A B
#
# Both builds must accept the same schema (migrated by build B, normally the newer one).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO/bench/export"
A=$(cd "$1" && pwd)
B=$(cd "$2" && pwd)
CONVS="${CONVS:-20000}"
ROUNDS="${ROUNDS:-3}"
CASES="${CASES:-format=trl format=trl&include_meta=true format=kto cli:--format=trl}"
MAX_SECONDS="${MAX_SECONDS:-900}"

. "$REPO/bench/lib/pg.sh"
FD_A="$A/feedbackd" # built beforehand: a build dir or any directory holding a feedbackd
FD_B="$B/feedbackd"
FD="$FD_B" # migrates the schema: B is normally the newer build
for f in "$FD_A" "$FD_B"; do [ -x "$f" ] || { echo "no $f"; exit 1; }; done
bench_pg_start fdexpab 'fsync = off' 'synchronous_commit = off' 'shared_buffers = 256MB'
bench_fd_setup
KEY=$("$FD" keys create --project bench --scopes export --label bench 2>/dev/null)
PROJECT=$("${PSQL[@]}" -d bench -c "SELECT id FROM projects WHERE slug = 'bench'")
PGOPTIONS="-c session_replication_role=replica" "${PSQL[@]}" -d bench -v project="$PROJECT" -v convs="$CONVS" \
  -f "$HERE/seed.sql" >/dev/null
bench_settle # not during the first round (bench/lib/pg.sh)
N_EV=$("${PSQL[@]}" -d bench -c "SELECT count(*) FROM feedback")
echo "seeded $CONVS conversations, $N_EV events"
PM_PID=$(head -1 "$WORK/data/postmaster.pid")
HZ=$(getconf CLK_TCK)

# run-queue wait (seconds) summed over the threads of a process
runq_of() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $2 } END { printf "%.2f", t / 1e9 }'; }

# CPU seconds (user+sys) of a process, with its reaped children when $2 = all
cpu_of() {
  awk -v hz="$HZ" -v all="${2:-}" '{ sub(/^.*\) /, ""); t = $12 + $13; if (all) t += $14 + $15; printf "%.2f", t / hz }' \
    "/proc/$1/stat"
}

# the two servers, same database, own ports
declare -A SPORT SPID
for k in A B; do
  SPORT[$k]=$(free_port)
  fd=FD_$k
  FEEDBACKD_LISTEN="127.0.0.1:${SPORT[$k]}" "${!fd}" serve >"$WORK/serve-$k.out" 2>"$WORK/serve-$k.log" &
  SPID[$k]=$!
done
FD_PID=${SPID[A]}
stop_servers() {
  for k in A B; do kill -TERM "${SPID[$k]}" 2>/dev/null && wait "${SPID[$k]}" 2>/dev/null; done
  bench_cleanup
}
trap stop_servers EXIT INT TERM
for k in A B; do
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:${SPORT[$k]}/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
done

. "$HERE/queries.sh"

now() { date +%s.%N; }
LOGS="${LOGS:-$(mktemp -d /tmp/export-ab-XXXXXX)}"
mkdir -p "$LOGS"
: >"$LOGS/figures"

# one measured command: label case; runs "$@", appends "label case wall fdcpu pgcpu runq"
measure() {
  local label=$1 case=$2 fdpid=$3
  shift 3
  local pg0 fd0 q0 t0 t1 pg1 fd1 q1
  pg0=$(cpu_of "$PM_PID" all)
  fd0=0; q0=0; [ "$fdpid" != - ] && fd0=$(cpu_of "$fdpid") && q0=$(runq_of "$fdpid")
  t0=$(now)
  "$@"
  t1=$(now)
  sleep 0.2 # the export backend exits and is reaped
  pg1=$(cpu_of "$PM_PID" all)
  fd1=0; q1=0; [ "$fdpid" != - ] && fd1=$(cpu_of "$fdpid") && q1=$(runq_of "$fdpid")
  local fdcpu runq wall
  fdcpu=$(echo "$fd1 - $fd0" | bc)
  runq=$(echo "$q1 - $q0" | bc)
  wall=$(echo "$t1 - $t0" | bc)
  if [ "$fdpid" = - ] && [ -f "$WORK/time" ]; then # the CLI: runstat.py's figures, its wall without python's start-up
    read -r _ _ _ runq wall <"$WORK/time"
    fdcpu=$(awk '{print $1 + $2}' "$WORK/time")
  fi
  printf '%s %s %.2f %.2f %.2f %.2f\n' "$label" "$case" "$wall" "$fdcpu" "$(echo "$pg1 - $pg0" | bc)" "$runq" |
    tee -a "$LOGS/figures"
}

copy_ceiling() {
  timeout "$MAX_SECONDS" "${PSQL[@]}" -d bench -c "COPY ($Q_MSG) TO STDOUT" >/dev/null
  timeout "$MAX_SECONDS" "${PSQL[@]}" -d bench -c "COPY ($Q_FB) TO STDOUT" >/dev/null
}

run_case() { # build case round
  local k=$1 c=$2 r=$3 body="$LOGS/body-$1-$(echo "$2" | tr -c 'A-Za-z0-9=\n' _)"
  if [[ $c == cli:* ]]; then
    local fd=FD_$k
    # shellcheck disable=SC2086
    measure "$k" "$c" - python3 "$REPO/bench/lib/runstat.py" "$WORK/time" "$MAX_SECONDS" "${!fd}" export \
      --project bench ${c#cli:} -o "$body" 2>/dev/null
    rm -f "$WORK/time"
  else
    measure "$k" "$c" "${SPID[$k]}" curl -sS --max-time "$MAX_SECONDS" -o "$body" -H "Authorization: Bearer $KEY" \
      "http://127.0.0.1:${SPORT[$k]}/v1/export?$c"
  fi
  sha256sum "$body" | cut -d' ' -f1 >"$body.sha"
}

copy_ceiling # warm the cache
for r in $(seq 1 "$ROUNDS"); do
  measure C copy - copy_ceiling
  order="A B"; [ $((r % 2)) = 0 ] && order="B A"
  for c in $CASES; do for k in $order; do run_case "$k" "$c" "$r"; done; done
  for f in "$LOGS"/body-A-*.sha; do
    g=${f/body-A-/body-B-}
    cmp -s "$f" "$g" || { echo "BODIES DIFFER: $f $g"; exit 1; }
  done
done
echo "bodies identical between A and B: $(ls "$LOGS"/body-A-*.sha | wc -l) cases x $ROUNDS rounds"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$LOGS/figures" <<'PY'
import statistics, sys
f = {}
for line in open(sys.argv[1]):
    k, c, *v = line.split(); f.setdefault((c, k), []).append([float(x) for x in v])
med = lambda xs: statistics.median(xs)
copy = f[("copy", "C")]
cw, cc = med([r[0] for r in copy]), med([r[2] for r in copy])
# wall - runq: the wall without feedbackd's run-queue wait (the cluster's is still in it)
print(f"copy ceiling: median wall {cw:.2f} s, cluster CPU {cc:.2f} s")
for c in dict.fromkeys(c for c, k in f if k != "C"):
    for k in "AB":
        rs = f[(c, k)]
        w, fc, pc, rq = (med([r[i] for r in rs]) for i in range(4))
        wq = med([r[0] - r[3] for r in rs])
        lo, hi = min(r[0] for r in rs), max(r[0] for r in rs)
        print(f"{c} {k}: median wall {w:.2f} s ({lo:.2f}-{hi:.2f}, copy/wall {cw / w:.2f}), feedbackd CPU {fc:.2f} s, cluster CPU {pc:.2f} s, total {fc + pc:.2f} s, feedbackd run-queue wait {rq:.2f} s, wall - runq {wq:.2f} s (n={len(rs)})")
    a, b = f[(c, "A")], f[(c, "B")]
    ta, tb = med([r[1] + r[2] for r in a]), med([r[1] + r[2] for r in b])
    print(f"{c} B/A: wall {med([r[0] for r in b]) / med([r[0] for r in a]):.3f}, CPU {tb / ta:.3f}")
PY
echo "logs: $LOGS"
