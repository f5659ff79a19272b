#!/usr/bin/env bash
# bench/run.sh - build and run the gctune benchmark suites against their peers,
# and print tables of medians and ratios.  See bench/README.md.
#
# Every variant of a workload is run R times (default 3), interleaved: round 1
# runs the variants in order, round 2 in reverse order, and so on, so that slow
# drift (thermal, other load) spreads over all of them.  Each figure in the
# tables is the median of its R runs.  These are benchmarks, not tests: nothing
# here passes or fails on a time.
set -u -o pipefail

usage() {
    cat <<'EOF'
usage: bench/run.sh [options]
  --suite alloc|gc|pauses|all
                         which suites to run (default all = alloc + gc)
                           alloc:  alloc_churn (libgc, glibc, jemalloc, mimalloc, bdwgc,
                                   and the zeroing peers glibc-calloc, jemalloc-zero,
                                   mimalloc-zero)
                           gc:     binary_trees and churn (libgc, bdwgc, glibc,
                                   jemalloc, mimalloc, go)
                           pauses: churn, stop-the-world pause distribution and
                                   throughput: libgc-stw (GCTUNE_CONCURRENT=0),
                                   libgc-conc (GCTUNE_CONCURRENT=1), go (gctrace);
                                   long (minutes), not part of all
  --quick                smoke-test sizes: 1M steps, depth 16, live 16 MB
                         (pauses: live "16 64", 512 MB allocated per run)
  --reps R               runs per variant, median reported (default 3; pauses: 1)
  --steps N              alloc_churn steps (default 20000000)
  --threads T            alloc_churn threads (default 1)
  --depth D              binary_trees depth (default 21)
  --live MB              churn live set in MB (default 64);
                         pauses: a list, e.g. "64 1024" or 64,1024 (the default)
  --alloc-x A            churn allocation, multiple of the live set (default 10;
                         pauses: 4096 MB / live, at least 2, so every run
                         allocates about 4 GiB after the fill)
  --builddir DIR         automake build directory (default: the source top dir)
  --no-make              do not run `make bench-build`
  --no-go                do not build or run the Go ports
  -h, --help             this text
Environment: GO names the go command (default: go from PATH).  GOGC / GOMEMLIMIT / GODEBUG are passed through unchanged to the
libgc and Go variants (both default to GOGC=100).
Exit status: 0 when the suites ran (skipped peers are noted, not errors),
2 on a usage error.
EOF
}

die_usage() { echo "bench/run.sh: $*" >&2; usage >&2; exit 2; }

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
builddir=$srcdir
suite=all
quick=0
reps=3
do_make=1
do_go=1
steps='' threads=1 depth='' live='' allocx='' reps_set=0

while [ $# -gt 0 ]; do
    case $1 in
    --suite) [ $# -ge 2 ] || die_usage "--suite needs a value"; suite=$2; shift ;;
    --suite=*) suite=${1#*=} ;;
    --quick) quick=1 ;;
    --reps) [ $# -ge 2 ] || die_usage "--reps needs a value"; reps=$2; reps_set=1; shift ;;
    --reps=*) reps=${1#*=}; reps_set=1 ;;
    --steps) [ $# -ge 2 ] || die_usage "--steps needs a value"; steps=$2; shift ;;
    --threads) [ $# -ge 2 ] || die_usage "--threads needs a value"; threads=$2; shift ;;
    --depth) [ $# -ge 2 ] || die_usage "--depth needs a value"; depth=$2; shift ;;
    --live) [ $# -ge 2 ] || die_usage "--live needs a value"; live=$2; shift ;;
    --alloc-x) [ $# -ge 2 ] || die_usage "--alloc-x needs a value"; allocx=$2; shift ;;
    --builddir) [ $# -ge 2 ] || die_usage "--builddir needs a value"; builddir=$2; shift ;;
    --builddir=*) builddir=${1#*=} ;;
    --no-make) do_make=0 ;;
    --no-go) do_go=0 ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown option '$1'" ;;
    esac
    shift
done

case $suite in alloc | gc | pauses | all) ;; *) die_usage "--suite must be alloc, gc, pauses or all" ;; esac
# pauses: runs are long, so one run per variant unless --reps says otherwise
[ "$suite" = pauses ] && [ $reps_set = 0 ] && reps=1
pause_lives='' pause_budget=4096
if [ "$suite" = pauses ]; then
    [ $quick = 1 ] && pause_budget=512
    if [ -z "$live" ]; then
        if [ $quick = 1 ]; then pause_lives="16 64"; else pause_lives="64 1024"; fi
    else
        pause_lives=${live//,/ }
    fi
    for v in $pause_lives; do
        [[ $v =~ ^[1-9][0-9]*$ ]] || die_usage "live: '$v' is not a positive integer"
    done
    [ -n "${pause_lives// /}" ] || die_usage "--live: empty list"
fi
pause_allocx=$allocx # empty: per live size, pause_budget / live
: "${allocx:=10}"
for v in reps threads allocx; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die_usage "$v: '${!v}' is not a positive integer"
done
if [ $quick = 1 ]; then
    : "${steps:=1000000}" "${depth:=16}" "${live:=16}"
else
    : "${steps:=20000000}" "${depth:=21}" "${live:=64}"
fi
for v in steps depth; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die_usage "$v: '${!v}' is not a positive integer"
done
if [ "$suite" != pauses ]; then
    [[ $live =~ ^[1-9][0-9]*$ ]] || die_usage "live: '$live' is not a positive integer"
fi
builddir=$(cd "$builddir" 2>/dev/null && pwd) || die_usage "--builddir: no such directory"

logdir=$(mktemp -d "${TMPDIR:-/tmp}/gctune-bench.XXXXXX")
raw=$logdir/raw.txt
: >"$raw"
notes=()
note() { notes+=("$*"); echo "note: $*" >&2; }

# ---------------------------------------------------------------- build
if [ $do_make = 1 ]; then
    if [ -f "$builddir/Makefile" ]; then
        echo "building: make -C $builddir -k bench-build (log: $logdir/make.log)" >&2
        # -k: peers still build when the libgc variants do not.
        if ! make -C "$builddir" -k bench-build >"$logdir/make.log" 2>&1; then
            note "make bench-build failed for some programs (see $logdir/make.log); running what exists"
        fi
    else
        note "no Makefile in $builddir (run ./configure first); running whatever binaries exist"
    fi
fi

gobin=$srcdir/bench/go
go=${GO:-go} # configure's $(GO) when run by `make bench`
if [ $do_go = 1 ] && [ "$suite" != alloc ]; then
    if command -v "$go" >/dev/null 2>&1; then
        echo "building: go build in $gobin (log: $logdir/go.log)" >&2
        # GOPROXY=off: standard library only, never the network.
        if ! (cd "$gobin" && export GOPROXY=off &&
            "$go" build -o binary_trees binary_trees.go &&
            "$go" build -o churn churn.go) >"$logdir/go.log" 2>&1; then
            note "go build failed (see $logdir/go.log)"
        fi
    else
        note "go not installed: Go variants skipped"
    fi
fi

# ---------------------------------------------------------------- running
declare -A vals   # "prog|variant|field" -> "v1 v2 ..."
declare -A failed # "prog|variant" -> 1

# binpath PROG VARIANT -> path of the executable, or nothing
binpath() {
    local p
    if [ "$2" = go ]; then
        p=$gobin/$1
    else
        p=$builddir/bench/$1_$2
    fi
    [ -x "$p" ] && echo "$p"
}

# run_one PROG VARIANT ARGS... : run once, record the key=value pairs of its summary line
run_one() {
    local prog=$1 variant=$2 bin line kv k v out rc
    shift 2
    bin=$(binpath "$prog" "$variant")
    out=$("$bin" "$@" 2>"$logdir/$prog-$variant.err")
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E "^$prog $variant " | tail -n 1)
    if [ $rc != 0 ] || [ -z "$line" ]; then
        if [ -z "${failed[$prog|$variant]:-}" ]; then
            note "$prog $variant: run failed (exit $rc; stderr in $logdir/$prog-$variant.err)"
        fi
        failed[$prog|$variant]=1
        return
    fi
    echo "$line" >>"$raw"
    echo "  $line" >&2
    for kv in $line; do
        case $kv in
        *=*)
            k=${kv%%=*} v=${kv#*=} v=${v%s}
            vals[$prog|$variant|$k]="${vals[$prog|$variant|$k]:-} $v"
            ;;
        esac
    done
}

# run_suite PROG "VARIANTS" ARGS... : interleaved reps over the available variants
run_suite() {
    local prog=$1 all=$2 v r avail=() order
    shift 2
    for v in $all; do
        if [ -n "$(binpath "$prog" "$v")" ]; then
            avail+=("$v")
        elif [ "$v" = go ]; then
            note "$prog go: $gobin/$prog not built; skipped"
        else
            note "$prog $v: $builddir/bench/${prog}_$v not built; skipped"
        fi
    done
    [ ${#avail[@]} -gt 0 ] || return
    echo "running $prog ($reps rounds: ${avail[*]}) $*" >&2
    for ((r = 1; r <= reps; r++)); do
        if ((r % 2)); then
            order=("${avail[@]}")
        else
            order=()
            for ((i = ${#avail[@]} - 1; i >= 0; i--)); do order+=("${avail[i]}"); done
        fi
        for v in "${order[@]}"; do
            run_one "$prog" "$v" "$@"
        done
    done
}

# med PROG VARIANT FIELD -> median of the recorded values, or nothing
med() {
    [ -z "${failed[$1|$2]:-}" ] || return 0
    local xs=${vals[$1|$2|$3]:-}
    [ -n "$xs" ] || return 0
    # shellcheck disable=SC2086 # split the list of numbers on purpose
    printf '%s\n' $xs | sort -g | awk '{a[NR] = $1}
        END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ratio A B -> A/B with 2 decimals, "-" when either is missing or B is 0
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}
mb() { awk -v k="$1" 'BEGIN { if (k == "") print "-"; else printf "%.1f\n", k / 1024 }'; }
or_dash() { if [ -n "$1" ]; then echo "$1"; else echo -; fi; }

# ---------------------------------------------------------------- tables
table_alloc() {
    local v m s c r g z mg mm mgz mmz
    mg=$(med alloc_churn glibc Mops) mm=$(med alloc_churn mimalloc Mops)
    mgz=$(med alloc_churn glibc-calloc Mops) mmz=$(med alloc_churn mimalloc-zero Mops)
    echo
    echo "== alloc_churn: steps=$steps threads=$threads slots=20000, sizes 16..4096 (median of $reps)"
    echo "   vs PEER: throughput ratio (Mops / peer Mops); > 1 means faster than the peer"
    echo "   vs glibc, vs mimalloc: peers that do not zero; vs glibc-calloc, vs mimalloc-zero:"
    echo "   peers that zero, as libgc and bdwgc must (zeroed=y); see bench/README.md"
    printf '%-13s %6s %7s %8s %7s %9s %5s | %8s %11s %14s %15s\n' allocator zeroed Mops seconds cpu_s \
        maxrss_MB gcs "vs glibc" "vs mimalloc" "vs glibc-calloc" "vs mimalloc-zero"
    for v in libgc glibc glibc-calloc jemalloc jemalloc-zero mimalloc mimalloc-zero bdwgc; do
        m=$(med alloc_churn "$v" Mops)
        [ -n "$m" ] || continue
        s=$(med alloc_churn "$v" seconds) c=$(med alloc_churn "$v" cpu)
        r=$(med alloc_churn "$v" maxrss_kb) g=$(med alloc_churn "$v" gcs)
        case $v in glibc | jemalloc | mimalloc) z=n ;; *) z=y ;; esac
        printf '%-13s %6s %7s %8s %7s %9s %5s | %8s %11s %14s %15s\n' "$v" "$z" "$m" "$s" "$c" "$(mb "$r")" \
            "$(or_dash "$g")" "$(ratio "$m" "$mg")" "$(ratio "$m" "$mm")" \
            "$(ratio "$m" "$mgz")" "$(ratio "$m" "$mmz")"
    done
}

table_gc() {
    local prog=$1 desc=$2 v w c r g bw bc br bg gw gc gr gg
    bw=$(med "$prog" bdwgc wall) bc=$(med "$prog" bdwgc cpu)
    br=$(med "$prog" bdwgc maxrss_kb) bg=$(med "$prog" bdwgc gcs)
    gw=$(med "$prog" go wall) gc=$(med "$prog" go cpu)
    gr=$(med "$prog" go maxrss_kb) gg=$(med "$prog" go gcs)
    echo
    echo "== $prog: $desc (median of $reps)"
    echo "   /bdwgc and /go: variant / peer for wall, cpu, maxrss, gcs; < 1 means less than the peer"
    printf '%-9s %8s %8s %9s %6s | %-23s | %-23s\n' variant wall_s cpu_s maxrss_MB gcs \
        "/bdwgc wall cpu rss gcs" "/go wall cpu rss gcs"
    for v in libgc bdwgc go glibc jemalloc mimalloc; do
        w=$(med "$prog" $v wall)
        [ -n "$w" ] || continue
        c=$(med "$prog" $v cpu) r=$(med "$prog" $v maxrss_kb) g=$(med "$prog" $v gcs)
        printf '%-9s %8s %8s %9s %6s | %5s %5s %5s %5s | %5s %5s %5s %5s\n' \
            "$v" "$w" "$c" "$(mb "$r")" "$(or_dash "$g")" \
            "$(ratio "$w" "$bw")" "$(ratio "$c" "$bc")" "$(ratio "$r" "$br")" "$(ratio "$g" "$bg")" \
            "$(ratio "$w" "$gw")" "$(ratio "$c" "$gc")" "$(ratio "$r" "$gr")" "$(ratio "$g" "$gg")"
    done
}

# ---------------------------------------------------------------- pauses suite
# Variants: libgc-stw and libgc-conc are bench/churn_libgc with
# GCTUNE_CONCURRENT=0 / 1 (the binary records every pause with a cycle hook
# and prints the pause fields itself); go is bench/go/churn with
# GODEBUG=gctrace=1, whose trace lines are parsed by go_pauses.

# pause_allocx LIVE -> the allocation multiple used for that live size
pause_allocx() {
    if [ -n "$pause_allocx" ]; then
        echo "$pause_allocx"
    else
        awk -v l="$1" -v b="$pause_budget" 'BEGIN { a = int(b / l + 0.5); print (a < 2 ? 2 : a) }'
    fi
}

# go_pauses FILE -> pause fields from a Go gctrace: every line
# "gc N @Ts P%: A+B+C ms clock, ..." has two stop-the-world pauses, A (sweep
# termination) and C (mark termination); B is concurrent marking.
# Percentiles by nearest rank, as in churn.c.
go_pauses() {
    awk '/^gc [0-9]+ @/ {
            for (i = 1; i <= NF; i++) if ($i ~ /%:$/) break
            if (i >= NF || split($(i + 1), t, "+") != 3) next
            print t[1] + 0; print t[3] + 0 }' "$1" | sort -g |
        awk '{ p[NR] = $1; tot += $1 }
            function rank(q,   r) { r = int(q * NR); if (r < q * NR) r++; return r < 1 ? 1 : r }
            END {
                if (NR == 0) { print "cycles=0 pauses=0"; exit }
                printf "mode=concurrent cycles=%d pauses=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f pause_total_ms=%.1f\n",
                    NR / 2, NR, p[rank(0.50)], p[rank(0.99)], p[NR], tot }'
}

# run_pause_one LIVE VARIANT ALLOCX: run once, record its key=value pairs
# under prog "pauses$LIVE"
run_pause_one() {
    local lv=$1 variant=$2 ax=$3 prog=pauses$1 bin err out rc line kv k v
    err=$logdir/churn-$variant-$lv.err
    case $variant in
    libgc-stw)
        bin=$(binpath churn libgc)
        out=$(GCTUNE_CONCURRENT=0 "$bin" -l "$lv" -a "$ax" 2>"$err")
        rc=$?
        line=$(printf '%s\n' "$out" | grep -E '^churn libgc ' | tail -n 1)
        line=${line/churn libgc /churn libgc-stw }
        ;;
    libgc-conc)
        bin=$(binpath churn libgc)
        out=$(GCTUNE_CONCURRENT=1 "$bin" -l "$lv" -a "$ax" 2>"$err")
        rc=$?
        line=$(printf '%s\n' "$out" | grep -E '^churn libgc ' | tail -n 1)
        line=${line/churn libgc /churn libgc-conc }
        ;;
    go)
        bin=$(binpath churn go)
        out=$(GODEBUG="${GODEBUG:+$GODEBUG,}gctrace=1" "$bin" -l "$lv" -a "$ax" 2>"$err")
        rc=$?
        line=$(printf '%s\n' "$out" | grep -E '^churn go ' | tail -n 1)
        [ -n "$line" ] && line="$line $(go_pauses "$err" | tr '\n' ' ')"
        line=${line% }
        ;;
    esac
    if [ $rc != 0 ] || [ -z "$line" ]; then
        note "churn $variant live=$lv: run failed (exit $rc): $(grep -v '^gc [0-9]' "$err" | tail -n 1)" \
            "(stderr: $err)"
        failed[$prog|$variant]=1
        return
    fi
    echo "$line" >>"$raw"
    echo "  $line" >&2
    for kv in $line; do
        case $kv in
        *=*)
            k=${kv%%=*} v=${kv#*=} v=${v%s}
            vals[$prog|$variant|$k]="${vals[$prog|$variant|$k]:-} $v"
            ;;
        esac
    done
}

run_pauses() {
    local lv ax v r avail=() order
    if [ -n "$(binpath churn libgc)" ]; then
        avail+=(libgc-stw libgc-conc)
    else
        note "churn libgc: $builddir/bench/churn_libgc not built; libgc variants skipped"
    fi
    if [ $do_go = 1 ]; then
        if [ -n "$(binpath churn go)" ]; then
            avail+=(go)
        else
            note "churn go: $gobin/churn not built; skipped"
        fi
    fi
    [ ${#avail[@]} -gt 0 ] || return
    for lv in $pause_lives; do
        ax=$(pause_allocx "$lv")
        echo "running pauses live=${lv}MB alloc_x=$ax ($reps rounds: ${avail[*]})" >&2
        for ((r = 1; r <= reps; r++)); do
            if ((r % 2)); then
                order=("${avail[@]}")
            else
                order=()
                for ((i = ${#avail[@]} - 1; i >= 0; i--)); do order+=("${avail[i]}"); done
            fi
            for v in "${order[@]}"; do
                run_pause_one "$lv" "$v" "$ax"
            done
        done
    done
}

table_pauses() {
    local lv v prog t ts
    echo
    echo "== pauses: churn, sizes 16..1024, 50% scanned; every stop-the-world pause of the run"
    echo "   (fill + churn; median of $reps run(s) per figure).  libgc: cycle hook, 2 pauses per"
    echo "   concurrent cycle (start, mark termination), 1 per stop-the-world cycle; go: gctrace A and C."
    echo "   Msteps/s, MB/s: churn loop only (after the fill).  thr/stw: Msteps/s / libgc-stw Msteps/s"
    echo "   at the same live size (libgc-conc row: concurrent/STW).  Issue goal for libgc-conc at"
    echo "   1 GiB live: p99 <= 0.5 ms, max <= 1 ms, thr/stw >= 0.85."
    printf '%7s %-10s %7s %6s %6s %8s %8s %8s %9s %8s %7s %7s %7s %9s\n' live_MB variant alloc_x \
        cycles pauses p50_ms p99_ms max_ms total_ms Msteps/s MB/s thr/stw wall_s maxrss_MB
    for lv in $pause_lives; do
        prog=pauses$lv
        ts=$(med "$prog" libgc-stw Msteps_s)
        for v in libgc-stw libgc-conc go; do
            t=$(med "$prog" $v Msteps_s)
            [ -n "$t" ] || continue
            printf '%7s %-10s %7s %6s %6s %8s %8s %8s %9s %8s %7s %7s %7s %9s\n' "$lv" "$v" \
                "$(med "$prog" $v alloc_x)" "$(or_dash "$(med "$prog" $v cycles)")" \
                "$(or_dash "$(med "$prog" $v pauses)")" "$(or_dash "$(med "$prog" $v p50_ms)")" \
                "$(or_dash "$(med "$prog" $v p99_ms)")" "$(or_dash "$(med "$prog" $v max_ms)")" \
                "$(or_dash "$(med "$prog" $v pause_total_ms)")" "$t" "$(med "$prog" $v alloc_MBps)" \
                "$(ratio "$t" "$ts")" "$(med "$prog" $v wall)" "$(mb "$(med "$prog" $v maxrss_kb)")"
        done
    done
}

# ---------------------------------------------------------------- main
if [ "$suite" = alloc ] || [ "$suite" = all ]; then
    run_suite alloc_churn "libgc glibc glibc-calloc jemalloc jemalloc-zero mimalloc mimalloc-zero bdwgc" \
        -t "$threads" "$steps"
fi
if [ "$suite" = gc ] || [ "$suite" = all ]; then
    gcv="libgc bdwgc glibc jemalloc mimalloc"
    [ $do_go = 1 ] && gcv="$gcv go"
    run_suite binary_trees "$gcv" "$depth"
    run_suite churn "$gcv" -l "$live" -a "$allocx"
fi
if [ "$suite" = pauses ]; then
    run_pauses
fi

echo
echo "gctune bench: $(date -u '+%Y-%m-%d %H:%M:%SZ')  $(uname -srm)  cpus=$(nproc)" \
    "GOGC=${GOGC:-unset} GOMEMLIMIT=${GOMEMLIMIT:-unset}"
echo "peers: gcc $(gcc -dumpfullversion 2>/dev/null || echo ?)," \
    "bdwgc $(pkg-config --modversion bdw-gc 2>/dev/null || echo ?)," \
    "jemalloc $(pkg-config --modversion jemalloc 2>/dev/null || echo ?)," \
    "$("$go" version 2>/dev/null | awk '{print $3}')"
if [ "$suite" = alloc ] || [ "$suite" = all ]; then
    table_alloc
fi
if [ "$suite" = gc ] || [ "$suite" = all ]; then
    table_gc binary_trees "depth=$depth, 16-byte two-pointer nodes, GC variants never free"
    table_gc churn "live=${live} MB, allocation ${allocx}x live, sizes 16..1024, 50% scanned"
fi
if [ "$suite" = pauses ]; then
    table_pauses
fi
if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "notes:"
    printf '  - %s\n' "${notes[@]}"
fi
echo
echo "raw summary lines: $raw"
exit 0
