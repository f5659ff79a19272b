#!/bin/sh
# test_fuzz_dbreader.sh - a short fuzz run of the run database reader:
# tests/fuzz/fuzz_dbreader on the fixtures of tests/cli/mkfixture
# (GCTUNE_FUZZ_ITERATIONS iterations, default 300; GCTUNE_FUZZ_SEED).
# A failing input is kept as fuzz-fail-N.sqlite in the build directory.
#
# Environment (set by Makefile.am): top_builddir.

: "${top_builddir:=.}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-fuzzfx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$top_builddir/tests/cli/mkfixture" "$tmp" || { echo "FAIL: mkfixture"; exit 1; }
cd "$top_builddir" || exit 1
# not exec: the trap must still remove $tmp
./tests/fuzz/fuzz_dbreader -n "${GCTUNE_FUZZ_ITERATIONS:-300}" \
    ${GCTUNE_FUZZ_SEED:+-s "$GCTUNE_FUZZ_SEED"} \
    "$tmp/dropped.sqlite" "$tmp/empty.sqlite" "$tmp/basic.sqlite"
rc=$?
exit $rc
