#!/bin/sh
# test_profile_env.sh - profiling a program with no code change: a program
# linked with libgctune, run with GCTUNE_PROFILE set, leaves a database
# (mode 0600, "%p" replaced by the pid) holding samples, GC cycles, the heap
# series and symbolized frames; an unwritable path gives one line on stderr
# and the program runs on unprofiled; a bad GCTUNE_SAMPLE_RATE is reported.
# Needs the sqlite3 command (Debian package sqlite3): skipped without it.
set -u
: "${top_builddir:?}"
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 command not found (Debian package sqlite3)"; exit 77; }

hello="$top_builddir/examples/hello"
tmp=$(mktemp -d /tmp/gctune-env-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
q() { sqlite3 "$db" "$1"; }

# 1. GCTUNE_PROFILE with %p
GCTUNE_PROFILE="$tmp/run-%p.sqlite" "$hello" >"$tmp/out" 2>"$tmp/err" || fail "hello exited $?"
grep -q '^hello: 100000 items' "$tmp/out" || fail "program output changed: $(cat "$tmp/out")"
[ -s "$tmp/err" ] && fail "unexpected stderr: $(cat "$tmp/err")"
set -- "$tmp"/run-*.sqlite
[ $# -eq 1 ] && [ -f "$1" ] || fail "no database run-<pid>.sqlite in $tmp: $(ls "$tmp")"
db=$1
case "$db" in *run-[0-9]*.sqlite) ;; *) fail "%p not replaced by a pid: $db" ;; esac
mode=$(stat -c %a "$db")
[ "$mode" = 600 ] || fail "database mode $mode, want 600"
[ "$(q "PRAGMA integrity_check")" = ok ] || fail "integrity_check"
n=$(q "SELECT count(*) FROM samples")
# hello allocates about 1.0 GiB; at the default 512 KiB rate that is ~2000 samples
[ "$n" -ge 1000 ] || fail "only $n samples"
est=$(q "SELECT CAST(sum(weight * size) / 1048576 AS INTEGER) FROM samples")
[ "$est" -ge 900 ] && [ "$est" -le 1250 ] || fail "estimated $est MiB allocated, want about 1030"
[ "$(q "SELECT count(*) FROM gc_cycles WHERE pause_ns > 0")" -ge 1 ] || fail "no gc_cycles"
[ "$(q "SELECT count(*) FROM heap_series WHERE rss > 0")" -ge 1 ] || fail "no heap_series"
[ "$(q "SELECT value FROM meta WHERE key = 'clean_exit'")" = 1 ] || fail "clean_exit"
[ "$(q "SELECT value FROM meta WHERE key = 'backend'")" = libgc ] || fail "backend"
[ "$(q "SELECT value FROM meta WHERE key = 'sample_rate'")" = 524288 ] || fail "sample_rate"
[ "$(q "SELECT count(*) FROM frames WHERE function = 'main' AND file LIKE '%hello.c' AND line > 0")" -ge 1 ] \
    || fail "no frame for main in hello.c"
[ "$(q "SELECT count(*) FROM mappings WHERE path LIKE '%hello' AND length(build_id) = 40")" -ge 1 ] \
    || fail "executable mapping with build-id missing"
# the leaf of most samples is main (hello allocates from main only)
leaf_main=$(q "SELECT count(*) FROM samples s JOIN stacks k ON k.id = s.stack_id JOIN frames f
               ON f.ip = CAST(substr(k.frames, 1, instr(k.frames || ' ', ' ') - 1) AS INTEGER)
               WHERE f.function = 'main'")
[ "$leaf_main" -eq "$n" ] || fail "$leaf_main of $n samples have main as their leaf"
echo "ok 1 - GCTUNE_PROFILE: $n samples, ~$est MiB estimated"

# 2. rate 1 through the environment: every allocation (hello makes 462144)
db="$tmp/all.sqlite"
GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=1 GCTUNE_PROFILE_QUEUE=1048576 "$hello" >/dev/null 2>"$tmp/err" || fail "rate 1 run"
all=$(q "SELECT count(*) + (SELECT value FROM meta WHERE key = 'dropped_samples') FROM samples")
[ "$all" -eq 462144 ] || fail "rate 1: $all samples + dropped, want 462144"
echo "ok 2 - GCTUNE_SAMPLE_RATE=1: every allocation accounted for"

# 3. unwritable path: one line, program unaffected
GCTUNE_PROFILE=/nonexistent-dir/x.sqlite "$hello" >"$tmp/out" 2>"$tmp/err" || fail "exit $? with an unwritable path"
grep -q '^hello: 100000 items' "$tmp/out" || fail "output with an unwritable path"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "want one line on stderr, got: $(cat "$tmp/err")"
grep -q '^gctune: profiler: .*/nonexistent-dir/x.sqlite.*running without profiling' "$tmp/err" \
    || fail "message: $(cat "$tmp/err")"
echo "ok 3 - unwritable path: $(cat "$tmp/err")"

# 4. bad rate: warned, default used
db="$tmp/badrate.sqlite"
GCTUNE_PROFILE="$db" GCTUNE_SAMPLE_RATE=lots "$hello" >/dev/null 2>"$tmp/err" || fail "bad rate run"
grep -q 'GCTUNE_SAMPLE_RATE=lots' "$tmp/err" || fail "no warning for a bad rate"
[ "$(q "SELECT value FROM meta WHERE key = 'sample_rate'")" = 524288 ] || fail "bad rate: default not used"
echo "ok 4 - bad GCTUNE_SAMPLE_RATE warned"
exit 0
