/* bench_alloc.h - the allocator shim shared by the benchmark workloads.
 *
 * Each workload is one source file compiled once per allocator; exactly one
 * of these selects the allocator:
 *
 *   -DBENCH_ALLOC_LIBGC     gctune libgc      (gc_malloc / gc_malloc_atomic / gc_free)
 *   -DBENCH_ALLOC_BDWGC     Boehm GC          (GC_MALLOC / GC_MALLOC_ATOMIC / GC_FREE)
 *   -DBENCH_ALLOC_GLIBC     glibc malloc      (malloc / free)
 *   -DBENCH_ALLOC_JEMALLOC  jemalloc          (mallocx / dallocx: unambiguous even
 *                                              if malloc is not interposed)
 *   -DBENCH_ALLOC_MIMALLOC  mimalloc          (mi_malloc / mi_free)
 *
 * With one of the three malloc peers, -DBENCH_ZERO=1 selects its zeroing
 * allocation call instead, so that the peer pays the same zeroing cost as the
 * collectors (whose allocations are always zeroed):
 *
 *   -DBENCH_ALLOC_GLIBC    -DBENCH_ZERO=1   "glibc-calloc"   calloc(1, n) / free
 *   -DBENCH_ALLOC_JEMALLOC -DBENCH_ZERO=1   "jemalloc-zero"  mallocx(n, MALLOCX_ZERO) / dallocx
 *   -DBENCH_ALLOC_MIMALLOC -DBENCH_ZERO=1   "mimalloc-zero"  mi_zalloc / mi_free
 *
 * BENCH_ZERO with a collector is an error (they zero anyway).  The Makefile
 * builds the zeroing variants for alloc_churn only.
 *
 * The shim:
 *   BENCH_NAME            allocator name printed in summary lines
 *   BENCH_IS_GC           1 when unreachable objects are reclaimed by a collector
 *   BENCH_ZEROED          1 when ALLOC/ALLOC_SCANNED return zeroed memory
 *   BENCH_INIT()          once, at the top of main()
 *   ALLOC(n)              object with no pointers inside (noscan)
 *   ALLOC_SCANNED(n)      object that may hold pointers (scanned by a collector)
 *   ALLOC_ROOTS(n)        zeroed, scanned array of pointers that keeps objects
 *                         alive (memory from the system malloc is not scanned by
 *                         a collector, so slot arrays must come from here)
 *   FREE(p)               explicit free (eager free for the collectors); p != NULL
 *   STORE_PTR(lv, v)      pointer store into an object from ALLOC_SCANNED/ALLOC_ROOTS:
 *                         GC_STORE (write barrier) for libgc, whose concurrent
 *                         marking (GCTUNE_CONCURRENT=1) requires it; a plain
 *                         assignment for every other allocator
 *   bench_gc_count()      collections so far (0 for malloc variants)
 *
 * Objects from ALLOC/ALLOC_SCANNED are zeroed by the collectors and by the
 * BENCH_ZERO variants, not by the plain malloc variants; the benchmarks report
 * both comparisons (see bench/README.md).
 */
#ifndef GCTUNE_BENCH_ALLOC_H
#define GCTUNE_BENCH_ALLOC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

#ifndef BENCH_ZERO
#define BENCH_ZERO 0
#endif

#if defined(BENCH_ALLOC_LIBGC)
#include <gctune/gc.h>
#if BENCH_ZERO
#error "BENCH_ZERO is for the malloc peers; libgc always zeroes"
#endif
#define BENCH_NAME "libgc"
#define BENCH_IS_GC 1
#define BENCH_ZEROED 1
#define BENCH_INIT() ((void)0)
#define ALLOC(n) gc_malloc_atomic(n)
#define ALLOC_SCANNED(n) gc_malloc(n)
#define ALLOC_ROOTS(n) gc_malloc(n)
#define FREE(p) gc_free(p)
#define STORE_PTR(lv, v) GC_STORE(lv, v)
static inline uint64_t bench_gc_count(void)
{
    static gc_stats st; /* large (pause rings); keep it off the stack */
    gc_read_stats(&st);
    return st.num_gc;
}

#elif defined(BENCH_ALLOC_BDWGC)
/* To Boehm's gc.h any definition of GC_DEBUG means "debug allocator" (GC_MALLOC becomes
 * GC_debug_malloc with object headers, ~10x slower).  Not what we measure. */
#undef GC_DEBUG
#define GC_THREADS 1 /* redirect pthread_create so worker threads are registered */
#include <gc.h>
#if BENCH_ZERO
#error "BENCH_ZERO is for the malloc peers; bdwgc always zeroes"
#endif
#define BENCH_NAME "bdwgc"
#define BENCH_IS_GC 1
#define BENCH_ZEROED 1
#define BENCH_INIT() GC_INIT()
#define ALLOC(n) GC_MALLOC_ATOMIC(n)
#define ALLOC_SCANNED(n) GC_MALLOC(n)
#define ALLOC_ROOTS(n) GC_MALLOC(n)
#define FREE(p) GC_FREE(p)
static inline uint64_t bench_gc_count(void) { return (uint64_t)GC_get_gc_no(); }

#elif defined(BENCH_ALLOC_GLIBC)
#define BENCH_IS_GC 0
#define BENCH_INIT() ((void)0)
#if BENCH_ZERO
#define BENCH_NAME "glibc-calloc"
#define BENCH_ZEROED 1
#define ALLOC(n) calloc(1, (n))
#define ALLOC_SCANNED(n) calloc(1, (n))
#else
#define BENCH_NAME "glibc"
#define BENCH_ZEROED 0
#define ALLOC(n) malloc(n)
#define ALLOC_SCANNED(n) malloc(n)
#endif
#define ALLOC_ROOTS(n) calloc(1, (n))
#define FREE(p) free(p)
static inline uint64_t bench_gc_count(void) { return 0; }

#elif defined(BENCH_ALLOC_JEMALLOC)
#include <jemalloc/jemalloc.h>
#define BENCH_IS_GC 0
#define BENCH_INIT() ((void)0)
#if BENCH_ZERO
#define BENCH_NAME "jemalloc-zero"
#define BENCH_ZEROED 1
#define ALLOC(n) mallocx((n), MALLOCX_ZERO)
#define ALLOC_SCANNED(n) mallocx((n), MALLOCX_ZERO)
#else
#define BENCH_NAME "jemalloc"
#define BENCH_ZEROED 0
#define ALLOC(n) mallocx((n), 0)
#define ALLOC_SCANNED(n) mallocx((n), 0)
#endif
#define ALLOC_ROOTS(n) mallocx((n), MALLOCX_ZERO)
#define FREE(p) dallocx((p), 0)
static inline uint64_t bench_gc_count(void) { return 0; }

#elif defined(BENCH_ALLOC_MIMALLOC)
#include <mimalloc.h>
#define BENCH_IS_GC 0
#define BENCH_INIT() ((void)0)
#if BENCH_ZERO
#define BENCH_NAME "mimalloc-zero"
#define BENCH_ZEROED 1
#define ALLOC(n) mi_zalloc(n)
#define ALLOC_SCANNED(n) mi_zalloc(n)
#else
#define BENCH_NAME "mimalloc"
#define BENCH_ZEROED 0
#define ALLOC(n) mi_malloc(n)
#define ALLOC_SCANNED(n) mi_malloc(n)
#endif
#define ALLOC_ROOTS(n) mi_zalloc(n)
#define FREE(p) mi_free(p)
static inline uint64_t bench_gc_count(void) { return 0; }

#else
#error "define one of BENCH_ALLOC_LIBGC, _BDWGC, _GLIBC, _JEMALLOC, _MIMALLOC"
#endif

#ifndef STORE_PTR
#define STORE_PTR(lv, v) ((lv) = (v))
#endif

/* Fixed-seed xorshift64: the same sequence for every allocator (and for the
 * Go ports, which use the same generator). */
static inline uint64_t bench_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* User + system CPU seconds of the whole process (all threads). */
static inline double bench_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Peak resident set, KiB (Linux ru_maxrss unit). */
static inline long bench_maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Strict positive integer argument; exits with status 2 on a bad value. */
static inline unsigned long long bench_arg(const char *prog, const char *what, const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || v == 0) {
        fprintf(stderr, "%s: %s: '%s' is not a positive integer\n", prog, what, s);
        exit(2);
    }
    return v;
}

#endif
