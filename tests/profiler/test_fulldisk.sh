#!/bin/sh
# test_fulldisk.sh - a full disk stops the recording, not the program.
# tests/profiler/crash_prog_libgc runs profiled (GCTUNE_PROFILE, sampling
# every 4 KiB) into a 1 MiB tmpfs, mounted in a private mount namespace
# (`unshare -rm`, or `unshare -m` as root), which the database fills; where
# neither is permitted, the file size limit (RLIMIT_FSIZE, 1 MiB, SIGXFSZ
# ignored) stands in for the full disk.  Checks:
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
# (tmpfs or fsize); copies the database out to $tmp/out/ before returning.
inner='
set -u
how=$1 dir=$2 prog=$3 out=$4
if [ "$how" = tmpfs ]; then
    mount -t tmpfs -o size=1m gctune-full "$dir" || exit 90
else
    trap "" XFSZ
    ulimit -S -f 2048 || exit 90   # 512-byte blocks: 1 MiB
fi
GCTUNE_PROFILE="$dir/run.sqlite" GCTUNE_SAMPLE_RATE=4096 timeout -s KILL 120 "$prog" 1500 4 \
    >"$out/stdout" 2>"$out/stderr"
echo $? >"$out/status"
df -k "$dir" | tail -1 >"$out/df"
[ "$how" = tmpfs ] || ulimit -S -f unlimited
for f in "$dir"/run.sqlite*; do [ -f "$f" ] && cp "$f" "$out/"; done
[ "$how" = tmpfs ] && umount "$dir"
exit 0
'
mkdir -p "$tmp/full" "$tmp/out"
how=""
[ "${FULLDISK_METHOD:-auto}" = fsize ] ||
for u in "unshare -rm" "unshare -m"; do
    if $u true 2>/dev/null && $u sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=1m none "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r' 2>/dev/null; then
        how=tmpfs
        $u sh -c "$inner" sh tmpfs "$tmp/full" "$prog" "$tmp/out"
        rc=$?
        break
    fi
done
if [ -z "$how" ]; then
    echo "# no private tmpfs here: RLIMIT_FSIZE stands in for the full disk"
    how=fsize
    sh -c "$inner" sh fsize "$tmp/full" "$prog" "$tmp/out"
    rc=$?
fi
[ $rc -eq 0 ] || fail "the $how setup failed (status $rc)"

# Reference: the same program unprofiled.
"$prog" 1500 4 >"$tmp/ref.stdout" 2>"$tmp/ref.stderr"
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
