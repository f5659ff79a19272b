#!/bin/sh
# gcstress.sh - runs the collector-facing unit tests with GCTUNE_GCSTRESS=1
# (a full collection at every allocation).  The tests shrink their sizes
# when GCTUNE_GCSTRESS is set; what they check stays the same.
set -u
: "${top_builddir:=.}"
status=0
for t in test_collect test_finalizer test_malloc test_threads test_stats; do
    prog="$top_builddir/tests/unit/$t"
    if [ ! -x "$prog" ]; then
        echo "gcstress: $prog not built" >&2
        status=1
        continue
    fi
    echo "== GCTUNE_GCSTRESS=1 $t"
    if ! GCTUNE_GCSTRESS=1 "$prog"; then
        echo "gcstress: $t failed under GCTUNE_GCSTRESS=1" >&2
        status=1
    fi
done
exit $status
