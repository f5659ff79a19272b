/* backends/populate.c - mmap and mmap64 in libgctune-preload.so: the
 * anonymous writable mappings a thread makes while it captures a stack
 * (gctp_in_capture, profiler/unwind.c) are made with MAP_POPULATE.
 *
 * Why: libunwind's unw_backtrace, at its first call in each thread, maps a
 * 256 KiB trace cache (2^14 frames of 16 bytes) and writes every entry:
 * 64 page faults in the profiled program, each a trap into the kernel (on
 * the 2-vCPU VM of bench/preload.sh ~14 us, ~0.9 ms in all, the largest
 * part of a recording's first sample).  MAP_POPULATE makes the same pages
 * present in the mmap call itself.
 *
 * Everything else is passed on unchanged: a mapping made outside a
 * capture, by another thread, read-only, shared or file-backed is exactly
 * what the program asked for.  The call is the mmap system call itself,
 * as glibc's mmap makes it (which adds nothing on x86-64 and arm64, where
 * the system call takes the offset in bytes), so errno and MAP_FAILED
 * are the kernel's; elsewhere nothing is interposed.  The test costs one
 * thread-local load.
 * Invariant: gctp_in_capture is nonzero only inside gctp_capture's call
 * of the unwinder, so nothing the program maps is ever populated.
 */
#define _GNU_SOURCE
#include "unwind.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__aarch64__)

#define EXPORT __attribute__((visibility("default")))

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (__builtin_expect(gctp_in_capture, 0) && (flags & MAP_ANONYMOUS) && (flags & MAP_PRIVATE)
        && (prot & PROT_WRITE))
        flags |= MAP_POPULATE;
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

/* the same function (off_t is 64 bits here), as in glibc */
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) __attribute__((alias("mmap")));

#else
typedef int gctp_populate_none;   /* not a translation unit without a declaration */
#endif /* x86-64, arm64 */
