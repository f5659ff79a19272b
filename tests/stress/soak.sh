#!/bin/sh
# soak.sh - the short soak of `make check`: tests/stress/soak (see soak.c)
# for SOAK_CHECK_SECONDS (default 8) seconds with stop-the-world marking,
# then as long with concurrent marking and GODEBUG=gccheckmark=1.  The long
# runs (10 minutes each) are `make stress` (target stress-soak).  Then a
# self-test: with --inject-miss the soak must report a reclaimed live node.
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
# The checker itself: a node hidden from marking must be reported.
echo "== soak self-test: --inject-miss must fail with \"live object reclaimed\""
err=$(env -u GCTUNE_GCSTRESS -u GODEBUG GCTUNE_CONCURRENT=1 "$prog" --seconds 2 --quiet --inject-miss 2>&1 >/dev/null)
rc=$?
if [ $rc -ne 1 ] || ! printf '%s\n' "$err" | grep -q "live object reclaimed"; then
    echo "soak.sh: --inject-miss: exit $rc, stderr: $err" >&2
    status=1
else
    printf '%s\n' "$err"
fi
exit $status
