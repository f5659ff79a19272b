# tests/backends/preload_env.sh - the common start of the tests that
# LD_PRELOAD libgctune-preload.so; sourced as
#   . "$top_srcdir/tests/backends/preload_env.sh"
# (no arguments: dash's `.` passes none, so the name of the temporary
# directory comes from the test script's own name, $0).
# Skips (exit 77) without the sqlite3 command or in an ASan build
# (--enable-sanitizers: the interposer carries ASan, which cannot be
# preloaded); fails when the library is not built.  Sets lib (the
# library), tmp (a directory /tmp/gctune-TEST-XXXXXX, removed at exit) and
# fail (prints FAIL: ... and exits 1).
set -u
: "${top_builddir:?}"
[ -z "${GCTUNE_SANITIZERS:-}" ] || { echo "SKIP: an ASan build (--enable-sanitizers) cannot be LD_PRELOADed"; exit 77; }
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 command not found (Debian package sqlite3)"; exit 77; }
lib="$top_builddir/.libs/libgctune-preload.so"
[ -f "$lib" ] || { echo "FAIL: $lib not built"; exit 1; }
tmp=$(mktemp -d "/tmp/gctune-$(basename "$0" .sh)-XXXXXX") && [ -d "$tmp" ] ||
    { echo "FAIL: cannot make a temporary directory"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
