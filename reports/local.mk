# reports/local.mk - the gctune command, included from Makefile.am.
include $(srcdir)/reports/pprof.mk
