#!/bin/sh
# vendor-assets.sh — copy the front-end libraries the pages use from node_modules (pinned in
# package.json / package-lock.json) into static/vendor/, where they are committed, embedded into
# the binary and served without any CDN (the dashboard must work offline).
#
# usage: scripts/vendor-assets.sh            (after `npm ci`; run from anywhere)
# Re-run it whenever package.json changes a vendored library's version and commit the result;
# tests/e2e/dashboard.test.mjs fails while the committed copy differs from node_modules.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/node_modules/chart.js"
dst="$root/static/vendor/chart.js"

if [ ! -f "$src/dist/chart.umd.min.js" ]; then
  echo "vendor-assets: $src/dist/chart.umd.min.js not found; run 'npm ci' first" >&2
  exit 1
fi

mkdir -p "$dst"
cp "$src/dist/chart.umd.min.js" "$dst/chart.umd.min.js"
cp "$src/LICENSE.md" "$dst/LICENSE.md"
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$src/package.json" | head -n 1)
echo "vendor-assets: chart.js $version -> static/vendor/chart.js/"
