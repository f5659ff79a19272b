#!/bin/sh
# scripts/check-sanitizers.sh [DIR] - the test suite under ASan + UBSan
# (`make check-sanitizers`; README "Testing"), in a build of its own:
# DIR (default build-san/ at the top of the source tree) is configured with
# --enable-sanitizers and `make check` runs there.  The collector itself is
# built with UBSan only (configure.ac, Makefile.am).
#
# A source tree configured in place cannot also be built out of tree
# (configure refuses), so then the sources (git ls-files: tracked and
# untracked but not ignored) are copied to DIR/src and built there; an
# unconfigured tree is built out of tree from DIR.  Make runs with
# -j${GCTUNE_JOBS:-2}.  Exits with make check's status.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$src/build-san}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
jobs=${GCTUNE_JOBS:-2}
unset MAKEFLAGS MFLAGS MAKELEVEL
if [ -f "$src/config.status" ] || [ ! -x "$src/configure" ]; then
    command -v git >/dev/null 2>&1 && git -C "$src" rev-parse >/dev/null 2>&1 || {
        echo "check-sanitizers: $src is configured in place (or has no configure) and is not a git" >&2
        echo "  checkout: build it out of tree instead, e.g. mkdir b && cd b && ../configure --enable-sanitizers && make check" >&2
        exit 1
    }
    echo "==> copying the sources to $dir/src"
    mkdir -p "$dir/src"
    (cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 tar cf -) | (cd "$dir/src" && tar xf -)
    cd "$dir/src"
    [ -x configure ] && [ ! configure.ac -nt configure ] && [ ! Makefile.am -nt configure ] || autoreconf -fi
    [ -f config.status ] || ./configure --enable-sanitizers
else
    cd "$dir"
    [ -f config.status ] || "$src/configure" --enable-sanitizers
fi
grep -q 'enable-sanitizers' config.status || {
    echo "check-sanitizers: $(pwd) is configured without --enable-sanitizers; remove it and rerun" >&2
    exit 1
}
echo "==> make -j$jobs check in $(pwd)"
exec make -j"$jobs" check
