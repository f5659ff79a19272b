#!/bin/sh
# test_record.sh - `gctune record` end to end: a libgc program
# (examples/hello: backend chosen from DT_NEEDED libgctune.so), a plain
# malloc program (tests/backends/malloc_prog: LD_PRELOAD of the build
# tree's libgctune-preload.so), a Go program (tests/cli/gctrace_prog, built
# offline; skipped without go), exit status passthrough (exit 3, death by
# SIGTERM -> 143), stdin/stdout passthrough, usage errors (unknown backend:
# exit 2), --backend bdwgc on a program without Boehm GC (falls back to
# malloc, says so), --tuner on the malloc backend (no knobs: said once, the
# run succeeds, the tuner's rows are observations).  Needs the sqlite3
# command: skipped without it.
set -u
: "${top_builddir:?}"
: "${top_srcdir:=$top_builddir}"
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 command not found (Debian package sqlite3)"; exit 77; }
GCTUNE="$top_builddir/gctune"
tmp=$(mktemp -d /tmp/gctune-record-XXXXXX)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
meta() { sqlite3 "$1" "SELECT value FROM meta WHERE key = '$2'"; }

# 1. libgc, default output name in the current directory
(cd "$tmp" && "$GCTUNE" record -- "$top_builddir/examples/hello" >out 2>err) || fail "hello: exit $?"
db="$tmp/gctune-hello.sqlite"
[ -f "$db" ] || fail "no $db: $(cat "$tmp/err")"
grep -q '^hello: 100000 items' "$tmp/out" || fail "hello output: $(cat "$tmp/out")"
[ "$(meta "$db" backend)" = libgc ] || fail "hello: backend $(meta "$db" backend)"
n=$(sqlite3 "$db" "SELECT count(*) FROM samples")
[ "$n" -ge 1000 ] || fail "hello: $n samples"
grep -q "gctune record: backend libgc: $n samples, 0 dropped, [0-9]* GC cycles: $db" "$tmp/err" \
    || fail "hello: summary line: $(cat "$tmp/err")"
echo "ok 1 - libgc: $n samples"

# 2 and 3 use the malloc backend (LD_PRELOAD), which an ASan build
# (--enable-sanitizers) cannot provide.
if [ -n "${GCTUNE_SANITIZERS:-}" ]; then
echo "ok 2 # SKIP malloc backend: an ASan build cannot be LD_PRELOADed"
echo "ok 3 # SKIP malloc backend: an ASan build cannot be LD_PRELOADed"
else
# 2. malloc, -o, --rate, exit status 3
"$GCTUNE" record -o "$tmp/m.sqlite" --rate 16K "$top_builddir/tests/backends/malloc_prog" 3 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 3 ] || fail "malloc_prog 3: exit $rc: $(cat "$tmp/err")"
db="$tmp/m.sqlite"
[ "$(meta "$db" backend)" = malloc ] || fail "malloc: backend"
[ "$(meta "$db" sample_rate)" = 16384 ] || fail "malloc: rate $(meta "$db" sample_rate)"
grep -q '^child ok$' "$tmp/out" || fail "malloc_prog output"
n=$(sqlite3 "$db" "SELECT count(*) FROM samples s JOIN stacks k ON k.id = s.stack_id JOIN frames f
                   ON f.ip = CAST(substr(k.frames, 1, instr(k.frames || ' ', ' ') - 1) AS INTEGER)
                   WHERE f.function LIKE 'site_small%'")
[ "$n" -ge 1000 ] || fail "malloc: $n site_small samples"
echo "ok 2 - malloc: $n site_small samples, exit status 3 passed through"

# 3. death by signal, stdin and stdout
"$GCTUNE" record -o "$tmp/k.sqlite" sh -c 'kill -TERM $$' >/dev/null 2>&1
rc=$?
[ $rc -eq 143 ] || fail "SIGTERM: exit $rc, want 143"
got=$(echo hello-stdin | "$GCTUNE" record -o "$tmp/c.sqlite" cat 2>/dev/null)
[ "$got" = hello-stdin ] || fail "stdin/stdout passthrough: '$got'"
echo "ok 3 - 128+SIGTERM, stdin/stdout"
fi

# 4. usage errors
"$GCTUNE" record --backend nosuch true >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown backend: exit $rc"
"$GCTUNE" record >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "no program: exit $rc"
"$GCTUNE" record "$tmp/nonexistent" >/dev/null 2>&1; rc=$?
[ $rc -eq 127 ] || fail "missing program: exit $rc"
echo "ok 4 - usage errors"

# 4b. --backend bdwgc without Boehm GC: the malloc backend, said once
# (the preload library again: under ASan, libstdc++'s constructor mallocs
# through it before ASan's own start, a SIGSEGV in the shadow memory)
if [ -n "${GCTUNE_SANITIZERS:-}" ]; then
echo "ok 4b # SKIP malloc backend: an ASan build cannot be LD_PRELOADed"
else
"$GCTUNE" record -o "$tmp/b.sqlite" --backend bdwgc true >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "bdwgc on true: exit $rc: $(cat "$tmp/err")"
[ "$(grep -c 'has no Boehm GC (GC_malloc not found); using the malloc backend' "$tmp/err")" -eq 1 ] \
    || fail "bdwgc on true: message: $(cat "$tmp/err")"
[ "$(meta "$tmp/b.sqlite" backend)" = malloc ] || fail "bdwgc on true: backend $(meta "$tmp/b.sqlite" backend)"
echo "ok 4b - --backend bdwgc without Boehm GC: malloc"
fi

# 4c. the tuner on the malloc backend: no knobs, observes only
if [ -n "${GCTUNE_SANITIZERS:-}" ]; then
echo "ok 4c # SKIP malloc backend: an ASan build cannot be LD_PRELOADed"
else
GCTUNE_TUNER_INTERVAL=20ms "$GCTUNE" record -o "$tmp/t.sqlite" --rate 64K --tuner adaptive \
    "$top_builddir/tests/backends/malloc_prog" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || fail "malloc --tuner: exit $rc: $(cat "$tmp/err")"
grep -q '^child ok$' "$tmp/out" || fail "malloc --tuner: output $(cat "$tmp/out")"
[ "$(grep -c 'malloc backend has no GC knobs; policy adaptive observes only' "$tmp/err")" -eq 1 ] \
    || fail "malloc --tuner: the observes-only line: $(cat "$tmp/err")"
db="$tmp/t.sqlite"
n=$(sqlite3 "$db" "SELECT count(*) FROM tuner_events")
[ "$n" -ge 1 ] || fail "malloc --tuner: no tuner_events"
[ "$(sqlite3 "$db" "SELECT count(*) FROM tuner_events WHERE knob <> 'policy'")" -eq 0 ] \
    || fail "malloc --tuner: a knob was set: $(sqlite3 "$db" "SELECT * FROM tuner_events")"
echo "ok 4c - malloc --tuner adaptive: observes only, $n tuner events"
fi

# 5. Go (skipped without go)
GO=${GO:-go}
if ! command -v "$GO" >/dev/null 2>&1; then
    echo "skip 5 - go not installed"
    exit 0
fi
(
    export HOME="$tmp/home" GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOPROXY=off \
        GOFLAGS='' GO111MODULE=on GOTOOLCHAIN=local
    mkdir -p "$HOME"
    cp -r "$top_srcdir/tests/cli/gctrace_prog" "$tmp/src" && chmod -R u+w "$tmp/src" &&
        cd "$tmp/src" && "$GO" build -o "$tmp/gctrace_prog" .
) >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "go build"; }
GOGC=100 "$GCTUNE" record -o "$tmp/go.sqlite" "$tmp/gctrace_prog" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "go: exit $rc: $(tail -3 "$tmp/err")"
db="$tmp/go.sqlite"
lines=$(grep -c '^gc [0-9]* @' "$tmp/err")
[ "$lines" -ge 2 ] || fail "go: stderr has $lines gctrace lines"
grep -q '^gctrace_prog: starting' "$tmp/err" || fail "go: program stderr not passed through"
rows=$(sqlite3 "$db" "SELECT count(*) FROM gc_cycles")
# the trace line of the last (forced) cycle may be split by the program's output
[ "$rows" -ge $((lines - 1)) ] && [ "$rows" -le "$lines" ] || fail "go: $rows gc_cycles rows for $lines lines"
[ "$(meta "$db" backend)" = go ] || fail "go: backend"
[ "$(meta "$db" gogc)" = 100 ] || fail "go: gogc"
[ "$(meta "$db" clean_exit)" = 1 ] || fail "go: clean_exit"
"$GCTUNE" analyze "$db" >/dev/null 2>&1 || fail "go: analyze exit $?"
echo "ok 5 - go: $rows GC cycles"
