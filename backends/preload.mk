# backends/preload.mk - libgctune-preload.so, the LD_PRELOAD interposer:
# the profiler (libgctune_prof.la, with the libgc runtime its libgc backend
# needs), the malloc backend (backends/malloc.c), the Boehm GC backend
# (backends/bdwgc.c: chosen when the program has Boehm's libgc; found at run
# time, not linked), the exec wrappers (backends/exec.c) and the tuner
# (libgctune_tuner.la), started from GCTUNE_PROFILE and GCTUNE_TUNER by
# their constructors.  Exports only the malloc and exec families, mmap
# (backends/populate.c) and the Boehm functions bdwgc.c interposes.  Included from
# Makefile.am after profiler/core.mk and tuner/local.mk.

lib_LTLIBRARIES += libgctune-preload.la
libgctune_preload_la_SOURCES = backends/malloc.c backends/bdwgc.c backends/exec.c \
	backends/populate.c backends/sample.h backends/preload.h
libgctune_preload_la_CPPFLAGS = $(PROFILER_CPPFLAGS)
# SQLite linked in statically (and not exported): the program may use
# SQLite itself, and must not share the profiler's instance (its
# sqlite3_config calls would fail once the profiler initialized SQLite).
# The copy of libsqlite3.a (position independent on Debian) comes first so
# that it resolves the profiler's references before -lsqlite3 does.
libgctune_preload_la_LIBADD = backends/sqlite3-static.a \
	libgctune_tuner.la libgctune_prof.la libgctune_core.la \
	$(PTHREAD_LIBS) $(DL_LIBS) -lm
EXTRA_libgctune_preload_la_DEPENDENCIES = backends/sqlite3-static.a
CLEANFILES += backends/sqlite3-static.a
backends/sqlite3-static.a:
	@$(MKDIR_P) backends
	@for d in `$(PKG_CONFIG) --variable=libdir sqlite3` /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do \
	    if test -f "$$d/libsqlite3.a"; then cp "$$d/libsqlite3.a" $@ && exit 0; fi; \
	done; \
	echo "error: libsqlite3.a not found (Debian package libsqlite3-dev)" >&2; exit 1
libgctune_preload_la_LDFLAGS = -module -avoid-version -shared \
	-export-symbols-regex '^(execve|execv|execvp|execvpe|execl|execlp|execle|fexecve|mmap|mmap64|malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|reallocarray|malloc_usable_size|free_sized|free_aligned_sized|GC_malloc|GC_malloc_atomic|GC_malloc_uncollectable|GC_malloc_atomic_uncollectable|GC_malloc_ignore_off_page|GC_malloc_atomic_ignore_off_page|GC_realloc|GC_free|GC_gcollect|GC_gcollect_and_unmap|GC_set_on_collection_event|GC_get_on_collection_event)$$' \
	$(PTHREAD_CFLAGS)

# End to end: a test program and real programs under LD_PRELOAD.
check_PROGRAMS += tests/backends/malloc_prog
tests_backends_malloc_prog_SOURCES = tests/backends/malloc_prog.c
tests_backends_malloc_prog_LDADD = $(PTHREAD_LIBS)
check_PROGRAMS += tests/backends/glibc_prog
tests_backends_glibc_prog_SOURCES = tests/backends/glibc_prog.c
tests_backends_glibc_prog_LDADD = $(PTHREAD_LIBS) $(DL_LIBS)

# helper mode: helper_prog and the library it dlopens (a plain rule, as
# profiler/local.mk's libsymtest.so: the test needs its exact path)
check_PROGRAMS += tests/backends/helper_prog
tests_backends_helper_prog_SOURCES = tests/backends/helper_prog.c
tests_backends_helper_prog_LDADD = $(DL_LIBS)
HELPERTEST_LIB = tests/backends/libhelpertest.so
$(HELPERTEST_LIB): $(srcdir)/tests/backends/helper_lib.c
	@$(MKDIR_P) tests/backends
	$(AM_V_CC)$(CC) -shared -fPIC -g -O0 -o $@ $(srcdir)/tests/backends/helper_lib.c
check_DATA += $(HELPERTEST_LIB)
CLEANFILES += $(HELPERTEST_LIB)
EXTRA_DIST += tests/backends/helper_lib.c

PRELOAD_SHELL_TESTS = tests/backends/test_preload.sh tests/backends/test_preload_real.sh \
	tests/backends/test_helper.sh
TESTS += $(PRELOAD_SHELL_TESTS)
EXTRA_DIST += $(PRELOAD_SHELL_TESTS) tests/backends/preload_env.sh

# The bdwgc backend end to end (tests/backends/test_bdwgc.sh skips without
# the program, i.e. when configure did not find bdw-gc).
if HAVE_BDWGC
check_PROGRAMS += tests/backends/bdwgc_prog
tests_backends_bdwgc_prog_SOURCES = tests/backends/bdwgc_prog.c
tests_backends_bdwgc_prog_CPPFLAGS = $(BDWGC_CFLAGS)
tests_backends_bdwgc_prog_LDADD = $(BDWGC_LIBS)
endif
EXTRA_DIST += tests/backends/bdwgc_prog.c
TESTS += tests/backends/test_bdwgc.sh
EXTRA_DIST += tests/backends/test_bdwgc.sh
