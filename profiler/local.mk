# profiler/local.mk - the sampling heap profiler, included from Makefile.am.

# The symbolizer (profiler/symbolize.h): a convenience library, linked into
# libgctune.  With libdw when configure found its headers, dladdr
# otherwise; libdw.so.1 is not linked but dlopen'ed by the first
# symbolizer (profiler/dwfl_dyn.h), so only a process that symbolizes
# loads it (not a program under LD_PRELOAD whose writer is a helper).
noinst_LTLIBRARIES += libgctune_sym.la
libgctune_sym_la_SOURCES = profiler/symbolize.h profiler/symbolize.c profiler/dwfl_dyn.h
libgctune_sym_la_CFLAGS = $(AM_CFLAGS) $(LIBDW_CFLAGS)
libgctune_sym_la_LIBADD = $(DL_LIBS) $(PTHREAD_LIBS)

# Its test, against the library, and again with the dladdr fallback compiled
# in (GCTP_SYM_NO_LIBDW), which sees only dynamic symbols: -export-dynamic.
UNIT_TESTS += tests/unit/test_symbolize tests/unit/test_symbolize_nodw
tests_unit_test_symbolize_SOURCES = tests/unit/test_symbolize.c
tests_unit_test_symbolize_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/profiler \
	-DSYMTEST_LIB='"$(abs_top_builddir)/$(SYMTEST_LIB)"'
tests_unit_test_symbolize_CFLAGS = $(AM_CFLAGS) -g -O0
tests_unit_test_symbolize_LDADD = libgctune_sym.la $(CMOCKA_LIBS) $(DL_LIBS)
tests_unit_test_symbolize_nodw_SOURCES = tests/unit/test_symbolize.c \
	profiler/symbolize.h profiler/symbolize.c
tests_unit_test_symbolize_nodw_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/profiler \
	-DSYMTEST_LIB='"$(abs_top_builddir)/$(SYMTEST_LIB)"' -DGCTP_SYM_NO_LIBDW
tests_unit_test_symbolize_nodw_CFLAGS = $(AM_CFLAGS) -g -O0
tests_unit_test_symbolize_nodw_LDFLAGS = -export-dynamic $(AM_LDFLAGS)
tests_unit_test_symbolize_nodw_LDADD = $(CMOCKA_LIBS) $(DL_LIBS)

# Crash safety (tests/profiler/crash_prog.c is their workload, built for
# each backend): SIGKILL at random moments (test_sigkill.sh, CRASH_RUNS
# runs in all: 10 in make check, 100 in `make stress-crash`) and a
# full disk (test_fulldisk.sh: a 512 KiB tmpfs, or RLIMIT_FSIZE).
check_PROGRAMS += tests/profiler/crash_prog tests/profiler/crash_prog_libgc
tests_profiler_crash_prog_SOURCES = tests/profiler/crash_prog.c
tests_profiler_crash_prog_LDADD = $(PTHREAD_LIBS)
tests_profiler_crash_prog_libgc_SOURCES = tests/profiler/crash_prog.c
tests_profiler_crash_prog_libgc_CPPFLAGS = $(AM_CPPFLAGS) -DCRASH_PROG_LIBGC
tests_profiler_crash_prog_libgc_LDADD = libgctune.la $(PTHREAD_LIBS)
CRASH_TESTS = tests/profiler/test_sigkill.sh tests/profiler/test_fulldisk.sh
TESTS += $(CRASH_TESTS)
EXTRA_DIST += $(CRASH_TESTS)

STRESS_CRASH_RUNS = 100
stress-crash: tests/profiler/crash_prog$(EXEEXT) tests/profiler/crash_prog_libgc$(EXEEXT) \
		gctune$(EXEEXT) libgctune-preload.la
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='tests/profiler/test_sigkill.sh' \
	    TESTS_ENVIRONMENT='CRASH_RUNS=$(STRESS_CRASH_RUNS); export CRASH_RUNS;'
.PHONY: stress-crash

# The shared library test_symbolize's child process dlopens (gctp_sym_new_pid
# meeting a module loaded after it started).  A plain rule, not libtool: the
# test needs its exact path, and check_LTLIBRARIES is assigned later in
# Makefile.am.
SYMTEST_LIB = tests/unit/libsymtest.so
$(SYMTEST_LIB): $(srcdir)/tests/unit/symtest_lib.c
	@$(MKDIR_P) tests/unit
	$(AM_V_CC)$(CC) -shared -fPIC -g -O0 -o $@ $(srcdir)/tests/unit/symtest_lib.c
check_DATA += $(SYMTEST_LIB)
CLEANFILES += $(SYMTEST_LIB)
EXTRA_DIST += tests/unit/symtest_lib.c
EXTRA_tests_unit_test_symbolize_DEPENDENCIES = $(SYMTEST_LIB)
EXTRA_tests_unit_test_symbolize_nodw_DEPENDENCIES = $(SYMTEST_LIB)
