# reports/pprof.mk - the pprof writer (reports/pprof.h) and the gctrace
# parser (reports/gctrace.h), their unit tests, the go tool pprof check and
# the gctrace fuzzer; included from reports/local.mk.
#
# libgctune_pprof.la is a convenience library (pprof.c + gctrace.c) for the
# gctune command.  gctrace.c calls gcts_gc_cycle_init (store/store.h): a
# program linking it also links the store library (the unit test and the
# fuzzer carry a weak stand-in, so they need no store).
#
# Needs from Makefile.am before the include: noinst_LTLIBRARIES,
# check_PROGRAMS, TESTS, EXTRA_DIST, UNIT_TESTS, AM_CPPFLAGS, AM_CFLAGS;
# from configure: ZLIB_CFLAGS/ZLIB_LIBS, SQLITE3_CFLAGS, CMOCKA_LIBS.

noinst_LTLIBRARIES += libgctune_pprof.la
libgctune_pprof_la_SOURCES = \
	reports/pprof.h \
	reports/pprof.c \
	reports/gctrace.h \
	reports/gctrace.c
libgctune_pprof_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/store
libgctune_pprof_la_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS) $(SQLITE3_CFLAGS)
libgctune_pprof_la_LIBADD = $(ZLIB_LIBS)

PPROF_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/reports -I$(top_srcdir)/store

# Unit tests (cmocka).
UNIT_TESTS += tests/unit/test_pprof tests/unit/test_gctrace
tests_unit_test_pprof_SOURCES = tests/unit/test_pprof.c
tests_unit_test_pprof_CPPFLAGS = $(PPROF_TEST_CPPFLAGS)
tests_unit_test_pprof_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS) $(SQLITE3_CFLAGS)
tests_unit_test_pprof_LDADD = libgctune_pprof.la $(ZLIB_LIBS) $(CMOCKA_LIBS)

tests_unit_test_gctrace_SOURCES = tests/unit/test_gctrace.c
tests_unit_test_gctrace_CPPFLAGS = $(PPROF_TEST_CPPFLAGS) \
	-DGCTRACE_FIXTURES='"$(abs_top_srcdir)/tests/fixtures/gctrace"'
tests_unit_test_gctrace_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS)
tests_unit_test_gctrace_LDADD = libgctune_pprof.la $(ZLIB_LIBS) $(CMOCKA_LIBS) -lm

# go tool pprof reads what pprof.c writes (skipped without go).
check_PROGRAMS += tests/cli/pprof_writer
tests_cli_pprof_writer_SOURCES = tests/cli/pprof_writer.c
tests_cli_pprof_writer_CPPFLAGS = $(PPROF_TEST_CPPFLAGS)
tests_cli_pprof_writer_LDADD = libgctune_pprof.la $(ZLIB_LIBS)
TESTS += tests/cli/test_pprof_go.sh
EXTRA_DIST += tests/cli/test_pprof_go.sh

# The gctrace fuzzer: replays tests/fuzz/corpus/gctrace and runs seeded
# mutations of it (a few seconds), with the parser compiled into it under
# ASan + UBSan (these flags are this program's only).  With clang,
# `clang -fsanitize=fuzzer -DGCTUNE_LIBFUZZER ...` builds a libFuzzer
# target from the same two files.
check_PROGRAMS += tests/fuzz/fuzz_gctrace
TESTS += tests/fuzz/fuzz_gctrace
FUZZ_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
tests_fuzz_fuzz_gctrace_SOURCES = tests/fuzz/fuzz_gctrace.c reports/gctrace.c reports/gctrace.h
tests_fuzz_fuzz_gctrace_CPPFLAGS = $(PPROF_TEST_CPPFLAGS) \
	-DFUZZ_CORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus/gctrace"'
tests_fuzz_fuzz_gctrace_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS) $(FUZZ_SAN_FLAGS)
tests_fuzz_fuzz_gctrace_LDFLAGS = $(FUZZ_SAN_FLAGS)
tests_fuzz_fuzz_gctrace_LDADD =

EXTRA_DIST += \
	tests/fuzz/corpus/gctrace \
	tests/fixtures/gctrace
