#!/usr/bin/env bash
# setup.sh — install what feedbackd needs (only what is missing) and build it into build/.
# Idempotent: a second run installs nothing and only lets ninja check the build.
#
#   scripts/setup.sh                 build dependencies + PostgreSQL 15 server binaries, build
#   scripts/setup.sh --test          also everything the test suites need (then `npm ci` when
#                                    node_modules is missing or differs from package-lock.json)
#   scripts/setup.sh --test=unit,integration   only what these suites need
#                                    (suites: lint unit integration integration-pgbouncer
#                                    e2e asan fuzz; haproxy alone for bench/scale)
#   scripts/setup.sh --no-build      install only
#   scripts/setup.sh --binary-only   build only the feedbackd binary (what start.sh needs)
#
# Exit status: 0 ready; 3 ready except node_modules (npm ci failed); else a failure.
#
# Works as root on a bare Debian 12 (apt-get), or as a user with sudo.
# Env: FEEDBACKD_BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/common.sh

test_suites=""
build=1
target=""
npm_failed=0
for arg in "$@"; do
  case "$arg" in
    --test) test_suites="lint unit integration e2e asan fuzz" ;;
    --test=*) test_suites="${arg#--test=}"; test_suites="${test_suites//,/ }" ;;
    --no-build) build=0 ;;
    --binary-only) target=feedbackd ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) fd_die "unknown argument '$arg' (see --help)" ;;
  esac
done
wants() { case " $test_suites " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
build_dir=${FEEDBACKD_BUILD_DIR:-build}

# --- system packages --------------------------------------------------------------------
pkgs=(gcc libc6-dev meson ninja-build pkgconf python3 libmicrohttpd-dev libjansson-dev libpq-dev libssl-dev
      ca-certificates)
if wants integration || wants asan || wants integration-pgbouncer; then
  pkgs+=(python3-pytest python3-requests python3-psycopg2 python3-jsonschema python3-yaml)
fi
# `docker-compose config` validates docker-compose.yml and docker-compose.ha.yml
# (tests/integration/test_compose.py); it needs no Docker daemon
if wants integration; then
  pkgs+=(docker-compose)
fi
# PgBouncer in front of each test cluster (integration-pgbouncer) and in the tests that start
# one themselves (test_replicas.py, test_pgbouncer_migrations.py, test_compose.py); haproxy in
# front of several feedbackd replicas (test_replicas.py, bench/scale). Started by the tests,
# never as services.
if wants integration || wants integration-pgbouncer; then
  pkgs+=(pgbouncer)
fi
if wants integration || wants integration-pgbouncer || wants haproxy; then
  pkgs+=(haproxy)
fi
if wants fuzz; then
  pkgs+=(clang libclang-rt-14-dev)
fi
if wants lint; then
  pkgs+=(clang-format)  # Debian 12: clang-format 14, the version the tree is formatted with
fi
# node_modules: the browser tests, and the integration tests' webhook receiver (it verifies
# signatures with the standardwebhooks package)
wants_node() { wants e2e || wants integration || wants asan; }
if wants e2e; then
  pkgs+=(chromium)
fi
if wants_node; then
  # node >= 18 (any source: Debian's nodejs, NodeSource, nvm); Debian's npm only with Debian's node
  if ! command -v node >/dev/null 2>&1; then
    pkgs+=(nodejs npm)
  elif ! command -v npm >/dev/null 2>&1; then
    pkgs+=(npm)
  fi
fi

fd_apt_install_missing "${pkgs[@]}"

# PostgreSQL 15 server binaries (for the embedded cluster and the tests). Nothing in the
# build needs them, so on a bare machine they are installed while the compiler runs.
pg_job="" pg_log=""
if ! fd_pkg_installed postgresql-15; then
  # Debian's postgresql package would create and start a system cluster on port 5432.
  # feedbackd runs its own (embedded) cluster, so tell postgresql-common not to.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    fd_log "writing /etc/postgresql-common/createcluster.conf (create_main_cluster = false)"
    fd_as_root mkdir -p /etc/postgresql-common
    printf '%s\n' "# written by feedbackd's scripts/setup.sh: no system cluster on package install" \
      "create_main_cluster = false" | fd_as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  if [ "$build" = 1 ] && [ "$(id -u)" -eq 0 ]; then  # (sudo might need to ask for a password)
    pg_log=$(mktemp /tmp/feedbackd-setup-pg.XXXXXX)
    fd_log "installing postgresql-15 in the background while building (log: $pg_log)"
    fd_apt_install_missing postgresql-15 >"$pg_log" 2>&1 &
    pg_job=$!
  else
    fd_apt_install_missing postgresql-15
  fi
fi

if wants_node; then
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$major" -ge 18 ] || fd_die "node >= 18 is needed for the browser tests and the webhook receiver (found $(node --version 2>/dev/null || echo none))"
  # npm ci when node_modules is missing or does not hold exactly what package-lock.json pins
  if [ -f package-lock.json ]; then
    if ! node -e '
      const fs = require("fs");
      const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
      for (const [p, info] of Object.entries(lock.packages || {})) {
        if (!p.startsWith("node_modules/") || info.optional) continue;
        let have;
        try { have = JSON.parse(fs.readFileSync(p + "/package.json", "utf8")).version; } catch { process.exit(1); }
        if (have !== info.version) process.exit(1);
      }' 2>/dev/null; then
      fd_log "npm ci (node_modules missing or out of date)"
      if ! npm ci --no-audit --no-fund; then
        # only the browser tests and the webhook receiver need node_modules: build anyway, report it at the end
        npm_failed=1
        fd_warn "npm ci failed: the browser tests (tests/e2e) cannot run"
      fi
    fi
  fi
fi

# --- build ------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  if ! fd_meson_configured "$build_dir"; then
    fd_log "configuring $build_dir"
    meson setup "$build_dir" --buildtype=debugoptimized -Dwerror=true
  fi
  fd_log "building $build_dir${target:+ ($target)}"
  ninja -C "$build_dir" -j "$(fd_jobs)" $target
fi
if [ -n "$pg_job" ]; then
  if ! wait "$pg_job"; then
    cat "$pg_log" >&2
    fd_die "installing postgresql-15 failed (output above)"
  fi
  tail -n 3 "$pg_log" >&2
  rm -f "$pg_log"
  fd_pkg_installed postgresql-15 || fd_die "postgresql-15 is still not installed"
fi
if [ "$npm_failed" = 1 ]; then
  fd_warn "everything else is ready; npm ci failed (see above)"
  exit 3
fi
