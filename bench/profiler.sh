#!/bin/bash
# bench/profiler.sh - what the heap profiler costs, measured in one run
# against the same programs unprofiled (and against heaptrack):
#
#   overhead   binary_trees_libgc and churn_libgc, profiler off vs on
#              (GCTUNE_PROFILE, default 512 KiB rate), runs interleaved,
#              median wall time of --reps runs each; ratio on/off.
#   heaptrack  churn_glibc (the malloc variant) plain vs under heaptrack
#              (Debian package heaptrack), when installed: heaptrack traces
#              every malloc; the ratio is its overhead on the same work.
#   costs      bench/prof_cost: per-sample cost at 32 frames, and the
#              write rate at rate 1 (samples written per second, drops).
#
# Usage: bench/profiler.sh [--builddir DIR] [--reps N] [--quick]
# Prints one table; exit 0 when the measurements ran.  Machine noise is
# large (2 shared cores): compare ratios from the same run only.
set -u
builddir=. reps=5 quick=0
while [ $# -gt 0 ]; do
    case $1 in
    --builddir) builddir=$2; shift ;;
    --reps) reps=$2; shift ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/profiler.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "bench/profiler.sh: --reps: not a positive integer" >&2; exit 2; }
b=$(cd "$builddir" && pwd)/bench
make -C "$builddir" -s bench-build bench/prof_cost >/dev/null 2>&1 || true
for p in binary_trees_libgc churn_libgc prof_cost; do
    [ -x "$b/$p" ] || { echo "bench/profiler.sh: $b/$p not built (make bench-build bench/prof_cost)" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-profbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ $quick = 1 ]; then bt_args=(18); churn_args=(-l 32 -a 5); else bt_args=(21); churn_args=(-l 64 -a 10); fi

# wall PROGRAM ARGS... : seconds of wall time
wall() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>>"$tmp/err" || echo "run failed: $*" >&2
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

# overhead NAME PROGRAM ARGS... : interleaved off/on runs
overhead() {
    local name=$1 off=() on=() i n=0 db
    shift
    for ((i = 0; i < reps; i++)); do
        off+=("$(wall "$@")")
        db=$tmp/$name-$i.sqlite
        on+=("$(GCTUNE_PROFILE=$db wall "$@")")
        n=$(sqlite3 "$db" "SELECT count(*) FROM samples" 2>/dev/null || echo "?")
        rm -f "$db"*
    done
    local mo mn
    mo=$(printf '%s\n' "${off[@]}" | median)
    mn=$(printf '%s\n' "${on[@]}" | median)
    printf '%-28s off %7.3f s   on %7.3f s   ratio %.4f   (%s samples/run)\n' \
        "$name" "$mo" "$mn" "$(awk -v a="$mn" -v b="$mo" 'BEGIN { print a / b }')" "$n"
}

echo "== profiler overhead at the default rate (median of $reps, interleaved)"
overhead "binary_trees ${bt_args[*]}" "$b/binary_trees_libgc" "${bt_args[@]}"
overhead "churn ${churn_args[*]}" "$b/churn_libgc" "${churn_args[@]}"

echo "== heaptrack on the malloc variant (churn_glibc), same run"
if command -v heaptrack >/dev/null 2>&1 && [ -x "$b/churn_glibc" ]; then
    plain=() traced=()
    for ((i = 0; i < reps; i++)); do
        plain+=("$(wall "$b/churn_glibc" "${churn_args[@]}")")
        traced+=("$(wall heaptrack -o "$tmp/ht-$i" "$b/churn_glibc" "${churn_args[@]}")")
        rm -f "$tmp"/ht-"$i"*
    done
    mp=$(printf '%s\n' "${plain[@]}" | median)
    mt=$(printf '%s\n' "${traced[@]}" | median)
    printf '%-28s plain %7.3f s   heaptrack %7.3f s   ratio %.3f\n' "churn_glibc ${churn_args[*]}" "$mp" "$mt" \
        "$(awk -v a="$mt" -v b="$mp" 'BEGIN { print a / b }')"
else
    echo "heaptrack (Debian package heaptrack) or churn_glibc missing: skipped"
fi

echo "== per-sample cost and rate-1 write rate (bench/prof_cost)"
"$b/prof_cost" "$tmp"
