#!/bin/sh
# test_recommend.sh - `gctune recommend` end to end: the help, bad input
# (one error line, exit 1 for bad data, 2 for bad option values), the
# output on the recorded fixture tests/fixtures/db/hello-libgc.sqlite, on a
# fresh `gctune record` of examples/demo --short, on Go gctrace imports
# (tests/fixtures/gctrace) and on a run without GC (malloc backend).
#
# What can fail: the --json output is parsed (python3 json.load, else
# sqlite3's json functions) and checked against itself and the goals — the
# recommendation is one of the candidates, meets the goals when a candidate
# does, and has the smallest peak memory among those that do (recomputed
# here from the candidate list); goals move the answer the right way (a
# tighter --memory gives a smaller or equal GOGC or a limit and less
# memory, a looser --max-gc-cpu a cheaper-memory setting); the self-check
# (the recorded setting predicted against measured) stays close; a pause
# goal below the recorded pauses is reported as not achievable.
#
# Environment (set by Makefile.am): top_builddir, top_srcdir.

: "${top_builddir:=.}"
: "${top_srcdir:=$top_builddir}"
. "$top_srcdir/tests/cli/cli_lib.sh"
need_sqlite3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-recommend.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
G=$GCTUNE
fixture="$top_srcdir/tests/fixtures/db/hello-libgc.sqlite"

# jnum FILE PATH: a JSON number as a float string ('' for null)
jnum() {
    jget "$1" "$2"
}
# fcmp A OP B: float comparison through awk (OP: < <= > >= ==)
fcmp() {
    awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
        if (a == "" || b == "") exit 1
        if (op == "<") exit !(a + 0 < b + 0); if (op == "<=") exit !(a + 0 <= b + 0)
        if (op == ">") exit !(a + 0 > b + 0); if (op == ">=") exit !(a + 0 >= b + 0)
        exit !(a + 0 == b + 0) }'
}
check() {   # check WHAT A OP B
    if fcmp "$2" "$3" "$4"; then pass; else fail "$1: $2 $3 $4 does not hold"; fi
}
# rel_close WHAT MEASURED PREDICTED TOLERANCE: |p - m| <= tol x m
rel_close() {
    if awk -v m="$2" -v p="$3" -v t="$4" 'BEGIN { d = p - m; if (d < 0) d = -d; exit !(m > 0 && d <= t * m) }'; then
        pass
    else
        fail "$1: predicted $3 is not within $4 of measured $2"
    fi
}

# valid_json FILE: python3's json.load when there is python3, else sqlite3
valid_json() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null && echo 1 || echo 0
    else
        jvalid "$1"
    fi
}

# check_json FILE WHAT: keys, and the recommendation against the candidates
check_json() {
    f=$1
    w=$2
    q=""
    eq "$w: valid JSON" "$(valid_json "$f")" 1
    for key in file backend goals.max_gc_cpu goals.max_pause_ns goals.memory \
               model.cycles model.duration_s model.procs model.live_heap_mean model.live_heap_max \
               model.alloc_bytes model.alloc_rate model.fixed_cost_ns model.mark_ns_per_byte \
               model.garbage_ns_per_byte model.garbage_cost_fitted model.pause_fixed_ns \
               model.pause_ns_per_byte model.trigger model.frag \
               recorded.gogc recorded.memory_limit recorded.measured.gc_cpu_fraction \
               recorded.measured.cycles_per_s recorded.measured.peak_heap recorded.measured.peak_rss \
               recorded.measured.cycles recorded.measured.gc_cpu_ns recorded.predicted.cycles \
               recorded.predicted.gc_cpu_ns 'candidates[0].cycles' 'candidates[0].gc_cpu_ns' \
               recorded.measured.pause_p99_ns recorded.predicted.gc_cpu_fraction \
               recorded.predicted.cycles_per_s recorded.predicted.peak_heap recorded.predicted.peak_rss \
               recorded.predicted.pause_p99_ns \
               'candidates[0].gogc' 'candidates[0].memory_limit' 'candidates[0].gc_cpu_fraction' \
               'candidates[0].cycles_per_s' 'candidates[0].peak_heap' 'candidates[0].peak_rss' \
               'candidates[0].pause_p99_ns' 'candidates[0].limit_bound' 'candidates[0].meets_cpu' \
               'candidates[0].meets_memory' 'candidates[0].meets_pause' 'candidates[0].meets_all' \
               recommendation.gogc recommendation.memory_limit recommendation.gc_cpu_fraction \
               recommendation.cycles_per_s recommendation.peak_heap recommendation.peak_rss \
               recommendation.pause_p99_ns recommendation.meets_cpu recommendation.meets_memory \
               recommendation.meets_pause recommendation.pause_achievable recommendation.env \
               recommendation.why; do
        q="$q${q:+ UNION ALL }SELECT '$key' AS k, json_type(j, '\$.$key') AS t FROM d"
    done
    # one sqlite3 call for every key: the missing ones
    missing=$(sqlite3 -batch -noheader :memory: \
        "WITH d AS (SELECT CAST(readfile('$f') AS TEXT) AS j) SELECT group_concat(k, ' ') FROM ($q) WHERE t IS NULL")
    eq "$w: every documented key present (missing: $missing)" "$missing" ""
    q=""
    # the recommendation, recomputed from the candidates: the smallest peak
    # memory (RSS, else heap) among those meeting GC CPU and memory; if none,
    # the least GC CPU among those within memory; else the least memory
    sqlite3 -batch -noheader :memory: "
        WITH c AS (SELECT json_extract(value, '\$.gogc') AS gogc,
                          COALESCE(json_extract(value, '\$.memory_limit'), -1) AS lim,
                          json_extract(value, '\$.gc_cpu_fraction') AS cpu,
                          COALESCE(json_extract(value, '\$.peak_rss'), json_extract(value, '\$.peak_heap')) AS mem,
                          json_extract(value, '\$.meets_cpu') AS okc, json_extract(value, '\$.meets_memory') AS okm
                   FROM json_each(CAST(readfile('$f') AS TEXT), '\$.candidates')),
             r AS (SELECT json_extract(CAST(readfile('$f') AS TEXT), '\$.recommendation.gogc') AS gogc,
                          COALESCE(json_extract(CAST(readfile('$f') AS TEXT), '\$.recommendation.memory_limit'), -1) AS lim)
        SELECT (SELECT COUNT(*) FROM c, r WHERE c.gogc = r.gogc AND c.lim = r.lim),
               (SELECT COUNT(*) FROM c WHERE okc AND okm),
               (SELECT MIN(mem) FROM c WHERE okc AND okm),
               (SELECT MIN(cpu) FROM c WHERE okm),
               (SELECT MIN(mem) FROM c),
               (SELECT mem FROM c, r WHERE c.gogc = r.gogc AND c.lim = r.lim),
               (SELECT cpu FROM c, r WHERE c.gogc = r.gogc AND c.lim = r.lim);" >"$tmp/rc"
    IFS='|' read -r inlist nok minmem mincpu minany recmem reccpu <"$tmp/rc"
    eq "$w: the recommendation is a candidate" "$inlist" 1
    if [ "$nok" -gt 0 ]; then
        eq "$w: recommendation meets GC CPU" "$(jget "$f" '$.recommendation.meets_cpu')" 1
        eq "$w: recommendation meets memory" "$(jget "$f" '$.recommendation.meets_memory')" 1
        check "$w: recommendation has the least memory of those meeting the goals (x1.001)" \
            "$recmem" '<=' "$(awk -v m="$minmem" 'BEGIN { print m * 1.001 }')"
    elif [ -n "$mincpu" ]; then
        eq "$w: recommendation meets memory" "$(jget "$f" '$.recommendation.meets_memory')" 1
        check "$w: recommendation has the least GC CPU within memory" "$reccpu" '<=' "$mincpu"
    else
        check "$w: recommendation has the least memory" "$recmem" '<=' "$minany"
    fi
}

# ---- help ----
echo "== help"
"$G" recommend --help >"$tmp/h.txt"
eq "recommend --help exit" $? 0
contains "recommend --help" "$tmp/h.txt" '^usage: gctune recommend \[--max-pause D\]'
for opt in --max-pause --max-gc-cpu --memory --gogc --limits --json; do
    contains "recommend --help documents $opt" "$tmp/h.txt" "^  $opt"
done
"$G" --help >"$tmp/gh.txt"
contains "gctune --help lists recommend" "$tmp/gh.txt" '^  recommend '

# ---- bad input ----
echo "== bad input"
expect_error 1 "^gctune: $tmp/missing.sqlite: " "$G" recommend "$tmp/missing.sqlite"
echo "not a database" >"$tmp/text.sqlite"
expect_error 1 "^gctune: $tmp/text.sqlite: .*not an SQLite database" "$G" recommend "$tmp/text.sqlite"
expect_error 2 "^gctune recommend: --max-pause: 'soon' is not a duration" \
    "$G" recommend --max-pause soon "$fixture"
expect_error 2 "^gctune recommend: --max-gc-cpu: '150' is not a percentage" \
    "$G" recommend --max-gc-cpu 150 "$fixture"
expect_error 2 "^gctune recommend: --max-gc-cpu: '0' is not a percentage" \
    "$G" recommend --max-gc-cpu 0 "$fixture"
expect_error 2 "^gctune recommend: --memory: '-1' is not a positive byte count" \
    "$G" recommend --memory -1 "$fixture"
expect_error 2 "^gctune recommend: --memory: '12 parsecs' is not a positive byte count" \
    "$G" recommend --memory '12 parsecs' "$fixture"
expect_error 2 "^gctune recommend: --gogc: '100,,200' is not a list" "$G" recommend --gogc 100,,200 "$fixture"
expect_error 2 "^gctune recommend: --gogc: '0' is not a list" "$G" recommend --gogc 0 "$fixture"
expect_error 2 "^gctune recommend: --limits: '1MiB' is not a list" "$G" recommend --limits 1MiB "$fixture"
expect_error 2 "^gctune recommend: --gogc off needs a memory limit" "$G" recommend --gogc off "$fixture"
expect_error 2 "^gctune recommend: missing run database" "$G" recommend
expect_error 2 "^gctune recommend: extra argument" "$G" recommend "$fixture" "$fixture"
expect_error 2 "^gctune recommend: unknown option '--frob'" "$G" recommend --frob "$fixture"
# too few cycles: the fixture cut to 2
cp "$fixture" "$tmp/two.sqlite"
sql "$tmp/two.sqlite" "DELETE FROM gc_cycles WHERE num > 2"
expect_error 1 "^gctune: $tmp/two.sqlite: 2 GC cycles recorded: at least 3 are needed" \
    "$G" recommend "$tmp/two.sqlite"
# no GC at all: a malloc-backend recording (the real one when the preload
# library is built, else the fixture without its cycles and backend malloc)
malloc_db=""
if [ -x "$top_builddir/tests/backends/malloc_prog" ] &&
   "$G" record -o "$tmp/malloc.sqlite" --backend malloc --rate 64K "$top_builddir/tests/backends/malloc_prog" 0 \
       >/dev/null 2>&1; then
    malloc_db="$tmp/malloc.sqlite"
    eq "malloc recording: no GC cycles" "$(sql "$malloc_db" "SELECT COUNT(*) FROM gc_cycles")" 0
else
    cp "$fixture" "$tmp/malloc.sqlite"
    sql "$tmp/malloc.sqlite" "DELETE FROM gc_cycles; UPDATE meta SET value = 'malloc' WHERE key = 'backend'"
    malloc_db="$tmp/malloc.sqlite"
    echo "note: tests/backends/malloc_prog not recorded: the malloc case uses an edited fixture"
fi
expect_error 1 "^gctune: $malloc_db: no GC cycles recorded \(backend malloc\): there is no GC to tune" \
    "$G" recommend "$malloc_db"

# ---- the recorded fixture ----
echo "== $fixture"
"$G" recommend "$fixture" >"$tmp/f.txt" 2>"$tmp/f.err"
eq "fixture: exit" $? 0
eq "fixture: nothing on stderr" "$(wc -c <"$tmp/f.err" | tr -d ' ')" 0
for pat in '^Model of .* \(libgc backend\): 335 GC cycles' '^  live heap +mean' '^  allocation rate' \
           '^  mark cost' '^  fixed cost per cycle' '^  pause model' '^Self-check at the recorded setting GOGC=100' \
           '^  GC CPU .*cycles/s .*peak heap' '^Candidates \(goals: GC CPU <= 5.0%\)' \
           '^  GOGC +limit +GC CPU +cycles/s +peak heap +peak RSS +p99 pause' '^. 25 +none' '^. 1000 +none' \
           '^Recommendation: GOGC=' '^  GOGC=[0-9]+$'; do
    contains "fixture: text" "$tmp/f.txt" "$pat"
done
"$G" recommend --json "$fixture" >"$tmp/f.json"
eq "fixture: --json exit" $? 0
check_json "$tmp/f.json" fixture
eq "fixture: model.cycles" "$(jget "$tmp/f.json" '$.model.cycles')" 335
eq "fixture: backend" "$(jget "$tmp/f.json" '$.backend')" libgc
eq "fixture: 11 GOGC candidates (off needs a limit)" "$(jlen "$tmp/f.json" '$.candidates')" 11
# the self-check on a fixed recording: predicted close to measured
rel_close "fixture: self-check GC CPU" "$(jnum "$tmp/f.json" '$.recorded.measured.gc_cpu_fraction')" \
    "$(jnum "$tmp/f.json" '$.recorded.predicted.gc_cpu_fraction')" 0.05
rel_close "fixture: self-check peak heap" "$(jnum "$tmp/f.json" '$.recorded.measured.peak_heap')" \
    "$(jnum "$tmp/f.json" '$.recorded.predicted.peak_heap')" 0.05
# text and JSON agree: the env line
eq "fixture: text env line = json env" "$(tail -1 "$tmp/f.txt" | sed 's/^  //')" \
    "$(jget "$tmp/f.json" '$.recommendation.env')"
# the live set is 3 MiB and the run allocates 1.3 GiB/s: GC CPU falls as GOGC rises
check "fixture: GC CPU at GOGC 25 > at GOGC 1000" "$(jget "$tmp/f.json" '$.candidates[0].gc_cpu_fraction')" '>' \
    "$(jget "$tmp/f.json" '$.candidates[10].gc_cpu_fraction')"
check "fixture: peak heap at GOGC 25 < at GOGC 1000" "$(jget "$tmp/f.json" '$.candidates[0].peak_heap')" '<' \
    "$(jget "$tmp/f.json" '$.candidates[10].peak_heap')"

# goals move the answer: a looser GC CPU goal -> less or equal memory
"$G" recommend --json --max-gc-cpu 60 "$fixture" >"$tmp/c60.json"
"$G" recommend --json --max-gc-cpu 80 "$fixture" >"$tmp/c80.json"
check_json "$tmp/c60.json" "--max-gc-cpu 60"
check_json "$tmp/c80.json" "--max-gc-cpu 80"
eq "--max-gc-cpu 60 met" "$(jget "$tmp/c60.json" '$.recommendation.meets_cpu')" 1
check "looser --max-gc-cpu: smaller GOGC" "$(jget "$tmp/c80.json" '$.recommendation.gogc')" '<' \
    "$(jget "$tmp/c60.json" '$.recommendation.gogc')"
check "looser --max-gc-cpu: less peak heap" "$(jget "$tmp/c80.json" '$.recommendation.peak_heap')" '<' \
    "$(jget "$tmp/c60.json" '$.recommendation.peak_heap')"
# a tighter memory goal -> a smaller or equal GOGC, or a limit, and less memory
rss60=$(jget "$tmp/c60.json" '$.recommendation.peak_rss')
tight=$(awk -v r="$rss60" 'BEGIN { printf "%d", r * 0.8 }')
"$G" recommend --json --max-gc-cpu 60 --memory "$tight" "$fixture" >"$tmp/m.json"
check_json "$tmp/m.json" "--memory $tight"
g_m=$(jget "$tmp/m.json" '$.recommendation.gogc')
l_m=$(jget "$tmp/m.json" '$.recommendation.memory_limit')
if [ -n "$l_m" ] || fcmp "$g_m" '<=' "$(jget "$tmp/c60.json" '$.recommendation.gogc')"; then
    pass
else
    fail "tighter --memory: GOGC $g_m (no limit) is above the GOGC without it"
fi
check "tighter --memory: less peak RSS" "$(jget "$tmp/m.json" '$.recommendation.peak_rss')" '<' "$rss60"
eq "tighter --memory: met" "$(jget "$tmp/m.json" '$.recommendation.meets_memory')" 1
# an impossible memory goal: not met, said plainly, exit 0
"$G" recommend --memory 5MiB "$fixture" >"$tmp/imp.txt"
eq "impossible --memory: exit" $? 0
contains "impossible --memory" "$tmp/imp.txt" '^No candidate meets every goal: none fits the memory goal'
# a pause goal below the recorded pauses: not achievable with any setting
"$G" recommend --max-pause 1us "$fixture" >"$tmp/p.txt"
eq "--max-pause 1us: exit" $? 0
contains "--max-pause 1us" "$tmp/p.txt" '^The pause goal \(p99 <= [^)]*\) cannot be met by any GOGC or memory limit'
"$G" recommend --json --max-pause 1us "$fixture" >"$tmp/p.json"
eq "--max-pause 1us: pause_achievable" "$(jget "$tmp/p.json" '$.recommendation.pause_achievable')" 0
eq "--max-pause 1us: goals.max_pause_ns" "$(jget "$tmp/p.json" '$.goals.max_pause_ns')" 1000
"$G" recommend --json --max-pause 10s "$fixture" >"$tmp/p2.json"
eq "--max-pause 10s: met" "$(jget "$tmp/p2.json" '$.recommendation.meets_pause')" 1
# --gogc and --limits set the candidates
"$G" recommend --json --gogc 50,200,off --limits 8MiB,64MiB "$fixture" >"$tmp/l.json"
check_json "$tmp/l.json" "--gogc/--limits"
eq "--gogc 50,200,off --limits 8MiB,64MiB: 2x3 + off x2 candidates" "$(jlen "$tmp/l.json" '$.candidates')" 8
eq "--gogc: the GOGC values" "$(sqlite3 -batch -noheader :memory: "SELECT group_concat(g) FROM (SELECT DISTINCT
    json_extract(value, '\$.gogc') AS g FROM json_each(CAST(readfile('$tmp/l.json') AS TEXT), '\$.candidates'))")" \
    "50,200,-1"
eq "--limits: an 8 MiB limit binds" "$(sqlite3 -batch -noheader :memory: "SELECT json_extract(value, '\$.limit_bound')
    FROM json_each(CAST(readfile('$tmp/l.json') AS TEXT), '\$.candidates')
    WHERE json_extract(value, '\$.gogc') = 200 AND json_extract(value, '\$.memory_limit') = 8388608")" 1

# ---- a fresh recording of the demo ----
demo="$top_builddir/examples/demo"
if [ -x "$demo" ]; then
    echo "== gctune record examples/demo --short"
    GCTUNE_SAMPLE_RATE=0 "$G" record -o "$tmp/demo.sqlite" -- "$demo" --short --quiet >/dev/null 2>"$tmp/demo.err"
    eq "demo recording exit" $? 0
    "$G" recommend --json --memory 200MiB "$tmp/demo.sqlite" >"$tmp/d.json"
    eq "demo: recommend exit" $? 0
    check_json "$tmp/d.json" demo
    eq "demo: a limit candidate from --memory" "$(sqlite3 -batch -noheader :memory: "SELECT COUNT(*) > 0 FROM
        json_each(CAST(readfile('$tmp/d.json') AS TEXT), '\$.candidates') WHERE json_extract(value, '\$.memory_limit') > 0")" 1
    # the self-check: the model replays its own recording (counts of a few
    # cycles, so a generous tolerance; no wall-clock assertion)
    rel_close "demo: self-check GC CPU" "$(jnum "$tmp/d.json" '$.recorded.measured.gc_cpu_fraction')" \
        "$(jnum "$tmp/d.json" '$.recorded.predicted.gc_cpu_fraction')" 0.35
    rel_close "demo: self-check peak heap" "$(jnum "$tmp/d.json" '$.recorded.measured.peak_heap')" \
        "$(jnum "$tmp/d.json" '$.recorded.predicted.peak_heap')" 0.15
    "$G" recommend "$tmp/demo.sqlite" >"$tmp/d.txt"
    eq "demo: text exit" $? 0
    contains "demo: text" "$tmp/d.txt" '^Recommendation: GOGC='
else
    echo "note: $demo is not built: no fresh recording"
fi

# ---- Go: gctrace imports ----
for log in go119.log libgc_concurrent.log; do
    echo "== import gctrace $log"
    "$G" import gctrace -o "$tmp/$log.sqlite" "$top_srcdir/tests/fixtures/gctrace/$log" 2>/dev/null
    eq "$log: import exit" $? 0
    "$G" recommend --json "$tmp/$log.sqlite" >"$tmp/$log.json"
    eq "$log: recommend exit" $? 0
    check_json "$tmp/$log.json" "$log"
    eq "$log: backend" "$(jget "$tmp/$log.json" '$.backend')" go
    eq "$log: cycles" "$(jget "$tmp/$log.json" '$.model.cycles')" \
        "$(grep -c '^gc [0-9]* @' "$top_srcdir/tests/fixtures/gctrace/$log")"
    check "$log: mark cost fitted from the CPU clock fields" "$(jget "$tmp/$log.json" '$.model.mark_ns_per_byte')" '>' 0
    eq "$log: procs from P" "$(jget "$tmp/$log.json" '$.model.procs')" 2
    "$G" recommend --max-gc-cpu 50 "$tmp/$log.sqlite" >"$tmp/$log.txt"
    eq "$log: text exit" $? 0
    contains "$log: text" "$tmp/$log.txt" '\(go backend\)'
done
# `gctune record --backend go` keeps GOGC / GOMEMLIMIT in meta (gctrace has neither)
cp "$tmp/go119.log.sqlite" "$tmp/gometa.sqlite"
sql "$tmp/gometa.sqlite" "INSERT OR REPLACE INTO meta VALUES ('gogc', '200'), ('gomemlimit', '64MiB')"
"$G" recommend --json "$tmp/gometa.sqlite" >"$tmp/gometa.json"
eq "Go run: recorded.gogc from meta.gogc" "$(jget "$tmp/gometa.json" '$.recorded.gogc')" 200
eq "Go run: recorded.memory_limit from meta.gomemlimit" "$(jget "$tmp/gometa.json" '$.recorded.memory_limit')" 67108864
rel_close "go119.log: self-check GC CPU" "$(jnum "$tmp/go119.log.json" '$.recorded.measured.gc_cpu_fraction')" \
    "$(jnum "$tmp/go119.log.json" '$.recorded.predicted.gc_cpu_fraction')" 0.25

echo "$checks checks passed, $failures failed"
[ "$failures" -eq 0 ]
