# bench/local.mk - benchmark programs; included from the top-level Makefile.am
# (non-recursive, so paths are relative to the top directory).
#
# Every workload is one source compiled once per allocator, selected with
# -DBENCH_ALLOC_<NAME> (see bench/bench_alloc.h).  alloc_churn also has zeroing
# variants of the malloc peers (-DBENCH_ZERO=1): alloc_churn_glibc-calloc,
# alloc_churn_jemalloc-zero, alloc_churn_mimalloc-zero (the program name after
# the workload is the variant name run.sh prints).  The programs are
# EXTRA_PROGRAMS: `make` and `make check` do not build them;
#   make bench-build     builds the variants whose peers configure found
#   make bench           builds them and runs bench/run.sh (BENCH_ARGS="--quick" etc.)
#
# Needs from configure.ac: AM_CONDITIONAL HAVE_BDWGC, HAVE_JEMALLOC,
# HAVE_MIMALLOC; AC_SUBST BDWGC_CFLAGS, BDWGC_LIBS, JEMALLOC_CFLAGS,
# JEMALLOC_LIBS, MIMALLOC_CFLAGS, MIMALLOC_LIBS, PTHREAD_LIBS, GO (path of
# `go`, may be empty); AM_INIT_AUTOMAKE([subdir-objects]).
# From Makefile.am, before the include: libgctune.la, AM_CPPFLAGS with
# -I$(top_srcdir)/include, and `EXTRA_PROGRAMS =`, `CLEANFILES =`,
# `EXTRA_DIST =` (this file appends to them with +=).
#
# CFLAGS from configure come last on the command line, so a debug build's
# -O1 wins over the -O2 here: benchmark a default (non-debug) build.

# Variants built by bench-build (peers only when configure found them).
BENCH_PROGS = \
	bench/alloc_churn_libgc$(EXEEXT) \
	bench/binary_trees_libgc$(EXEEXT) \
	bench/churn_libgc$(EXEEXT) \
	bench/alloc_churn_glibc$(EXEEXT) \
	bench/alloc_churn_glibc-calloc$(EXEEXT) \
	bench/binary_trees_glibc$(EXEEXT) \
	bench/churn_glibc$(EXEEXT)
if HAVE_BDWGC
BENCH_PROGS += \
	bench/alloc_churn_bdwgc$(EXEEXT) \
	bench/binary_trees_bdwgc$(EXEEXT) \
	bench/churn_bdwgc$(EXEEXT)
endif
if HAVE_JEMALLOC
BENCH_PROGS += \
	bench/alloc_churn_jemalloc$(EXEEXT) \
	bench/alloc_churn_jemalloc-zero$(EXEEXT) \
	bench/binary_trees_jemalloc$(EXEEXT) \
	bench/churn_jemalloc$(EXEEXT)
endif
if HAVE_MIMALLOC
BENCH_PROGS += \
	bench/alloc_churn_mimalloc$(EXEEXT) \
	bench/alloc_churn_mimalloc-zero$(EXEEXT) \
	bench/binary_trees_mimalloc$(EXEEXT) \
	bench/churn_mimalloc$(EXEEXT)
endif

BENCH_ALL_PROGS = \
	bench/alloc_churn_libgc$(EXEEXT) \
	bench/binary_trees_libgc$(EXEEXT) \
	bench/churn_libgc$(EXEEXT) \
	bench/alloc_churn_glibc$(EXEEXT) \
	bench/binary_trees_glibc$(EXEEXT) \
	bench/churn_glibc$(EXEEXT) \
	bench/alloc_churn_bdwgc$(EXEEXT) \
	bench/binary_trees_bdwgc$(EXEEXT) \
	bench/churn_bdwgc$(EXEEXT) \
	bench/alloc_churn_jemalloc$(EXEEXT) \
	bench/binary_trees_jemalloc$(EXEEXT) \
	bench/churn_jemalloc$(EXEEXT) \
	bench/alloc_churn_mimalloc$(EXEEXT) \
	bench/binary_trees_mimalloc$(EXEEXT) \
	bench/churn_mimalloc$(EXEEXT) \
	bench/alloc_churn_glibc-calloc$(EXEEXT) \
	bench/alloc_churn_jemalloc-zero$(EXEEXT) \
	bench/alloc_churn_mimalloc-zero$(EXEEXT)

# All variants must be known to automake, configured or not (literal names:
# automake does not expand variables here).
EXTRA_PROGRAMS += \
	bench/alloc_churn_libgc \
	bench/binary_trees_libgc \
	bench/churn_libgc \
	bench/alloc_churn_glibc \
	bench/binary_trees_glibc \
	bench/churn_glibc \
	bench/alloc_churn_bdwgc \
	bench/binary_trees_bdwgc \
	bench/churn_bdwgc \
	bench/alloc_churn_jemalloc \
	bench/binary_trees_jemalloc \
	bench/churn_jemalloc \
	bench/alloc_churn_mimalloc \
	bench/binary_trees_mimalloc \
	bench/churn_mimalloc \
	bench/alloc_churn_glibc-calloc \
	bench/alloc_churn_jemalloc-zero \
	bench/alloc_churn_mimalloc-zero

BENCH_CFLAGS = $(AM_CFLAGS) -O2

# --- alloc_churn ---
bench_alloc_churn_libgc_SOURCES = bench/alloc_churn.c bench/bench_alloc.h
bench_alloc_churn_libgc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_LIBGC
bench_alloc_churn_libgc_CFLAGS = $(BENCH_CFLAGS)
bench_alloc_churn_libgc_LDADD = libgctune.la $(PTHREAD_LIBS)
bench_alloc_churn_glibc_SOURCES = bench/alloc_churn.c bench/bench_alloc.h
bench_alloc_churn_glibc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_GLIBC
bench_alloc_churn_glibc_CFLAGS = $(BENCH_CFLAGS)
bench_alloc_churn_glibc_LDADD = $(PTHREAD_LIBS)
bench_alloc_churn_bdwgc_SOURCES = bench/alloc_churn.c bench/bench_alloc.h
bench_alloc_churn_bdwgc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_BDWGC $(BDWGC_CFLAGS)
bench_alloc_churn_bdwgc_CFLAGS = $(BENCH_CFLAGS)
bench_alloc_churn_bdwgc_LDADD = $(BDWGC_LIBS) $(PTHREAD_LIBS)
bench_alloc_churn_jemalloc_SOURCES = bench/alloc_churn.c bench/bench_alloc.h
bench_alloc_churn_jemalloc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_JEMALLOC $(JEMALLOC_CFLAGS)
bench_alloc_churn_jemalloc_CFLAGS = $(BENCH_CFLAGS)
bench_alloc_churn_jemalloc_LDADD = $(JEMALLOC_LIBS) $(PTHREAD_LIBS)
bench_alloc_churn_mimalloc_SOURCES = bench/alloc_churn.c bench/bench_alloc.h
bench_alloc_churn_mimalloc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_MIMALLOC $(MIMALLOC_CFLAGS)
bench_alloc_churn_mimalloc_CFLAGS = $(BENCH_CFLAGS)
bench_alloc_churn_mimalloc_LDADD = $(MIMALLOC_LIBS) $(PTHREAD_LIBS)
# zeroing variants of the malloc peers (BENCH_ZERO: calloc, MALLOCX_ZERO,
# mi_zalloc), to compare with libgc at equal zeroing cost
bench_alloc_churn_glibc_calloc_SOURCES = bench/alloc_churn.c bench/bench_alloc.h
bench_alloc_churn_glibc_calloc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_GLIBC -DBENCH_ZERO=1
bench_alloc_churn_glibc_calloc_CFLAGS = $(BENCH_CFLAGS)
bench_alloc_churn_glibc_calloc_LDADD = $(PTHREAD_LIBS)
bench_alloc_churn_jemalloc_zero_SOURCES = bench/alloc_churn.c bench/bench_alloc.h
bench_alloc_churn_jemalloc_zero_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_JEMALLOC -DBENCH_ZERO=1 $(JEMALLOC_CFLAGS)
bench_alloc_churn_jemalloc_zero_CFLAGS = $(BENCH_CFLAGS)
bench_alloc_churn_jemalloc_zero_LDADD = $(JEMALLOC_LIBS) $(PTHREAD_LIBS)
bench_alloc_churn_mimalloc_zero_SOURCES = bench/alloc_churn.c bench/bench_alloc.h
bench_alloc_churn_mimalloc_zero_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_MIMALLOC -DBENCH_ZERO=1 $(MIMALLOC_CFLAGS)
bench_alloc_churn_mimalloc_zero_CFLAGS = $(BENCH_CFLAGS)
bench_alloc_churn_mimalloc_zero_LDADD = $(MIMALLOC_LIBS) $(PTHREAD_LIBS)

# --- binary_trees ---
bench_binary_trees_libgc_SOURCES = bench/binary_trees.c bench/bench_alloc.h
bench_binary_trees_libgc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_LIBGC
bench_binary_trees_libgc_CFLAGS = $(BENCH_CFLAGS)
bench_binary_trees_libgc_LDADD = libgctune.la $(PTHREAD_LIBS)
bench_binary_trees_glibc_SOURCES = bench/binary_trees.c bench/bench_alloc.h
bench_binary_trees_glibc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_GLIBC
bench_binary_trees_glibc_CFLAGS = $(BENCH_CFLAGS)
bench_binary_trees_glibc_LDADD = $(PTHREAD_LIBS)
bench_binary_trees_bdwgc_SOURCES = bench/binary_trees.c bench/bench_alloc.h
bench_binary_trees_bdwgc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_BDWGC $(BDWGC_CFLAGS)
bench_binary_trees_bdwgc_CFLAGS = $(BENCH_CFLAGS)
bench_binary_trees_bdwgc_LDADD = $(BDWGC_LIBS) $(PTHREAD_LIBS)
bench_binary_trees_jemalloc_SOURCES = bench/binary_trees.c bench/bench_alloc.h
bench_binary_trees_jemalloc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_JEMALLOC $(JEMALLOC_CFLAGS)
bench_binary_trees_jemalloc_CFLAGS = $(BENCH_CFLAGS)
bench_binary_trees_jemalloc_LDADD = $(JEMALLOC_LIBS) $(PTHREAD_LIBS)
bench_binary_trees_mimalloc_SOURCES = bench/binary_trees.c bench/bench_alloc.h
bench_binary_trees_mimalloc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_MIMALLOC $(MIMALLOC_CFLAGS)
bench_binary_trees_mimalloc_CFLAGS = $(BENCH_CFLAGS)
bench_binary_trees_mimalloc_LDADD = $(MIMALLOC_LIBS) $(PTHREAD_LIBS)

# --- churn ---
bench_churn_libgc_SOURCES = bench/churn.c bench/bench_alloc.h
bench_churn_libgc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_LIBGC
bench_churn_libgc_CFLAGS = $(BENCH_CFLAGS)
bench_churn_libgc_LDADD = libgctune.la $(PTHREAD_LIBS)
bench_churn_glibc_SOURCES = bench/churn.c bench/bench_alloc.h
bench_churn_glibc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_GLIBC
bench_churn_glibc_CFLAGS = $(BENCH_CFLAGS)
bench_churn_glibc_LDADD = $(PTHREAD_LIBS)
bench_churn_bdwgc_SOURCES = bench/churn.c bench/bench_alloc.h
bench_churn_bdwgc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_BDWGC $(BDWGC_CFLAGS)
bench_churn_bdwgc_CFLAGS = $(BENCH_CFLAGS)
bench_churn_bdwgc_LDADD = $(BDWGC_LIBS) $(PTHREAD_LIBS)
bench_churn_jemalloc_SOURCES = bench/churn.c bench/bench_alloc.h
bench_churn_jemalloc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_JEMALLOC $(JEMALLOC_CFLAGS)
bench_churn_jemalloc_CFLAGS = $(BENCH_CFLAGS)
bench_churn_jemalloc_LDADD = $(JEMALLOC_LIBS) $(PTHREAD_LIBS)
bench_churn_mimalloc_SOURCES = bench/churn.c bench/bench_alloc.h
bench_churn_mimalloc_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_ALLOC_MIMALLOC $(MIMALLOC_CFLAGS)
bench_churn_mimalloc_CFLAGS = $(BENCH_CFLAGS)
bench_churn_mimalloc_LDADD = $(MIMALLOC_LIBS) $(PTHREAD_LIBS)

# EXTRA_PROGRAMS are not removed by `make clean` on their own.
CLEANFILES += $(BENCH_ALL_PROGS)
# Go ports (built by run.sh with `go build`, not by make).
CLEANFILES += bench/go/binary_trees bench/go/churn

EXTRA_DIST += \
	bench/README.md \
	bench/run.sh \
	bench/.gitignore \
	bench/go/go.mod \
	bench/go/binary_trees.go \
	bench/go/churn.go

.PHONY: bench bench-build
bench-build: $(BENCH_PROGS)

# make bench BENCH_ARGS="--quick --suite gc"
# (-k and the leading '-': the peers still run when the libgc variants fail to build)
bench:
	-$(MAKE) $(AM_MAKEFLAGS) -k bench-build
	GO='$(GO)' $(SHELL) $(top_srcdir)/bench/run.sh --no-make \
	    --builddir $(abs_top_builddir) $(BENCH_ARGS)

# The profiler's own costs (bench/profiler.sh runs it with the overhead
# comparisons): make bench/prof_cost
EXTRA_PROGRAMS += bench/prof_cost
bench_prof_cost_SOURCES = bench/prof_cost.c
bench_prof_cost_LDADD = libgctune.la $(PTHREAD_LIBS)
CLEANFILES += bench/prof_cost$(EXEEXT)
EXTRA_DIST += bench/profiler.sh
bench-profiler: bench-build bench/prof_cost$(EXEEXT)
	$(srcdir)/bench/profiler.sh --builddir $(top_builddir) $(BENCH_ARGS)
.PHONY: bench-profiler

# The malloc backend (libgctune-preload.so) against plain runs and heaptrack
# (bench/preload.sh): make bench-preload BENCH_ARGS="--quick --reps 3"
EXTRA_DIST += bench/preload.sh
bench-preload: libgctune-preload.la bench/churn_glibc$(EXEEXT) bench/binary_trees_glibc$(EXEEXT) \
		bench/alloc_churn_glibc$(EXEEXT)
	$(srcdir)/bench/preload.sh --no-make --builddir $(top_builddir) $(BENCH_ARGS)
.PHONY: bench-preload
