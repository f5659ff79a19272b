#!/bin/sh
# test_pprof_go.sh - `go tool pprof` reads what reports/pprof.c writes.
#
# tests/cli/pprof_writer writes a known heap profile (see pprof_writer.c
# for its stacks and values); `go tool pprof -top` must then report, for
# each sample index, the totals and the flat/cum value of every function
# written, and `-raw` the exact sample values.  Exits 77 (skip) when go is
# not installed.  go runs offline, with HOME, GOCACHE, GOPATH and
# PPROF_TMPDIR in a temporary directory.
#
# Environment (set by Makefile.am): top_builddir; GO (path of go) optional.

set -eu

: "${top_builddir:=.}"

go_cmd=${GO:-}
if [ -z "$go_cmd" ]; then
    go_cmd=$(command -v go 2>/dev/null || true)
fi
if [ -z "$go_cmd" ] && [ -x /usr/lib/go/bin/go ]; then
    go_cmd=/usr/lib/go/bin/go
fi
if [ -z "$go_cmd" ]; then
    echo "SKIP: go not found (Debian package golang-go)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_pprof_go.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/home" "$tmp/cache" "$tmp/gopath" "$tmp/pprof"
HOME=$tmp/home GOCACHE=$tmp/cache GOPATH=$tmp/gopath PPROF_TMPDIR=$tmp/pprof
GOFLAGS= GOPROXY=off GOTOOLCHAIN=local
export HOME GOCACHE GOPATH PPROF_TMPDIR GOFLAGS GOPROXY GOTOOLCHAIN

profile=$tmp/heap.pb.gz
"$top_builddir/tests/cli/pprof_writer" "$profile"
[ -s "$profile" ] || { echo "FAIL: pprof_writer wrote nothing"; exit 1; }

status=0

# top INDEX TOTAL "FUNCTION FLAT CUM"... : runs -top and checks its lines.
top() {
    index=$1 total=$2
    shift 2
    out=$tmp/top.$index
    if ! "$go_cmd" tool pprof -top -sample_index="$index" "$profile" >"$out" 2>"$out.err"; then
        echo "FAIL: go tool pprof -top -sample_index=$index exited nonzero:"
        cat "$out.err"
        status=1
        return
    fi
    echo "--- go tool pprof -top -sample_index=$index"
    cat "$out"
    if ! grep -q "^Type: $index\$" "$out"; then
        echo "FAIL: $index: no 'Type: $index' line"
        status=1
    fi
    if ! grep -q "Showing nodes accounting for $total, 100% of $total total" "$out"; then
        echo "FAIL: $index: total is not $total"
        status=1
    fi
    nfuncs=0
    for want in "$@"; do
        set -- $want
        nfuncs=$((nfuncs + 1))
        # rows: flat flat% sum% cum cum% name
        got=$(awk -v f="$1" '$6 == f && NF == 6 { print $1, $4 }' "$out")
        if [ "$got" != "$2 $3" ]; then
            echo "FAIL: $index: $1: flat/cum '$got', expected '$2 $3'"
            status=1
        fi
    done
    rows=$(awk 'NF == 6 && $2 ~ /%$/ && $5 ~ /%$/' "$out" | wc -l)
    if [ "$rows" -ne "$nfuncs" ]; then
        echo "FAIL: $index: $rows function rows, expected $nfuncs"
        status=1
    fi
}

top alloc_space 8MB "parse_input 4MB 4MB" "alloc_leaf 3MB 3MB" "make_tree 1MB 4MB" "main 0 8MB"
top inuse_space 1536kB "alloc_leaf 1024kB 1024kB" "make_tree 512kB 1536kB" "main 0 1536kB"
top alloc_objects 6000 "alloc_leaf 3000 3000" "parse_input 2000 2000" "make_tree 1000 4000" "main 0 6000"
top inuse_objects 1500 "alloc_leaf 1000 1000" "make_tree 500 1500" "main 0 1500"

# -raw: the exact values of every sample, and the mapping's flags.
raw=$tmp/raw
if "$go_cmd" tool pprof -raw "$profile" >"$raw" 2>"$raw.err"; then
    for want in \
        "alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes" \
        "PeriodType: space bytes" \
        "Period: 524288" \
        "3000 3145728 1000 1048576:" \
        "1000 1048576 500 524288:" \
        "2000 4194304 0 0:" \
        "/usr/bin/gctune-demo 0123abcd [FN][FL][LN]"; do
        if ! tr -s ' ' <"$raw" | sed 's/^ //' | grep -qF -- "$want"; then
            echo "FAIL: -raw: no line with '$want'"
            status=1
        fi
    done
else
    echo "FAIL: go tool pprof -raw exited nonzero:"
    cat "$raw.err"
    status=1
fi

if [ "$status" -ne 0 ]; then
    echo "--- go tool pprof -raw"
    cat "$raw" 2>/dev/null || true
fi
exit "$status"
