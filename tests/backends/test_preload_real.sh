#!/bin/sh
# test_preload_real.sh - the malloc backend on programs nobody here wrote:
# the sqlite3 shell (which uses SQLite itself: the preload library carries
# a private copy), python3 and gnuplot, each run twice, without and with
# LD_PRELOAD=libgctune-preload.so GCTUNE_PROFILE.  Checks: same exit status
# and output, a sound database with samples (backend malloc, clean exit),
# and the top stacks (by estimated bytes) have a named frame.  A program
# that is not installed is skipped; all missing (or no sqlite3) = SKIP.
. "${top_srcdir:?}/tests/backends/preload_env.sh"
ran=0

# run NAME RATE PROGRAM ARGS...
run() {
    name=$1 rate=$2; shift 2
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "skip - $name: $1 not installed"
        return 0
    fi
    "$@" >"$tmp/$name.want" 2>&1; want=$?
    db="$tmp/$name.sqlite"
    LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE="$rate" "$@" >"$tmp/$name.got" 2>&1; got=$?
    [ "$got" -eq "$want" ] || fail "$name: exit $got under the preload, $want without"
    cmp -s "$tmp/$name.want" "$tmp/$name.got" || fail "$name: output changed: $(diff "$tmp/$name.want" "$tmp/$name.got" | head -5)"
    [ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || fail "$name: integrity_check"
    [ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'backend'")" = malloc ] || fail "$name: backend"
    [ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'clean_exit'")" = 1 ] || fail "$name: clean_exit"
    n=$(sqlite3 "$db" "SELECT count(*) FROM samples")
    [ "$n" -ge 10 ] || fail "$name: only $n samples"
    # the five heaviest stacks: each has a frame with a function name
    unnamed=$(sqlite3 "$db" "
        WITH top AS (SELECT stack_id FROM samples GROUP BY stack_id
                     ORDER BY sum(weight * size) DESC LIMIT 5)
        SELECT count(*) FROM top t JOIN stacks k ON k.id = t.stack_id
        WHERE NOT EXISTS (SELECT 1 FROM frames f
                          WHERE f.function IS NOT NULL AND f.function <> ''
                            AND instr(' ' || k.frames || ' ', ' ' || f.ip || ' ') > 0)")
    [ "$unnamed" -eq 0 ] || fail "$name: $unnamed of the top stacks have no named frame"
    site=$(sqlite3 "$db" "
        WITH top AS (SELECT stack_id FROM samples GROUP BY stack_id
                     ORDER BY sum(weight * size) DESC LIMIT 1)
        SELECT f.function FROM top t JOIN stacks k ON k.id = t.stack_id JOIN frames f
          ON instr(' ' || k.frames || ' ', ' ' || f.ip || ' ') > 0
        WHERE f.function IS NOT NULL
        ORDER BY instr(' ' || k.frames || ' ', ' ' || f.ip || ' ') LIMIT 1")
    echo "ok - $name: $n samples, top site $site"
    ran=$((ran + 1))
}

run sqlite3 65536 sqlite3 :memory: \
    "CREATE TABLE t(a INTEGER, b TEXT);
     WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
     INSERT INTO t SELECT x, printf('row-%d-%08d', x, x * 7919 % 100000) FROM c;
     CREATE INDEX ti ON t(b);
     SELECT count(*), sum(length(b)), max(b) FROM t;"
run python3 65536 python3 -c \
    'import json; d = [{"k": i, "v": str(i) * 10} for i in range(300000)]; print(len(json.dumps(d)))'
run gnuplot 1024 gnuplot -e 'set terminal dumb; set samples 2000; plot sin(x), cos(x)'
[ "$ran" -ge 1 ] || { echo "SKIP: none of sqlite3, python3, gnuplot ran"; exit 77; }
