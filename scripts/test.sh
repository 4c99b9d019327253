#!/usr/bin/env bash
# test.sh — install what the tests need, build, run every test suite, and end with ONE line
# `N passed, N failed` (the sum over all suites). Exit status 0 only when nothing failed.
#
#   scripts/test.sh                      all suites
#   scripts/test.sh unit integration     only these (or FEEDBACKD_TEST_SUITES="unit e2e")
#
# Suites (default: all, in this order):
#   lint              three checks: scripts/check-layers.sh (each room of server/ includes only
#                     itself and the rooms below it; any #include going up fails it),
#                     scripts/format.sh --check (every C file as clang-format 14 writes it) and
#                     scripts/check-doc-links.sh (the code cites only docs/ files and headings
#                     that exist)
#   unit              C unit tests: meson test --suite unit (counted from meson's JSON test log)
#   integration       pytest tests/integration, the real binary against a throwaway PostgreSQL
#                     (counted from the JUnit XML report)
#   integration-pgbouncer  the integration suite again with feedbackd connected through a
#                     PgBouncer in transaction pooling (prepared_statements = false) in front
#                     of each test cluster; the tests' own SQL checks still go to PostgreSQL
#                     (FEEDBACKD_TEST_PGBOUNCER=1, tests/integration/pgbouncer.py)
#   e2e               browser tests: node --test tests/e2e, one file at a time (counted from TAP)
#   asan-unit         the unit suite again, built with -Db_sanitize=address,undefined (build-asan)
#   asan-integration  the integration suite again against build-asan/feedbackd (a test whose
#                     feedbackd wrote a sanitizer report to its log fails at teardown with it)
#   fuzz              libFuzzer targets of tests/fuzz, built with clang (build-ci-fuzz), each run
#                     on its seed corpus and dictionary for FEEDBACKD_FUZZ_SECONDS (default: 80 s
#                     shared by all targets, at least 5 each); long runs: bench/fuzz/run.sh
#   (`asan` selects both asan suites.)
#
# Env: FEEDBACKD_BUILD_DIR (build), FEEDBACKD_ASAN_BUILD_DIR (build-asan),
#      FEEDBACKD_FUZZ_BUILD_DIR (build-ci-fuzz); PYTEST_ADDOPTS works as usual (e.g. "-k readyz -x").
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/common.sh

all_suites="lint unit integration e2e asan-unit asan-integration fuzz"
requested="${*:-${FEEDBACKD_TEST_SUITES:-$all_suites}}"
suites=""
for s in $requested; do
  case "$s" in
    asan) suites="$suites asan-unit asan-integration" ;;
    lint|unit|integration|integration-pgbouncer|e2e|asan-unit|asan-integration|fuzz) suites="$suites $s" ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown suite '$s' (known: $all_suites asan)" >&2; exit 2 ;;
  esac
done
build_dir=${FEEDBACKD_BUILD_DIR:-build}
asan_dir=${FEEDBACKD_ASAN_BUILD_DIR:-build-asan}
fuzz_dir=${FEEDBACKD_FUZZ_BUILD_DIR:-build-ci-fuzz}
python=/usr/bin/python3  # Debian's, with python3-pytest/requests/psycopg2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

total_pass=0 total_fail=0
report=()
record() {  # suite passed failed [note]
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
  report+=("$(printf '%-17s %4d passed, %4d failed  %5ss%s' "$1:" "$2" "$3" $((SECONDS - section_start)) \
    "${4:+  ($4)}")")
  echo "--- $1: $2 passed, $3 failed${4:+ ($4)}"
}
finish() {
  echo
  echo "=== test summary (${SECONDS}s in all)"
  local line
  for line in "${report[@]}"; do echo "$line"; done
  echo "$total_pass passed, $total_fail failed"
  [ "$total_fail" -eq 0 ]
  exit $?
}
has() { case " $suites " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
section_start=0
section() { section_start=$SECONDS; echo; echo "=== $*"; }

# --- set-up: packages (only those the chosen suites need) and the main build --------------
setup_for=""
for s in $suites; do
  case "$s" in asan-*) s=asan ;; esac
  case ",$setup_for," in *",$s,"*) ;; *) setup_for="$setup_for,$s" ;; esac
done
section "setup (scripts/setup.sh --test=${setup_for#,})"
bash scripts/setup.sh "--test=${setup_for#,}"
setup_rc=$?
npm_failed=0
if [ "$setup_rc" -eq 3 ]; then
  npm_failed=1  # only the browser tests and the webhook tests are affected
elif [ "$setup_rc" -ne 0 ]; then
  record setup 0 1 "scripts/setup.sh failed: packages or the build of $build_dir, see above"
  finish
fi

# count_meson DIR LOGBASE SUITE: passed/failed from meson's JSON test log
count_meson() {
  local json="$1/meson-logs/$2.json"
  [ -f "$json" ] || { echo "0 0"; return; }
  "$python" - "$json" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line).get("result", "")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r != "SKIP":
        bad += 1   # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS
print(ok, bad)
PY
}

run_lint() {
  section "lint: scripts/check-layers.sh, scripts/format.sh --check, scripts/check-doc-links.sh"
  local p=0 f=0 note=""
  if bash scripts/check-layers.sh; then
    p=$((p + 1))
  else
    f=$((f + 1)); note="an #include goes up a room"
  fi
  if bash scripts/format.sh --check; then
    p=$((p + 1))
  else
    f=$((f + 1)); note="${note:+$note; }C files not formatted: run scripts/format.sh or ninja -C $build_dir format"
  fi
  if bash scripts/check-doc-links.sh; then
    p=$((p + 1))
  else
    f=$((f + 1)); note="${note:+$note; }a comment cites documentation that is not in docs/"
  fi
  record lint "$p" "$f" "$note"
}

run_unit() {  # name builddir
  local name=$1 dir=$2 rc p f
  section "$name: meson test -C $dir --suite unit"
  rm -f "$dir/meson-logs/$name.json"
  meson test -C "$dir" --suite unit --print-errorlogs --logbase "$name" --num-processes "$(fd_jobs)"
  rc=$?
  read -r p f < <(count_meson "$dir" "$name")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    record "$name" "$p" 1 "meson test exited $rc without a failing test: build error or no unit tests?"
  else
    record "$name" "$p" "$f"
  fi
}

# count_junit FILE: passed failed from a JUnit XML report
count_junit() {
  [ -f "$1" ] || { echo "0 0"; return; }
  "$python" - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = s = 0
for su in suites:
    t += int(su.get("tests", 0))
    f += int(su.get("failures", 0)) + int(su.get("errors", 0))
    s += int(su.get("skipped", 0))
print(t - f - s, f)
PY
}

run_integration() {  # name binary [pgbouncer]
  local name=$1 bin=$2 pooler=${3:-} xml rc p f
  xml="$(dirname "$bin")/$name.xml"
  section "$name: pytest tests/integration (FEEDBACKD_BIN=$bin${pooler:+, through PgBouncer})"
  if [ ! -d tests/integration ]; then
    record "$name" 0 0 "no tests/integration directory"
    return
  fi
  rm -f "$xml"
  FEEDBACKD_TEST_PGBOUNCER=${pooler:+1} FEEDBACKD_BIN="$bin" "$python" -m pytest -p no:cacheprovider -ra tests/integration --junitxml="$xml" \
    -o junit_family=xunit2
  rc=$?
  read -r p f < <(count_junit "$xml")
  if [ "$rc" -eq 5 ]; then
    record "$name" "$p" $((f + 1)) "pytest collected no tests"
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    record "$name" "$p" 1 "pytest exited $rc (collection or internal error, see above)"
  else
    record "$name" "$p" "$f"
  fi
}

run_e2e() {
  section "e2e: node --test tests/e2e (one file at a time)"
  if [ "$npm_failed" = 1 ]; then
    record e2e 0 1 "npm ci failed in setup: no node_modules"
    return
  fi
  local files=() f tap rc p=0 n=0 fp ff
  mapfile -t files < <(find tests/e2e -path '*/node_modules' -prune -o -type f \
    \( -name '*.test.mjs' -o -name '*.test.js' -o -name '*.test.cjs' -o -name '*_test.mjs' -o -name '*-test.mjs' \) \
    -print 2>/dev/null | sort)
  if [ ${#files[@]} -eq 0 ]; then
    record e2e 0 0 "no browser test files"
    return
  fi
  mkdir -p "$build_dir"
  for f in "${files[@]}"; do
    tap="$build_dir/e2e-$(basename "$f").tap"
    rm -f "$tap"
    echo "--- $f"
    FEEDBACKD_BIN="$build_dir/feedbackd" node --test --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" "$f"
    rc=$?
    # the TAP summary at the end: "# pass N", "# fail N", "# cancelled N"
    fp=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n 1)
    ff=$(sed -n 's/^# \(fail\|cancelled\) \([0-9][0-9]*\)$/\2/p' "$tap" 2>/dev/null | awk '{s += $1} END {print s + 0}')
    fp=${fp:-0}
    if [ "$rc" -ne 0 ] && [ "$ff" -eq 0 ]; then ff=1; fi  # crashed before reporting a failure
    p=$((p + fp)); n=$((n + ff))
  done
  record e2e "$p" "$n"
}

run_fuzz() {
  section "fuzz: libFuzzer targets of tests/fuzz (clang, $fuzz_dir)"
  if ! command -v clang >/dev/null 2>&1; then
    record fuzz 0 1 "clang not installed"
    return
  fi
  if ! fd_meson_configured "$fuzz_dir"; then
    CC=clang meson setup "$fuzz_dir" --buildtype=debugoptimized -Dfuzz=true -Db_lundef=false -Dwerror=true \
      || { record fuzz 0 1 "meson setup failed"; return; }
  fi
  ninja -C "$fuzz_dir" -j "$(fd_jobs)" || { record fuzz 0 1 "build failed"; return; }
  local targets=() t name corpus dict work p=0 n=0 secs
  mapfile -t targets < <(find "$fuzz_dir/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x 2>/dev/null | sort)
  if [ ${#targets[@]} -eq 0 ]; then
    record fuzz 0 0 "no fuzz targets built"
    return
  fi
  # CI keeps the whole suite short: the time is shared (the 10M-run campaigns are bench/fuzz)
  secs=${FEEDBACKD_FUZZ_SECONDS:-$((80 / ${#targets[@]}))}
  [ "$secs" -ge 5 ] || secs=5
  for t in "${targets[@]}"; do
    name=$(basename "$t" | sed 's/^fuzz_//')
    corpus="tests/fuzz/corpus/$name" dict="tests/fuzz/$name.dict"
    work=$(mktemp -d)   # new inputs go here, never into the checked-in corpus
    echo "--- $t: ${secs} s on $corpus"
    if "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        $( [ -f "$dict" ] && echo "-dict=$dict" ) \
        -artifact_prefix="$fuzz_dir/" "$work" $( [ -d "$corpus" ] && echo "$corpus" ); then
      p=$((p + 1))
    else
      n=$((n + 1)); echo "--- $t FAILED (crash input saved under $fuzz_dir/)"
    fi
    rm -rf "$work"
  done
  record fuzz "$p" "$n"
}

has lint && run_lint
has unit && run_unit unit "$build_dir"
has integration && run_integration integration "$build_dir/feedbackd"
has integration-pgbouncer && run_integration integration-pgbouncer "$build_dir/feedbackd" pgbouncer
has e2e && run_e2e
if has asan-unit || has asan-integration; then
  section "sanitizer build ($asan_dir: -Db_sanitize=address,undefined)"
  asan_ok=1
  if ! fd_meson_configured "$asan_dir"; then
    meson setup "$asan_dir" --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
      || asan_ok=0
  fi
  [ "$asan_ok" = 1 ] && { ninja -C "$asan_dir" -j "$(fd_jobs)" || asan_ok=0; }
  if [ "$asan_ok" = 1 ]; then
    has asan-unit && run_unit asan-unit "$asan_dir"
    has asan-integration && run_integration asan-integration "$asan_dir/feedbackd"
  else
    record asan-build 0 1 "the sanitizer build failed"
  fi
fi
has fuzz && run_fuzz
finish
