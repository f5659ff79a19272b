# scripts/deps.sh - the Debian packages gctune uses, and a function that
# installs the missing ones.  Sourced by scripts/bootstrap.sh and .ci/run.
#
#   gctune_install_deps    installs what dpkg-query does not report as
#                          installed (apt-get; sudo when not root)
#
# Set GCTUNE_NO_INSTALL=1 to only list what is missing.

# shellcheck shell=bash

GCTUNE_DEB_PACKAGES=(
    build-essential   # gcc, make, binutils (nm)
    autoconf
    automake
    libtool
    pkg-config
    libcmocka-dev     # make check
    libunwind-dev     # profiler: stack traces
    libsqlite3-dev    # profiler: the run database
    sqlite3           # inspecting run databases
    libdw-dev         # symbolizer
    zlib1g-dev        # pprof export (gzip)
    gnuplot-nox       # gctune report
    libgc-dev         # Boehm GC backend, bench peer
    libjemalloc-dev   # bench peer
    libmimalloc-dev   # bench peer
    golang-go         # bench peer, gctrace import tests
    heaptrack         # bench peer of the malloc backend (bench/preload.sh)
    clang             # make stress-fuzz (libFuzzer); make check does not need it
)

# Prints the packages of GCTUNE_DEB_PACKAGES that are not installed.
gctune_missing_deps() {
    local pkg
    for pkg in "${GCTUNE_DEB_PACKAGES[@]}"; do
        if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
            echo "$pkg"
        fi
    done
}

gctune_install_deps() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "==> not a Debian-based system: install the equivalents of these packages yourself:"
        echo "    ${GCTUNE_DEB_PACKAGES[*]}"
        return 0
    fi
    local missing
    missing=$(gctune_missing_deps | tr '\n' ' ')
    missing=${missing% }
    if [ -z "$missing" ]; then
        echo "==> all build dependencies are installed"
        return 0
    fi
    echo "==> missing Debian packages: $missing"
    if [ "${GCTUNE_NO_INSTALL:-0}" = 1 ]; then
        echo "==> GCTUNE_NO_INSTALL=1: not installing them"
        return 0
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "error: not root and sudo is not available; as root run:" >&2
            echo "  apt-get update && apt-get install -y $missing" >&2
            return 1
        fi
        sudo="sudo"
    fi
    echo "==> $sudo apt-get update && apt-get install -y $missing"
    # shellcheck disable=SC2086
    $sudo apt-get update
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}
