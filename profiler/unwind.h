/* profiler/unwind.h - stack capture for sampled allocations. */
#ifndef GCTUNE_PROFILER_UNWIND_H
#define GCTUNE_PROFILER_UNWIND_H

#include <stdint.h>

/* Captures the calling thread's stack into ips (at most max entries, leaf
 * first) starting at the frame whose return address is ret (the return
 * address into the program from the public allocation function), so the
 * allocator's and the profiler's own frames are left out.  When ret is 0
 * or is not found on the stack, skips the frames of this library's
 * profiler (skip_hint frames) instead.  Returns the number of ips. */
int gctp_capture(uintptr_t *ips, int max, uintptr_t ret, int skip_hint);

/* Nonzero while this thread is inside gctp_capture's unwinder.  The
 * preload library's mmap (backends/populate.c) reads it: libunwind's first
 * capture in a thread maps a 256 KiB trace cache and writes all of it, 64
 * page faults that MAP_POPULATE turns into one call.  Initial-exec TLS. */
extern __thread int gctp_in_capture __attribute__((tls_model("initial-exec")));

/* FNV-1a-style 64-bit hash of n ips (never 0). */
uint64_t gctp_hash_ips(const uintptr_t *ips, int n);

#endif
