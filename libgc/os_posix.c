/* os_posix.c - the only file that talks to the kernel about memory and time.
 *
 * Owns: mmap/munmap/madvise calls, clocks, CPU count, resident set size.
 * Arena reservations are aligned by over-mapping and trimming.  Metadata
 * mappings use MAP_NORESERVE: large tables (the arena index, allspans) are
 * reserved whole and only touched pages become resident.
 * Test builds (GC_TESTING) can make arena mappings fail after a countdown,
 * SQLite-style, to exercise the out-of-memory paths.
 */
#define _GNU_SOURCE
#include "gc_internal.h"
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <signal.h>

#ifdef GC_TESTING
static long fail_countdown = -1;
void gci_test_fail_map_after(long n) { __atomic_store_n(&fail_countdown, n, __ATOMIC_RELAXED); }
#endif

void *gci_os_reserve(size_t size, size_t align)
{
#ifdef GC_TESTING
    long n = __atomic_load_n(&fail_countdown, __ATOMIC_RELAXED);
    if (n >= 0) {
        __atomic_store_n(&fail_countdown, n - 1, __ATOMIC_RELAXED);
        if (n == 0)
            return NULL;
    }
#endif
    if (size + align < size)
        return NULL;
    size_t len = size + align;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    if (a >= ((uintptr_t)1 << GC_ADDR_BITS)) {
        munmap(p, len);
        return NULL;
    }
    size_t head = a - (uintptr_t)p, tail = len - head - size;
    if (head)
        munmap(p, head);
    if (tail)
        munmap((char *)a + size, tail);
    return (void *)a;
}

void *gci_os_map_meta(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void gci_os_unmap(void *p, size_t size) { munmap(p, size); }

/* Starts a detached runtime thread (sweeper, mark helper, GC controller).
 * It blocks every signal: the program's signals go to its own threads, and
 * the world-stopping signals never reach a thread that is not registered.
 * Returns 0 or an errno value. */
int gci_start_internal_thread(void *(*fn)(void *), void *arg)
{
    pthread_t th;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&th, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        pthread_detach(th);
    return rc;
}

void gci_os_release(void *p, size_t size) { madvise(p, size, MADV_DONTNEED); }

uint64_t gci_nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t gci_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t gci_thread_cputime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int gci_ncpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Resident set size from /proc/self/statm (no stdio: callable anywhere). */
uint64_t gci_rss_bytes(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = buf;
    while (*p && *p != ' ')
        p++;
    unsigned long long pages = strtoull(p, NULL, 10);
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}
