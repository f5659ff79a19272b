#!/bin/sh
# gcstress.sh - the collector-facing unit tests again, in other modes:
#   GCTUNE_GCSTRESS=1      a full collection at every allocation (the tests
#                          shrink their sizes; what they check stays the same)
#   GCTUNE_PROCS=8         concurrent marking with a dedicated background
#                          worker besides the cycle's driver
#   GCTUNE_CONCURRENT=1    finalizers with concurrent cycles
set -u
: "${top_builddir:=.}"
status=0
run() {   # run ENV... TEST
    prog="$top_builddir/tests/unit/$(eval echo \${$#})"
    if [ ! -x "$prog" ]; then
        echo "gcstress: $prog not built" >&2
        status=1
        return
    fi
    echo "== $*"
    n=$#
    envs=""
    i=1
    for a in "$@"; do
        [ "$i" -lt "$n" ] && envs="$envs $a"
        i=$((i + 1))
    done
    # shellcheck disable=SC2086
    if ! env $envs "$prog"; then
        echo "gcstress: $* failed" >&2
        status=1
    fi
}
for t in test_collect test_finalizer test_malloc test_threads test_stats test_pool test_memlimit; do
    run GCTUNE_GCSTRESS=1 "$t"
done
run GCTUNE_PROCS=8 test_concurrent
run GCTUNE_CONCURRENT=1 test_finalizer
exit $status
