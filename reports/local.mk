# reports/local.mk - the gctune command, included from Makefile.am.
#
# libgctune_cli.la: every subcommand (reports/*.c but main.c) as a
# convenience library, so that tests can run gctune_main() in-process
# (tests/fuzz/fuzz_dbreader).  gctune = main.c + that + the store
# (libgctune_store.la, store/local.mk) + the pprof writer and gctrace parser
# (libgctune_pprof.la, reports/pprof.mk).
#
# Tests (make check):
#   tests/cli/mkfixture          writes the fixture databases (check program)
#   tests/cli/test_cli.sh        end-to-end: analyze/export/diff on the
#                                fixtures, bad input, exit codes, go tool pprof
#   tests/cli/test_import_go.sh  builds a Go program, runs it with
#                                GODEBUG=gctrace=1, imports and analyzes it
#   tests/cli/test_recommend.sh  gctune recommend on the fixtures, a fresh
#                                demo recording, a malloc-backend run and a
#                                Go gctrace import: output, --json, errors,
#                                goals moving the answer the right way
#   tests/cli/test_report.sh     gctune report on the fixtures: every chart
#                                rendered and checked (tests/cli/check_image),
#                                index.html, skipped charts, no gnuplot
#   tests/fuzz/fuzz_dbreader     mutated fixture databases through analyze
# Benchmark (not in make check): bench/cli_bench (EXTRA_PROGRAMS) writes
# large databases, bench/cli_bench.sh times `gctune analyze` on them:
#   make bench/cli_bench gctune && bench/cli_bench.sh [SAMPLES...]

# The pprof writer and the gctrace parser (maintained with reports/pprof.c).
include $(srcdir)/reports/pprof.mk

REPORTS_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/store -I$(top_srcdir)/reports \
	$(SQLITE3_CFLAGS)

noinst_LTLIBRARIES += libgctune_cli.la
libgctune_cli_la_SOURCES = \
	reports/cli.h \
	reports/cli.c \
	reports/json.h \
	reports/json.c \
	reports/model.h \
	reports/model.c \
	reports/commands.c \
	reports/analyze.c \
	reports/export.c \
	reports/import.c \
	reports/diff.c \
	reports/record.c \
	reports/report.h \
	reports/report.c \
	reports/report_charts.c \
	reports/report_html.c \
	reports/recommend.c
nodist_libgctune_cli_la_SOURCES = reports/gnuplot/templates.c
libgctune_cli_la_CPPFLAGS = $(REPORTS_CPPFLAGS)

# The gnuplot templates of `gctune report` (reports/gnuplot/*.gp), compiled
# in as strings by reports/gnuplot/embed.sh.
REPORT_TEMPLATES = \
	reports/gnuplot/common.gp \
	reports/gnuplot/heap.gp \
	reports/gnuplot/heap_gc.gp \
	reports/gnuplot/pauses.gp \
	reports/gnuplot/gc_cpu.gp \
	reports/gnuplot/gc_cpu_knobs.gp \
	reports/gnuplot/sites.gp \
	reports/gnuplot/alloc_rate.gp \
	reports/gnuplot/inuse.gp
reports/gnuplot/templates.c: $(REPORT_TEMPLATES:%=$(srcdir)/%) $(srcdir)/reports/gnuplot/embed.sh
	$(AM_V_GEN)$(MKDIR_P) reports/gnuplot && \
	$(SHELL) $(srcdir)/reports/gnuplot/embed.sh $(REPORT_TEMPLATES:%=$(srcdir)/%) >$@.tmp && \
	mv $@.tmp $@
CLEANFILES += reports/gnuplot/templates.c
EXTRA_DIST += $(REPORT_TEMPLATES) reports/gnuplot/embed.sh docs/report.md docs/gallery

GCTUNE_CLI_LIBS = libgctune_cli.la libgctune_model.la libgctune_pprof.la libgctune_store.la \
	$(SQLITE3_LIBS) $(ZLIB_LIBS) -lm

# Installed programs: Makefile.am declares bin_PROGRAMS empty.
bin_PROGRAMS += gctune
gctune_SOURCES = reports/main.c
gctune_CPPFLAGS = $(REPORTS_CPPFLAGS)
gctune_LDADD = $(GCTUNE_CLI_LIBS)

# ---- tests ----

check_PROGRAMS += tests/cli/mkfixture
tests_cli_mkfixture_SOURCES = tests/cli/mkfixture.c
tests_cli_mkfixture_CPPFLAGS = $(REPORTS_CPPFLAGS)
tests_cli_mkfixture_LDADD = libgctune_store.la $(SQLITE3_LIBS) -lm

# Validates the PNG/SVG images and index.html of gctune report (zlib only).
check_PROGRAMS += tests/cli/check_image
tests_cli_check_image_SOURCES = tests/cli/check_image.c
tests_cli_check_image_CPPFLAGS = $(AM_CPPFLAGS) $(ZLIB_CFLAGS)
tests_cli_check_image_LDADD = $(ZLIB_LIBS)

# The reader fuzzer compiles the command's sources once more under ASan +
# UBSan (its flags only); the store and pprof libraries are linked as built.
DBFUZZ_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
check_PROGRAMS += tests/fuzz/fuzz_dbreader
tests_fuzz_fuzz_dbreader_SOURCES = tests/fuzz/fuzz_dbreader.c $(libgctune_cli_la_SOURCES)
nodist_tests_fuzz_fuzz_dbreader_SOURCES = $(nodist_libgctune_cli_la_SOURCES)
tests_fuzz_fuzz_dbreader_CPPFLAGS = $(REPORTS_CPPFLAGS)
tests_fuzz_fuzz_dbreader_CFLAGS = $(AM_CFLAGS) $(DBFUZZ_SAN_FLAGS)
tests_fuzz_fuzz_dbreader_LDFLAGS = $(DBFUZZ_SAN_FLAGS)
tests_fuzz_fuzz_dbreader_LDADD = libgctune_model.la libgctune_pprof.la libgctune_store.la $(SQLITE3_LIBS) $(ZLIB_LIBS) -lm
CLEANFILES += fuzz-fail-*.sqlite

CLI_TESTS = \
	tests/cli/test_cli.sh \
	tests/cli/test_report.sh \
	tests/cli/test_import_go.sh \
	tests/cli/test_recommend.sh \
	tests/cli/test_fuzz_dbreader.sh \
	tests/backends/test_record.sh
TESTS += $(CLI_TESTS)
EXTRA_DIST += $(CLI_TESTS) tests/cli/cli_lib.sh tests/cli/gctrace_prog/main.go \
	tests/cli/gctrace_prog/go.mod docs/cli.md bench/cli_bench.sh tests/fixtures/db

# ---- benchmark ----

EXTRA_PROGRAMS += bench/cli_bench
bench_cli_bench_SOURCES = bench/cli_bench.c
bench_cli_bench_CPPFLAGS = $(REPORTS_CPPFLAGS)
bench_cli_bench_LDADD = libgctune_store.la $(SQLITE3_LIBS) -lm
CLEANFILES += bench/cli_bench$(EXEEXT)
