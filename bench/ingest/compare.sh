#!/usr/bin/env bash
# compare.sh — feedbackd against a peer service in one run: alternating rounds of
# bench/ingest/run.sh (single-event POST /v1/feedback) and the peer's run.sh (the same
# request against a service a team would write instead, each on its own private durable
# PostgreSQL), plus a round of the batch endpoint (/v1/feedback/batch, BATCH events per
# request); prints the medians and the ratios feedbackd/peer of events/s, p99 and server
# CPU per event, and the figures against the targets of issue 15 (docs: bench/README.md).
#
#   bench/ingest/compare.sh                          # 3 rounds against the Node peer, 10 s runs
#   ROUNDS=5 DURATION=20 bench/ingest/compare.sh
#   PEER=node-cluster bench/ingest/compare.sh        # any peer of the peers' run.sh
#   PEERS_DIR=/path/to/peers bench/ingest/compare.sh # default: ../shared/peers of the project root
#   BATCH=0 bench/ingest/compare.sh                  # no batch rounds
#
# The batch rounds run at BATCH_CONNECTIONS (16): 64 connections of 100 events keep 6,400
# rows in flight, more than one project's share of the default ingest queue (a quarter of
# queue_capacity 20,000: docs/operations.md), so about half of them would be answered 503.
#
# Order per round: feedbackd, peer, batch in odd rounds and peer, feedbackd, batch in even
# ones, so that the load of a shared machine drifts over both alike. Server CPU per event is
# user+sys from /proc of the server's processes and of every process of its PostgreSQL cluster
# over the measured wrk run, divided by the events stored: feedbackd's figure includes its
# stats catch-up (run.sh waits for it), the peer has none. Without the peers' folder the
# feedbackd rounds run alone and no ratio is printed. Per-run logs stay in $LOGS.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
PEER="${PEER:-node}"
BATCH="${BATCH:-100}"
BATCH_CONNECTIONS="${BATCH_CONNECTIONS:-16}"
export CONNECTIONS="${CONNECTIONS:-64}"
export HEALTH_DURATION="${HEALTH_DURATION:-2}"
LOGS="${LOGS:-$(mktemp -d /tmp/ingest-compare-XXXXXX)}"
mkdir -p "$LOGS"
: >"$LOGS/figures"

# The peers live beside the project: ../shared/peers of the project root (of the main
# checkout when this is a linked git worktree).
find_peers() {
  local main
  for dir in "${PEERS_DIR:-}" "$REPO/../shared/peers"; do
    [ -n "$dir" ] && [ -x "$dir/run.sh" ] && { cd "$dir" && pwd; return; }
  done
  main=$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) || return 0
  [ -x "$main/../../shared/peers/run.sh" ] && { cd "$main/../../shared/peers" && pwd; }
  return 0
}
[ -n "${PEERS_DIR:-}" ] && [ ! -x "$PEERS_DIR/run.sh" ] && { echo "PEERS_DIR=$PEERS_DIR has no run.sh" >&2; exit 2; }
PEERS=$(find_peers)
if [ -z "$PEERS" ]; then
  echo "SKIP peer: no peers folder (looked for ../shared/peers beside the project root; set PEERS_DIR)." \
    "feedbackd rounds only, no ratios."
else
  # A writable copy, so the Node peer's `npm ci` fills a cache and not the shared folder.
  CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/feedbackd-bench/peers"
  mkdir -p "$CACHE"
  tar -C "$PEERS" --exclude=node_modules -cf - . | tar -C "$CACHE" -xf -
  chmod -R u+w "$CACHE"
  echo "peer: $PEER from $PEERS (run from $CACHE)"
fi
echo "$ROUNDS rounds of $DURATION s at $CONNECTIONS connections; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# user+sys clock ticks of a process (the name in field 2 may hold spaces)
ticks_of() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
descendants() {
  local c
  for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done
}
# The peer's server processes (descendants of its run.sh by name: not wrk, psql or the
# shell) and every process of its PostgreSQL cluster, one "pid kind ticks" line each.
peer_ticks() { # run.sh-pid tmpdir
  local p pm
  for p in $(descendants "$1"); do
    case "$(cat "/proc/$p/comm" 2>/dev/null)" in node | mhd_ceiling | python3 | uvicorn) echo "$p srv $(ticks_of "$p")" ;; esac
  done
  pm=$(head -1 "$2"/peers-bench.*/pg/data/postmaster.pid 2>/dev/null || true)
  if [ -n "$pm" ]; then
    for p in "$pm" $(pgrep -P "$pm" || true); do echo "$p pg $(ticks_of "$p")"; done
  fi
}
# "server postgres" ticks from the first snapshot to the last value each process showed in the
# later ones (taken every 0.5 s and once at the end: a process that exits meanwhile, such as
# an autovacuum worker or the ceiling peer stopped right after its result, still counts up to
# its last sample instead of dropping out or going negative)
ticks_between() {
  awk 'NF < 3 { next } NR == FNR { t0[$1] = $3; next } { if (!($1 in t1) || $3 > t1[$1]) t1[$1] = $3; kind[$1] = $2 }
       END { for (p in t1) d[kind[p]] += t1[p] - (p in t0 ? t0[p] : 0); print d["srv"] + 0, d["pg"] + 0 }' "$1" "$2"
}

fd_round() { # label round batch connections
  local log="$LOGS/$1-$2.txt"
  CONNECTIONS="$4" BATCH="$3" DURATION="$DURATION" "$REPO/bench/ingest/run.sh" >"$log" 2>&1 || { echo "$1 round $2 failed:"; tail -20 "$log"; exit 1; }
  local ev p99 us load
  ev=$(sed -n 's/^RESULT ingest: \([0-9,]*\) durable.*/\1/p' "$log" | tr -d ,)
  p99=$(sed -n 's/^RESULT ingest: .* p99 \([0-9.]*\) ms.*/\1/p' "$log")
  us=$(sed -n 's/^RESULT server CPU.* = \([0-9.]*\) us per stored event.*/\1/p' "$log")
  load=$(sed -n 's/^load average before: \([0-9.]*\).*/\1/p' "$log")
  echo "$1 round $2: $ev events/s, p99 $p99 ms, $us us CPU/event ($(sed -n 's/^RESULT server CPU split: //p' "$log"); load $load)"
  echo "$1 $ev $p99 $us" >>"$LOGS/figures"
}

peer_round() { # round
  local log="$LOGS/peer-$1.txt" err="$LOGS/peer-$1.err" tmp rp
  tmp=$(mktemp -d "$LOGS/tmp-XXXXXX")
  chmod 755 "$LOGS" "$tmp" # the peer's PostgreSQL runs as user postgres when this runs as root
  : >"$err"
  TMPDIR="$tmp" DURATION="${DURATION}s" THREADS="${WRK_THREADS:-2}" "$CACHE/run.sh" "$PEER" >"$log" 2>"$err" &
  rp=$!
  # CPU from the start of the measured wrk run (after the smoke test and warm-up) to its result
  until grep -q '^== measure' "$err"; do
    kill -0 "$rp" 2>/dev/null || { wait "$rp" || true; echo "peer round $1 failed:"; tail -n 20 "$err" "$log"; exit 1; }
    sleep 0.05
  done
  peer_ticks "$rp" "$tmp" >"$tmp/ticks0"
  local next=0
  until grep -q '^RESULT' "$log"; do
    kill -0 "$rp" 2>/dev/null || break
    if [ "$next" -le 0 ]; then peer_ticks "$rp" "$tmp" >>"$tmp/ticks1"; next=10; fi
    next=$((next - 1))
    sleep 0.05
  done
  peer_ticks "$rp" "$tmp" >>"$tmp/ticks1"
  local srv_ticks pg_ticks
  read -r srv_ticks pg_ticks < <(ticks_between "$tmp/ticks0" "$tmp/ticks1")
  wait "$rp" || { echo "peer round $1 failed:"; tail -n 20 "$err" "$log"; exit 1; }
  rm -rf "$tmp"
  local line rps p99 req non2xx us srv pg
  line=$(grep '^RESULT' "$log")
  rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
  p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  req=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")
  non2xx=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$line")
  [ "$non2xx" = 0 ] || { echo "peer round $1: $non2xx non-2xx answers"; exit 1; }
  grep -q '^CHECK ok' "$log" || [ "$PEER" = ceiling ] || { echo "peer round $1: rows check failed"; cat "$log"; exit 1; }
  read -r us srv pg < <(python3 -c "import sys; s, g, n, hz = map(float, sys.argv[1:]); f = lambda t: round(t / hz / max(n, 1) * 1e6)
print(f(s + g), f(s), f(g))" "$srv_ticks" "$pg_ticks" "$req" "$(getconf CLK_TCK)")
  [ "$srv" -gt 0 ] || { echo "peer round $1: no CPU time found for the peer's server process"; exit 1; }
  echo "peer round $1: ${rps%.*} events/s, p99 $p99 ms, $us us CPU/event ($PEER $srv us + PostgreSQL $pg us per event)"
  echo "peer ${rps%.*} $p99 $us" >>"$LOGS/figures"
}

for r in $(seq 1 "$ROUNDS"); do
  if [ -z "$PEERS" ]; then fd_round feedbackd "$r" 1 "$CONNECTIONS"
  elif [ $((r % 2)) = 1 ]; then fd_round feedbackd "$r" 1 "$CONNECTIONS"; peer_round "$r"
  else peer_round "$r"; fd_round feedbackd "$r" 1 "$CONNECTIONS"; fi
  [ "$BATCH" -gt 1 ] && fd_round batch "$r" "$BATCH" "$BATCH_CONNECTIONS"
done

python3 - "$LOGS/figures" "$PEER" "$BATCH" "$BATCH_CONNECTIONS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    k, *v = line.split()
    rows.setdefault(k, []).append([float(x) for x in v])
peer, batch = sys.argv[2], int(sys.argv[3])
med = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in rows.items()}
for k, label in (("feedbackd", "feedbackd POST /v1/feedback"), ("peer", f"peer {peer}"),
                 ("batch", f"feedbackd POST /v1/feedback/batch ({batch} events per request, {sys.argv[4]} connections)")):
    if k in med:
        ev, p99, us = med[k]
        print(f"RESULT {label}: median {ev:,.0f} events/s, p99 {p99:.1f} ms, {us:.0f} us server CPU per event (n={len(rows[k])})")
fd = med["feedbackd"]
def verdict(ok): return "met" if ok else "MISSED"
if "peer" in med:
    pe = med["peer"]
    print(f"RESULT ratio feedbackd/{peer}: events/s {fd[0] / pe[0]:.2f}x, p99 {fd[1] / pe[1]:.2f}x, "
          f"CPU per event {fd[2] / pe[2]:.2f}x")
    if peer.startswith("node"):
        print(f"TARGET events/s >= 5x the peer: {fd[0] / pe[0]:.2f}x {verdict(fd[0] >= 5 * pe[0])}")
print(f"TARGET >= 20,000 durable events/s: {fd[0]:,.0f} {verdict(fd[0] >= 20000)}")
print(f"TARGET p99 <= 20 ms at 64 connections: {fd[1]:.1f} ms {verdict(fd[1] <= 20)}")
print(f"TARGET server CPU <= 60 us per stored event: {fd[2]:.0f} us {verdict(fd[2] <= 60)}")
if "batch" in med:
    print(f"TARGET batch >= 100,000 events/s: {med['batch'][0]:,.0f} {verdict(med['batch'][0] >= 100000)}")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); logs: $LOGS"
