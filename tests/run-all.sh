#!/bin/bash
# tests/run-all.sh - build gctune and run the whole test suite.
#
#   autoreconf -fi       if configure is missing or out of date
#   ./configure          if the tree is not configured (or configure changed)
#   make -j2
#   make -j2 check
#
# Prints every log of a failing test in full (first, right after make's
# output, so that a truncated CI excerpt still shows why), then the cmocka
# output of the unit tests (tests/unit/*.log), and ends with automake's test
# summary.  Exits
# nonzero if the build or any test fails.  Arguments go to ./configure.
# GCTUNE_JOBS overrides the -j2.

set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/build.sh
. scripts/build.sh

gctune_configure "$@"
gctune_make all

out=$(mktemp "${TMPDIR:-/tmp}/gctune-check.XXXXXX")
trap 'rm -f "$out"' EXIT

echo "==> make -j${GCTUNE_JOBS:-2} check"
status=0
make -j"${GCTUNE_JOBS:-2}" check 2>&1 | tee "$out" || status=$?

shopt -s nullglob globstar
failed=()
for trs in tests/**/*.trs; do
    if grep -Eq '^:test-result: (FAIL|XPASS|ERROR)' "$trs"; then
        failed+=("${trs%.trs}.log")
    fi
done
# print_logs TITLE LOG... : the logs in full under a heading (none: nothing)
print_logs() {
    local title=$1 log
    shift
    [ $# -gt 0 ] || return 0
    echo
    echo "==> $title"
    for log in "$@"; do
        echo "---- $log"
        cat "$log"
    done
}
print_logs "logs of failing tests" "${failed[@]}"
print_logs "cmocka output (tests/unit/*.log)" tests/unit/*.log

echo
if grep -q 'Testsuite summary' "$out"; then
    # automake's summary block: from the rule above "Testsuite summary" to
    # the last rule of the output.
    awk '/^=+$/ { rule = NR } /Testsuite summary/ { start = rule }
         { line[NR] = $0 } /^=+$/ { last = NR }
         END { if (start) for (i = start; i <= last; i++) print line[i] }' "$out"
else
    echo "==> make check did not reach the test summary (build failure?): see above"
    [ $status -ne 0 ] || status=1
fi

if [ $status -ne 0 ]; then
    echo "==> FAILED (make check exit status $status)"
fi
exit $status
