#!/usr/bin/env bash
# ab.sh — server CPU per stored event of two feedbackd builds, measured in interleaved rounds
# (A B B A A B …) so that the load of a shared machine drifts over both alike. Each round is
# one bench/ingest/run.sh (own private PostgreSQL, schema migrated by that build); the figure
# compared is its "server CPU per stored event" (feedbackd + every PostgreSQL process +
# the stats catch-up, user+sys from /proc), which unlike events/s does not depend much on
# what else the machine runs.
#
#   bench/ingest/ab.sh BUILD_A BUILD_B            # two meson build dirs with a feedbackd each
#   ROUNDS=4 DURATION=10 bench/ingest/ab.sh /tmp/old/build-release build-release
#
# Prints one line per run and the median and mean per build; the per-run logs stay in $LOGS.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
A=$(cd "$1" && pwd)
B=$(cd "$2" && pwd)
ROUNDS="${ROUNDS:-3}"
LOGS="${LOGS:-$(mktemp -d /tmp/ingest-ab-XXXXXX)}"
mkdir -p "$LOGS"
export DURATION="${DURATION:-10}" HEALTH_DURATION="${HEALTH_DURATION:-1}"

run() { # label build round
  local log="$LOGS/$1-$3.txt"
  BUILD="$2" "$REPO/bench/ingest/run.sh" >"$log" 2>&1 || { echo "run $1 $3 failed:"; tail -20 "$log"; exit 1; }
  local us ev load
  us=$(sed -n 's/^RESULT server CPU.* = \([0-9.]*\) us per stored event.*/\1/p' "$log")
  ev=$(sed -n 's/^RESULT ingest: \([0-9,]*\) durable.*/\1/p' "$log")
  load=$(sed -n 's/^load average before: \([0-9.]*\).*/\1/p' "$log")
  read -r fdus pgus < <(sed -n 's/^RESULT server CPU split: feedbackd \([0-9.]*\) us + PostgreSQL \([0-9.]*\) us.*/\1 \2/p' "$log")
  echo "$1 round $3: $us us/event (feedbackd $fdus + PostgreSQL $pgus; $ev events/s, load $load)"
  echo "$1 $us $fdus $pgus" >>"$LOGS/figures"
}

for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run A "$A" "$r"; run B "$B" "$r"; else run B "$B" "$r"; run A "$A" "$r"; fi
done
python3 - "$LOGS/figures" <<'PY'
import statistics, sys
f = {}
for line in open(sys.argv[1]):
    k, *v = line.split(); f.setdefault(k, []).append([float(x) for x in v])
med = {}
for k in sorted(f):
    for i, what in enumerate(["total", "feedbackd", "PostgreSQL"]):
        xs = [r[i] for r in f[k]]
        med[k, what] = statistics.median(xs)
        print(f"AB {k} {what}: median {med[k, what]:.1f} us/event, mean {statistics.mean(xs):.1f} (n={len(xs)}: {xs})")
for what in ["total", "feedbackd", "PostgreSQL"]:
    print(f"AB B/A {what} (medians): {med['B', what] / med['A', what]:.3f}")
PY
echo "logs: $LOGS"
