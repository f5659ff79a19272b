#!/bin/bash
# bench/tuner.sh - the adaptive tuner against fixed settings, on the demo
# workload (examples/demo: steady, 3x allocation spike, live-set step up and
# down, slow leak), in one run:
#
#   GOGC=100                        no limit (the default)
#   GOGC=100 + limit                GOMEMLIMIT = the budget
#   GOGC=off + limit                collect only at the budget
#   tuner static|throughput|latency|memory|adaptive
#                                   GCTUNE_TUNER=<policy>, GCTUNE_MEMORY = the
#                                   budget, GCTUNE_MAX_PAUSE, GCTUNE_MAX_GC_CPU
#
# The budget is 3x the demo's steady live set (--live, 48 MiB by default:
# 144 MiB).  Each row: peak RSS (VmHWM) and whether it stayed within the
# budget, GC CPU over the whole run and over the steady phase (libgc's
# definition: pause x marking threads + background + assist CPU, over wall
# time x marking threads), the steady phase's GC CPU relative to GOGC=100,
# p99 stop-the-world pause, and throughput (demo work units per second,
# whole run and steady phase), and the tuner thread's own CPU time.  The
# configurations run in --reps rounds (each once per round, so that load
# changes hit them alike) and the median run (by total throughput) is
# shown.  --max-pause 0 runs the tuner without a pause goal.
#
# --validate instead runs bench/recommend_validate.sh --workload demo: records
# the demo at GOGC 50/100/200/400 (GCTUNE_PROFILE), each doing the same work
# (demo --units: the units a GOGC=100 run does in --seconds), and prints the
# predictions of `gctune recommend --json` on the GOGC=100 recording against
# the measured GC CPU, peak heap and cycles/s of each.
#
# Usage: bench/tuner.sh [--builddir DIR] [--live MiB] [--seconds S]
#                       [--max-pause DUR] [--max-gc-cpu PCT] [--reps N] [--validate]
# Machine noise is large (2 shared cores): compare rows of the same run.
set -u
builddir=. live=48 seconds=15 max_pause=25ms max_cpu=5 reps=1 validate=0
while [ $# -gt 0 ]; do
    case $1 in
    --builddir) builddir=$2; shift ;;
    --live) live=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --max-pause) max_pause=$2; shift ;;
    --max-gc-cpu) max_cpu=$2; shift ;;
    --reps) reps=$2; shift ;;
    --validate) validate=1 ;;
    -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/tuner.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $live =~ ^[1-9][0-9]*$ ]] || { echo "bench/tuner.sh: --live: not a positive integer (MiB)" >&2; exit 2; }
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "bench/tuner.sh: --reps: not a positive integer" >&2; exit 2; }
b=$(cd "$builddir" && pwd)
demo=$b/examples/demo
make -C "$b" -s examples/demo gctune >/dev/null 2>&1 || true
[ -x "$demo" ] || { echo "bench/tuner.sh: $demo not built (make examples/demo)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-tunerbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
budget=$((3 * live))

# field LINE KEY: the value of key=value in a demo output line
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }

if [ $validate = 1 ]; then
    # the offline model through `gctune recommend --json` (bench/recommend_validate.sh)
    exec "$(dirname "$0")/recommend_validate.sh" --builddir "$b" --workload demo --live "$live" --seconds "$seconds"
fi

# Configurations: NAME|ENV..., run in rounds (every configuration once per
# round, --reps rounds) so that a change in the machine's load hits them
# alike; each row is the median run of its configuration by total throughput.
configs=(
    "GOGC=100|GOGC=100"
    "GOGC=100 + limit|GOGC=100 GOMEMLIMIT=${budget}MiB"
    "GOGC=off + limit|GOGC=off GOMEMLIMIT=${budget}MiB"
)
for pol in static throughput latency memory adaptive; do
    configs+=("tuner $pol|GCTUNE_TUNER=$pol GCTUNE_MEMORY=${budget}MiB GCTUNE_MAX_PAUSE=$max_pause GCTUNE_MAX_GC_CPU=$max_cpu GCTUNE_TUNER_VERBOSE=1")
done
for ((i = 0; i < reps; i++)); do
    for ((c = 0; c < ${#configs[@]}; c++)); do
        IFS=' ' read -r -a envs <<<"${configs[c]#*|}"
        env "${envs[@]}" "$demo" --live "$live" --seconds "$seconds" >"$tmp/out.$c.$i" 2>"$tmp/err.$c.$i" ||
            echo "run failed: ${configs[c]%%|*}" >&2
    done
done
: >"$tmp/rows"
for ((c = 0; c < ${#configs[@]}; c++)); do
    best=$(for ((i = 0; i < reps; i++)); do
        echo "$(field "$(grep 'phase=total' "$tmp/out.$c.$i")" units_per_s) $i"
    done | sort -g | awk '{v[NR]=$2} END {print v[int((NR+1)/2)]}')
    tot=$(grep 'phase=total' "$tmp/out.$c.$best")
    st=$(grep 'phase=steady' "$tmp/out.$c.$best")
    rss=$(sed -n 's/.*peak_rss_mib=\([^ ]*\).*/\1/p' "$tmp/out.$c.$best")
    tcpu=$(sed -n 's/.*tuner CPU \([0-9.]*\) ms.*/\1/p' "$tmp/err.$c.$best" | head -1)
    echo "${configs[c]%%|*}|$rss|$(field "$tot" gc_cpu)|$(field "$st" gc_cpu)|$(field "$tot" p99_pause_ms)|$(field "$tot" units_per_s)|$(field "$st" units_per_s)|${tcpu:--}|$(field "$tot" secs)" >>"$tmp/rows"
done

echo "== demo workload, ${seconds} s, live set $live MiB, budget $budget MiB (3x live), pause goal $max_pause, GC CPU goal $max_cpu%"
echo "   load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s %9s %7s %8s %10s %8s %9s %9s %10s %11s\n' setting "peak RSS" "budget" "GC CPU" "steady GC" "vs 100" \
    "p99 ms" "units/s" "steady u/s" "tuner CPU"
base=$(awk -F'|' 'NR == 1 {print $4}' "$tmp/rows")
while IFS='|' read -r name rss cpu scpu p99 ups sups tcpu secs; do
    awk -v n="$name" -v rss="$rss" -v b="$budget" -v cpu="$cpu" -v scpu="$scpu" -v base="$base" -v p99="$p99" \
        -v ups="$ups" -v sups="$sups" -v tcpu="$tcpu" -v secs="$secs" 'BEGIN {
        t = (tcpu == "-" ? "-" : sprintf("%.3f%%", tcpu / 1000 / secs * 100))
        printf "%-20s %8.1fM %7s %7.1f%% %9.1f%% %+7.0f%% %9.1f %9.0f %10.0f %11s\n", n, rss, (rss <= b ? "within" : "OVER"),
            100 * cpu, 100 * scpu, (base > 0 ? 100 * (scpu - base) / base : 0), p99, ups, sups, t }'
done <"$tmp/rows"
echo "   (tuner CPU: the tuner thread's CPU time over the run's wall time, of one CPU)"
