#!/bin/sh
# test_cli.sh - end-to-end tests of the gctune command on fixture databases.
#
# The fixtures are written by tests/cli/mkfixture (through the store writer,
# deterministic; see its header for what each one holds).  Every run
# database, and every recorded one committed under tests/fixtures/db/,
# goes through check_db (tests/cli/cli_lib.sh): analyze against SQL on the
# database, export totals against analyze, go tool pprof read-back when go
# is installed, diff with itself.  Then checks known by construction of the
# fixtures, the help texts, and bad input: each gets one error line naming
# the file and the problem, and the documented exit status.
#
# Environment (set by Makefile.am): top_builddir, top_srcdir.

: "${top_builddir:=.}"
: "${top_srcdir:=$top_builddir}"
. "$top_srcdir/tests/cli/cli_lib.sh"
need_sqlite3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# go tool pprof: caches and its download dir away from $HOME, no network
export HOME="$tmp/home" GOCACHE="$tmp/gocache" PPROF_TMPDIR="$tmp/pprof" GOPROXY=off
mkdir -p "$HOME"

fx="$tmp/fx"
mkdir -p "$fx"
if ! "$top_builddir/tests/cli/mkfixture" "$fx"; then
    echo "FAIL: mkfixture"
    exit 1
fi

# ---- a run recorded now by the profiler: examples/hello ----
recorded=""
hello="$top_builddir/examples/hello"
if [ -x "$hello" ]; then
    GCTUNE_PROFILE="$fx/recorded.sqlite" GCTUNE_SAMPLE_RATE=65536 "$hello" >"$tmp/hello.out" 2>&1
    eq "recording examples/hello with GCTUNE_PROFILE" $? 0
    [ -f "$fx/recorded.sqlite" ] && recorded="$fx/recorded.sqlite"
else
    echo "note: $hello is not built: no run recorded now"
fi

# ---- generic checks on every run database ----
for db in "$fx/basic.sqlite" "$fx/tuner.sqlite" "$fx/dropped.sqlite" "$fx/empty.sqlite" \
          $recorded "$top_srcdir"/tests/fixtures/db/*.sqlite; do
    [ -f "$db" ] || continue
    check_db "$db"
done

# ---- the recorded run: estimates against what the program counted ----
if [ -n "$recorded" ]; then
    echo "== recorded run: $(grep 'allocated' "$tmp/hello.out")"
    "$GCTUNE" analyze --json "$recorded" >"$tmp/r.json"
    eq "recorded: backend" "$(jget "$tmp/r.json" '$.run.backend')" libgc
    eq "recorded: source" "$(jget "$tmp/r.json" '$.run.source')" profiler
    # "hello: allocated 1027.1 MiB in total, ..." (gc_stats.total_alloc)
    true_alloc=$(sed -n 's/.*allocated \([0-9.]*\) MiB in total.*/\1/p' "$tmp/hello.out" |
                 awk '{ printf "%.0f", $1 * 1048576 }')
    est=$(jget "$tmp/r.json" '$.heap.alloc_bytes')
    # ~16,000 samples: the relative standard error is about 1%; allow 10%
    near "recorded: estimated allocated bytes vs gc_stats.total_alloc" "$est" "$true_alloc" \
        "$((true_alloc / 10))"
    cycles=$(sed -n 's/.* \([0-9]*\) collections.*/\1/p' "$tmp/hello.out")
    eq "recorded: gc.cycles vs the program's count" "$(jget "$tmp/r.json" '$.gc.cycles')" "$cycles"
fi

# ---- known by construction (mkfixture.c) ----
echo "== fixtures: values known by construction"
G=$GCTUNE
"$G" analyze --json "$fx/basic.sqlite" >"$tmp/b.json"
eq "basic: top site" "$(jget "$tmp/b.json" '$.sites[0].function')" buf_new
eq "basic: top site file" "$(jget "$tmp/b.json" '$.sites[0].file')" src/buffer.c
eq "basic: top site line" "$(jget "$tmp/b.json" '$.sites[0].line')" 15
eq "basic: top site caller" "$(jget "$tmp/b.json" '$.sites[0].stack[1].function')" read_input
eq "basic: top site stack depth" "$(jlen "$tmp/b.json" '$.sites[0].stack')" 3
eq "basic: top in-use site" "$(jget "$tmp/b.json" '$.sites_by_inuse[0].function')" cache_put
eq "basic: sites listed (default --top 10)" "$(jlen "$tmp/b.json" '$.sites')" 8
eq "basic: site kind" "$(jget "$tmp/b.json" '$.site_kind')" stack
"$G" analyze --json --by function "$fx/basic.sqlite" >"$tmp/bf.json"
eq "basic --by function: site kind" "$(jget "$tmp/bf.json" '$.site_kind')" function
eq "basic --by function: leaf functions" "$(jget "$tmp/bf.json" '$.site_count')" 7
eq "basic --by function: same totals" "$(jget "$tmp/bf.json" '$.heap.alloc_bytes')" \
    "$(jget "$tmp/b.json" '$.heap.alloc_bytes')"
mn=$(sqlite3 -batch :memory: "SELECT json_extract(value, '\$.stacks') || ' ' || json_extract(value, '\$.alloc_bytes') FROM json_each(CAST(readfile('$tmp/bf.json') AS TEXT), '\$.sites') WHERE json_extract(value, '\$.function') = 'make_node'")
want=$(sql "$fx/basic.sqlite" "SELECT CAST(SUM(r) AS INTEGER) FROM (SELECT ROUND(SUM(weight * size)) AS r FROM samples WHERE stack_id IN (1, 7) GROUP BY stack_id)")
eq "basic --by function: make_node merges its 2 stacks" "$mn" "2 $want"
eq "basic: leak suspects" "$(jget "$tmp/b.json" '$.leak_suspects.count')" 1
eq "basic: leak suspect" "$(jget "$tmp/b.json" '$.leak_suspects.sites[0].function')" cache_put
eq "basic: leak rises" "$(jget "$tmp/b.json" '$.leak_suspects.sites[0].inuse_rises')" 10
eq "basic: forced cycles" "$(jget "$tmp/b.json" '$.gc.forced_cycles')" 1
eq "basic: GOGC seen" "$(jget "$tmp/b.json" '$.gc.gogc_seen')" '[50,100]'
eq "basic: memory limits seen" "$(jget "$tmp/b.json" '$.gc.memory_limit_seen')" '[-1,268435456]'
eq "basic: gc_cpu_fraction (last cycle)" "$(jget "$tmp/b.json" '$.gc.gc_cpu_fraction')" 0.02
eq "basic: heap goal min" "$(jget "$tmp/b.json" '$.gc.heap_goal.min')" 4194304
eq "basic: heap goal max" "$(jget "$tmp/b.json" '$.gc.heap_goal.max')" 20971520
eq "basic: argv with quotes" "$(jget "$tmp/b.json" '$.run.argv[3]')" '--name=a "b"'
eq "basic: sample rate" "$(jget "$tmp/b.json" '$.run.sample_rate')" 524288
eq "basic: duration" "$(jget "$tmp/b.json" '$.run.duration_ns')" 10000000000
eq "basic: no warnings" "$(jlen "$tmp/b.json" '$.warnings')" 0
"$G" analyze --json --top 0 "$fx/basic.sqlite" >"$tmp/b0.json"
names=$(sqlite3 -batch :memory: "SELECT group_concat(json_extract(value, '\$.function'), ',') FROM json_each(CAST(readfile('$tmp/b0.json') AS TEXT), '\$.sites')")
case "$names" in
    *"fixture-app+0x4100"*) pass ;;
    *) fail "basic: a frame without a function is module+offset: $names" ;;
esac
case "$names" in
    *"libc.so.6+0x38123"*) pass ;;
    *) fail "basic: a frame without a row is module+offset: $names" ;;
esac
eq "basic: the site without a stack row" \
    "$(sqlite3 -batch :memory: "SELECT json_type(value, '\$.function') FROM json_each(CAST(readfile('$tmp/b0.json') AS TEXT), '\$.sites') WHERE json_extract(value, '\$.stack_id') = 99")" null

"$G" analyze --stacks "$fx/basic.sqlite" >"$tmp/b.txt"
contains "basic: leak section states the rule" "$tmp/b.txt" '^Leak suspects \(in-use bytes rose in >= 8 of 10 equal time windows'
contains "basic: leak suspect listed" "$tmp/b.txt" 'rose in 10/10 windows +cache_put \(cache.c:88\)'
contains "basic: --stacks shows callers" "$tmp/b.txt" '^ +handle_request \(src/server.c:130\)'
contains "basic: top sites section" "$tmp/b.txt" '^Top allocation sites by allocated bytes'
contains "basic: in-use section" "$tmp/b.txt" '^Top allocation sites by in-use bytes'
contains "basic: site line" "$tmp/b.txt" 'buf_new \(buffer.c:15\) <- read_input$'
"$G" analyze --top 2 "$fx/basic.sqlite" >"$tmp/b2.txt"
contains "basic: --top 2" "$tmp/b2.txt" '2 of 8 sites'

"$G" export --format folded "$fx/basic.sqlite" >"$tmp/b.folded"
contains "folded: root first" "$tmp/b.folded" '^main;read_input;buf_new [0-9]+$'
contains "folded: ';' in a name is replaced" "$tmp/b.folded" '^main;config::parse<a, "b">:v2 [0-9]+$'
"$G" export --format csv "$fx/basic.sqlite" >"$tmp/b.csv"
contains "csv: header" "$tmp/b.csv" '^sample_id,time_ns,address,size,weight,freed_ns,thread,stack_id,function,file,line$'
contains "csv: quoting" "$tmp/b.csv" ',"config::parse<a, ""b"">;v2",src/config.c,12$'

"$G" analyze --json "$fx/tuner.sqlite" >"$tmp/t.json"
eq "tuner: events" "$(jlen "$tmp/t.json" '$.tuner_events')" 3
eq "tuner: first event" "$(jget "$tmp/t.json" '$.tuner_events[0].new_value')" 75
eq "tuner: null old value" "$(jget "$tmp/t.json" '$.tuner_events[2].old_value')" ''
eq "tuner: no leak once the cache frees" "$(jget "$tmp/t.json" '$.leak_suspects.count')" 0
"$G" analyze "$fx/tuner.sqlite" >"$tmp/t.txt"
contains "tuner: decisions listed" "$tmp/t.txt" '^Tuner decisions \(3\)'
contains "tuner: a decision" "$tmp/t.txt" 'gogc +100 -> 75 +p99 pause 2.1 ms above the 1 ms goal'

"$G" analyze "$fx/dropped.sqlite" >"$tmp/d.txt"
contains "dropped: warning" "$tmp/d.txt" 'WARNING: 1234 samples were dropped'
"$G" analyze --json "$fx/dropped.sqlite" >"$tmp/d.json"
eq "dropped: run.dropped_samples" "$(jget "$tmp/d.json" '$.run.dropped_samples')" 1234
contains "dropped: JSON warning" "$tmp/d.json" '"1234 samples were dropped'

"$G" analyze --json "$fx/empty.sqlite" >"$tmp/e.json" 2>"$tmp/e.err"
eq "empty: exit 0" $? 0
eq "empty: run.empty" "$(jget "$tmp/e.json" '$.run.empty')" 1
eq "empty: one stderr line" "$(wc -l <"$tmp/e.err" | tr -d ' ')" 1
contains "empty: warning names the file" "$tmp/e.err" "^gctune: $fx/empty.sqlite: warning: empty run"

"$G" diff --json "$fx/basic.sqlite" "$fx/tuner.sqlite" >"$tmp/diff.json"
eq "diff: exit" $? 0
cache_inuse=$(sqlite3 -batch :memory: "SELECT json_extract(value, '\$.delta.inuse_bytes') < 0 FROM json_each(CAST(readfile('$tmp/diff.json') AS TEXT), '\$.sites') WHERE json_extract(value, '\$.function') = 'cache_put'")
eq "diff: the cache's in-use bytes went down" "$cache_inuse" 1
eq "diff: base alloc = analyze" "$(jget "$tmp/diff.json" '$.summary.alloc_bytes.base')" \
    "$(jget "$tmp/b.json" '$.heap.alloc_bytes')"
eq "diff: new alloc = analyze" "$(jget "$tmp/diff.json" '$.summary.alloc_bytes.new')" \
    "$(jget "$tmp/t.json" '$.heap.alloc_bytes')"
eq "diff: sites matched by names" "$(jget "$tmp/diff.json" '$.site_count')" 8
"$G" diff "$fx/basic.sqlite" "$fx/tuner.sqlite" >"$tmp/diff.txt"
contains "diff: text" "$tmp/diff.txt" '^Sites by change in allocated bytes'

# ---- help ----
echo "== help"
"$G" --help >"$tmp/help.txt"
eq "gctune --help exit" $? 0
for cmd in analyze export import diff record report recommend; do
    contains "gctune --help lists $cmd" "$tmp/help.txt" "^  $cmd "
    "$G" "$cmd" --help >"$tmp/h.txt"
    eq "gctune $cmd --help exit" $? 0
    contains "gctune $cmd --help" "$tmp/h.txt" "^usage: gctune $cmd"
    "$G" help "$cmd" >"$tmp/h2.txt"
    eq "gctune help $cmd" "$(cmp -s "$tmp/h.txt" "$tmp/h2.txt" && echo same)" same
done
# every command listed exists: its own --help works
for cmd in $(sed -n 's/^  \([a-z][a-z]*\) .*/\1/p' "$tmp/help.txt"); do
    "$G" "$cmd" --help >/dev/null 2>&1
    eq "gctune --help lists only existing commands: $cmd" $? 0
done
"$G" --version >"$tmp/v.txt"
contains "gctune --version" "$tmp/v.txt" '^gctune [0-9]'

# ---- bad input: one line naming the file and the problem, exit 1 ----
echo "== bad input"
for cmd in "analyze" "analyze --json" "export --format pprof -o $tmp/x.pb.gz" \
           "export --format folded" "export --format csv"; do
    # shellcheck disable=SC2086
    expect_error 1 "^gctune: $tmp/missing.sqlite: no such file" "$G" $cmd "$tmp/missing.sqlite"
    # shellcheck disable=SC2086
    expect_error 1 "^gctune: $fx/notsqlite.sqlite: not an SQLite database" "$G" $cmd "$fx/notsqlite.sqlite"
    # shellcheck disable=SC2086
    expect_error 1 "^gctune: $fx/notgctune.sqlite: not a gctune database" "$G" $cmd "$fx/notgctune.sqlite"
    # shellcheck disable=SC2086
    expect_error 1 "^gctune: $fx/newer.sqlite: schema version 99 is newer" "$G" $cmd "$fx/newer.sqlite"
    # shellcheck disable=SC2086
    expect_error 1 "^gctune: $fx/truncated.sqlite: " "$G" $cmd "$fx/truncated.sqlite"
done
expect_error 1 "^gctune: $fx/notsqlite.sqlite: not an SQLite database" \
    "$G" diff "$fx/basic.sqlite" "$fx/notsqlite.sqlite"
expect_error 1 "^gctune: $tmp/missing.sqlite: no such file" \
    "$G" diff "$tmp/missing.sqlite" "$fx/basic.sqlite"
expect_error 1 "^gctune: $tmp/nodir/x.folded: cannot create" \
    "$G" export --format folded -o "$tmp/nodir/x.folded" "$fx/basic.sqlite"

# gctrace import: bad input
printf 'program output\ngc 1 @0.010s 2%%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->4->1 MB, 5 MB goal, 2 P\ngc 2 @0.02s 3%%: garbage\n' >"$tmp/bad.log"
expect_error 1 "^gctune: $tmp/bad.log:3: malformed gctrace line" \
    "$G" import gctrace -o "$tmp/bad.sqlite" "$tmp/bad.log"
eq "import: no database left after an error" "$(ls "$tmp"/bad.sqlite* 2>/dev/null | wc -l | tr -d ' ')" 0
printf 'hello\nworld\n' >"$tmp/none.log"
expect_error 1 "^gctune: $tmp/none.log: no gctrace lines" "$G" import gctrace -o "$tmp/none.sqlite" "$tmp/none.log"
expect_error 1 "^gctune: $tmp/missing.log: no such file" "$G" import gctrace "$tmp/missing.log"
printf 'gc 1 @0.010s 2%%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->4->1 MB, 5 MB goal, 2 P\n' >"$tmp/one.log"
"$G" import gctrace "$tmp/one.log" 2>"$tmp/imp.err"
eq "import: default output FILE.sqlite" "$? $(test -f "$tmp/one.log.sqlite" && echo made)" "0 made"
"$G" import gctrace -o "$tmp/stdin.sqlite" - <"$tmp/one.log"
eq "import: from stdin" "$(sql "$tmp/stdin.sqlite" "SELECT pause_ns FROM gc_cycles WHERE num = 1")" 400000
eq "import: meta.source" "$(sql "$tmp/stdin.sqlite" "SELECT value FROM meta WHERE key = 'source'")" gctrace

# ---- usage errors: exit 2 ----
echo "== usage errors"
expect_error 2 "^gctune: missing command" "$G"
expect_error 2 "^gctune: unknown command 'frobnicate'" "$G" frobnicate
expect_error 2 "^gctune: unknown option '--frob'" "$G" --frob
expect_error 2 "^gctune analyze: unknown option '--frob'" "$G" analyze --frob "$fx/basic.sqlite"
expect_error 2 "^gctune analyze: unknown option '-x'" "$G" analyze -x "$fx/basic.sqlite"
expect_error 2 "^gctune analyze: missing the run database" "$G" analyze
expect_error 2 "^gctune analyze: unexpected argument" "$G" analyze "$fx/basic.sqlite" "$fx/tuner.sqlite"
expect_error 2 "^gctune analyze: option '--top' needs a value" "$G" analyze --top
expect_error 2 "^gctune analyze: --top: 'ten' is not a count" "$G" analyze --top ten "$fx/basic.sqlite"
expect_error 2 "^gctune analyze: option '--json' takes no value" "$G" analyze --json=yes "$fx/basic.sqlite"
expect_error 2 "^gctune export: missing --format" "$G" export "$fx/basic.sqlite"
expect_error 2 "^gctune export: unknown format 'png'" "$G" export --format png "$fx/basic.sqlite"
expect_error 2 "^gctune analyze: --by: 'file' is not stack or function" "$G" analyze --by file "$fx/basic.sqlite"
expect_error 2 "^gctune export: the output '$fx/basic.sqlite' is the run database" \
    "$G" export --format csv -o "$fx/basic.sqlite" "$fx/basic.sqlite"
expect_error 2 "^gctune export: unknown --value 'x'" "$G" export --format folded --value x "$fx/basic.sqlite"
expect_error 2 "^gctune export: --value applies to --format folded only" \
    "$G" export --format csv --value inuse_space "$fx/basic.sqlite"
expect_error 2 "^gctune export: option '-o' needs a value" "$G" export --format csv "$fx/basic.sqlite" -o
expect_error 2 "^gctune import: missing the input format" "$G" import
expect_error 2 "^gctune import: unknown input format 'perf'" "$G" import perf x.log
expect_error 2 "^gctune import: missing the gctrace file" "$G" import gctrace
expect_error 2 "^gctune import: the output '$tmp/one.log' is the input file" \
    "$G" import gctrace -o "$tmp/one.log" "$tmp/one.log"
expect_error 2 "^gctune diff: needs two run databases" "$G" diff "$fx/basic.sqlite"
expect_error 2 "^gctune diff: unexpected argument" "$G" diff "$fx/basic.sqlite" "$fx/basic.sqlite" x

echo "$checks checks passed, $failures failed"
[ "$failures" -eq 0 ]
