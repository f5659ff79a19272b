# tests/fuzz/local.mk - fuzz targets, their corpora, and the opt-in
# fuzzing target; included from Makefile.am after the components.
#
# Three libFuzzer-style targets (int LLVMFuzzerTestOneInput(data, size)):
#   tests/fuzz/fuzz_env.c      every environment parser (runtime, tuner,
#                              profiler/env.c)
#   tests/fuzz/fuzz_gctrace.c  the gctrace parser (reports/gctrace.c); the
#                              same file is also the self-driving mutation
#                              fuzzer of reports/pprof.mk
#   tests/fuzz/fuzz_db.c       the CLI's database reader + analyze
# with their corpora in tests/fuzz/corpus/{env,gctrace,db} (< 2 MB in all):
# hand-written seeds (env-*, gctrace's ok-/no-/bad-* whose prefix is the
# expected result, db: minimised fixture databases), and found-<sha1>:
# inputs that reached new code in a `make stress-fuzz` run, kept with
# libFuzzer's -merge=1 (the smallest db ones only).
#
# make check: tests/fuzz/test_replay.sh replays each corpus through
# tests/fuzz/replay_{env,gctrace,db}: the targets linked with
# tests/fuzz/replay_main.c, built by $(CC) (gcc) with ASan + UBSan (these
# programs' flags only; the libraries they link are as configured).
#
# make stress-fuzz: tests/fuzz/libfuzzer.sh builds the targets with clang
# -fsanitize=fuzzer,address,undefined and runs each for FUZZ_SECONDS
# (default 60) seconds, from a copy of the corpus in FUZZ_WORKDIR (default
# fuzz-work/ in the build tree): new finds land there, never in the
# checked-in corpus.  Needs clang (Debian package clang) and a build
# configured without --enable-sanitizers.

REPLAY_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

check_PROGRAMS += tests/fuzz/replay_env tests/fuzz/replay_gctrace tests/fuzz/replay_db

# The parsers are compiled into the program (instrumented); the rest of
# the tuner, profiler and runtime they reference comes from the libraries.
tests_fuzz_replay_env_SOURCES = tests/fuzz/replay_main.c tests/fuzz/fuzz_env.c \
	profiler/env.c libgc/options.c tuner/tuner.c
tests_fuzz_replay_env_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/tuner \
	-I$(top_srcdir)/store $(SQLITE3_CFLAGS)
tests_fuzz_replay_env_CFLAGS = $(AM_CFLAGS) $(REPLAY_SAN_FLAGS)
tests_fuzz_replay_env_LDFLAGS = $(REPLAY_SAN_FLAGS)
tests_fuzz_replay_env_LDADD = libgctune_tuner.la libgctune_prof.la libgctune_test.la \
	$(SQLITE3_LIBS) $(PTHREAD_LIBS) $(DL_LIBS) -lm

tests_fuzz_replay_gctrace_SOURCES = tests/fuzz/replay_main.c tests/fuzz/fuzz_gctrace.c \
	reports/gctrace.c reports/gctrace.h
tests_fuzz_replay_gctrace_CPPFLAGS = $(PPROF_TEST_CPPFLAGS) -DGCTUNE_LIBFUZZER
tests_fuzz_replay_gctrace_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS) $(REPLAY_SAN_FLAGS)
tests_fuzz_replay_gctrace_LDFLAGS = $(REPLAY_SAN_FLAGS)
tests_fuzz_replay_gctrace_LDADD = -lm

tests_fuzz_replay_db_SOURCES = tests/fuzz/replay_main.c tests/fuzz/fuzz_db.c $(libgctune_cli_la_SOURCES)
nodist_tests_fuzz_replay_db_SOURCES = $(nodist_libgctune_cli_la_SOURCES)
tests_fuzz_replay_db_CPPFLAGS = $(REPORTS_CPPFLAGS)
tests_fuzz_replay_db_CFLAGS = $(AM_CFLAGS) $(REPLAY_SAN_FLAGS)
tests_fuzz_replay_db_LDFLAGS = $(REPLAY_SAN_FLAGS)
tests_fuzz_replay_db_LDADD = libgctune_model.la libgctune_pprof.la libgctune_store.la $(SQLITE3_LIBS) $(ZLIB_LIBS) -lm

TESTS += tests/fuzz/test_replay.sh
EXTRA_DIST += tests/fuzz/test_replay.sh tests/fuzz/libfuzzer.sh \
	tests/fuzz/corpus/env tests/fuzz/corpus/db

# ---- make stress-fuzz ----
FUZZ_SECONDS = 60
FUZZ_CLANG = clang
FUZZ_WORKDIR = $(abs_top_builddir)/fuzz-work
stress-fuzz: libgctune_tuner.la libgctune_prof.la libgctune_test.la libgctune_pprof.la libgctune_model.la \
		libgctune_store.la reports/gnuplot/templates.c
	FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_CLANG='$(FUZZ_CLANG)' FUZZ_WORKDIR='$(FUZZ_WORKDIR)' \
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	FUZZ_LIBS='$(SQLITE3_LIBS) $(ZLIB_LIBS) $(LIBUNWIND_LIBS) $(LIBDW_LIBS) $(PTHREAD_LIBS) $(DL_LIBS) -lm' \
	FUZZ_CFLAGS='$(SQLITE3_CFLAGS) $(LIBUNWIND_CFLAGS) $(STD_CFLAGS) -DHAVE_CONFIG_H -I$(abs_top_builddir)' \
	CLI_SOURCES='$(filter %.c,$(libgctune_cli_la_SOURCES))' \
	$(SHELL) $(abs_top_srcdir)/tests/fuzz/libfuzzer.sh
.PHONY: stress-fuzz
