#!/usr/bin/env bash
# run.sh — quality and speed of the feedback detector (docs/detection.md): precision and
# recall per class and language on the dev part of the labelled set (the rules are tuned
# on it) and on the held-out part (never tuned on), then the time per turn. Builds
# build-release (meson --buildtype=release) unless BUILD_DIR names a configured build.
#
#   bench/detect/run.sh            VERBOSE=1 bench/detect/run.sh   (lists every wrong answer)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${BUILD_DIR:-build-release}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build" bench/detect/detect_bench >/dev/null
flags=()
[ "${VERBOSE:-0}" = 1 ] && flags=(-v)
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); build: $build"
echo "targets: precision >= 0.9 per class overall, recall >= 0.6; <= 5 us per turn"
"$build/bench/detect/detect_bench" "${flags[@]}" tests/data/detect/dev.tsv tests/data/detect/heldout.tsv
