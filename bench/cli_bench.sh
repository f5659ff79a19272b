#!/bin/sh
# bench/cli_bench.sh - times `gctune analyze` on large generated databases
# (bench/cli_bench.c writes them).  Not part of `make check`: generating
# 10 million samples takes a while.
#
#   make gctune bench/cli_bench && bench/cli_bench.sh [SAMPLES...]
#
# SAMPLES defaults to "1000000 10000000".  Databases are kept in
# $CLI_BENCH_DIR (default ${TMPDIR:-/tmp}/gctune-cli-bench) and reused when
# present.  For each: the database size, then `gctune analyze` and
# `gctune analyze --json` three times each, wall-clock seconds.  The goal
# (issue "gctune command"): 1 M samples in at most 1 s, 10 M in at most 10 s.

set -eu
builddir=${builddir:-.}
dir=${CLI_BENCH_DIR:-${TMPDIR:-/tmp}/gctune-cli-bench}
mkdir -p "$dir"
[ $# -gt 0 ] || set -- 1000000 10000000

now() { date +%s.%N; }

for n in "$@"; do
    db="$dir/analyze-$n.sqlite"
    if [ ! -s "$db" ]; then
        t0=$(now)
        "$builddir/bench/cli_bench" "$n" "$db"
        t1=$(now)
        echo "generated $db in $(awk "BEGIN { print $t1 - $t0 }") s"
    fi
    echo "== $n samples: $(du -h "$db" | cut -f1)"
    for mode in "" "--json"; do
        for run in 1 2 3; do
            t0=$(now)
            # shellcheck disable=SC2086
            "$builddir/gctune" analyze $mode "$db" >/dev/null
            t1=$(now)
            printf 'gctune analyze %-6s run %d: %.2f s\n' "$mode" "$run" "$(awk "BEGIN { print $t1 - $t0 }")"
        done
    done
done
