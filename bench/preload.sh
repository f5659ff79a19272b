#!/bin/bash
# bench/preload.sh - what the malloc backend (libgctune-preload.so) costs a
# plain malloc program, against heaptrack, measured in one run (issue 9).
#
# Workloads: the glibc variants of churn (steady live set, random sizes,
# free + malloc per step) and binary-trees (16-byte nodes: the most calls
# per byte, the worst case for an interposer), and churn -l 2 -a 2, which
# does little: its recording overhead is the fixed cost of a recording
# (library start, database creation, loading symbols for the first
# samples, exit flush), printed on its own and subtracted for the "net of
# the fixed cost" line of the others.  Last, alloc_churn -t 2 (two
# threads, random sizes 16..4096 B): a program that is multi-threaded
# already, so the profiler's own threads change nothing in glibc (see rate0).
# Modes, per workload:
#
#   plain       the program as built (started through env(1), as the
#               library's modes must be to set its variables, so that
#               every mode pays that exec)
#   idle        LD_PRELOAD=libgctune-preload.so without GCTUNE_PROFILE: the
#               cost of interposition alone (the library is loaded, nothing
#               is recorded)
#   rate0       the same with GCTUNE_SAMPLE_RATE=0: the profiler runs (its
#               helper process, the database, heap_series rows every
#               100 ms) but takes no sample.  (Before helper mode, the
#               profiler's writer and symbolizer threads made the process
#               multi-threaded, which switched glibc's malloc to its locked,
#               atomic paths: on binary-trees most of a recording's cost;
#               GCTUNE_PROFILE_HELPER=0 still gives that mode.)
#   recording   LD_PRELOAD=libgctune-preload.so GCTUNE_PROFILE=DB at the
#               default rate (512 KiB; GCTUNE_SAMPLE_RATE is unset for it):
#               the writer and symbolizer run in a helper process
#               (profiler/helper.c); wall time runs until the program has
#               exited, which it does once the helper has closed the
#               database; cpu adds the helper's own CPU time (meta
#               writer_cpu_ns), which bash's `time` does not see
#   heaptrack   heaptrack -o FILE PROGRAM (Debian package heaptrack), which
#               traces every allocation; skipped when it is not installed
#   baseline    with --baseline-lib LIB only: recording as above, with
#               another build of libgctune-preload.so (an older commit's),
#               in the same rounds, so that a change's effect shows apart
#               from the machine's drift between runs of the script
#
# Wall and CPU time (user+sys of the whole process tree, so heaptrack's
# interpreter and compressor count): --reps N rounds (default 5); each round
# runs every mode once, in an order that alternates between rounds (forward,
# then backward), so that slow changes of machine load are shared out.
# Pinning (unless --no-pin, or with one CPU or no taskset): round r runs
# every mode of the single-threaded workloads on one CPU, the (r mod N)th
# the shell may use (taskset -c), and the recording helper on the others
# (GCTUNE_HELPER_CPUS).  The vCPUs of a shared VM do not run at one speed:
# on the 2-vCPU machine of issue 9 plain churn ran 376 ms on one and 519 ms
# on the other at the same moment, and which one a run lands on weighed
# more than the recording itself; pinned, the modes of a round meet the
# same CPU, and alternate rounds share out the two.  heaptrack runs
# unpinned (its interpreter process would have to share the program's
# CPU), and so does alloc_churn (2 threads).
# Printed: the median of each, ratio to plain, overhead % and "heaptrack
# overhead / gctune overhead" (recording), and the median (with its 95 %
# confidence interval, from 9 rounds) and quartiles of each round's
# recording / plain wall ratio (the two runs of a round share
# a CPU and are at most minutes apart, so slow changes of the VM's speed
# cancel out: plain churn's median moved from 0.39 s to 0.45 s between two
# runs of the script on one day).  Then instruction counts from
# callgrind, all threads (valgrind sums them into one total), plain vs idle
# vs recording, with the calls to malloc/free/calloc/realloc and the
# instructions per call spent in backends/malloc.c itself (with what it
# inlines from backends/sample.h).
#
# Callgrind and LD_PRELOAD: /usr/bin/valgrind is a shell script that execs
# valgrind.bin, which execs the tool; LD_PRELOAD in valgrind's environment
# would load the library (and start a recording) in each of those too.  So
# the client is started through the dynamic loader instead:
#   valgrind --tool=callgrind /lib64/ld-linux-x86-64.so.2 --preload LIB PROG
# (the plain run also goes through ld.so, so both pay the same start-up).
# Under callgrind the program runs ~50x slower, so the profiler's periodic
# work (a heap_series row and a commit every 100 ms, writer wake-ups) is
# counted ~50 times over: the recording figure is an upper bound.
#
# Usage: bench/preload.sh [--builddir DIR] [--reps N] [--heaptrack-reps K]
#                         [--quick] [--no-callgrind] [--no-heaptrack]
#                         [--no-make] [--no-pin] [--baseline-lib LIB]
#   (make bench-preload BENCH_ARGS="--quick" runs it from the build tree;
#   without --no-make it first builds what it needs in DIR)
#   --no-pin  leave every run to the scheduler (see Pinning above)
#   --heaptrack-reps K  heaptrack in the first K rounds only (default 5, at
#             most N): it takes ten times as long as the other modes
#             together, so many rounds of the others stay affordable
#             (--reps 30 --heaptrack-reps 5: about 4 minutes)
#   --quick   smaller sizes (churn -l 16 -a 10, binary-trees 14, alloc_churn
#             100000 steps), for a smoke test; the fixed cost of a
#             recording (creating the database, loading symbols) weighs
#             more on short runs
# Exit 0 when the measurements ran.  Machine noise is large (2 shared
# cores): compare ratios from the same run only.  Never judges a time.
set -u
builddir=. reps=5 ht_reps=5 quick=0 do_cg=1 do_ht=1 do_make=1 do_pin=1 base_lib=
while [ $# -gt 0 ]; do
    case $1 in
    --builddir) [ $# -ge 2 ] || { echo "bench/preload.sh: --builddir needs a directory" >&2; exit 2; }
                builddir=$2; shift ;;
    --reps) [ $# -ge 2 ] || { echo "bench/preload.sh: --reps needs a number" >&2; exit 2; }
            reps=$2; shift ;;
    --heaptrack-reps) [ $# -ge 2 ] || { echo "bench/preload.sh: --heaptrack-reps needs a number" >&2; exit 2; }
            ht_reps=$2; shift ;;
    --quick) quick=1 ;;
    --no-callgrind) do_cg=0 ;;
    --no-heaptrack) do_ht=0 ;;
    --no-make) do_make=0 ;;
    --no-pin) do_pin=0 ;;
    --baseline-lib) [ $# -ge 2 ] || { echo "bench/preload.sh: --baseline-lib needs a library" >&2; exit 2; }
            base_lib=$2; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/preload.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "bench/preload.sh: --reps: not a positive integer: $reps" >&2; exit 2; }
[[ $ht_reps =~ ^[1-9][0-9]*$ ]] || { echo "bench/preload.sh: --heaptrack-reps: not a positive integer: $ht_reps" >&2; exit 2; }
[ "$ht_reps" -le "$reps" ] || ht_reps=$reps
[ -d "$builddir" ] || { echo "bench/preload.sh: --builddir: no such directory: $builddir" >&2; exit 2; }
top=$(cd "$builddir" && pwd)
b=$top/bench
lib=$top/.libs/libgctune-preload.so
[ $do_make = 0 ] || make -C "$top" -s libgctune-preload.la bench/churn_glibc bench/binary_trees_glibc bench/alloc_churn_glibc >/dev/null 2>&1 || true
for f in "$b/churn_glibc" "$b/binary_trees_glibc" "$b/alloc_churn_glibc"; do
    [ -x "$f" ] || { echo "bench/preload.sh: $f not built (make bench/churn_glibc bench/binary_trees_glibc bench/alloc_churn_glibc)" >&2; exit 1; }
done
[ -f "$lib" ] || { echo "bench/preload.sh: $lib not built (make libgctune-preload.la)" >&2; exit 1; }
command -v sqlite3 >/dev/null 2>&1 || { echo "bench/preload.sh: needs the sqlite3 command (Debian package sqlite3)" >&2; exit 1; }
if [ $do_ht = 1 ] && ! command -v heaptrack >/dev/null 2>&1; then
    echo "note: heaptrack not installed (Debian package heaptrack): its rows are skipped"
    do_ht=0
fi
if [ $do_cg = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
    echo "note: valgrind not installed (Debian package valgrind): no instruction counts"
    do_cg=0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-preloadbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The recording must use the library's defaults.
unset GCTUNE_SAMPLE_RATE GCTUNE_SAMPLE_SEED GCTUNE_PROFILE LD_PRELOAD

if [ $quick = 1 ]; then churn_args=(-l 16 -a 10); bt_args=(14); ac_args=(-t 2 100000)
else churn_args=(-l 64 -a 10); bt_args=(16); ac_args=(-t 2 400000); fi
# Workload 2 does little (6 MiB allocated, a dozen samples): its recording
# overhead is the fixed cost of a recording (library start, database
# creation, symbol loading for the first samples, exit flush).
workloads=("churn ${churn_args[*]}" "binary-trees ${bt_args[*]}" "churn -l 2 -a 2" "alloc_churn ${ac_args[*]}")
progs=("$b/churn_glibc" "$b/binary_trees_glibc" "$b/churn_glibc" "$b/alloc_churn_glibc")
wargs=("${churn_args[*]}" "${bt_args[*]}" "-l 2 -a 2" "${ac_args[*]}")
argv_of() { echo "${wargs[$1]}"; }
# the CPUs this shell may use, one per line (Cpus_allowed_list: 0-3,6)
cpus=()
if [ $do_pin = 1 ] && command -v taskset >/dev/null 2>&1; then
    read -r -a cpus <<<"$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status |
        awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); lo = r[1]; hi = (n > 1 ? r[2] : r[1]);
                   for (c = lo; c <= hi; c++) printf "%d ", c } }')"
fi
[ ${#cpus[@]} -ge 2 ] || do_pin=0
pinned_workload() { [ $do_pin = 1 ] && [ "$1" != 3 ]; }   # not alloc_churn (2 threads)
modes=(plain idle rate0 recording)
if [ -n "$base_lib" ]; then
    [ -f "$base_lib" ] || { echo "bench/preload.sh: --baseline-lib: no such file: $base_lib" >&2; exit 2; }
    base_lib=$(cd "$(dirname "$base_lib")" && pwd)/$(basename "$base_lib")
    modes+=(baseline)
fi
[ $do_ht = 1 ] && modes+=(heaptrack)

# timed OUT_PREFIX CMD... : appends "wall cpu main" (seconds) to
# OUT_PREFIX.t; main is the program's own timing of its work (its
# "wall=" or "seconds=" figure: from main's start to its report, so
# without the library's start-up, the helper's fork, the exit wait and
# the process's exit)
timed() {
    local out=$1 st main
    shift
    TIMEFORMAT='%R %U %S'
    { time "$@" >"$tmp/out" 2>>"$tmp/stderr"; } 2>"$tmp/time"
    st=$?
    [ $st = 0 ] || echo "run failed (exit $st): $*" >&2
    main=$(sed -n 's/.* \(wall\|seconds\)=\([0-9.]*\).*/\2/p' "$tmp/out" | tail -n 1)
    awk -v main="${main:-0}" '{ printf "%s %.3f %s\n", $1, $2 + $3, main }' "$tmp/time" >>"$out.t"
}

# add_helper_cpu OUT_PREFIX DB : in helper mode the writer is a helper
# process that bash's `time` does not count (it is not a waited-for
# child): adds the CPU time it recorded in meta (writer_cpu_ns) to the
# last run's cpu figure
add_helper_cpu() {
    local ns
    ns=$(sqlite3 "$2" "SELECT value FROM meta WHERE key = 'writer_cpu_ns'" 2>/dev/null)
    [ -n "$ns" ] || return 0
    awk -v ns="$ns" 'NR > 1 { print prev } { prev = $0 } END { split(prev, f, " "); printf "%s %.3f %s\n", f[1], f[2] + ns / 1e9, f[3] }' \
        "$1.t" >"$1.t.new" && mv "$1.t.new" "$1.t"
}

# run W MODE ROUND : one timed run of workload W in MODE
run() {
    local w=$1 mode=$2 r=$3 prog=${progs[$1]} args db pin=() others= c
    read -r -a args <<<"$(argv_of "$w")"
    if pinned_workload "$w"; then
        pin=(taskset -c "${cpus[r % ${#cpus[@]}]}")
        for c in "${cpus[@]}"; do [ "$c" = "${cpus[r % ${#cpus[@]}]}" ] || others=${others:+$others,}$c; done
    fi
    case $mode in
    # every mode but heaptrack starts the program through env(1), plain
    # too: the exec of env costs ~2.7 ms here (perf stat -r 200 of
    # `taskset -c 0 [env] /bin/true`), which only the library's modes paid
    # until 2026-11-23
    plain) timed "$tmp/$w-$mode" "${pin[@]}" env "$prog" "${args[@]}" ;;
    idle) timed "$tmp/$w-$mode" "${pin[@]}" env LD_PRELOAD="$lib" "$prog" "${args[@]}" ;;
    rate0)
        db=$tmp/rate0-$w-$r.sqlite
        timed "$tmp/$w-$mode" "${pin[@]}" env LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=0 \
            ${others:+GCTUNE_HELPER_CPUS=$others} "$prog" "${args[@]}"
        add_helper_cpu "$tmp/$w-$mode" "$db"
        rm -f "$db" "$db"-* ;;
    recording|baseline)
        local l=$lib
        [ "$mode" = baseline ] && l=$base_lib
        db=$tmp/$mode-$w-$r.sqlite
        timed "$tmp/$w-$mode" "${pin[@]}" env LD_PRELOAD="$l" GCTUNE_PROFILE="$db" \
            ${others:+GCTUNE_HELPER_CPUS=$others} "$prog" "${args[@]}"
        add_helper_cpu "$tmp/$w-$mode" "$db"
        # proof that it recorded: samples kept, and the backend that took them
        sqlite3 "$db" "SELECT count(*) || ' ' || (SELECT value FROM meta WHERE key = 'backend') FROM samples" \
            >>"$tmp/$w-$mode-samples" 2>/dev/null || echo "? ?" >>"$tmp/$w-$mode-samples"
        rm -f "$db" "$db"-* ;;
    heaptrack)
        # unpinned: pinned, its interpreter process would share the
        # program's CPU (it cannot be placed apart), a cost heaptrack
        # does not have on an idle machine
        timed "$tmp/$w-$mode" heaptrack -o "$tmp/ht-$w-$r" "$prog" "${args[@]}"
        rm -f "$tmp/ht-$w-$r"* ;;
    esac
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# per_round A B : for workload $w, the ratio of each round's mode A wall
# time to the same round's mode B (same CPU, minutes apart at most): slow
# drifts of the VM's speed cancel out, and the quartiles show the spread.
# The 95 % confidence interval of the median is distribution-free: the
# k-th smallest and k-th largest ratio, k = floor((n - 1.96 sqrt(n)) / 2)
# (the binomial count of ratios below the true median), from 9 rounds up
per_round() {
    paste "$tmp/$w-$2.t" "$tmp/$w-$1.t" | awk '{ print 100 * ($4 / $1 - 1) }' | sort -g |
        awk -v pad="" -v a="$1" -v b="$2" '{ v[NR] = $1 }
            function q(f,   i) { i = 1 + f * (NR - 1); return v[int(i)] + (i - int(i)) * (v[int(i) + 1] - v[int(i)]) }
            END { k = int((NR - 1.96 * sqrt(NR)) / 2)
                  ci = k >= 1 ? sprintf(" (95%% CI %+.1f%% .. %+.1f%%)", v[k], v[NR - k + 1]) : ""
                  printf "%-24s %s / %s of the same round, wall: median %+.1f%%%s, quartiles %+.1f%% .. %+.1f%%, %d rounds\n",
                  pad, a, b, q(0.5), ci, q(0.25), q(0.75), NR }'
}

echo "== malloc backend overhead at the default rate (median of $reps rounds, modes interleaved)"
[ $do_ht = 1 ] && [ "$ht_reps" -lt "$reps" ] && echo "   heaptrack: the first $ht_reps rounds only (--heaptrack-reps)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $do_pin = 1 ]; then
    echo "   pinned: round r runs each mode on CPU r mod ${#cpus[@]} of (${cpus[*]}), the helper on the others; heaptrack and alloc_churn unpinned"
else
    echo "   not pinned: runs land on whichever CPU the scheduler picks"
fi
for ((r = 0; r < reps; r++)); do
    order=("${modes[@]}")
    if ((r % 2)); then
        order=(); for ((i = ${#modes[@]} - 1; i >= 0; i--)); do order+=("${modes[i]}"); done
    fi
    for w in 0 1 2 3; do
        for m in "${order[@]}"; do
            [ "$m" = heaptrack ] && [ $r -ge "$ht_reps" ] && continue
            run $w "$m" $r
        done
    done
done

echo "   main: the program's own timing of its work (without start-up, the helper's fork, the exit wait, exit)"
printf '%-24s %-10s %9s %7s %9s %9s %7s %9s %8s %9s  %s\n' workload mode wall_s ratio overhead cpu_s ratio overhead main_s overhead note
for w in 2 0 1 3; do
    declare -A W=() C=() M=()
    for m in "${modes[@]}"; do
        W[$m]=$(awk '{ print $1 }' "$tmp/$w-$m.t" | median)
        C[$m]=$(awk '{ print $2 }' "$tmp/$w-$m.t" | median)
        M[$m]=$(awk '{ print $3 }' "$tmp/$w-$m.t" | median)
    done
    for m in "${modes[@]}"; do
        note=
        if [ "$m" = recording ] || [ "$m" = baseline ]; then
            note=$(awk '{ n[NR] = $1; be = $2 } END { s = ""; for (i = 1; i <= NR; i++) s = s (i > 1 ? "," : "") n[i];
                          print "samples/run " s " (backend " be ")" }' "$tmp/$w-$m-samples")
        fi
        awk -v w="${workloads[w]}" -v m="$m" -v pw="${W[plain]}" -v pc="${C[plain]}" -v mw="${W[$m]}" -v mc="${C[$m]}" \
            -v pm="${M[plain]}" -v mm="${M[$m]}" -v note="$note" \
            'BEGIN { printf "%-24s %-10s %9.3f %7.3f %+8.1f%% %9.3f %7.3f %+8.1f%% %8.3f %s  %s\n",
                     (m == "plain" ? w : ""), m, mw, mw / pw, 100 * (mw / pw - 1), mc, mc / pc, 100 * (mc / pc - 1),
                     mm, (pm > 0 ? sprintf("%+8.1f%%", 100 * (mm / pm - 1)) : "        -"), note }'
    done
    if [ $w = 2 ]; then
        fixw=$(awk -v a="${W[recording]}" -v b="${W[plain]}" 'BEGIN { print a - b }')
        fixc=$(awk -v a="${C[recording]}" -v b="${C[plain]}" 'BEGIN { print a - b }')
        printf '%-24s fixed cost of a recording: %+.3f s wall, %+.3f s cpu (recording - plain)\n' "" "$fixw" "$fixc"
    else
        awk -v pw="${W[plain]}" -v pc="${C[plain]}" -v rw="${W[recording]}" -v rc="${C[recording]}" -v fw="$fixw" -v fc="$fixc" \
            'BEGIN { printf "%-24s recording net of the fixed cost: %+.1f%% wall, %+.1f%% cpu\n", "",
                     100 * (rw - fw - pw) / pw, 100 * (rc - fc - pc) / pc }'
    fi
    if [ $w != 2 ]; then
        per_round recording plain
        if [ -n "$base_lib" ]; then
            per_round baseline plain
            per_round recording baseline
        fi
    fi
    if [ $do_ht = 1 ] && [ $w != 2 ]; then
        awk -v pw="${W[plain]}" -v pc="${C[plain]}" -v rw="${W[recording]}" -v rc="${C[recording]}" \
            -v hw="${W[heaptrack]}" -v hc="${C[heaptrack]}" '
            function r(h, g) { return g > 0 ? sprintf("%.0fx", h / g) : "inf (gctune overhead within noise, <= 0)" }
            BEGIN { printf "%-24s heaptrack overhead / gctune overhead: wall %s, cpu %s\n", "",
                    r(hw - pw, rw - pw), r(hc - pc, rc - pc) }'
    fi
    unset W C
done

if [ $do_cg = 1 ]; then
    # the program's interpreter, to start it with --preload
    ldso=$(readelf -l "${progs[0]}" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
    [ -x "$ldso" ] || ldso=/lib64/ld-linux-x86-64.so.2
    echo "== instructions, all threads (valgrind --tool=callgrind $ldso [--preload LIB] PROGRAM)"
    echo "   calls: to malloc, free, calloc, realloc (recording run); idle/call, rec/call: instructions in backends/malloc.c (and what it inlines from sample.h) per call"
    printf '%-24s %12s %12s %9s %12s %9s %8s %9s %9s\n' workload plain_Ir idle_Ir overhead rec_Ir overhead calls idle/call rec/call
    # cg W MODE : prints the total Ir; leaves the profile in $tmp/cg-W-MODE
    cg() {
        local w=$1 mode=$2 out=$tmp/cg-$1-$2 args pre=() envs=()
        read -r -a args <<<"$(argv_of "$w")"
        [ "$mode" = plain ] || pre=(--preload "$lib")
        [ "$mode" = recording ] && envs=(GCTUNE_PROFILE="$tmp/cg-$w.sqlite" GCTUNE_SAMPLE_SEED=1)
        # %p: a recording's helper process (a fork) writes its own profile
        env "${envs[@]}" valgrind --tool=callgrind --callgrind-out-file="$out.%p" "$ldso" "${pre[@]}" "${progs[$w]}" "${args[@]}" \
            >/dev/null 2>"$out.err" || echo "callgrind run failed: ${workloads[w]} $mode (see valgrind's output below)" >&2
        # the program's own profile (its pid is the lowest) as $out
        mv "$(ls "$out".* | grep -v '\.err$' | sort -t. -k2 -n | head -n 1)" "$out"
        # every process's instructions (program, helper): all its threads' work
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out.err" | awk '{ s += $1 } END { if (NR) print s }'
    }
    # selfmc FILE : instructions spent in backends/malloc.c's own code
    # (exclusive; with what it inlines from backends/sample.h: callgrind
    # files a function's blocks under the source file of their first line,
    # so malloc is listed partly as sample.h:malloc), and the number of
    # calls to malloc, free, calloc and realloc (each call ends in exactly
    # one call: glibc's, or its *_slow; a function's second entry has no
    # "[object]" after its name)
    selfmc() {
        local s n
        s=$(callgrind_annotate --inclusive=no --threshold=100 --auto=no "$1" 2>/dev/null |
            awk '/backends\/(malloc\.c|sample\.h):/ { gsub(",", "", $1); s += $1 } END { printf "%d", s }')
        n=$(callgrind_annotate --tree=calling --inclusive=no --threshold=100 --auto=no "$1" 2>/dev/null | awk '
            /\*  / { cur = ($0 ~ /backends\/(malloc\.c|sample\.h):(malloc|free|calloc|realloc)( \[|$)/); next }
            cur && />   / && match($0, /\(([0-9,]+)x\)/) { c = substr($0, RSTART + 1, RLENGTH - 3); gsub(",", "", c); n += c }
            END { printf "%d", n }')
        echo "$s $n"
    }
    for w in 0 1; do
        p=$(cg $w plain) i=$(cg $w idle) c=$(cg $w recording)
        if [ -z "$p" ] || [ -z "$i" ] || [ -z "$c" ]; then
            echo "${workloads[w]}: callgrind gave no total"; cat "$tmp"/cg-$w-*.err >&2; continue
        fi
        read -r si ni <<<"$(selfmc "$tmp/cg-$w-idle")"
        read -r sc nc <<<"$(selfmc "$tmp/cg-$w-recording")"
        awk -v w="${workloads[w]}" -v p="$p" -v i="$i" -v c="$c" -v si="$si" -v ni="$ni" -v sc="$sc" -v nc="$nc" 'BEGIN {
            printf "%-24s %11.1fM %11.1fM %+8.2f%% %11.1fM %+8.2f%% %7.2fM %9.1f %9.1f\n",
                   w, p / 1e6, i / 1e6, 100 * (i / p - 1), c / 1e6, 100 * (c / p - 1),
                   nc / 1e6, ni ? si / ni : 0, nc ? sc / nc : 0 }'
    done
fi
