#!/bin/sh
# test_sigkill.sh - a profiled program killed with SIGKILL at a random
# moment leaves a database that opens: for each backend (libgc through
# GCTUNE_PROFILE, malloc through LD_PRELOAD=libgctune-preload.so), its share
# of CRASH_RUNS runs (default 10 in all, 5 per backend; `make stress-crash`:
# 100) of tests/profiler/crash_prog*
# each killed by `kill -9` a random 20..800 ms after the profiler created
# its database (the file appeared), plus 2 per backend killed 2..80 ms
# after their start (no database, or a whole one), then:
#   sqlite3 DB 'PRAGMA integrity_check'  prints ok
#   gctune analyze DB                    exits 0
#   gctune analyze --json DB             exits 0 and prints valid JSON
# The delays come from CRASH_SEED (default: the current time), printed
# first: rerun with CRASH_SEED=<seed> to get the same delays.
# Needs the sqlite3 command (Debian package sqlite3): skipped without it.
#
# Environment (set by Makefile.am): top_builddir; CRASH_RUNS, CRASH_SEED,
# CRASH_BACKENDS (default "libgc malloc").
set -u
: "${top_builddir:?}"
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 command not found (Debian package sqlite3)"; exit 77; }
runs=${CRASH_RUNS:-10}
seed=${CRASH_SEED:-$(date +%s)}
backends=${CRASH_BACKENDS:-libgc malloc}
gctune="$top_builddir/gctune"
preload="$top_builddir/.libs/libgctune-preload.so"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-sigkill.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case $runs in ''|*[!0-9]*) echo "FAIL: CRASH_RUNS=$runs is not a count"; exit 1 ;; esac
case $seed in ''|*[!0-9]*) echo "FAIL: CRASH_SEED=$seed is not a number"; exit 1 ;; esac
nb=$(echo $backends | wc -w)
[ "$nb" -gt 0 ] || { echo "FAIL: CRASH_BACKENDS is empty"; exit 1; }
per=$(( (runs + nb - 1) / nb ))   # runs per backend
echo "# CRASH_SEED=$seed CRASH_RUNS=$runs: $per per backend ($backends)"

# The delays in ms, one per line, from the seed (Park-Miller, in awk's
# doubles: exact below 2^53; the first outputs are skipped).
awk -v seed="$seed" -v n=$(((per + 2) * nb)) 'BEGIN {
    x = seed % 2147483646 + 1
    for (i = -8; i < n; i++) { x = (x * 16807) % 2147483647; if (i >= 0) print 20 + int(x / 2147483647 * 781) }
}' >"$tmp/delays"

failures=0 killed=0 total=0 i=0
check_db() {   # $1 db, $2 label
    if [ ! -f "$1" ]; then
        echo "FAIL $2: no database"
        return 1
    fi
    # .timeout: a malloc recording's helper process may still be closing
    # the database (its final checkpoint locks it for a moment)
    ic=$(sqlite3 -cmd ".timeout 10000" "$1" 'PRAGMA integrity_check' 2>&1)
    if [ "$ic" != ok ]; then
        echo "FAIL $2: integrity_check: $ic"
        return 1
    fi
    "$gctune" analyze "$1" >"$tmp/analyze.txt" 2>"$tmp/analyze.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $2: gctune analyze exited $rc: $(cat "$tmp/analyze.err")"
        return 1
    fi
    "$gctune" analyze --json "$1" >"$tmp/analyze.json" 2>"$tmp/analyze.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $2: gctune analyze --json exited $rc: $(cat "$tmp/analyze.err")"
        return 1
    fi
    if [ "$(sqlite3 -batch -noheader :memory: "SELECT json_valid(CAST(readfile('$tmp/analyze.json') AS TEXT))")" != 1 ]; then
        echo "FAIL $2: gctune analyze --json printed invalid JSON"
        return 1
    fi
    return 0
}

for backend in $backends; do
    case $backend in
    libgc) prog="$top_builddir/tests/profiler/crash_prog_libgc"; env_pre="" ;;
    malloc)
        if [ -n "${GCTUNE_SANITIZERS:-}" ]; then
            echo "# malloc backend skipped: an ASan build cannot be LD_PRELOADed"
            continue
        fi
        prog="$top_builddir/tests/profiler/crash_prog"; env_pre="LD_PRELOAD=$preload" ;;
    *) echo "FAIL: unknown backend $backend"; exit 1 ;;
    esac
    # Runs 1..per: the kill lands while the writer works (the delay counts
    # from the database's appearance).  Then 2 early runs: the delay
    # counts from the start of the process and is a tenth (2..80 ms), so
    # that the kill may land before or while the profiler creates the
    # database: then there must be no database at all, never a half-made
    # one (gcts_create renames it into place complete).
    k=0
    while [ $k -lt $((per + 2)) ]; do
        i=$((i + 1)) k=$((k + 1)) total=$((total + 1))
        delay=$(sed -n "${i}p" "$tmp/delays")
        early=no
        [ $k -le "$per" ] || { early=yes; delay=$((delay / 10)); }
        db="$tmp/$backend-$k.sqlite"
        # A small sampling interval keeps the writer busy when the kill lands.
        env $env_pre GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=4096 "$prog" 2000 4 >/dev/null 2>"$tmp/prog.err" &
        pid=$!
        w=0   # until the profiler has started: the database exists
        while [ $early = no ] && [ ! -f "$db" ] && [ $w -lt 1000 ] && kill -0 "$pid" 2>/dev/null; do
            sleep 0.01
            w=$((w + 1))
        done
        sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        st=$?
        if [ $st -eq 137 ]; then
            killed=$((killed + 1))
        else
            echo "# $backend run $k: ended by itself (status $st) before the kill at $delay ms"
        fi
        if [ $early = yes ] && [ ! -e "$db" ]; then
            echo "ok $total - $backend: killed $delay ms after the start, before the database was in place: none"
        elif check_db "$db" "$backend run $k (kill at $delay ms)"; then
            n=$(sqlite3 -cmd ".timeout 10000" "$db" 'SELECT count(*) FROM samples')
            echo "ok $total - $backend: killed at $delay ms$([ $early = yes ] && echo " after the start"), $n samples committed, analyze ok"
        else
            failures=$((failures + 1))
            for f in "$db" "$db-wal"; do
                [ -f "$f" ] && cp "$f" "$top_builddir/sigkill-fail-$backend-$k.sqlite${f#"$db"}"
            done
            echo "#   database kept as sigkill-fail-$backend-$k.sqlite (and its -wal)"
        fi
        rm -f "$db" "$db-wal" "$db-shm" "$db".tmp-*
    done
done
echo "# $total runs, $killed killed by SIGKILL, $failures failed (CRASH_SEED=$seed)"
[ $killed -gt 0 ] || [ $total -eq 0 ] || { echo "FAIL: no run was killed (the workload ended too early)"; exit 1; }
[ $failures -eq 0 ]
