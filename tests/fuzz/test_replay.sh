#!/bin/sh
# tests/fuzz/test_replay.sh - replays every checked-in fuzz corpus
# (tests/fuzz/corpus/{env,gctrace,db}) through its target, built with
# ASan + UBSan (tests/fuzz/replay_*): each input must pass the target's
# checks with no sanitizer report.  A few seconds; the fuzzing itself is
# `make stress-fuzz` (tests/fuzz/local.mk).
#
# Environment (set by Makefile.am): top_builddir, top_srcdir.
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
# halt_on_error: a report fails the test; leaks count too.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in env gctrace db; do
    corpus=$top_srcdir/tests/fuzz/corpus/$t
    if out=$("$top_builddir/tests/fuzz/replay_$t" "$corpus" 2>"$top_builddir/tests/fuzz/replay_$t.err"); then
        echo "ok - $t: $out"
    else
        echo "FAIL - $t: replay_$t $corpus exited $?; its stderr (last 30 lines):"
        tail -30 "$top_builddir/tests/fuzz/replay_$t.err"
        status=1
    fi
done
exit $status
