# profiler/local.mk - the sampling heap profiler, included from Makefile.am.
