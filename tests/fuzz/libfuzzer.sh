#!/bin/sh
# tests/fuzz/libfuzzer.sh - `make stress-fuzz`: builds the fuzz targets of
# tests/fuzz with clang -fsanitize=fuzzer,address,undefined and runs each
# for FUZZ_SECONDS seconds (-max_total_time), starting from a copy of its
# checked-in corpus in FUZZ_WORKDIR/<target>/corpus.  New inputs libFuzzer
# finds stay in that scratch directory; a crash leaves
# FUZZ_WORKDIR/<target>/crash-* and fails the run.  To keep a crashing input
# as a regression, copy it to tests/fuzz/corpus/<target>/ once fixed.
#
# Environment (set by tests/fuzz/local.mk): top_srcdir, top_builddir,
# FUZZ_SECONDS, FUZZ_CLANG, FUZZ_WORKDIR, FUZZ_LIBS, FUZZ_CFLAGS,
# CLI_SOURCES; optional FUZZ_TARGETS (default "env gctrace db").
# The instrumented sources are compiled here; the libraries they call into
# are linked from the build tree's convenience archives (.libs/*.a), which
# must not be ASan builds of gcc (configure without --enable-sanitizers).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${FUZZ_WORKDIR:?}"
seconds=${FUZZ_SECONDS:-60}
clang=${FUZZ_CLANG:-clang}
targets=${FUZZ_TARGETS:-env gctrace db}
command -v "$clang" >/dev/null 2>&1 ||
    { echo "stress-fuzz: $clang not found (Debian package clang)" >&2; exit 1; }
case $seconds in ''|*[!0-9]*) echo "stress-fuzz: FUZZ_SECONDS=$seconds is not a number of seconds" >&2; exit 1 ;; esac
S=$top_srcdir B=$top_builddir
for lib in tuner prof test pprof store sym model; do
    [ -f "$B/.libs/libgctune_$lib.a" ] || { echo "stress-fuzz: $B/.libs/libgctune_$lib.a missing: run make first" >&2; exit 1; }
done
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
inc="-I$S/include -I$S/libgc -I$S/common -I$S -I$S/store -I$B/store -I$S/reports -I$S/tuner -I$S/profiler $FUZZ_CFLAGS"
mkdir -p "$FUZZ_WORKDIR"
status=0
for t in $targets; do
    w=$FUZZ_WORKDIR/$t
    mkdir -p "$w/corpus"
    case $t in
    env)
        srcs="$S/tests/fuzz/fuzz_env.c $S/profiler/env.c $S/libgc/options.c $S/tuner/tuner.c"
        libs="$B/.libs/libgctune_tuner.a $B/.libs/libgctune_prof.a $B/.libs/libgctune_store.a \
              $B/.libs/libgctune_sym.a $B/.libs/libgctune_test.a" ;;
    gctrace)
        srcs="$S/tests/fuzz/fuzz_gctrace.c $S/reports/gctrace.c"
        libs="" ;;
    db)
        srcs="$S/tests/fuzz/fuzz_db.c $B/reports/gnuplot/templates.c"
        for f in $CLI_SOURCES; do srcs="$srcs $S/$f"; done
        libs="$B/.libs/libgctune_model.a $B/.libs/libgctune_pprof.a $B/.libs/libgctune_store.a" ;;
    *) echo "stress-fuzz: unknown target $t" >&2; exit 1 ;;
    esac
    echo "==> building $w/fuzz_$t"
    # shellcheck disable=SC2086
    "$clang" $flags -DGCTUNE_LIBFUZZER $inc -o "$w/fuzz_$t" $srcs $libs $FUZZ_LIBS
    cp "$S/tests/fuzz/corpus/$t"/* "$w/corpus/"
    echo "==> fuzz_$t for $seconds s (corpus $w/corpus, $(ls "$w/corpus" | wc -l) inputs)"
    (cd "$w" && ASAN_OPTIONS=detect_leaks=1 ./"fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$w/" -max_len=65536 -timeout=20 corpus >"$w/log" 2>&1) || {
        echo "FAIL: fuzz_$t found a crash; see $w/log and $w/crash-*" >&2
        tail -40 "$w/log" >&2
        status=1
        continue
    }
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$w/log" | sed "s/^/    fuzz_$t /"
done
exit $status
