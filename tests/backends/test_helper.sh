#!/bin/bash
# tests/backends/test_helper.sh - the malloc backend's helper mode
# (profiler/helper.c): the recording's writer and symbolizer run in a
# forked helper process, so that the profiled process starts no thread.
# With tests/backends/helper_prog (see its header) at rate 1 (every
# allocation sampled), each case checks the database the helper leaves:
#   1. the profiled process has exactly one thread while recording, and
#      GCTUNE_PROFILE_HELPER=0 (threads) gives more: the test can fail;
#   2. a library dlopen'ed after the fork: its function names the samples;
#   3. exec: the database holds the exec'd image's recording, complete;
#   4. a child run with the same GCTUNE_PROFILE while the parent records
#      leaves the parent's database alone (and prints nothing);
#   5. SIGKILL: the helper still finishes the database (clean_exit 0, all
#      samples written before the kill, frames named), and gctune analyze
#      reads it; 5b: the same when the kill comes before the helper has
#      even created the database (the helper starved of CPU);
#   6. SIGINT to the process group (a Ctrl-C the program ignores) does not
#      end the helper: clean_exit 1;
#   7. as 4, but the child is started at once, before the parent's helper
#      can have created the database (the path is claimed before that),
#      10 times: a child that won this race used to record into the path
#      and remove or take over the parent's database (2 runs in 10 of a
#      bash script that starts a command first);
#   8. GCTUNE_HELPER_CPUS: the helper runs only on the CPUs named (and the
#      program keeps its own; it has not loaded libdw either); a bad list
#      is reported and ignored.
. "${top_srcdir:?}/tests/backends/preload_env.sh"
prog="$top_builddir/tests/backends/helper_prog"
dl="$top_builddir/tests/backends/libhelpertest.so"
gctune="$top_builddir/gctune"
for f in "$prog" "$dl" "$gctune"; do [ -e "$f" ] || { echo "FAIL: $f not built"; exit 1; }; done
# .timeout: after a SIGKILL the helper may still be closing the database
q() { sqlite3 -cmd ".timeout 10000" "$db" "$1"; }
meta() { q "SELECT value FROM meta WHERE key = '$1'"; }
# samples whose leaf frame is function $1
leaf_count() {
    q "SELECT count(*) FROM samples s JOIN stacks k ON k.id = s.stack_id JOIN frames f
       ON f.ip = CAST(substr(k.frames, 1, instr(k.frames || ' ', ' ') - 1) AS INTEGER)
       WHERE f.function = '$1'"
}
# samples with a frame named $1 anywhere in the stack
stack_count() {
    q "SELECT count(*) FROM samples s JOIN stacks k ON k.id = s.stack_id
       WHERE EXISTS (SELECT 1 FROM frames f WHERE f.function = '$1'
                     AND instr(' ' || k.frames || ' ', ' ' || f.ip || ' ') > 0)"
}
rec() { LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=1 "$@"; }

# 1. no thread in the profiled process
db=$tmp/threads.sqlite
out=$(rec "$prog" threads 2>"$tmp/err") || fail "threads: exit $?"
[ "$out" = "threads 1
done" ] || fail "threads: $out (want one thread while recording)"
[ -s "$tmp/err" ] && fail "threads: stderr: $(cat "$tmp/err")"
[ "$(meta profiler_mode)" = helper ] || fail "threads: profiler_mode $(meta profiler_mode)"
[ "$(meta clean_exit)" = 1 ] || fail "threads: clean_exit"
[ "$(q "SELECT count(*) FROM samples")" -ge 1000 ] || fail "threads: $(q "SELECT count(*) FROM samples") samples"
out=$(GCTUNE_PROFILE_HELPER=0 rec "$prog" threads) || fail "threads (thread mode): exit $?"
[ "$out" != "threads 1
done" ] || fail "thread mode has one thread too: the check cannot tell"
[ "$(meta profiler_mode)" = thread ] || fail "GCTUNE_PROFILE_HELPER=0: profiler_mode $(meta profiler_mode)"
echo "ok 1 - one thread while recording in helper mode"

# 2. a module dlopen'ed after the helper was forked
db=$tmp/dlopen.sqlite
rec "$prog" dlopen "$dl" >/dev/null || fail "dlopen: exit $?"
n=$(leaf_count helper_lib_alloc)
[ "$n" -ge 2000 ] || fail "dlopen: $n samples with leaf helper_lib_alloc, want >= 2000"
[ "$(q "SELECT count(*) FROM mappings WHERE path LIKE '%libhelpertest.so'")" -ge 1 ] || fail "dlopen: no mapping for the library"
echo "ok 2 - a dlopen'ed library is symbolized ($n samples)"

# 3. exec: the new image's recording
db=$tmp/exec.sqlite
out=$(rec "$prog" exec 2>"$tmp/err") || fail "exec: exit $?"
[ "$out" = done ] || fail "exec: output $out"
[ -s "$tmp/err" ] && fail "exec: stderr: $(cat "$tmp/err")"
[ "$(q "PRAGMA integrity_check")" = ok ] || fail "exec: integrity_check"
[ "$(meta clean_exit)" = 1 ] || fail "exec: clean_exit"
[ "$(meta argv)" = "[\"$prog\",\"after\"]" ] || fail "exec: argv $(meta argv)"
[ "$(stack_count site_after)" -ge 3000 ] || fail "exec: $(stack_count site_after) samples under site_after, want >= 3000"
[ "$(stack_count site_before)" -eq 0 ] || fail "exec: the first image's samples are in the second's database"
echo "ok 3 - exec: the database is the exec'd program's"

# 4. a child with the same GCTUNE_PROFILE while the parent records
db=$tmp/spawn.sqlite
out=$(rec "$prog" spawn 2>"$tmp/err") || fail "spawn: exit $?"
[ "$out" = "child done
done" ] || fail "spawn: output $out"
[ -s "$tmp/err" ] && fail "spawn: stderr: $(cat "$tmp/err")"
[ "$(meta clean_exit)" = 1 ] || fail "spawn: clean_exit"
[ "$(q "PRAGMA integrity_check")" = ok ] || fail "spawn: integrity_check"
[ "$(stack_count site_parent)" -ge 4200 ] || fail "spawn: $(stack_count site_parent) parent samples, want >= 4200"
[ "$(stack_count site_child)" -eq 0 ] || fail "spawn: the child recorded into the parent's database"
echo "ok 4 - a child with the same path leaves the parent's recording alone"

# 5. SIGKILL: the helper finishes the database
db=$tmp/kill.sqlite
rec "$prog" kill >/dev/null 2>&1
st=$?
[ $st -eq 137 ] || fail "kill: exit status $st, want 137"
"$gctune" analyze "$db" >"$tmp/analyze" 2>&1 || fail "kill: analyze failed: $(head -3 "$tmp/analyze")"
[ "$(meta clean_exit)" = 0 ] || fail "kill: clean_exit $(meta clean_exit)"
[ "$(q "PRAGMA integrity_check")" = ok ] || fail "kill: integrity_check"
n=$(stack_count site_killed)
[ "$n" -ge 2300 ] || fail "kill: $n samples under site_killed, want >= 2300 (all written before the kill)"
echo "ok 5 - SIGKILL: the helper finished the database ($n samples)"

# 5b. SIGKILL before the helper has started: the helper shares its CPU
# with 4 busy loops, so the program is killed before the helper has
# created the database or read the program's maps.  gctune analyze waits
# for the file (the path is claimed), finds the helper's meta in it from
# the start, and every frame is named from the helper's copy of the
# program's modules.  Before, such runs gave "no such file", or an
# empty recording, or 2301 samples with no frame named (a CI run).
cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
pcpu=${cpus%%[,-]*}
hcpu=${cpus##*[,-]}
hogs=
trap 'kill $hogs 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in 1 2 3 4; do
    taskset -c "$hcpu" sh -c 'while :; do :; done' &
    hogs="$hogs $!"
done
for k in 1 2 3 4 5; do
    db=$tmp/kill-early$k.sqlite
    # (the group's stderr takes bash's "Killed" line)
    { taskset -c "$pcpu" env LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=1 \
        GCTUNE_HELPER_CPUS="$hcpu" "$prog" kill >/dev/null 2>&1; } 2>/dev/null
    st=$?
    [ $st -eq 137 ] || fail "kill early $k: exit status $st, want 137"
    "$gctune" analyze "$db" >"$tmp/analyze" 2>&1 || fail "kill early $k: analyze failed: $(head -3 "$tmp/analyze")"
    [ "$(meta profiler_mode)" = helper ] || fail "kill early $k: profiler_mode $(meta profiler_mode)"
    [ "$(meta clean_exit)" = 0 ] || fail "kill early $k: clean_exit $(meta clean_exit)"
    n=$(stack_count site_killed)
    [ "$n" -ge 2300 ] || fail "kill early $k: $n samples under site_killed, want >= 2300 ($(q "SELECT count(*) FROM samples") samples, $(q "SELECT count(function) FROM frames") of $(q "SELECT count(*) FROM frames") frames named)"
done
kill $hogs 2>/dev/null
wait $hogs 2>/dev/null
hogs=
echo "ok 5b - SIGKILL before the helper started: 5 runs, each complete and named (helper on CPU $hcpu with 4 busy loops)"

# 6. SIGINT to the process group
db=$tmp/sigint.sqlite
out=$(setsid bash -c 'LD_PRELOAD="$1" GCTUNE_PROFILE="$2" GCTUNE_SAMPLE_RATE=1 "$3" sigint' _ "$lib" "$db" "$prog") ||
    fail "sigint: exit $?"
[ "$out" = done ] || fail "sigint: output $out"
[ "$(meta clean_exit)" = 1 ] || fail "sigint: clean_exit $(meta clean_exit) (the helper died of SIGINT?)"
[ "$(stack_count site_sigint)" -ge 2400 ] || fail "sigint: $(stack_count site_sigint) samples, want >= 2400"
echo "ok 6 - SIGINT to the process group does not end the helper"

# 7. a child started before the parent's database exists
db=$tmp/early.sqlite
for i in 1 2 3 4 5 6 7 8 9 10; do
    out=$(rec "$prog" early 2>"$tmp/err") || fail "early $i: exit $?"
    [ "$out" = "child done
done" ] || fail "early $i: output $out"
    [ -s "$tmp/err" ] && fail "early $i: stderr: $(cat "$tmp/err")"
    [ "$(meta clean_exit)" = 1 ] || fail "early $i: clean_exit $(meta clean_exit)"
    [ "$(q "PRAGMA integrity_check")" = ok ] || fail "early $i: integrity_check"
    n=$(stack_count site_parent)
    [ "$n" -ge 2100 ] || fail "early $i: $n parent samples, want >= 2100"
    [ "$(stack_count site_child)" -eq 0 ] || fail "early $i: the child recorded into the parent's database"
done
echo "ok 7 - a child started before the parent's database exists leaves it alone (10 runs)"

# 8. GCTUNE_HELPER_CPUS
db=$tmp/cpus.sqlite
allowed() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"; }
mine=$(allowed $$)
LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_HELPER_CPUS=0 sleep 1 &
sleeper=$!
hpid=
for i in $(seq 1 100); do
    for p in $(pgrep -x gctune-writer); do
        tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qx "GCTUNE_PROFILE=$db" && hpid=$p
    done
    [ -n "$hpid" ] && break
    sleep 0.02
done
[ -n "$hpid" ] || fail "cpus: no helper process found"
h=$(allowed "$hpid"); s=$(allowed $sleeper)
# the symbolizer's libdw is loaded by the helper only (profiler/dwfl_dyn.h)
grep -q 'libdw[-.]' "/proc/$sleeper/maps" && fail "cpus: the profiled program mapped libdw"
wait $sleeper || fail "cpus: exit $?"
[ "$h" = 0 ] || fail "cpus: the helper may run on CPUs $h, want 0"
[ "$s" = "$mine" ] || fail "cpus: the program may run on CPUs $s, want $mine as before"
[ "$(meta clean_exit)" = 1 ] || fail "cpus: clean_exit $(meta clean_exit)"
LD_PRELOAD="$lib" GCTUNE_PROFILE="$db" GCTUNE_HELPER_CPUS=0-x env true 2>"$tmp/err" || fail "cpus 0-x: exit $?"
grep -q "GCTUNE_HELPER_CPUS=0-x: not a list of CPUs" "$tmp/err" || fail "cpus 0-x: stderr: $(cat "$tmp/err")"
[ "$(meta clean_exit)" = 1 ] || fail "cpus 0-x: no complete recording"
echo "ok 8 - GCTUNE_HELPER_CPUS=0: the helper on CPU 0 only, the program on $s; a bad list is reported"
echo "PASS"
