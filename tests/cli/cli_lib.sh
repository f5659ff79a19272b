# tests/cli/cli_lib.sh - shared helpers of the gctune command tests
# (sourced, POSIX sh).
#
# Expected values are computed independently of gctune with the sqlite3
# command-line shell (queries on the run database) and JSON output is read
# with its json_extract(), so the tests need `sqlite3` (Debian package
# sqlite3; the tests are skipped without it).
#
#   check_db DB      every check that holds for any run database: analyze
#                    text and --json against SQL on DB, export pprof / folded
#                    / csv totals against analyze, go tool pprof read-back
#                    (when go is installed), diff of DB with itself.  A
#                    recorded run is tested by calling it on its database.
#   expect_error CODE PATTERN CMD...   exit status CODE, nothing on stdout,
#                    exactly one line on stderr, matching PATTERN (grep -E)
#
# Environment: top_builddir (the gctune binary), GCTUNE (overrides it);
# the caller sets tmp, a scratch directory.
# shellcheck disable=SC2154

: "${top_builddir:=.}"
: "${top_srcdir:=$top_builddir}"
GCTUNE=${GCTUNE:-$top_builddir/gctune}
failures=0
checks=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

pass() {
    checks=$((checks + 1))
}

# eq WHAT GOT WANT
eq() {
    if [ "$2" = "$3" ]; then
        pass
    else
        fail "$1: got '$2', want '$3'"
    fi
}

# near WHAT GOT WANT TOLERANCE (integers)
near() {
    if [ -z "$2" ] || [ -z "$3" ]; then
        fail "$1: got '$2', want '$3'"
        return
    fi
    d=$(( $2 - $3 ))
    [ "$d" -lt 0 ] && d=$(( -d ))
    if [ "$d" -le "$4" ]; then
        pass
    else
        fail "$1: got $2, want $3 (+-$4)"
    fi
}

# contains WHAT FILE PATTERN (grep -E)
contains() {
    if grep -Eq -- "$3" "$2"; then
        pass
    else
        fail "$1: '$3' not found in $2:"
        sed 's/^/    /' "$2" | head -50
    fi
}

need_sqlite3() {
    if ! command -v sqlite3 >/dev/null 2>&1; then
        echo "SKIP: sqlite3 (Debian package sqlite3) is not installed"
        exit 77
    fi
}

# sql DB QUERY: one value
sql() {
    sqlite3 -batch -noheader "$1" "$2"
}

# jget JSONFILE PATH: the value at PATH ('$.gc.cycles'), '' for null
jget() {
    sqlite3 -batch -noheader :memory: "SELECT json_extract(CAST(readfile('$1') AS TEXT), '$2')"
}

# jvalid JSONFILE: 1 when valid JSON
jvalid() {
    sqlite3 -batch -noheader :memory: "SELECT json_valid(CAST(readfile('$1') AS TEXT))"
}

# jlen JSONFILE PATH: length of the array at PATH
jlen() {
    sqlite3 -batch -noheader :memory: "SELECT json_array_length(CAST(readfile('$1') AS TEXT), '$2')"
}

# expect_error CODE PATTERN CMD ARGS...
expect_error() {
    code=$1
    pattern=$2
    shift 2
    "$@" >"$tmp/ee.out" 2>"$tmp/ee.err"
    rc=$?
    what="$*"
    eq "exit status of: $what" "$rc" "$code"
    eq "stdout of: $what" "$(wc -c <"$tmp/ee.out" | tr -d ' ')" 0
    eq "stderr lines of: $what" "$(wc -l <"$tmp/ee.err" | tr -d ' ')" 1
    if ! grep -Eq -- "$pattern" "$tmp/ee.err"; then
        fail "stderr of: $what: '$(cat "$tmp/ee.err")' does not match '$pattern'"
    else
        pass
    fi
}

# percentile DB P: nearest-rank percentile of gc_cycles.pause_ns
percentile() {
    sql "$1" "SELECT pause_ns FROM gc_cycles WHERE pause_ns IS NOT NULL AND pause_ns >= 0
              ORDER BY pause_ns LIMIT 1 OFFSET
              (SELECT (COUNT(*) * $2 + 99) / 100 - 1 FROM gc_cycles
               WHERE pause_ns IS NOT NULL AND pause_ns >= 0)"
}

# go_available: go is installed (go tool pprof read-back)
go_available() {
    command -v "${GO:-go}" >/dev/null 2>&1
}

check_db() {
    db=$1
    name=$(basename "$db")
    out="$tmp/$name"
    echo "== check_db $db"

    "$GCTUNE" analyze "$db" >"$out.txt" 2>"$out.err"
    eq "$name: analyze exit" $? 0
    for section in '^Run$' '^GC$' '^Heap$' 'samples' 'dropped samples' 'STW pauses' \
                   'GC CPU fraction' 'heap goal' 'GOGC seen' 'memory limit seen' \
                   'peak heap_alloc' 'peak RSS'; do
        contains "$name: analyze text" "$out.txt" "$section"
    done
    "$GCTUNE" analyze --json --top 0 "$db" >"$out.json" 2>"$out.err"
    eq "$name: analyze --json exit" $? 0
    eq "$name: valid JSON" "$(jvalid "$out.json")" 1

    samples=$(sql "$db" "SELECT COUNT(*) FROM samples")
    eq "$name: run.samples" "$(jget "$out.json" '$.run.samples')" "$samples"
    dropped=$(sql "$db" "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'dropped_samples'), 0)")
    eq "$name: run.dropped_samples" "$(jget "$out.json" '$.run.dropped_samples')" "$dropped"
    eq "$name: gc.cycles" "$(jget "$out.json" '$.gc.cycles')" \
        "$(sql "$db" "SELECT COUNT(*) FROM gc_cycles")"
    eq "$name: gc.pause_ns.total" "$(jget "$out.json" '$.gc.pause_ns.total')" \
        "$(sql "$db" "SELECT COALESCE(SUM(pause_ns), 0) FROM gc_cycles WHERE pause_ns >= 0")"
    eq "$name: gc.pause_ns.max" "$(jget "$out.json" '$.gc.pause_ns.max')" \
        "$(sql "$db" "SELECT MAX(pause_ns) FROM gc_cycles WHERE pause_ns >= 0")"
    for p in 50 90 99; do
        eq "$name: gc.pause_ns.p$p" "$(jget "$out.json" "\$.gc.pause_ns.p$p")" "$(percentile "$db" $p)"
    done
    nheap=$(sql "$db" "SELECT COUNT(*) FROM heap_series")
    if [ "$nheap" -gt 0 ]; then
        eq "$name: heap.peak_heap_alloc" "$(jget "$out.json" '$.heap.peak_heap_alloc')" \
            "$(sql "$db" "SELECT MAX(heap_alloc) FROM heap_series")"
        eq "$name: heap.peak_rss" "$(jget "$out.json" '$.heap.peak_rss')" \
            "$(sql "$db" "SELECT MAX(rss) FROM heap_series")"
    fi
    sites=$(sql "$db" "SELECT COUNT(DISTINCT stack_id) FROM samples")
    eq "$name: site_count" "$(jget "$out.json" '$.site_count')" "$sites"
    eq "$name: sites[] with --top 0" "$(jlen "$out.json" '$.sites')" "$sites"
    # unbiased estimates: per site sum(weight*size), rounded; totals = sum of sites
    alloc=$(sql "$db" "SELECT CAST(COALESCE(SUM(r), 0) AS INTEGER) FROM
                       (SELECT ROUND(SUM(weight * size)) AS r FROM samples GROUP BY stack_id)")
    inuse=$(sql "$db" "SELECT CAST(COALESCE(SUM(r), 0) AS INTEGER) FROM
                       (SELECT ROUND(SUM(CASE WHEN freed_ns IS NULL THEN weight * size ELSE 0 END)) AS r
                        FROM samples GROUP BY stack_id)")
    objects=$(sql "$db" "SELECT CAST(COALESCE(SUM(r), 0) AS INTEGER) FROM
                       (SELECT ROUND(SUM(weight)) AS r FROM samples GROUP BY stack_id)")
    ja=$(jget "$out.json" '$.heap.alloc_bytes')
    ji=$(jget "$out.json" '$.heap.inuse_bytes')
    near "$name: heap.alloc_bytes" "$ja" "$alloc" "$sites"
    near "$name: heap.inuse_bytes" "$ji" "$inuse" "$sites"
    near "$name: heap.alloc_objects" "$(jget "$out.json" '$.heap.alloc_objects')" "$objects" "$sites"
    if [ "$sites" -gt 0 ]; then
        top=$(sql "$db" "SELECT CAST(MAX(r) AS INTEGER) FROM
                         (SELECT ROUND(SUM(weight * size)) AS r FROM samples GROUP BY stack_id)")
        near "$name: sites[0].alloc_bytes" "$(jget "$out.json" '$.sites[0].alloc_bytes')" "$top" 1
        for key in function file line alloc_bytes alloc_objects inuse_bytes inuse_objects stack; do
            eq "$name: sites[0] has $key" \
                "$(sqlite3 -batch :memory: "SELECT json_type(CAST(readfile('$out.json') AS TEXT), '\$.sites[0].$key') IS NOT NULL")" 1
        done
    fi

    # export: folded and csv totals
    "$GCTUNE" export --format folded "$db" >"$out.folded" 2>"$out.err"
    eq "$name: export folded exit" $? 0
    eq "$name: folded alloc_space total" "$(awk '{ s += $NF } END { printf "%.0f", s }' "$out.folded")" "$ja"
    "$GCTUNE" export --format folded --value inuse_space "$db" >"$out.folded2" 2>"$out.err"
    eq "$name: folded inuse_space total" "$(awk '{ s += $NF } END { printf "%.0f", s }' "$out.folded2")" "$ji"
    "$GCTUNE" export --format csv -o "$out.csv" "$db" 2>"$out.err"
    eq "$name: export csv exit" $? 0
    eq "$name: csv rows" "$(wc -l <"$out.csv" | tr -d ' ')" "$((samples + 1))"

    # export: pprof, read back by go tool pprof
    "$GCTUNE" export --format pprof -o "$out.pb.gz" "$db" 2>"$out.err"
    eq "$name: export pprof exit" $? 0
    eq "$name: pprof is gzip" "$(od -An -tx1 -N2 "$out.pb.gz" | tr -d ' ')" 1f8b
    if go_available && [ "$samples" -gt 0 ]; then
        "${GO:-go}" tool pprof -raw "$out.pb.gz" >"$out.raw" 2>"$out.raw.err"
        eq "$name: go tool pprof -raw exit" $? 0
        # Samples: "alloc_objects alloc_space inuse_objects inuse_space: locations"
        awk '/^Samples:/ { on = 1; next } /^Locations/ { on = 0 }
             on && $4 ~ /:$/ { a += $2; i += $4 } END { printf "%.0f %.0f\n", a, i }' \
            "$out.raw" >"$out.sums"
        read -r pa pi <"$out.sums"
        eq "$name: go tool pprof alloc_space total = analyze heap.alloc_bytes" "$pa" "$ja"
        eq "$name: go tool pprof inuse_space total = analyze heap.inuse_bytes" "$pi" "$ji"
        "${GO:-go}" tool pprof -top -sample_index=alloc_space "$out.pb.gz" >"$out.top" 2>&1
        eq "$name: go tool pprof -top exit" $? 0
        contains "$name: go tool pprof -top" "$out.top" 'Type: alloc_space'
        echo "   go tool pprof -top: $(grep -E 'of .* total' "$out.top" | head -1)"
        echo "   go tool pprof -raw sums: alloc_space $pa, inuse_space $pi; analyze: $ja, $ji"
    fi

    # diff with itself: no change
    "$GCTUNE" diff --json "$db" "$db" >"$out.diff.json" 2>"$out.err"
    eq "$name: diff exit" $? 0
    eq "$name: diff valid JSON" "$(jvalid "$out.diff.json")" 1
    eq "$name: diff alloc delta" "$(jget "$out.diff.json" '$.summary.alloc_bytes.delta')" 0
    eq "$name: diff cycles delta" "$(jget "$out.diff.json" '$.summary.gc_cycles.delta')" 0
    "$GCTUNE" diff "$db" "$db" >"$out.diff.txt" 2>"$out.err"
    eq "$name: diff text exit" $? 0
}
