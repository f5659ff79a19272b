#!/bin/sh
# test_fulldisk.sh - a full disk stops the recording, not the program.
# tests/profiler/crash_prog_libgc runs profiled (GCTUNE_PROFILE, sampling
# every 4 KiB) into a 512 KiB tmpfs, mounted in a private mount namespace
# (`unshare -rm`, or `unshare -m` as root), which the database fills; where
# neither is permitted, the file size limit (RLIMIT_FSIZE, 512 KiB, SIGXFSZ
# ignored) stands in for the full disk.  The run lasts 1.5 s, or 5 s, or
# 15 s, until the disk fills.  Checks:
#   - the program's stdout and exit status are those of an unprofiled run;
#   - stderr is exactly one line: "gctune: profiler: <db path>: <statement>:
#     <why>; recording stopped, the program continues";
#   - no hang (the run is killed after 120 s: a failure);
#   - the database passes PRAGMA integrity_check and `gctune analyze` reads
#     it (exit 0), after being copied off the full file system.
# Needs sqlite3 (Debian package sqlite3): skipped without it.
#
# Environment (set by Makefile.am): top_builddir; FULLDISK_METHOD=fsize
# forces the RLIMIT_FSIZE variant.
set -u
: "${top_builddir:?}"
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 command not found (Debian package sqlite3)"; exit 77; }
prog="$top_builddir/tests/profiler/crash_prog_libgc"
gctune="$top_builddir/gctune"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gctune-fulldisk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The profiled run, in a shell that has the small file system: "$1" is how
# (tmpfs or fsize), "$5" the run time in ms; copies the database out to
# $4 before returning.
inner='
set -u
how=$1 dir=$2 prog=$3 out=$4 ms=$5
if [ "$how" = tmpfs ]; then
    mount -t tmpfs -o size=512k gctune-full "$dir" || exit 90
else
    trap "" XFSZ
    ulimit -S -f 1024 || exit 90   # 512-byte blocks: 512 KiB
fi
GCTUNE_PROFILE="$dir/run.sqlite" GCTUNE_SAMPLE_RATE=4096 timeout -s KILL 120 "$prog" "$ms" 4 \
    >"$out/stdout" 2>"$out/stderr"
echo $? >"$out/status"
df -k "$dir" | tail -1 >"$out/df"
[ "$how" = tmpfs ] || ulimit -S -f unlimited
for f in "$dir"/run.sqlite*; do [ -f "$f" ] && cp "$f" "$out/"; done
[ "$how" = tmpfs ] && umount "$dir"
exit 0
'
mkdir -p "$tmp/full" "$tmp/out"
how=fsize run=""
if [ "${FULLDISK_METHOD:-auto}" != fsize ]; then
    for u in "unshare -rm" "unshare -m"; do
        if $u sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=1m none "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r' 2>/dev/null; then
            how=tmpfs run=$u
            break
        fi
    done
fi
[ $how = tmpfs ] || echo "# no private tmpfs here: RLIMIT_FSIZE stands in for the full disk"
# A loaded machine may record too little to fill the disk in a short run:
# then longer runs (what is checked does not depend on the length).
for ms in 1500 5000 15000; do
    rm -f "$tmp/out"/*
    $run sh -c "$inner" sh $how "$tmp/full" "$prog" "$tmp/out" $ms
    rc=$?
    [ $rc -eq 0 ] || fail "the $how setup failed (status $rc)"
    [ -s "$tmp/out/stderr" ] && break
    echo "# a $ms ms run did not fill the disk ($(cat "$tmp/out/df")): longer"
done
[ -s "$tmp/out/stderr" ] || fail "the disk never filled, even in a $ms ms run"

# Reference: the same program unprofiled.
"$prog" "$ms" 4 >"$tmp/ref.stdout" 2>"$tmp/ref.stderr"
ref_status=$?
status=$(cat "$tmp/out/status")
[ "$status" != 137 ] || fail "the profiled run hung: killed after 120 s"
[ "$status" = "$ref_status" ] || fail "exit status $status, unprofiled $ref_status; stderr: $(cat "$tmp/out/stderr")"
cmp -s "$tmp/out/stdout" "$tmp/ref.stdout" || fail "stdout changed: $(cat "$tmp/out/stdout")"
echo "ok 1 - full disk ($how): program output and status $status unchanged"

lines=$(wc -l <"$tmp/out/stderr")
[ "$lines" -eq 1 ] || fail "want one line on stderr, got $lines: $(head -5 "$tmp/out/stderr")"
grep -q "^gctune: profiler: $tmp/full/run.sqlite: .*; recording stopped, the program continues\$" \
    "$tmp/out/stderr" || fail "message: $(cat "$tmp/out/stderr")"
sed "s|$tmp/full/run.sqlite||" "$tmp/out/stderr" | grep -Eqi 'full|too large|space|I/O error' || fail "the message does not say the disk is full or a write failed: $(cat "$tmp/out/stderr")"
echo "ok 2 - one line: $(cat "$tmp/out/stderr")"

db="$tmp/out/run.sqlite"
[ -f "$db" ] || fail "no database left"
ic=$(sqlite3 "$db" 'PRAGMA integrity_check' 2>&1)
[ "$ic" = ok ] || fail "integrity_check: $ic"
"$gctune" analyze "$db" >"$tmp/analyze" 2>"$tmp/analyze.err" || fail "gctune analyze exited $?: $(cat "$tmp/analyze.err")"
n=$(sqlite3 "$db" 'SELECT count(*) FROM samples')
echo "ok 3 - database readable: $n samples committed before the disk filled ($(cat "$tmp/out/df"))"
exit 0
