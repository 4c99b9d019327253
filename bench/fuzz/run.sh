#!/usr/bin/env bash
# run.sh — fuzzing campaign: every libFuzzer target of tests/fuzz (ASan + UBSan, built by
# clang into build-fuzz with -Dwerror=true) for N executions each, from its checked-in seed
# corpus and dictionary. Prints per target: executions, exec/s, wall time, coverage (edges
# "cov" and features "ft" at the end) and findings (crash/leak/timeout/oom inputs written).
# Not a test (CI runs the short version, scripts/test.sh fuzz). The checked-in corpus is
# never written to; new inputs go to a temporary copy.
#
#   bench/fuzz/run.sh                          # 10,000,000 executions per target
#   bench/fuzz/run.sh --runs 100000            # a quick pass
#   bench/fuzz/run.sh --targets rfc3339,router # some targets only (names without fuzz_)
#   bench/fuzz/run.sh --record                 # also append the table to bench/README.md
#
# Env: BUILD (build-fuzz), KEEP=1 keeps the work directory (corpora, logs, findings).
# Exit status: 0 when no target had a finding.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="${BUILD:-$REPO/build-fuzz}"
RUNS=10000000
RECORD=0
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --runs=*) RUNS="${1#*=}"; shift ;;
    --targets) ONLY="$2"; shift 2 ;;
    --targets=*) ONLY="${1#*=}"; shift ;;
    --record) RECORD=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$RUNS" in ''|*[!0-9]*) echo "run.sh: --runs needs a number" >&2; exit 2 ;; esac

cd "$REPO"
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang meson setup "$BUILD" --buildtype=debugoptimized -Dfuzz=true -Db_lundef=false -Dwerror=true
fi
ninja -C "$BUILD" >/dev/null

targets=()
if [ -n "$ONLY" ]; then
  IFS=, read -r -a names <<<"$ONLY"
  for n in "${names[@]}"; do targets+=("$BUILD/tests/fuzz/fuzz_$n"); done
else
  mapfile -t targets < <(find "$BUILD/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
fi
[ ${#targets[@]} -gt 0 ] || { echo "run.sh: no fuzz targets in $BUILD/tests/fuzz" >&2; exit 1; }

WORK=$(mktemp -d /tmp/fd-fuzz.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

rows=() total_findings=0
for t in "${targets[@]}"; do
  [ -x "$t" ] || { echo "run.sh: $t not built" >&2; exit 1; }
  name=$(basename "$t" | sed 's/^fuzz_//')
  corpus="$WORK/$name/corpus" art="$WORK/$name/findings"
  mkdir -p "$corpus" "$art"
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
  echo "--- fuzz_$name: $RUNS executions ($WORK/$name/log)"
  start=$(date +%s.%N)
  rc=0
  "$t" -runs="$RUNS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$art/" "$corpus" >"$WORK/$name/log" 2>&1 || rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$name/log" | tail -1)
  # exec/s over the whole wall time (libFuzzer's own average is rounded to whole seconds)
  eps=$( [ -n "$execs" ] && echo "$execs / $secs" | bc || true)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$WORK/$name/log" | tail -1 | awk '{print $2 " / " $4}')
  findings=$(find "$art" -type f | wc -l)
  [ "$rc" -eq 0 ] || [ "$findings" -gt 0 ] || findings=1 # died without writing an input
  total_findings=$((total_findings + findings))
  if [ "$findings" -gt 0 ]; then
    echo "    FINDING (exit $rc):"; grep -E 'ERROR|SUMMARY|runtime error' "$WORK/$name/log" | head -5 | sed 's/^/    /'
    cp -r "$art" "$BUILD/fuzz-findings-$name" 2>/dev/null || true
    echo "    inputs copied to $BUILD/fuzz-findings-$name/"
  fi
  row=$(printf '| fuzz_%s | %s | %s | %.0f | %s | %s |' "$name" "${execs:-?}" "${eps:-?}" "$secs" "${cov:-?}" "$findings")
  echo "$row"
  rows+=("$row")
done

header="| target | executions | exec/s | seconds | cov / ft (edges / features) | findings |
|---|---|---|---|---|---|"
echo
echo "$header"
printf '%s\n' "${rows[@]}"

if [ "$RECORD" = 1 ]; then
  {
    echo
    echo "## fuzz ($(date +%F), bench/fuzz/run.sh --runs $RUNS)"
    echo
    echo "Every target of tests/fuzz under ASan + UBSan (clang $(clang -dumpversion), build-fuzz,"
    echo "debugoptimized), $RUNS executions each from its seed corpus and dictionary, one at a time."
    echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared)."
    echo
    echo "$header"
    printf '%s\n' "${rows[@]}"
  } >>bench/README.md
  echo "appended to bench/README.md"
fi
[ "$total_findings" -eq 0 ]
