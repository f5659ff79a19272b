#!/bin/sh
# test_preload.sh - the malloc backend end to end: tests/backends/malloc_prog
# (plain malloc: three sites, threads, realloc, aligned allocations, a fork)
# run under LD_PRELOAD=libgctune-preload.so with GCTUNE_PROFILE.  Checks the
# program's output and status are unchanged, meta backend = malloc, samples
# named by their sites with estimates within 10% of the known bytes, frees
# recorded, nothing from the fork child, and rate 0 / no GCTUNE_PROFILE.
# Needs the sqlite3 command: skipped without it.
. "${top_srcdir:?}/tests/backends/preload_env.sh"
prog="$top_builddir/tests/backends/malloc_prog"
q() { sqlite3 "$db" "$1"; }

expected="site_small 80000000
site_calloc 40960000
site_grow done
aligned done
child ok"

# 0. without GCTUNE_PROFILE: nothing recorded, output unchanged
LD_PRELOAD="$lib" "$prog" >"$tmp/out" 2>"$tmp/err" || fail "exit $? without GCTUNE_PROFILE"
[ "$(cat "$tmp/out")" = "$expected" ] || fail "output without GCTUNE_PROFILE: $(cat "$tmp/out")"
[ -s "$tmp/err" ] && fail "stderr without GCTUNE_PROFILE: $(cat "$tmp/err")"
echo "ok 0 - preloaded without GCTUNE_PROFILE"

# 1. sampled recording
db="$tmp/run.sqlite"
LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=16384 GCTUNE_SAMPLE_SEED=7 \
    "$prog" >"$tmp/out" 2>"$tmp/err" || fail "exit $? under the preload"
[ "$(cat "$tmp/out")" = "$expected" ] || fail "output changed: $(cat "$tmp/out")"
[ -s "$tmp/err" ] && fail "unexpected stderr: $(cat "$tmp/err")"
[ "$(q "PRAGMA integrity_check")" = ok ] || fail "integrity_check"
[ "$(q "SELECT value FROM meta WHERE key = 'backend'")" = malloc ] || fail "meta backend"
[ "$(q "SELECT value FROM meta WHERE key = 'capabilities'")" = "sampling frees stats" ] || fail "capabilities"
[ "$(q "SELECT value FROM meta WHERE key = 'clean_exit'")" = 1 ] || fail "clean_exit"
[ "$(q "SELECT value FROM meta WHERE key = 'dropped_samples'")" = 0 ] || fail "dropped samples"
[ "$(q "SELECT count(*) FROM heap_series WHERE heap_alloc > 0 AND rss > 0")" -ge 1 ] || fail "no heap_series"
site() {
    q "SELECT count(*), CAST(sum(s.weight * s.size) AS INTEGER), count(s.freed_ns), count(DISTINCT s.thread)
       FROM samples s JOIN stacks k ON k.id = s.stack_id JOIN frames f
       ON f.ip = CAST(substr(k.frames, 1, instr(k.frames || ' ', ' ') - 1) AS INTEGER)
       WHERE f.function = '$1' OR f.function LIKE '$1.%'"
}
check_site() {   # name bytes want_freed(all|half) min_threads
    r=$(site "$1"); n=${r%%|*}; r=${r#*|}; est=${r%%|*}; r=${r#*|}; freed=${r%%|*}; thr=${r#*|}
    [ "$n" -ge 100 ] || fail "$1: only $n samples"
    lo=$(( $2 * 9 / 10 )); hi=$(( $2 * 11 / 10 ))
    [ "$est" -ge "$lo" ] && [ "$est" -le "$hi" ] || fail "$1: estimated $est bytes, want $2 +- 10%"
    [ "$freed" -eq "$n" ] || fail "$1: $freed of $n samples freed"
    [ "$thr" -ge "$4" ] || fail "$1: samples from $thr threads, want >= $4"
    echo "    $1: $n samples, $est bytes estimated of $2"
}
check_site site_small 80000000 all 4
check_site site_calloc 40960000 all 1
# realloc chains 1, 2, 4, 8, 16 KiB, 2000 times
check_site site_grow 63488000 all 1
# the fork child's 10000 site_small allocations are not in the parent's database
total=$(q "SELECT count(*) FROM samples")
[ "$(q "SELECT count(DISTINCT thread) FROM samples")" -le 5 ] || fail "samples from more threads than the program's 5"
echo "ok 1 - sampled recording: $total samples"

# 2. rate 1: every allocation of the program's sites is a sample
db="$tmp/all.sqlite"
LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=1 GCTUNE_PROFILE_QUEUE=1048576 \
    "$prog" >"$tmp/out" 2>"$tmp/err" || fail "exit $? at rate 1"
[ "$(cat "$tmp/out")" = "$expected" ] || fail "output changed at rate 1"
r=$(site site_calloc); [ "${r%%|*}" -eq 5000 ] || fail "rate 1: site_calloc has ${r%%|*} samples, want 5000"
r=$(site site_small); n=${r%%|*}
drop=$(q "SELECT value FROM meta WHERE key = 'dropped_samples'")
[ $((n + drop)) -ge 80000 ] || fail "rate 1: site_small $n samples + $drop dropped, want >= 80000"
echo "ok 2 - GCTUNE_SAMPLE_RATE=1: site_calloc 5000 samples, site_small $n (+$drop dropped)"

# every_free_recorded MODE SITE COUNT: runs "$prog MODE" at rate 1, whose
# site SITE allocates COUNT blocks and frees them all; each must be a
# sample (or a counted drop), and each sample's free recorded (or a
# counted dropped free).  Sets n and freed.
every_free_recorded() {
    db="$tmp/$1.sqlite"
    LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=1 GCTUNE_PROFILE_QUEUE=1048576 \
        "$prog" "$1" >"$tmp/out" 2>"$tmp/err" || fail "exit $? in $1"
    [ "$(cat "$tmp/out")" = "$1 $3" ] || fail "$1 output: $(cat "$tmp/out")"
    local r drop dropf
    r=$(site "$2"); n=${r%%|*}; r=${r#*|}; r=${r#*|}; freed=${r%%|*}
    drop=$(q "SELECT value FROM meta WHERE key = 'dropped_samples'")
    dropf=$(q "SELECT value FROM meta WHERE key = 'dropped_frees'")
    [ $((n + drop)) -eq "$3" ] || fail "$1: $n samples + $drop dropped, want $3"
    [ $((freed + dropf)) -eq "$n" ] || fail "$1: $freed of $n samples freed (+$dropf dropped frees)"
}

# 2b. rate 1, 100000 blocks freed in shuffled order by another thread
every_free_recorded shuffle site_shuffle 100000
echo "ok 2b - shuffled frees: $n samples, $freed freed"

# 2c. rate 1, a small live set under allocations and frees from 4 threads
# at once (cross-thread frees too): glibc hands the same addresses out
# again and again, each time to a block with a sample's header in front;
# a free that missed a header would leave its sample without freed_ns (or
# crash in glibc)
every_free_recorded ring site_ring 200000
echo "ok 2c - concurrent inserts and frees: $n samples, $freed freed"

# 3. rate 0: a database, no samples
db="$tmp/off.sqlite"
LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=0 "$prog" >"$tmp/out" 2>"$tmp/err" || fail "exit $? at rate 0"
[ "$(q "SELECT count(*) FROM samples")" -eq 0 ] || fail "rate 0 sampled"
echo "ok 3 - GCTUNE_SAMPLE_RATE=0: no samples"

# 4. exit status passes through
LD_PRELOAD="$lib" GCTUNE_PROFILE="$tmp/st.sqlite" "$prog" 3 >/dev/null 2>&1
[ $? -eq 3 ] || fail "exit status not passed through"
db="$tmp/st.sqlite"
[ "$(q "SELECT value FROM meta WHERE key = 'clean_exit'")" = 1 ] || fail "clean_exit after exit 3"
echo "ok 4 - exit status"

# 5. exit() from main while other threads allocate: flushed by atexit
db="$tmp/exit.sqlite"
LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=4096 "$prog" exit >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 5 ] || fail "exit(5) under load: exit $rc: $(cat "$tmp/err")"
[ "$(q "SELECT value FROM meta WHERE key = 'clean_exit'")" = 1 ] || fail "exit(5): clean_exit"
r=$(site site_small); [ "${r%%|*}" -ge 1000 ] || fail "exit(5): ${r%%|*} samples"
echo "ok 5 - exit() under load: ${r%%|*} samples, clean exit recorded"

# 5b. invalid frees abort in glibc as without the library: a sampled
# block freed twice (its tag was cleared by the first free), and a pointer
# whose word below has the top bit set (free's fast path sends it to the
# full tag test, which must hand it to glibc, not take it for a sample)
aborts() {   # MODE RATE: runs "$prog MODE" at RATE, sets rc and err
    db="$tmp/$1.sqlite"
    rc=$( (ulimit -c 0; LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=$2 \
        "$prog" "$1" >/dev/null 2>"$tmp/err"; echo $?) )
    err=$(head -n 1 "$tmp/err")
    # the helper finishes the database after the program is gone: wait
    # for it (10 s at most)
    hp=$(sqlite3 -cmd ".timeout 10000" "$db" "SELECT value FROM meta WHERE key = 'writer_pid'")
    i=0; while [ -n "$hp" ] && kill -0 "$hp" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
aborts doublefree 1
[ "$rc" -eq 134 ] || fail "a sampled block freed twice: exit $rc, want SIGABRT (134): $err"
case $err in *free*) ;; *) fail "a sampled block freed twice: glibc's message, got: $err" ;; esac
[ "$(q "SELECT count(*) FROM samples WHERE freed_ns IS NOT NULL")" -ge 1 ] || fail "doublefree: the first free not recorded"
plain=$( (ulimit -c 0; "$prog" badfree >/dev/null 2>"$tmp/perr"; echo $?) )
aborts badfree 0
[ "$rc" -eq "$plain" ] && [ "$err" = "$(head -n 1 "$tmp/perr")" ] ||
    fail "badfree: exit $rc '$err' under the library, $plain '$(head -n 1 "$tmp/perr")' without"
echo "ok 5b - invalid frees: glibc's abort ($err)"

# 6. glibc_prog: the program's and glibc's own frees, reallocs and sizes of
# sampled blocks (each carries a header), at rate 1 (every block sampled)
# and at two larger rates (blocks move in and out of sampling in realloc);
# its output, status and stderr must be those of the plain run
gprog="$top_builddir/tests/backends/glibc_prog"
"$gprog" >"$tmp/gplain" 2>&1 || fail "glibc_prog alone: exit $?: $(cat "$tmp/gplain")"
for rate in 1 97 4096; do
    db="$tmp/glibc-$rate.sqlite"
    LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=$rate GCTUNE_SAMPLE_SEED=5 \
        "$gprog" >"$tmp/out" 2>"$tmp/err" || fail "glibc_prog at rate $rate: exit $?: $(cat "$tmp/out" "$tmp/err")"
    cmp -s "$tmp/out" "$tmp/gplain" || fail "glibc_prog at rate $rate: output $(cat "$tmp/out")"
    [ -s "$tmp/err" ] && fail "glibc_prog at rate $rate: stderr $(cat "$tmp/err")"
    r=$(q "SELECT count(*) || ' ' || count(freed_ns) FROM samples")
    [ "${r%% *}" -ge 100 ] || fail "glibc_prog at rate $rate: $r samples/freed"
    [ "${r#* }" -ge $(( ${r%% *} * 9 / 10 )) ] || fail "glibc_prog at rate $rate: samples, freed $r"
    echo "ok 6.$rate - glibc_prog at rate $rate: samples, freed $r"
done
