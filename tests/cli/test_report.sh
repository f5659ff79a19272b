#!/bin/sh
# test_report.sh - end-to-end tests of `gctune report` (docs/report.md).
#
# Renders every chart of the fixture databases (tests/cli/mkfixture: a run
# with a leak, one with tuner decisions, dropped samples, an empty run;
# Go and libgc gctrace imports, which have GC cycles only; the recorded
# run committed under tests/fixtures/db/) as PNG, and two as SVG, and checks:
#   * the charts each run should have are written (data, script, image) and
#     the others are skipped, named on stdout and on the page, their files
#     absent;
#   * every image is valid and not trivial (tests/cli/check_image: PNG
#     chunks and CRCs, 1280x720, the pixels inflate and are not blank; SVG
#     well-formed with its size and content);
#   * index.html is well-formed and its <img> elements are exactly the
#     images in the directory; text from the database is escaped;
#   * the numbers agree with gctune analyze (pause percentiles, site
#     estimates, in-use history at the leak windows, allocated bytes);
#   * `gnuplot NAME.gp` in the directory draws the same image again;
#   * without gnuplot (GCTUNE_GNUPLOT=/nonexistent, or not in PATH): one
#     warning line naming gnuplot-nox, exit 0, data, scripts and page
#     written; a failing gnuplot is exit 1 naming the chart's script;
#   * usage errors (exit 2) and bad input (exit 1), one line each;
#   * the checker itself rejects broken images.
# Without gnuplot installed only the no-gnuplot checks run (then exit 77).
#
# Environment (set by Makefile.am): top_builddir, top_srcdir.
# (cli_lib.sh's helpers set the globals d, rc, code, pattern, what: not used here.)

: "${top_builddir:=.}"
: "${top_srcdir:=$top_builddir}"
. "$top_srcdir/tests/cli/cli_lib.sh"
need_sqlite3

# absolute paths: the tests change directories
abs() {
    case "$1" in
        /*) echo "$1" ;;
        *) echo "$(pwd)/$1" ;;
    esac
}
CHECK=$(abs "$top_builddir/tests/cli/check_image")
G=$(abs "$GCTUNE")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset GCTUNE_GNUPLOT

fx="$tmp/fx"
mkdir -p "$fx"
if ! "$top_builddir/tests/cli/mkfixture" "$fx"; then
    echo "FAIL: mkfixture"
    exit 1
fi
"$G" import gctrace -o "$fx/go.sqlite" "$top_srcdir/tests/fixtures/gctrace/go119.log" 2>/dev/null
eq "import go119.log" $? 0
"$G" import gctrace -o "$fx/libgc-trace.sqlite" "$top_srcdir/tests/fixtures/gctrace/libgc.log" 2>/dev/null
eq "import libgc.log" $? 0

ALL="heap pauses gc_cpu sites alloc_rate inuse"
have_gnuplot=0
command -v gnuplot >/dev/null 2>&1 && have_gnuplot=1

# in_list WORD LIST...
in_list() {
    w=$1
    shift
    for x in "$@"; do
        [ "$x" = "$w" ] && return 0
    done
    return 1
}

# check_report NAME DB FORMAT "CHARTS..."
#   renders DB into $tmp/r-NAME and checks the charts expected (the others
#   must be skipped)
check_report() {
    name=$1 db=$2 fmt=$3 charts=$4
    dir="$tmp/r-$name"
    echo "== report $name ($fmt): $(basename "$db")"
    "$G" report -o "$dir" --format "$fmt" "$db" >"$tmp/$name.out" 2>"$tmp/$name.err"
    eq "$name: exit" $? 0
    if [ "$(sql "$db" "SELECT (SELECT COUNT(*) FROM samples) + (SELECT COUNT(*) FROM gc_cycles) + (SELECT COUNT(*) FROM heap_series)")" = 0 ]; then
        eq "$name: stderr: the empty run warning" "$(cat "$tmp/$name.err")" \
            "gctune: $db: warning: empty run: no samples, no GC cycles, no heap series"
    else
        eq "$name: nothing on stderr (no gnuplot warning)" "$(cat "$tmp/$name.err")" ""
    fi
    contains "$name: stdout names the page" "$tmp/$name.out" "^gctune report: $dir/index.html\$"
    images=""
    for c in $ALL; do
        # shellcheck disable=SC2086
        if in_list "$c" $charts; then
            for ext in dat gp "$fmt"; do
                [ -s "$dir/$c.$ext" ] && pass || fail "$name: $c.$ext missing or empty"
            done
            contains "$name: stdout lists $c" "$tmp/$name.out" "^  chart +$c\\.$fmt "
            images="$images $c.$fmt"
            # every script is self-contained: relative names only
            contains "$name: $c.gp reads $c.dat" "$dir/$c.gp" "^datafile = '$c.dat'\$"
            contains "$name: $c.gp writes $c.$fmt" "$dir/$c.gp" "^out = '$c.$fmt'\$"
            if grep -v '^#' "$dir/$c.gp" | grep -q "$tmp"; then
                fail "$name: $c.gp names a path outside its directory"
            else
                pass
            fi
            contains "$name: page shows $c" "$dir/index.html" "<img src=\"$c.$fmt\""
        else
            contains "$name: stdout says $c is skipped" "$tmp/$name.out" "^  skipped +$c +[a-z]"
            contains "$name: page says why $c is skipped" "$dir/index.html" "<li id=\"skipped-$c\">"
            eq "$name: no files of the skipped chart $c" "$(ls "$dir/$c".* 2>/dev/null)" ""
        fi
    done
    # shellcheck disable=SC2086
    if [ -n "$images" ]; then
        (cd "$dir" && "$CHECK" $images) >"$tmp/$name.check" 2>&1
        eq "$name: check_image on every image" $? 0
        sed 's/^/   /' "$tmp/$name.check"
    fi
    # the page: well-formed, <img> = the images in the directory
    "$CHECK" --html "$dir/index.html" >"$tmp/$name.srcs" 2>"$tmp/$name.html.err"
    eq "$name: index.html is well-formed" "$?$(cat "$tmp/$name.html.err")" 0
    eq "$name: index.html shows every image and only those" \
        "$(sort "$tmp/$name.srcs" | tr '\n' ' ')" \
        "$(cd "$dir" && ls -- *.png *.svg 2>/dev/null | sort | tr '\n' ' ')"
    for section in 'id="summary"' '<caption>Run</caption>' '<caption>GC</caption>' \
                   '<caption>Heap</caption>' 'id="sites"' 'id="leaks"' 'id="tuner"'; do
        contains "$name: page section $section" "$dir/index.html" "$section"
    done
}

# the numbers of a report against gctune analyze on the same database
check_numbers() {
    name=$1 db=$2
    dir="$tmp/r-$name"
    "$G" analyze --json --top 0 "$db" >"$tmp/$name.json"
    if [ -f "$dir/pauses.gp" ]; then
        p50=$(jget "$tmp/$name.json" '$.gc.pause_ns.p50')
        p99=$(jget "$tmp/$name.json" '$.gc.pause_ns.p99')
        eq "$name: pauses.gp p50 = analyze" "$(sed -n 's/^p50 = //p' "$dir/pauses.gp")" \
            "$(awk -v v="$p50" 'BEGIN { printf "%.9g", v / 1e6 }')"
        eq "$name: pauses.gp p99 = analyze" "$(sed -n 's/^p99 = //p' "$dir/pauses.gp")" \
            "$(awk -v v="$p99" 'BEGIN { printf "%.9g", v / 1e6 }')"
        eq "$name: pauses.dat rows = cycles with a pause" \
            "$(awk '/^#/ { next } /^$/ { exit } { n++ } END { print n + 0 }' "$dir/pauses.dat")" \
            "$(sql "$db" "SELECT COUNT(*) FROM gc_cycles WHERE pause_ns >= 0")"
    fi
    if [ -f "$dir/heap.gp" ] && [ "$(sql "$db" "SELECT COUNT(*) FROM heap_series")" -gt 0 ]; then
        eq "$name: heap.dat rows = heap_series" \
            "$(awk '/^#/ { next } /^$/ { exit } { n++ } END { print n + 0 }' "$dir/heap.dat")" \
            "$(sql "$db" "SELECT COUNT(*) FROM heap_series")"
    fi
    if [ -f "$dir/sites.dat" ]; then
        sites=$(jget "$tmp/$name.json" '$.site_count')
        n=$((sites < 10 ? sites : 10))
        eq "$name: sites.dat rows = top 10" "$(grep -vc '^#' "$dir/sites.dat")" "$n"
        i=0
        while [ $i -lt "$n" ]; do
            eq "$name: sites.dat row $((i + 1)) alloc_bytes = analyze sites[$i]" \
                "$(grep -v '^#' "$dir/sites.dat" | sed -n "$((i + 1))p" | cut -f3)" \
                "$(jget "$tmp/$name.json" "\$.sites[$i].alloc_bytes")"
            eq "$name: sites.dat row $((i + 1)) inuse_bytes = analyze sites[$i]" \
                "$(grep -v '^#' "$dir/sites.dat" | sed -n "$((i + 1))p" | cut -f4)" \
                "$(jget "$tmp/$name.json" "\$.sites[$i].inuse_bytes")"
            i=$((i + 1))
        done
    fi
    if [ -f "$dir/alloc_rate.dat" ]; then
        # the sample windows (index 1: pairs of rows at a window's start and
        # end) add up to analyze's allocated bytes
        total=$(awk 'BEGIN { b = 0 } /^$/ { blank++; next } /^#/ { next }
                     blank >= 2 { if (n++ % 2 == 0) { t0 = $1 } else { s += $2 * ($1 - t0) / 1e9 } }
                     END { printf "%.0f", s }' "$dir/alloc_rate.dat")
        ab=$(jget "$tmp/$name.json" '$.heap.alloc_bytes')
        near "$name: sampled allocation rate x time = analyze heap.alloc_bytes" "$total" "$ab" \
            "$((ab / 10000 + 2))"
    fi
    if [ -f "$dir/inuse.dat" ]; then
        # the first line is the site holding the most at the end
        last=$(tail -1 "$dir/inuse.dat" | cut -f2)
        near "$name: inuse.dat at the end = analyze sites_by_inuse[0]" "$last" \
            "$(jget "$tmp/$name.json" '$.sites_by_inuse[0].inuse_bytes')" 2
    fi
}

if [ $have_gnuplot = 1 ]; then
    echo "gnuplot: $(command -v gnuplot) ($(gnuplot --version))"
    check_report basic "$fx/basic.sqlite" png "$ALL"
    check_numbers basic "$fx/basic.sqlite"
    check_report tuner "$fx/tuner.sqlite" png "$ALL"
    check_numbers tuner "$fx/tuner.sqlite"
    check_report dropped "$fx/dropped.sqlite" png "$ALL"
    check_report empty "$fx/empty.sqlite" png ""
    check_report go "$fx/go.sqlite" png "heap pauses gc_cpu"
    check_numbers go "$fx/go.sqlite"
    check_report libgc-trace "$fx/libgc-trace.sqlite" png "heap pauses gc_cpu"
    # a heap series without sizes, cycles with pauses and CPU times only
    cp "$fx/empty.sqlite" "$fx/sparse.sqlite"
    sql "$fx/sparse.sqlite" "INSERT INTO heap_series(time_ns) VALUES (100000000), (200000000);
        INSERT INTO gc_cycles(num, start_ns, end_ns, pause_ns, procs) VALUES
        (1, 50000000, 60000000, 500000, 2), (2, 150000000, 170000000, 700000, 2),
        (3, 250000000, 260000000, 300000, 2)"
    check_report sparse "$fx/sparse.sqlite" png "pauses gc_cpu"
    contains "sparse: says why there is no heap chart" "$tmp/sparse.out" \
        "skipped +heap +no heap sizes in the heap series and no GC cycle with heap sizes"
    contains "sparse: GC CPU from the cycles' CPU times" "$tmp/r-sparse/gc_cpu.dat" \
        "from the GC cycles' CPU times"
    for db in "$top_srcdir"/tests/fixtures/db/*.sqlite; do
        [ -f "$db" ] || continue
        n=$(basename "$db" .sqlite)
        check_report "$n" "$db" png "$ALL"
        check_numbers "$n" "$db"
    done
    check_report basic-svg "$fx/basic.sqlite" svg "$ALL"
    check_report go-svg "$fx/go.sqlite" svg "heap pauses gc_cpu"

    echo "== values known by construction"
    rb="$tmp/r-basic"
    # the leak view at the 10 leak windows (every 20th of its 200 steps) is
    # analyze's inuse_at[] of the leak suspect (cache_put: the top in-use site)
    eq "basic: the leak suspect is the first line of the leak view" \
        "$(sed -n '/^time_ns/p' "$rb/inuse.dat" | cut -f2)" \
        '"cache_put (cache.c:88) <- handle_request:130 [leak suspect]"'
    k=1
    while [ $k -le 10 ]; do
        near "basic: inuse.dat step $((k * 20)) = analyze inuse_at[$((k - 1))]" \
            "$(grep -v '^#' "$rb/inuse.dat" | sed -n "$((k * 20 + 2))p" | cut -f2)" \
            "$(jget "$tmp/basic.json" "\$.leak_suspects.sites[0].inuse_at[$((k - 1))]")" 2
        k=$((k + 1))
    done
    contains "basic: names escaped in the page" "$rb/index.html" \
        'config::parse&lt;a, &quot;b&quot;&gt;;v2 \(config.c:12\) &lt;- main'
    if grep -q 'parse<a' "$rb/index.html"; then
        fail "basic: an unescaped name in the page"
    else
        pass
    fi
    contains "basic: a double quote in a name is a single quote in the data" "$rb/sites.dat" \
        "config::parse<a, 'b'>;v2 \\(config.c:12\\) <- main:20"
    contains "basic: leak suspect marked in the page" "$rb/index.html" \
        'cache_put \(cache.c:88\) &lt;- handle_request <span class="leak">leak suspect</span>'
    contains "basic: a site's stack is its tooltip" "$rb/index.html" \
        'title="cache_put \(src/cache.c:88\) &lt;- handle_request \(src/server.c:130\) &lt;- main \(src/main.c:20\)"'
    "$G" analyze "$fx/basic.sqlite" >"$tmp/basic.txt"
    p50=$(sed -n 's/.*STW pauses *p50 \([0-9.]* [a-z]*\) .*/\1/p' "$tmp/basic.txt")
    contains "basic: the page's pauses as analyze prints them" "$rb/index.html" "p50 $p50, p90"
    contains "basic: memory limit above the chart is said" "$rb/heap.gp" \
        "memory limit 256.0 MiB: above the chart"
    contains "basic: forced cycle shown" "$rb/pauses.gp" "forced cycle \\(1\\)"
    contains "basic: knobs as recorded (no tuner)" "$rb/gc_cpu.dat" "from the recorded gc_percent"
    t="$tmp/r-tuner"
    contains "tuner: GOGC steps from the tuner's decisions" "$t/gc_cpu.dat" \
        "GOGC \\(%\\) as steps, from the tuner's decisions"
    eq "tuner: decisions in gc_cpu.dat" \
        "$(awk '/^# index 4/ { on = 1; next } on && !/^#/ && NF { n++ } END { print n + 0 }' "$t/gc_cpu.dat")" 3
    contains "tuner: decisions plotted" "$t/gc_cpu.gp" "tuner decision \\(GOGC\\)"
    contains "tuner: decisions in the page" "$t/index.html" \
        '<td>p99 pause 2.1 ms above the 1 ms goal</td>'
    g="$tmp/r-go"
    contains "go: heap from the cycles" "$g/heap.gp" "^# ---- Heap over time, from the GC cycles"
    contains "go: GC CPU from the cycles' CPU times" "$g/gc_cpu.dat" "from the GC cycles' CPU times"
    contains "go: says why sites are skipped" "$tmp/go.out" \
        "skipped +sites +no allocation samples in this run \\(a gctrace import has none\\)"

    echo "== gnuplot NAME.gp in the directory draws the same images"
    cp -r "$rb" "$tmp/again"
    rm -f "$tmp/again"/*.png
    for c in $ALL; do
        (cd "$tmp/again" && gnuplot "$c.gp") >"$tmp/again.err" 2>&1
        eq "gnuplot $c.gp by hand: exit and output" "$?$(cat "$tmp/again.err")" 0
        if cmp -s "$rb/$c.png" "$tmp/again/$c.png"; then
            pass
        else
            # not byte-identical (another cairo?): at least a valid image
            "$CHECK" "$tmp/again/$c.png" >/dev/null
            eq "gnuplot $c.gp by hand: a valid image" $? 0
        fi
    done

    echo "== a second report into the same directory"
    "$G" report -o "$rb" "$fx/go.sqlite" >/dev/null 2>&1
    eq "go over basic: exit" $? 0
    eq "go over basic: only the go charts' files remain" \
        "$(cd "$rb" && ls | tr '\n' ' ')" \
        "gc_cpu.dat gc_cpu.gp gc_cpu.png heap.dat heap.gp heap.png index.html pauses.dat pauses.gp pauses.png "
    "$G" report -o "$tmp/r-basic-svg" "$fx/basic.sqlite" >/dev/null 2>&1
    eq "png over svg: no svg left" "$(ls "$tmp/r-basic-svg"/*.svg 2>/dev/null)" ""

    echo "== default output directory"
    mkdir "$tmp/def"
    cp "$fx/dropped.sqlite" "$tmp/def/run.sqlite"
    (cd "$tmp/def" && "$G" report run.sqlite >/dev/null 2>&1)
    eq "default -o: run.sqlite -> run-report/" "$(test -f "$tmp/def/run-report/index.html" && echo yes)" yes

    echo "== gnuplot fails"
    printf '#!/bin/sh\necho "gnuplot> plot boom" >&2\necho "         ^" >&2\necho "\\"$1\\" line 3: undefined variable: boom" >&2\nexit 1\n' >"$tmp/badgp"
    chmod +x "$tmp/badgp"
    GCTUNE_GNUPLOT="$tmp/badgp" "$G" report -o "$tmp/r-fail" "$fx/basic.sqlite" >"$tmp/fail.out" 2>"$tmp/fail.err"
    eq "failing gnuplot: exit 1" $? 1
    eq "failing gnuplot: one line per chart" "$(wc -l <"$tmp/fail.err" | tr -d ' ')" 6
    contains "failing gnuplot: names the script and gnuplot's message" "$tmp/fail.err" \
        "^gctune: $tmp/r-fail/heap.gp: gnuplot failed \\(exit status 1\\): \"heap.gp\" line 3: undefined variable: boom\$"
    contains "failing gnuplot: the page still written" "$tmp/r-fail/index.html" "Not rendered: gnuplot failed"
    printf '#!/bin/sh\nexit 0\n' >"$tmp/lazygp"
    chmod +x "$tmp/lazygp"
    GCTUNE_GNUPLOT="$tmp/lazygp" "$G" report -o "$tmp/r-lazy" "$fx/go.sqlite" >/dev/null 2>"$tmp/lazy.err"
    eq "gnuplot writing no image: exit 1" $? 1
    contains "gnuplot writing no image: said" "$tmp/lazy.err" "heap.gp: gnuplot wrote no image \\(heap.png\\)"
else
    echo "note: gnuplot is not installed (Debian package gnuplot-nox): rendering not tested"
fi

echo "== without gnuplot"
GCTUNE_GNUPLOT=/nonexistent "$G" report -o "$tmp/r-nognuplot" "$fx/basic.sqlite" >"$tmp/nog.out" 2>"$tmp/nog.err"
eq "no gnuplot: exit 0" $? 0
eq "no gnuplot: one stderr line" "$(wc -l <"$tmp/nog.err" | tr -d ' ')" 1
contains "no gnuplot: names the Debian package" "$tmp/nog.err" \
    "^gctune: warning: gnuplot not found \\(GCTUNE_GNUPLOT=/nonexistent\\): install the Debian package gnuplot-nox; wrote the data files and gnuplot scripts to $tmp/r-nognuplot without images\$"
for c in $ALL; do
    [ -s "$tmp/r-nognuplot/$c.dat" ] && [ -s "$tmp/r-nognuplot/$c.gp" ] && pass ||
        fail "no gnuplot: $c.dat and $c.gp written"
    contains "no gnuplot: stdout lists $c's script" "$tmp/nog.out" "^  script +$c\\.gp .*not rendered: no gnuplot"
done
eq "no gnuplot: no image" "$(ls "$tmp/r-nognuplot"/*.png 2>/dev/null)" ""
"$CHECK" --html "$tmp/r-nognuplot/index.html" >"$tmp/nog.srcs"
eq "no gnuplot: index.html well-formed, without <img>" "$?:$(cat "$tmp/nog.srcs")" "0:"
contains "no gnuplot: the page says so" "$tmp/r-nognuplot/index.html" "gnuplot-nox"
PATH=/nonexistent "$G" report -o "$tmp/r-nopath" "$fx/go.sqlite" >/dev/null 2>"$tmp/nopath.err"
eq "gnuplot not in PATH: exit 0" $? 0
contains "gnuplot not in PATH: said" "$tmp/nopath.err" "^gctune: warning: gnuplot not found in PATH: install the Debian package gnuplot-nox"

echo "== usage errors and bad input"
expect_error 2 "^gctune report: unknown format 'jpg' \\(png or svg\\)" "$G" report --format jpg "$fx/basic.sqlite"
expect_error 2 "^gctune report: missing the run database" "$G" report
expect_error 2 "^gctune report: unexpected argument" "$G" report "$fx/basic.sqlite" "$fx/tuner.sqlite"
expect_error 2 "^gctune report: --top: 'x' is not a count" "$G" report --top x "$fx/basic.sqlite"
expect_error 2 "^gctune report: unknown option '--frob'" "$G" report --frob "$fx/basic.sqlite"
expect_error 2 "^gctune report: option '-o' needs a value" "$G" report "$fx/basic.sqlite" -o
expect_error 1 "^gctune: $tmp/missing.sqlite: no such file" "$G" report -o "$tmp/x" "$tmp/missing.sqlite"
expect_error 1 "^gctune: $fx/notsqlite.sqlite: not an SQLite database" "$G" report -o "$tmp/x" "$fx/notsqlite.sqlite"
expect_error 1 "^gctune: $fx/notsqlite.sqlite: not a directory" "$G" report -o "$fx/notsqlite.sqlite" "$fx/basic.sqlite"
expect_error 1 "^gctune: $tmp/no/such/dir: cannot create directory" "$G" report -o "$tmp/no/such/dir" "$fx/basic.sqlite"
"$G" report --help >"$tmp/help.txt"
contains "report --help" "$tmp/help.txt" "^usage: gctune report \\[-o DIR\\] \\[--format png\\|svg\\]"

if [ $have_gnuplot = 1 ]; then
    echo "== the checker rejects broken images"
    rs="$tmp/r-go-svg"
    head -c 20000 "$tmp/r-tuner/heap.png" >"$tmp/trunc.png"
    "$CHECK" "$tmp/trunc.png" 2>/dev/null
    eq "check_image: truncated PNG fails" $? 1
    cp "$tmp/r-tuner/heap.png" "$tmp/flip.png"
    printf 'X' | dd of="$tmp/flip.png" bs=1 seek=3000 conv=notrunc 2>/dev/null
    "$CHECK" "$tmp/flip.png" 2>/dev/null
    eq "check_image: a corrupt byte fails" $? 1
    "$CHECK" --size 640x480 "$tmp/r-tuner/heap.png" 2>/dev/null
    eq "check_image: wrong size fails" $? 1
    gnuplot -e "set terminal pngcairo size 1280,720; set output '$tmp/blank.png'; unset border; unset tics; unset key; plot [0:1][0:1] NaN notitle" 2>/dev/null
    "$CHECK" --min-bytes 0 "$tmp/blank.png" 2>"$tmp/blank.err"
    eq "check_image: a blank PNG fails" $? 1
    contains "check_image: a blank PNG is trivial" "$tmp/blank.err" "trivial image"
    head -c 20000 "$rs/heap.svg" >"$tmp/trunc.svg"
    "$CHECK" "$tmp/trunc.svg" 2>/dev/null
    eq "check_image: truncated SVG fails" $? 1
    printf '<html><body><p>x</b></body></html>\n' >"$tmp/bad.html"
    "$CHECK" --html "$tmp/bad.html" 2>/dev/null
    eq "check_image: mismatched HTML tags fail" $? 1
fi

echo "$checks checks passed, $failures failed"
[ "$failures" -eq 0 ] || exit 1
[ $have_gnuplot = 1 ] || exit 77
exit 0
