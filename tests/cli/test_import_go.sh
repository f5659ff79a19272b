#!/bin/sh
# test_import_go.sh - `gctune import gctrace` on real Go output: builds
# tests/cli/gctrace_prog (no network, temporary HOME and GOCACHE), runs it
# with GODEBUG=gctrace=1, imports its stderr (gctrace lines among the
# program's own lines) and checks what `gctune analyze --json` reports
# against the trace itself (cycle count, forced cycles, pause total and
# maximum as the sum of the two stop-the-world clock phases, peak heap),
# then runs check_db on the imported database.  Skipped (77) without go.
#
# Environment (set by Makefile.am): top_builddir, top_srcdir; GO (optional).

: "${top_builddir:=.}"
: "${top_srcdir:=$top_builddir}"
. "$top_srcdir/tests/cli/cli_lib.sh"
need_sqlite3
GO=${GO:-go}
if ! command -v "$GO" >/dev/null 2>&1; then
    echo "SKIP: go (Debian package golang-go) is not installed"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-go.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
export HOME="$tmp/home" GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOPROXY=off \
    GOFLAGS='' GO111MODULE=on GOTOOLCHAIN=local PPROF_TMPDIR="$tmp/pprof"
mkdir -p "$HOME"

cp -r "$top_srcdir/tests/cli/gctrace_prog" "$tmp/src"
chmod -R u+w "$tmp/src"
if ! (cd "$tmp/src" && "$GO" build -o "$tmp/gctrace_prog" .) >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log"
    echo "FAIL: go build of tests/cli/gctrace_prog"
    exit 1
fi
"$GO" version

GODEBUG=gctrace=1 GOGC=100 "$tmp/gctrace_prog" >"$tmp/stdout.txt" 2>"$tmp/trace.log"
eq "gctrace_prog exit" $? 0
lines=$(grep -c '^gc [0-9]* @' "$tmp/trace.log")
echo "gctrace_prog printed $lines gctrace lines, $(grep -vc '^gc [0-9]* @' "$tmp/trace.log") other lines"
head -3 "$tmp/trace.log"
if [ "$lines" -lt 2 ]; then
    fail "expected several gctrace lines"
fi

"$GCTUNE" import gctrace -o "$tmp/go.sqlite" "$tmp/trace.log"
eq "import exit" $? 0
"$GCTUNE" import gctrace -o "$tmp/go-stdin.sqlite" - <"$tmp/trace.log"
eq "import from stdin exit" $? 0
eq "gc_cycles rows" "$(sql "$tmp/go.sqlite" "SELECT COUNT(*) FROM gc_cycles")" "$lines"

"$GCTUNE" analyze --json "$tmp/go.sqlite" >"$tmp/a.json"
eq "analyze exit" $? 0
eq "gc.cycles" "$(jget "$tmp/a.json" '$.gc.cycles')" "$lines"
eq "run.source" "$(jget "$tmp/a.json" '$.run.source')" gctrace
eq "run.backend" "$(jget "$tmp/a.json" '$.run.backend')" go
forced=$(grep '^gc [0-9]* @' "$tmp/trace.log" | grep -c '(forced)')
eq "gc.forced_cycles" "$(jget "$tmp/a.json" '$.gc.forced_cycles')" "$forced"
if [ "$forced" -ge 1 ]; then pass; else fail "runtime.GC() gave no (forced) line"; fi
# pause = sweep termination + mark termination clock times (A and C of A+B+C ms clock)
grep '^gc [0-9]* @' "$tmp/trace.log" | awk '{
        split($5, t, "+")
        a = sprintf("%.0f", t[1] * 1000000); c = sprintf("%.0f", t[3] * 1000000)
        p = a + c; total += p; if (p > max) max = p
        split($11, h, "->"); if (h[1] + 0 > peak) peak = h[1] + 0
    } END { printf "%.0f %.0f %.0f\n", total, max, peak * 1048576 }' >"$tmp/expect"
read -r ptotal pmax peak <"$tmp/expect"
eq "gc.pause_ns.total" "$(jget "$tmp/a.json" '$.gc.pause_ns.total')" "$ptotal"
eq "gc.pause_ns.max" "$(jget "$tmp/a.json" '$.gc.pause_ns.max')" "$pmax"
eq "heap.peak_heap_alloc (largest heap at a GC start)" "$(jget "$tmp/a.json" '$.heap.peak_heap_alloc')" "$peak"
cpu=$(jget "$tmp/a.json" '$.gc.gc_cpu_fraction')
if [ -n "$cpu" ]; then pass; else fail "gc.gc_cpu_fraction is null"; fi

"$GCTUNE" analyze "$tmp/go.sqlite" >"$tmp/a.txt"
eq "analyze text exit" $? 0
cat "$tmp/a.txt"
check_db "$tmp/go.sqlite"
"$GCTUNE" diff "$tmp/go.sqlite" "$tmp/go-stdin.sqlite" >/dev/null
eq "diff of two imports" $? 0

# A program writing to stderr while the runtime prints a trace line splits
# it: an error by default, skipped with a warning under --lenient.
first=$(grep -m1 '^gc [0-9]* @' "$tmp/trace.log")
{
    echo "$first" | cut -c1-70 | tr -d '\n'
    echo "program output in the middle"
    echo "$first" | cut -c71-
    grep '^gc [0-9]* @' "$tmp/trace.log" | sed 1d
} >"$tmp/split.log"
expect_error 1 "^gctune: $tmp/split.log:1: malformed gctrace line: .*--lenient" \
    "$GCTUNE" import gctrace -o "$tmp/split.sqlite" "$tmp/split.log"
"$GCTUNE" import gctrace --lenient -o "$tmp/split.sqlite" "$tmp/split.log" 2>"$tmp/split.err"
eq "--lenient exit" $? 0
eq "--lenient: one warning" "$(wc -l <"$tmp/split.err" | tr -d ' ')" 1
contains "--lenient warning" "$tmp/split.err" "^gctune: $tmp/split.log:1: warning: skipped a malformed gctrace line"
eq "--lenient: the other cycles" "$(sql "$tmp/split.sqlite" "SELECT COUNT(*) FROM gc_cycles")" "$((lines - 1))"
eq "--lenient: meta.gctrace_skipped_lines" \
    "$(sql "$tmp/split.sqlite" "SELECT value FROM meta WHERE key = 'gctrace_skipped_lines'")" 1

echo "$checks checks passed, $failures failed"
[ "$failures" -eq 0 ]
