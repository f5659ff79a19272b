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
  --suite alloc|gc|all   which suites to run (default all)
                           alloc: alloc_churn (libgc, glibc, jemalloc, mimalloc, bdwgc,
                                  and the zeroing peers glibc-calloc, jemalloc-zero,
                                  mimalloc-zero)
                           gc:    binary_trees and churn (libgc, bdwgc, glibc,
                                  jemalloc, mimalloc, go)
  --quick                smoke-test sizes: 1M steps, depth 16, live 16 MB
  --reps R               runs per variant, median reported (default 3)
  --steps N              alloc_churn steps (default 20000000)
  --threads T            alloc_churn threads (default 1)
  --depth D              binary_trees depth (default 21)
  --live MB              churn live set in MB (default 64)
  --alloc-x A            churn allocation, multiple of the live set (default 10)
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
steps='' threads=1 depth='' live='' allocx=10

while [ $# -gt 0 ]; do
    case $1 in
    --suite) [ $# -ge 2 ] || die_usage "--suite needs a value"; suite=$2; shift ;;
    --suite=*) suite=${1#*=} ;;
    --quick) quick=1 ;;
    --reps) [ $# -ge 2 ] || die_usage "--reps needs a value"; reps=$2; shift ;;
    --reps=*) reps=${1#*=} ;;
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

case $suite in alloc | gc | all) ;; *) die_usage "--suite must be alloc, gc or all" ;; esac
for v in reps threads allocx; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die_usage "$v: '${!v}' is not a positive integer"
done
if [ $quick = 1 ]; then
    : "${steps:=1000000}" "${depth:=16}" "${live:=16}"
else
    : "${steps:=20000000}" "${depth:=21}" "${live:=64}"
fi
for v in steps depth live; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die_usage "$v: '${!v}' is not a positive integer"
done
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
if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "notes:"
    printf '  - %s\n' "${notes[@]}"
fi
echo
echo "raw summary lines: $raw"
exit 0
