# profiler/local.mk - the sampling heap profiler, included from Makefile.am.

# The symbolizer (profiler/symbolize.h): a convenience library, linked into
# libgctune.  With libdw when configure found it, dladdr otherwise.
noinst_LTLIBRARIES += libgctune_sym.la
libgctune_sym_la_SOURCES = profiler/symbolize.h profiler/symbolize.c
libgctune_sym_la_CFLAGS = $(AM_CFLAGS) $(LIBDW_CFLAGS)
libgctune_sym_la_LIBADD = $(DL_LIBS)
if HAVE_LIBDW
libgctune_sym_la_LIBADD += $(LIBDW_LIBS)
endif

# Its test, against the library, and again with the dladdr fallback compiled
# in (GCTP_SYM_NO_LIBDW), which sees only dynamic symbols: -export-dynamic.
UNIT_TESTS += tests/unit/test_symbolize tests/unit/test_symbolize_nodw
tests_unit_test_symbolize_SOURCES = tests/unit/test_symbolize.c
tests_unit_test_symbolize_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/profiler
tests_unit_test_symbolize_CFLAGS = $(AM_CFLAGS) -g -O0
tests_unit_test_symbolize_LDADD = libgctune_sym.la $(CMOCKA_LIBS) $(DL_LIBS)
tests_unit_test_symbolize_nodw_SOURCES = tests/unit/test_symbolize.c \
	profiler/symbolize.h profiler/symbolize.c
tests_unit_test_symbolize_nodw_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/profiler \
	-DGCTP_SYM_NO_LIBDW
tests_unit_test_symbolize_nodw_CFLAGS = $(AM_CFLAGS) -g -O0
tests_unit_test_symbolize_nodw_LDFLAGS = -export-dynamic
tests_unit_test_symbolize_nodw_LDADD = $(CMOCKA_LIBS) $(DL_LIBS)
