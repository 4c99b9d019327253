# common.sh — shell helpers shared by scripts/setup.sh, start.sh and test.sh (sourced, not run).
# Keeps the scripts' own logic short: messages, root/sudo, and "install only what is missing".

fd_log() { printf '==> %s\n' "$*" >&2; }
fd_warn() { printf 'warning: %s\n' "$*" >&2; }
fd_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
fd_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    fd_die "need root for: $* (run as root or install sudo)"
  fi
}

# True when the Debian package is installed (not merely known or half-configured).
fd_pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# apt-get install the given packages that are not installed yet; nothing (not even
# apt-get update, which runs once per script) when all are there. UCF_FORCE_CONFFOLD keeps configuration files that
# exist already (our createcluster.conf) without asking. --force-unsafe-io skips dpkg's
# fsync per file (as Docker's Debian images do): several times faster on slow disks; only
# an install interrupted by a power cut would need repeating.
fd_apt_install_missing() {
  local missing=() p
  for p in "$@"; do fd_pkg_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || fd_die "missing packages ${missing[*]} and no apt-get: install them by hand"
  fd_log "installing ${missing[*]}"
  if [ -z "${FD_APT_UPDATED:-}" ]; then
    fd_as_root apt-get update -q
    FD_APT_UPDATED=1
  fi
  fd_as_root env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 \
    apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold \
    -o Dpkg::Options::=--force-unsafe-io "${missing[@]}"
}

# Is the meson build directory $1 configured?
fd_meson_configured() { [ -f "$1/build.ninja" ] && [ -f "$1/meson-private/coredata.dat" ]; }

# Number of parallel jobs for builds.
fd_jobs() { nproc 2>/dev/null || echo 2; }
