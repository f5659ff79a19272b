#!/bin/sh
# test_bdwgc.sh - the bdwgc backend end to end: tests/backends/bdwgc_prog
# (Boehm GC: three sites with known totals, kept / dropped / GC_free'd
# objects) under `gctune record`.  Checks: the backend is detected from
# DT_NEEDED libgc.so (and forced with --backend bdwgc); the program's
# output and exit status are unchanged; estimates within 10% of the known
# bytes per site; gc_cycles rows with pauses and heap numbers; freed rows
# for the dropped and the GC_free'd samples, none for the kept ones; GOGC
# mapped to the free space divisor (GOGC=50 -> 4, off -> GC_disable);
# GOMEMLIMIT as a soft limit (the divisor tightens, collections forced);
# --tuner adaptive records tuner events.  Skipped without the sqlite3
# command or without Boehm GC (bdwgc_prog not built).
prog="${top_builddir:?}/tests/backends/bdwgc_prog"
[ -x "$prog" ] || { echo "SKIP: Boehm GC not found by configure (Debian package libgc-dev)"; exit 77; }
. "${top_srcdir:?}/tests/backends/preload_env.sh"
GCTUNE="$top_builddir/gctune"
q() { sqlite3 "$db" "$1"; }

# 0. the reference: the program on its own
"$prog" 3 >"$tmp/ref" 2>"$tmp/referr"
[ $? -eq 3 ] || fail "bdwgc_prog alone: exit status"
grep -q '^divisor 3 disabled 0$' "$tmp/ref" || fail "bdwgc_prog alone: $(cat "$tmp/ref")"

# 1. detected from DT_NEEDED, sampled at 8 KiB
db="$tmp/run.sqlite"
GCTUNE_SAMPLE_SEED=7 "$GCTUNE" record -o "$db" --rate 8K -- "$prog" 3 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 3 ] || fail "exit status $rc under record: $(cat "$tmp/err")"
cmp -s "$tmp/out" "$tmp/ref" || fail "output changed: $(cat "$tmp/out")"
grep -q "^gctune record: backend bdwgc: [0-9]* samples, 0 dropped, [0-9]* GC cycles: $db\$" "$tmp/err" \
    || fail "summary line: $(cat "$tmp/err")"
[ "$(grep -vc '^gctune record:' "$tmp/err")" -eq 0 ] || fail "unexpected stderr: $(cat "$tmp/err")"
[ "$(q "SELECT value FROM meta WHERE key = 'backend'")" = bdwgc ] || fail "meta backend"
[ "$(q "SELECT value FROM meta WHERE key = 'capabilities'")" = \
  "sampling frees gc_events stats set_gc_percent set_memory_limit" ] || fail "capabilities"
[ "$(q "SELECT value FROM meta WHERE key = 'clean_exit'")" = 1 ] || fail "clean_exit"
site() {
    q "SELECT count(*), CAST(sum(s.weight * s.size) AS INTEGER), count(s.freed_ns)
       FROM samples s JOIN stacks k ON k.id = s.stack_id JOIN frames f
       ON f.ip = CAST(substr(k.frames, 1, instr(k.frames || ' ', ' ') - 1) AS INTEGER)
       WHERE f.function = '$1' OR f.function LIKE '$1.%'"
}
check_site() {   # name bytes freed(all|most|none)
    r=$(site "$1"); n=${r%%|*}; r=${r#*|}; est=${r%%|*}; freed=${r#*|}
    [ "$n" -ge 100 ] || fail "$1: only $n samples"
    lo=$(( $2 * 9 / 10 )); hi=$(( $2 * 11 / 10 ))
    [ "$est" -ge "$lo" ] && [ "$est" -le "$hi" ] || fail "$1: estimated $est bytes, want $2 +- 10%"
    case $3 in
    all) [ "$freed" -eq "$n" ] || fail "$1: $freed of $n samples freed, want all" ;;
    most) [ $((freed * 100)) -ge $((n * 95)) ] || fail "$1: $freed of $n samples freed, want >= 95%" ;;
    none) [ "$freed" -eq 0 ] || fail "$1: $freed of $n samples freed, want none" ;;
    esac
    echo "    $1: $n samples, $est bytes estimated of $2, $freed freed"
}
check_site site_keep 8388608 none
# reclaimed by the collector: a conservative GC may keep a stray few
check_site site_drop 33554432 most
check_site site_free 8388608 all
cyc=$(q "SELECT count(*) FROM gc_cycles")
[ "$cyc" -ge 3 ] || fail "$cyc gc_cycles rows"
[ "$(q "SELECT count(*) FROM gc_cycles WHERE pause_ns > 0 AND heap_marked > 0 AND heap_before > 0
        AND heap_goal >= heap_marked AND pause_ns <= end_ns - start_ns AND gc_percent = 67")" -ge $((cyc - 1)) ] \
    || fail "gc_cycles rows without pause or heap numbers: $(q "SELECT * FROM gc_cycles LIMIT 5")"
[ "$(q "SELECT count(*) FROM gc_cycles WHERE forced = 1")" -ge 2 ] || fail "the two GC_gcollect cycles are not forced"
# the kept objects (8 MiB) are in the live heap after the last cycle
[ "$(q "SELECT heap_marked FROM gc_cycles ORDER BY num DESC LIMIT 1")" -ge 8388608 ] || fail "last heap_marked"
echo "ok 1 - detected from DT_NEEDED: $cyc GC cycles"

# 2. GOGC maps to the free space divisor; off disables the collector
GOGC=50 "$GCTUNE" record -o "$tmp/g.sqlite" --rate 0 -- "$prog" >"$tmp/out" 2>"$tmp/err" || fail "GOGC=50: exit $?"
grep -q '^divisor 4 disabled 0$' "$tmp/out" || fail "GOGC=50: $(head -1 "$tmp/out")"
db="$tmp/g.sqlite"
[ "$(q "SELECT count(DISTINCT gc_percent) || ' ' || min(gc_percent) FROM gc_cycles")" = "1 50" ] || fail "GOGC=50: gc_percent"
GOGC=100 "$GCTUNE" record -o "$tmp/g.sqlite" --rate 0 -- "$prog" >"$tmp/out" 2>"$tmp/err" || fail "GOGC=100: exit $?"
grep -q '^divisor 2 disabled 0$' "$tmp/out" || fail "GOGC=100: $(head -1 "$tmp/out")"
GOGC=off "$GCTUNE" record -o "$tmp/g.sqlite" --rate 0 -- "$prog" >"$tmp/out" 2>"$tmp/err" || fail "GOGC=off: exit $?"
grep -q '^divisor 3 disabled 1$' "$tmp/out" || fail "GOGC=off: $(head -1 "$tmp/out")"
GOGC=bad "$GCTUNE" record -o "$tmp/g.sqlite" --rate 0 -- "$prog" >"$tmp/out" 2>"$tmp/err" || fail "GOGC=bad: exit $?"
grep -q 'GOGC=bad: not a percentage or off; ignored' "$tmp/err" || fail "GOGC=bad: $(cat "$tmp/err")"
echo "ok 2 - GOGC=50 -> divisor 4, 100 -> 2, off -> GC_disable"

# 3. GOMEMLIMIT: a soft limit (the divisor tightens, collections are forced)
GOMEMLIMIT=12MiB "$GCTUNE" record -o "$tmp/l.sqlite" --rate 0 -- "$prog" >"$tmp/out" 2>"$tmp/err" || fail "GOMEMLIMIT: exit $?"
d=$(sed -n 's/^divisor_end //p' "$tmp/out")
[ "$d" -gt 3 ] || fail "GOMEMLIMIT=12MiB: divisor at the end $d, want > 3"
db="$tmp/l.sqlite"
[ "$(q "SELECT count(*) FROM gc_cycles WHERE memory_limit = 12582912")" -ge 3 ] || fail "GOMEMLIMIT: memory_limit column"
# forced cycles besides the program's two GC_gcollect calls
[ "$(q "SELECT count(*) FROM gc_cycles WHERE forced = 1")" -ge 3 ] || fail "GOMEMLIMIT: no soft-limit collection"
echo "ok 3 - GOMEMLIMIT=12MiB: divisor $d at the end"

# 4. --backend bdwgc, --tuner adaptive
db="$tmp/t.sqlite"
"$GCTUNE" record -o "$db" --backend bdwgc --tuner adaptive -- "$prog" >"$tmp/out" 2>"$tmp/err" || fail "tuner: exit $?: $(cat "$tmp/err")"
# the tuner may move the divisor: the first two lines are the reference's
[ "$(head -2 "$tmp/out")" = "$(head -2 "$tmp/ref")" ] || fail "tuner: output $(cat "$tmp/out")"
grep -q 'no GC knobs' "$tmp/err" && fail "tuner: bdwgc said it has no knobs"
n=$(q "SELECT count(*) FROM tuner_events")
[ "$n" -ge 1 ] || fail "tuner: no tuner_events"
q "SELECT measurements FROM tuner_events WHERE knob = 'policy' ORDER BY id LIMIT 1" | grep -q '"backend":"bdwgc"' \
    || fail "tuner: start row: $(q "SELECT * FROM tuner_events")"
# the divisor the program saw last is Boehm's default or the mapping
# (200 / GOGC, rounded, 1..200) of a GOGC the tuner set
d=$(sed -n 's/^divisor_end //p' "$tmp/out")
ok=$( { echo 67; q "SELECT new_value FROM tuner_events WHERE knob = 'gogc'"; } |
      while read -r p; do [ "$p" -ge 1 ] 2>/dev/null || continue
          m=$(( (200 + p / 2) / p )); [ $m -lt 1 ] && m=1; [ $m -gt 200 ] && m=200
          [ "$m" -eq "$d" ] && echo yes; done)
[ -n "$ok" ] || fail "tuner: divisor $d at the end is no GOGC the tuner set: $(q "SELECT * FROM tuner_events")"
echo "ok 4 - --backend bdwgc --tuner adaptive: $n tuner events, divisor $d at the end"
