# profiler/core.mk - the profiler proper (sink, queue, unwinder, writer)
# and the libgc backend, included from Makefile.am after profiler/local.mk
# (the symbolizer, libgctune_sym.la) and store/local.mk (libgctune_store.la).
#
# libgctune_prof.la is linked into libgctune.la; the unit tests link it
# with the GC_TESTING runtime (libgctune_test.la).

PROFILER_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/store -I$(top_srcdir)/profiler \
	$(SQLITE3_CFLAGS) $(LIBUNWIND_CFLAGS)

noinst_LTLIBRARIES += libgctune_prof.la
libgctune_prof_la_SOURCES = \
	include/gctune/backend.h \
	include/gctune/profiler.h \
	profiler/internal.h \
	profiler/queue.h \
	profiler/queue.c \
	profiler/unwind.h \
	profiler/unwind.c \
	profiler/symthread.h \
	profiler/symthread.c \
	profiler/env.h \
	profiler/env.c \
	profiler/writer.c \
	profiler/helper.c \
	profiler/profiler.c \
	backends/libgc.c
libgctune_prof_la_CPPFLAGS = $(PROFILER_CPPFLAGS)
libgctune_prof_la_LIBADD = libgctune_store.la libgctune_sym.la \
	$(LIBUNWIND_LIBS) $(SQLITE3_LIBS)

gctuneinclude_HEADERS += include/gctune/backend.h include/gctune/profiler.h

PROFILER_TEST_LIBS = libgctune_prof.la libgctune_test.la $(SQLITE3_LIBS) \
	$(CMOCKA_LIBS) $(PTHREAD_LIBS) $(DL_LIBS)

UNIT_TESTS += tests/unit/test_profiler
tests_unit_test_profiler_SOURCES = tests/unit/test_profiler.c
tests_unit_test_profiler_CPPFLAGS = $(PROFILER_CPPFLAGS)
tests_unit_test_profiler_CFLAGS = $(AM_CFLAGS) -g
tests_unit_test_profiler_LDADD = $(PROFILER_TEST_LIBS)

# End to end: GCTUNE_PROFILE on examples/hello (linked with libgctune.so).
PROFILER_SHELL_TESTS = tests/profiler/test_profile_env.sh
TESTS += $(PROFILER_SHELL_TESTS)
EXTRA_DIST += $(PROFILER_SHELL_TESTS)

# The preload library's mmap (populated inside a stack capture), with the
# capture itself: libunwind calls this executable's mmap as it calls the
# preload library's under LD_PRELOAD.
UNIT_TESTS += tests/unit/test_populate
tests_unit_test_populate_SOURCES = tests/unit/test_populate.c backends/populate.c profiler/unwind.c
tests_unit_test_populate_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/profiler $(LIBUNWIND_CFLAGS)
tests_unit_test_populate_CFLAGS = $(AM_CFLAGS) -g
tests_unit_test_populate_LDADD = $(CMOCKA_LIBS) $(PTHREAD_LIBS) $(LIBUNWIND_LIBS)

# The preload backends' sampler (backends/sample.h, header only).
UNIT_TESTS += tests/unit/test_sample
tests_unit_test_sample_SOURCES = tests/unit/test_sample.c
tests_unit_test_sample_CPPFLAGS = $(PROFILER_CPPFLAGS) -I$(top_srcdir)/backends
tests_unit_test_sample_CFLAGS = $(AM_CFLAGS) -g
tests_unit_test_sample_LDADD = $(CMOCKA_LIBS) -lm

# The record queue alone (variable-length records, wrap, full, producers,
# a consumer process).
UNIT_TESTS += tests/unit/test_queue
tests_unit_test_queue_SOURCES = tests/unit/test_queue.c profiler/queue.c
tests_unit_test_queue_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/profiler
tests_unit_test_queue_CFLAGS = $(AM_CFLAGS) -g
tests_unit_test_queue_LDADD = $(CMOCKA_LIBS) $(PTHREAD_LIBS)
