# store/local.mk - the run database helpers (store/store.h), included from
# Makefile.am.  libgctune_store.la is a convenience library linked into
# libgctune (profiler, tuner) and into the gctune command.
#
# store/schema.sql is the one source of the schema: it is turned into a C
# string at build time (store/schema_sql.h in the build tree, a static
# array included by store.c), so a VPATH build from a clean clone works and
# the SQL is never copied by hand.  The header is not in BUILT_SOURCES
# (Makefile.am does not declare that variable, and a component file must
# not define it for everybody): the library's objects depend on it instead.
#
# Programs:
#   tests/unit/test_store   cmocka unit test (UNIT_TESTS)
#   bench/store_bench       insert-rate benchmark, EXTRA_PROGRAMS:
#                           make bench/store_bench && bench/store_bench [rows]

noinst_LTLIBRARIES += libgctune_store.la
libgctune_store_la_SOURCES = \
	store/store.h \
	store/store_priv.h \
	store/store.c \
	store/store_read.c
nodist_libgctune_store_la_SOURCES = store/schema_sql.h
libgctune_store_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/store -I$(top_builddir)/store \
	$(SQLITE3_CFLAGS)
libgctune_store_la_LIBADD = $(SQLITE3_LIBS)

store/schema_sql.h: $(top_srcdir)/store/schema.sql $(top_srcdir)/store/local.mk
	$(AM_V_GEN)$(MKDIR_P) store && { \
	  echo '/* Generated from store/schema.sql by store/local.mk: do not edit. */'; \
	  echo 'static const char gcts_schema_sql[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' \
	    $(top_srcdir)/store/schema.sql; \
	  echo ';'; \
	} > $@-t && mv -f $@-t $@
$(libgctune_store_la_OBJECTS): store/schema_sql.h

CLEANFILES += store/schema_sql.h store/schema_sql.h-t
EXTRA_DIST += store/schema.sql

UNIT_TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/store $(SQLITE3_CFLAGS)
tests_unit_test_store_LDADD = libgctune_store.la $(SQLITE3_LIBS) $(CMOCKA_LIBS)

EXTRA_PROGRAMS += bench/store_bench
bench_store_bench_SOURCES = bench/store_bench.c
bench_store_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/store $(SQLITE3_CFLAGS)
bench_store_bench_LDADD = libgctune_store.la $(SQLITE3_LIBS)
CLEANFILES += bench/store_bench$(EXEEXT)
