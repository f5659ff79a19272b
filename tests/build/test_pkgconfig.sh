#!/bin/sh
# test_pkgconfig.sh - the installed library is usable through pkg-config.
#
# Installs the build tree with `make install DESTDIR=<tmp>` (the configured
# prefix and libdir are kept, so any --prefix/--libdir works), then builds a
# small program outside the tree with
#   cc app.c $(pkg-config --cflags --libs gctune)
# where pkg-config sees only the staged gctune.pc (PKG_CONFIG_LIBDIR) and
# rewrites its -I/-L paths into the staging directory
# (PKG_CONFIG_SYSROOT_DIR), and runs it against the staged libgctune.so.
#
# Environment (set by Makefile.am): top_builddir, MAKE, CC, PKG_CONFIG,
# libdir, includedir, pkgconfigdir.

set -eu

: "${top_builddir:=.}"
: "${MAKE:=make}"
: "${CC:=cc}"
: "${PKG_CONFIG:=pkg-config}"
if [ -z "${libdir:-}" ] || [ -z "${includedir:-}" ] || [ -z "${pkgconfigdir:-}" ]; then
    echo "ERROR: libdir, includedir and pkgconfigdir must be set (run this test through make check)"
    exit 99
fi
if [ ! -e "$top_builddir/.libs/libgctune.so" ]; then
    echo "SKIP: no shared libgctune.so (configured with --disable-shared?)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-pkgconfig.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stage="$tmp/stage"

echo "staging install: $MAKE -C $top_builddir install DESTDIR=$stage"
# MAKEFLAGS etc. are unset by AM_TESTS_ENVIRONMENT; unset again for direct runs.
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL; $MAKE -C "$top_builddir" install DESTDIR="$stage") \
        >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    echo "FAIL: make install DESTDIR=$stage"
    exit 1
fi

for f in "$stage$includedir/gctune/gc.h" "$stage$pkgconfigdir/gctune.pc" \
         "$stage$libdir/libgctune.so"; do
    if [ ! -e "$f" ]; then
        echo "FAIL: not installed: $f"
        find "$stage" | sed 's/^/  /'
        exit 1
    fi
done

flags=$(PKG_CONFIG_LIBDIR="$stage$pkgconfigdir" PKG_CONFIG_PATH='' \
        PKG_CONFIG_SYSROOT_DIR="$stage" $PKG_CONFIG --cflags --libs gctune)
echo "pkg-config --cflags --libs gctune: $flags"

mkdir "$tmp/app"
cat >"$tmp/app/app.c" <<'APP'
#include <gctune/gc.h>
#include <stdio.h>
#include <string.h>

static void *volatile keep;   /* a root in .bss */

int main(void)
{
    unsigned char *p = gc_malloc(100);
    if (p == NULL) { puts("gc_malloc returned NULL"); return 1; }
    for (int i = 0; i < 100; i++)
        if (p[i] != 0) { puts("gc_malloc memory is not zeroed"); return 1; }
    memset(p, 0xab, 100);

    char *s = gc_strdup("hello, gctune");
    if (s == NULL || strcmp(s, "hello, gctune") != 0) { puts("gc_strdup"); return 1; }
    keep = s;

    gc_collect();

    for (int i = 0; i < 100; i++)
        if (p[i] != 0xab) { puts("reachable object changed by gc_collect"); return 1; }
    if (strcmp((char *)keep, "hello, gctune") != 0) { puts("root lost by gc_collect"); return 1; }
    puts("app: ok");
    return 0;
}
APP

echo "$CC app.c $flags"
# $CC and $flags are command words, split on purpose.
# shellcheck disable=SC2086
(cd "$tmp/app" && $CC app.c -o app $flags)
LD_LIBRARY_PATH="$stage$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/app/app"
echo "PASS: installed libgctune works through pkg-config"
