# store/local.mk - the run database helpers (store/store.h), included from
# Makefile.am.  libgctune_store.la is a convenience library linked into
# libgctune (profiler, tuner) and into the gctune command.
