# tuner/local.mk - the adaptive GC tuner, included from Makefile.am after
# profiler/core.mk (it uses libgctune_prof.la's gct_profiler_tuner_event
# and the libgc backend, and libgctune_store.la for the model's reader).
#
# Libraries:
#   libgctune_tuner.la  the online tuner (controller, cgroup detection, the
#                       thread and GCTUNE_TUNER start); linked into
#                       libgctune.la (Makefile.am: libgctune_la_LIBADD)
#   libgctune_model.la  the offline model (tuner/model.h) for
#                       `gctune recommend`: link it with libgctune_store.la
#                       $(SQLITE3_LIBS) -lm; not part of libgctune.so
# Programs:
#   tests/unit/test_tuner        controller scenarios on the simulator, parsers, the live tuner
#   tests/unit/test_tuner_cgroup cgroup v1/v2 limit detection on tests/fixtures/cgroup
#   tests/unit/test_tuner_model  model fit/predict/recommend, and a run database
#   examples/demo                the phased demo workload (README, bench/tuner.sh)
#   tuner/model_check            EXTRA_PROGRAMS: prints the model's fit and
#                                predictions for a run database, key=value
#                                (a debugging aid; `gctune recommend` is the
#                                user's command)
# Validation (not in make check): bench/recommend_validate.sh (and
# bench/tuner.sh --validate) compares `gctune recommend --json` predictions
# with recordings at GOGC 50/100/200/400.

TUNER_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tuner

noinst_LTLIBRARIES += libgctune_tuner.la
libgctune_tuner_la_SOURCES = \
	include/gctune/tuner.h \
	tuner/controller.h \
	tuner/controller.c \
	tuner/cgroup.c \
	tuner/parse.c \
	tuner/tuner.c
libgctune_tuner_la_CPPFLAGS = $(TUNER_CPPFLAGS)
libgctune_tuner_la_LIBADD = -lm

gctuneinclude_HEADERS += include/gctune/tuner.h

noinst_LTLIBRARIES += libgctune_model.la
libgctune_model_la_SOURCES = tuner/model.h tuner/model.c tuner/model_db.c tuner/parse.c
libgctune_model_la_CPPFLAGS = $(TUNER_CPPFLAGS) -I$(top_srcdir)/store $(SQLITE3_CFLAGS)
libgctune_model_la_LIBADD = -lm

# The simulated program, for the tests only.
TUNER_SIM_SOURCES = tuner/sim.h tuner/sim.c

UNIT_TESTS += tests/unit/test_tuner tests/unit/test_tuner_cgroup tests/unit/test_tuner_model
tests_unit_test_tuner_SOURCES = tests/unit/test_tuner.c $(TUNER_SIM_SOURCES)
tests_unit_test_tuner_CPPFLAGS = $(TUNER_CPPFLAGS) -I$(top_srcdir)/libgc -I$(top_srcdir)/store $(SQLITE3_CFLAGS) \
	-DDEMO_PATH='"$(abs_top_builddir)/examples/demo"'
tests_unit_test_tuner_LDADD = libgctune_tuner.la $(PROFILER_TEST_LIBS) -lm
tests_unit_test_tuner_DEPENDENCIES = libgctune_tuner.la libgctune_prof.la libgctune_test.la examples/demo$(EXEEXT)

tests_unit_test_tuner_cgroup_SOURCES = tests/unit/test_tuner_cgroup.c
tests_unit_test_tuner_cgroup_CPPFLAGS = $(TUNER_CPPFLAGS) \
	-DCGROUP_FIXTURES='"$(abs_top_srcdir)/tests/fixtures/cgroup"'
tests_unit_test_tuner_cgroup_LDADD = libgctune_tuner.la $(PROFILER_TEST_LIBS) -lm

tests_unit_test_tuner_model_SOURCES = tests/unit/test_tuner_model.c $(TUNER_SIM_SOURCES)
tests_unit_test_tuner_model_CPPFLAGS = $(TUNER_CPPFLAGS) -I$(top_srcdir)/store $(SQLITE3_CFLAGS)
tests_unit_test_tuner_model_LDADD = libgctune_model.la libgctune_store.la $(SQLITE3_LIBS) $(CMOCKA_LIBS) -lm

EXTRA_DIST += tests/fixtures/cgroup

# The demo workload.
noinst_PROGRAMS += examples/demo
examples_demo_SOURCES = examples/demo.c
examples_demo_CPPFLAGS = -I$(top_srcdir)/include
examples_demo_LDADD = libgctune.la

EXTRA_PROGRAMS += tuner/model_check
tuner_model_check_SOURCES = tuner/model_check.c
tuner_model_check_CPPFLAGS = $(TUNER_CPPFLAGS) -I$(top_srcdir)/store $(SQLITE3_CFLAGS)
tuner_model_check_LDADD = libgctune_model.la libgctune_store.la $(SQLITE3_LIBS) -lm
CLEANFILES += tuner/model_check$(EXEEXT)

EXTRA_DIST += bench/tuner.sh bench/recommend_validate.sh docs/tuner.md
