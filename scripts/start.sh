#!/usr/bin/env bash
# start.sh — one command to run feedbackd: installs what is missing, builds, then serves.
#
#   ./scripts/start.sh [serve flags]      e.g. ./scripts/start.sh --listen 0.0.0.0:8080
#
# Without FEEDBACKD_DATABASE_URL feedbackd runs its own private PostgreSQL in ./var (as the
# `postgres` user when started as root); the first start prints an admin and an ingest key.
# Every FEEDBACKD_* variable and flag of `feedbackd --help` applies. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --binary-only
exec "${FEEDBACKD_BUILD_DIR:-build}/feedbackd" serve "$@"
