#!/bin/bash
# bench/recommend_validate.sh - validates the model of `gctune recommend`
# (tuner/model.h): records one workload at GOGC 50, 100, 200 and 400, each
# doing the same work, asks `gctune recommend --json --gogc 50,100,200,400`
# on the GOGC=100 recording for its predictions, and prints them against
# what each recording measured (`gctune recommend --json` on it:
# recorded.measured, the same definitions as the predictions):
#   GC CPU fraction  GC CPU of the cycles (pause x procs + background +
#                    assist CPU) over wall time x procs
#   peak heap        the highest heap at a cycle start or in the heap series
#   cycles           the number of GC cycles
#   marking CPU      the thread CPU time of marking (gc_cycles.mark_cpu_ns):
#                    predicted as the GOGC=100 run's times the ratio of the
#                    model's GC CPU; unlike the GC CPU fraction (pause x
#                    procs on a stop-the-world collector), not stretched
#                    when other processes take the CPU
# with the error of each prediction in percent of the measured value.
#
# Workloads (--workload, default demo):
#   demo  examples/demo (libgc, recorded with GCTUNE_PROFILE): the phased
#         demo (steady, allocation spike, live-set step, slow leak) at
#         --live MiB; the same work at each GOGC is the units a GOGC=100 run
#         does in --seconds (demo --units)
#   go    bench/go/churn.go (Go, built here with `go`, recorded with
#         `gctune record --backend go`): a steady live set of --go-live MB
#         churned until --go-alloc x live bytes are allocated
#   both  the two, one after the other
# bench/tuner.sh --validate runs this with --workload demo.
#
# Usage: bench/recommend_validate.sh [--builddir DIR] [--workload demo|go|both]
#            [--live MiB] [--seconds S] [--go-live MB] [--go-alloc X] [--keep DIR]
# --keep DIR copies the recordings (demoG.sqlite, goG.sqlite) there.
# Needs sqlite3 (the JSON is read with its json_extract).  The machine's
# load changes GC CPU from run to run (2 shared cores): the peak heap is
# the steadier figure.
set -u
builddir=. workload=demo live=48 seconds=15 go_live=64 go_alloc=10 keep=""
while [ $# -gt 0 ]; do
    case $1 in
    --builddir) builddir=$2; shift ;;
    --workload) workload=$2; shift ;;
    --live) live=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --go-live) go_live=$2; shift ;;
    --go-alloc) go_alloc=$2; shift ;;
    --keep) keep=$2; shift ;;
    -h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/recommend_validate.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $workload in demo|go|both) ;; *) echo "bench/recommend_validate.sh: --workload: demo, go or both" >&2; exit 2 ;; esac
for v in live seconds go_live go_alloc; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench/recommend_validate.sh: --${v/_/-}: not a positive integer" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "bench/recommend_validate.sh: needs the sqlite3 command" >&2; exit 1; }
b=$(cd "$builddir" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
gctune=$b/gctune
make -C "$b" -s gctune examples/demo >/dev/null 2>&1 || true
[ -x "$gctune" ] || { echo "bench/recommend_validate.sh: $gctune not built (make gctune)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-recvalidate.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; [ -n "$keep" ] && mkdir -p "$keep" && cp "$tmp"/*.sqlite "$keep"/; rm -rf "$tmp"' EXIT
gogcs="50 100 200 400"

# j FILE PATH: a value of the JSON file
j() { sqlite3 -batch -noheader :memory: "SELECT json_extract(CAST(readfile('$1') AS TEXT), '$2')"; }

# table NAME: predictions from $tmp/NAME100.sqlite against $tmp/NAME$g.sqlite
table() {
    local n=$1 g i=0
    "$gctune" recommend --gogc "${gogcs// /,}" "$tmp/${n}100.sqlite" | sed -n '1,10p'
    "$gctune" recommend --json --gogc "${gogcs// /,}" "$tmp/${n}100.sqlite" >"$tmp/pred.json" || return 1
    echo
    local base_mark pred_base
    base_mark=$(sqlite3 -batch -noheader "$tmp/${n}100.sqlite" "SELECT COALESCE(SUM(mark_cpu_ns), 0) FROM gc_cycles")
    pred_base=$(j "$tmp/pred.json" '$.recorded.predicted.gc_cpu_ns')
    printf '%-5s | %7s %7s %6s | %7s %7s %6s | %6s %6s | %8s %8s %6s\n' GOGC "GC CPU" "" "" "peak" "heap" "MiB" \
        cycles "" "marking" "CPU s" ""
    printf '%-5s | %7s %7s %6s | %7s %7s %6s | %6s %6s | %8s %8s %6s\n' "" pred meas error pred meas error \
        pred meas pred meas error
    for g in $gogcs; do
        "$gctune" recommend --json "$tmp/$n$g.sqlite" >"$tmp/m$g.json" || { i=$((i + 1)); continue; }
        [ "$(j "$tmp/pred.json" "\$.candidates[$i].gogc")" = "$g" ] || { echo "candidate $i is not GOGC $g" >&2; return 1; }
        awk -v g="$g" -v pc="$(j "$tmp/pred.json" "\$.candidates[$i].gc_cpu_fraction")" \
            -v mc="$(j "$tmp/m$g.json" '$.recorded.measured.gc_cpu_fraction')" \
            -v ph="$(j "$tmp/pred.json" "\$.candidates[$i].peak_heap")" \
            -v mh="$(j "$tmp/m$g.json" '$.recorded.measured.peak_heap')" \
            -v pn="$(j "$tmp/pred.json" "\$.candidates[$i].cycles")" \
            -v mn="$(j "$tmp/m$g.json" '$.recorded.measured.cycles')" \
            -v pg="$(j "$tmp/pred.json" "\$.candidates[$i].gc_cpu_ns")" -v pb="$pred_base" -v bm="$base_mark" \
            -v mm="$(sqlite3 -batch -noheader "$tmp/$n$g.sqlite" "SELECT COALESCE(SUM(mark_cpu_ns), 0) FROM gc_cycles")" '
            function err(p, m) { return m > 0 ? sprintf("%+.0f%%", 100 * (p - m) / m) : "?" }
            BEGIN {
            M = 1048576
            pm = pb > 0 ? bm * pg / pb : 0
            printf "%-5s | %6.1f%% %6.1f%% %6s | %7.1f %7.1f %6s | %6.0f %6d | %8.2f %8.2f %6s\n",
                g (g == 100 ? "*" : ""), 100 * pc, 100 * mc, err(pc, mc), ph / M, mh / M, err(ph, mh),
                pn, mn, pm / 1e9, mm / 1e9, err(pm, mm) }'
        i=$((i + 1))
    done
    echo "(* the recording the model is fitted to; marking CPU: the recorded thread CPU time of marking,"
    echo " predicted as the GOGC=100 run's times the model's GC CPU ratio: not stretched by the machine's load)"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
    echo "recommend (default goal, GC CPU <= 5%): $(j "$tmp/pred.json" '$.recommendation.why')"
}

if [ "$workload" != go ]; then
    demo=$b/examples/demo
    [ -x "$demo" ] || { echo "bench/recommend_validate.sh: $demo not built (make examples/demo)" >&2; exit 1; }
    field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }
    units=$(field "$(GOGC=100 "$demo" --live "$live" --seconds "$seconds" --quiet | grep 'phase=total')" units)
    [[ $units =~ ^[0-9]+$ ]] || { echo "bench/recommend_validate.sh: calibration run failed" >&2; exit 1; }
    for g in $gogcs; do
        GCTUNE_PROFILE=$tmp/demo$g.sqlite GCTUNE_SAMPLE_RATE=0 GOGC=$g "$demo" --live "$live" --units "$units" \
            >"$tmp/demo$g.out" 2>&1 || echo "run GOGC=$g failed" >&2
    done
    echo "== examples/demo (libgc), live $live MiB, $units work units at each GOGC; the model fitted to GOGC=100"
    table demo || exit 1
fi

if [ "$workload" != demo ]; then
    GO=${GO:-go}
    command -v "$GO" >/dev/null || { echo "bench/recommend_validate.sh: --workload go needs go" >&2; exit 1; }
    [ "$workload" = both ] && echo
    mkdir -p "$tmp/gosrc"
    cp "$src/bench/go/churn.go" "$src/bench/go/go.mod" "$tmp/gosrc/"
    (cd "$tmp/gosrc" && HOME="$tmp" GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOPROXY=off GOFLAGS= \
        GOTOOLCHAIN=local "$GO" build -o "$tmp/churn" churn.go) ||
        { echo "bench/recommend_validate.sh: go build of bench/go/churn.go failed" >&2; exit 1; }
    for g in $gogcs; do
        GOGC=$g "$gctune" record -o "$tmp/go$g.sqlite" --backend go -- "$tmp/churn" -l "$go_live" -a "$go_alloc" \
            >"$tmp/go$g.out" 2>"$tmp/go$g.err" || { echo "run GOGC=$g failed: $(tail -1 "$tmp/go$g.err")" >&2; }
    done
    echo "== bench/go/churn.go (Go $("$GO" env GOVERSION 2>/dev/null)), live $go_live MB, ${go_alloc}x allocated; the model fitted to GOGC=100"
    table go || exit 1
fi
