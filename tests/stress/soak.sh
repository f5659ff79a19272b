#!/bin/sh
# soak.sh - the short soak of `make check`: tests/stress/soak (see soak.c)
# for SOAK_CHECK_SECONDS (default 8) seconds with stop-the-world marking,
# then as long with concurrent marking and GODEBUG=gccheckmark=1.  The long
# runs (10 minutes each) are `make stress` (target stress-soak).
set -u
: "${top_builddir:=.}"
prog="$top_builddir/tests/stress/soak"
secs="${SOAK_CHECK_SECONDS:-8}"
if [ ! -x "$prog" ]; then
    echo "soak.sh: $prog not built" >&2
    exit 1
fi
status=0
echo "== soak, stop-the-world, $secs s"
env -u GCTUNE_GCSTRESS -u GCTUNE_CONCURRENT "$prog" --seconds "$secs" --quiet || status=1
echo "== soak, concurrent + gccheckmark, $secs s"
env -u GCTUNE_GCSTRESS GCTUNE_CONCURRENT=1 GODEBUG=gccheckmark=1 "$prog" --seconds "$secs" --quiet || status=1
exit $status
