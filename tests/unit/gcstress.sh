#!/bin/sh
# gcstress.sh - every libgc test program again, in the collector's harsh modes.
#
# Owns: the list of libgc test programs (LIBGC_TESTS: the runtime's tests
# from Makefile.am's first UNIT_TESTS block, plus test_checkmark and
# test_collect_debug) and the modes they are rerun in.
#
# Modes of the short run (`make check`):
#   GCTUNE_GCSTRESS=1        a full stop-the-world collection at every
#                            allocation (the tests shrink their sizes; what
#                            they check stays the same)
#   GCTUNE_CONCURRENT=1 GODEBUG=gccheckmark=1
#                            concurrent marking for every triggered and
#                            forced cycle, each verified by the checkmark pass
#                            (aborts on an object marking missed)
#   GCTUNE_PROCS=8 test_concurrent
#                            dedicated background mark workers
# GCSTRESS_LONG=1 (`make stress`, target stress-gcstress) adds:
#   GCTUNE_GCSTRESS=$GCSTRESS_N with GCSTRESS_LONG=1 (tests keep their full
#                            stress sizes), GCTUNE_GCSTRESS=7 GCTUNE_PROCS=8,
#                            GCTUNE_CONCURRENT=1 GODEBUG=gccheckmark=1
#                            GCTUNE_PROCS=8, and GCSTRESS_REPEAT (default 5)
#                            more concurrent+checkmark runs of the tests with
#                            racing mutators.
# Not rerun (not about the runtime): the profiler, store, symbolizer, tuner,
# pprof and gctrace tests, and the UBSan copies (test_*_ubsan: same sources,
# run once in `make check`).
# Every test is run whatever fails; the exit status is 1 if any failed.
set -u
: "${top_builddir:=.}"
LIBGC_TESTS="test_sizeclass test_heap test_span test_malloc test_threads test_stats test_collect
test_finalizer test_options test_memlimit test_pool test_concurrent test_checkmark test_collect_debug"
RACE_TESTS="test_threads test_concurrent test_checkmark test_finalizer test_pool"
status=0
failed=""
run() {   # run ENV... TEST
    prog="$top_builddir/tests/unit/$(eval echo \${$#})"
    if [ ! -x "$prog" ]; then
        echo "gcstress: $prog not built" >&2
        status=1
        failed="$failed
  (not built) $prog"
        return
    fi
    n=$#
    envs=""
    i=1
    for a in "$@"; do
        [ "$i" -lt "$n" ] && envs="$envs $a"
        i=$((i + 1))
    done
    echo "== $*"
    start=$(date +%s)
    # shellcheck disable=SC2086
    if env $envs "$prog"; then
        echo "== ok ($(( $(date +%s) - start )) s): $*"
    else
        echo "gcstress: FAILED: $*" >&2
        status=1
        failed="$failed
  $*"
    fi
}

if [ -n "${GCSTRESS_LONG:-}" ]; then
    for t in $LIBGC_TESTS; do
        run GCSTRESS_LONG=1 "GCTUNE_GCSTRESS=${GCSTRESS_N:-1}" "$t"
    done
    for t in $LIBGC_TESTS; do
        run GCTUNE_GCSTRESS=7 GCTUNE_PROCS=8 "$t"
    done
    for t in $LIBGC_TESTS; do
        run GCTUNE_CONCURRENT=1 GODEBUG=gccheckmark=1 GCTUNE_PROCS=8 "$t"
    done
    r=0
    while [ "$r" -lt "${GCSTRESS_REPEAT:-5}" ]; do
        for t in $RACE_TESTS; do
            run GCTUNE_CONCURRENT=1 GODEBUG=gccheckmark=1 "$t"
        done
        r=$((r + 1))
    done
else
    for t in $LIBGC_TESTS; do
        run GCTUNE_GCSTRESS=1 "$t"
    done
    for t in $LIBGC_TESTS; do
        run GCTUNE_CONCURRENT=1 GODEBUG=gccheckmark=1 "$t"
    done
    run GCTUNE_PROCS=8 test_concurrent
fi
if [ "$status" -ne 0 ]; then
    echo "gcstress: failed runs:$failed" >&2
fi
exit $status
