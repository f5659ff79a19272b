/* backends/malloc.c - the malloc backend: glibc's malloc seen through
 * <gctune/backend.h>, built into libgctune-preload.so (LD_PRELOAD).
 *
 * Owns: the interposed allocation functions (malloc, calloc, realloc,
 * free, posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
 * reallocarray, malloc_usable_size, and C23's free_sized and
 * free_aligned_sized), each thread's sampling countdown, the header of
 * sampled blocks, and the heap statistics (read_stats: mallinfo2,
 * rate-limited, see mb_read_stats).
 *
 * Forwarding: to glibc's __libc_* entry points (no dlsym on the allocation
 * path; malloc_usable_size is found with dlsym(RTLD_NEXT) once), called
 * through the GOT (noplt), never a PLT stub.
 *
 * Fast paths (bench/preload.sh measures them): every allocation decides
 * before allocating (pass(): the countdown alone, in thread-local
 * storage of the initial-exec model; a start or stop is seen at the next
 * slow path, see backends/sample.h) and, when no sample is due,
 * tail-calls glibc with no stack frame of its own; free and realloc test
 * the top bit of the block's header word (maybe_sampled) and tail-call
 * glibc when it is clear.  Everything else is in noinline functions.
 *
 * Sampling: as libgc (libgc/profile.c), drawn with backends/sample.h:
 * each thread's countdown is drawn from an exponential with mean `rate`
 * (1 = every allocation, 0 = off); the allocation that brings it to <= 0
 * is sampled with ret = __builtin_return_address(0) of the interposed
 * function.  A sampled allocation that glibc fails passes the sample on
 * to the thread's next allocation.  Never sampled: allocations made while
 * this thread is already inside the sampling path (in_backend: the
 * unwinder and the sink allocate), and allocations of the profiler's own
 * threads (gctp_is_profiler_thread: the writer's SQLite, the symbolizer).
 *
 * Sampled blocks carry a header (struct hdr, 32 bytes, just below the
 * address the program gets): glibc's block starts `off` bytes lower (32,
 * or the alignment asked for when it is larger), and the header holds the
 * sample's token and generation.  Its last word, at p - 8, is where glibc
 * keeps the chunk size of every other block it returns; a sample's has
 * TAG ^ p there, with the top bit set, which no chunk size has.  So free()
 * finds out whether a block is a sample by reading the word glibc's free
 * reads first anyway (no cache miss of its own, no table, no lock: it had
 * a striped hash set with an 8 KiB filter that every free tested, 740,000
 * more L1 misses in a churn run under cachegrind), and a sample's free
 * and realloc need nothing but the header.
 * Invariants:
 *   - a block has a header iff it came from alloc_sampled or from a
 *     realloc of such a block, and only this file's functions free,
 *     resize or measure it (glibc's own calls of malloc, free and realloc
 *     reach them too: interposition covers glibc's internal calls, as it
 *     must for any malloc a program preloads);
 *   - the tag of a freed sample is cleared before glibc gets the block
 *     back, so a second free of it is glibc's "invalid size", not a second
 *     free of glibc's block;
 *   - a block's header outlives its recording: after a stop or in a fork
 *     child the block is still freed through it, and only its report is
 *     dropped (the generation is not the current one).
 *
 * Fork: the child records nothing of the parent's recording (a new
 * generation); the attach lock is held across fork.
 */
#define _GNU_SOURCE
#include "gctune/backend.h"
#include "gc_internal.h"   /* gci_rss_bytes */
#include "internal.h"
#include "preload.h"
#include "sample.h"
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* noplt: called through the GOT, without a PLT stub (GCC, x86). */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define NOPLT __attribute__((noplt))
#else
#define NOPLT
#endif
extern void *__libc_malloc(size_t) NOPLT;
extern void *__libc_calloc(size_t, size_t) NOPLT;
extern void *__libc_realloc(void *, size_t) NOPLT;
extern void __libc_free(void *) NOPLT;
extern void *__libc_memalign(size_t, size_t) NOPLT;
extern void *__libc_valloc(size_t) NOPLT;
extern void *__libc_pvalloc(size_t) NOPLT;

#define TLS __thread __attribute__((tls_model("initial-exec")))
#define EXPORT __attribute__((visibility("default")))

/* ---- state ---- */

static gct_sink cur;             /* copied before sampling is on */
static struct gct_sampler smp;   /* backends/sample.h */
static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;

static TLS int in_backend;
static TLS struct gct_sample_tls tls;

/* ---- sampled blocks ---- */

/* The 32 bytes just below a sampled block's address p.  For every other
 * block glibc returns, the last word (p - 8) is its chunk's size field:
 * below 2^63, so never equal to TAG ^ p, whose top bit is set (p < 2^63). */
struct hdr {
    uint64_t token;              /* the profiler's sample id; 0: none (the sink dropped it) */
    uint64_t gen;                /* the recording generation it was sampled in */
    uint64_t off;                /* from glibc's block to p: HDR, or the alignment when larger */
    uint64_t tag;                /* TAG ^ p */
};
#define HDR sizeof(struct hdr)
#define TAG 0xC3A5C85C97CB3127ull
#define MALLOC_ALIGN 16          /* glibc's on x86-64 (2 * sizeof(size_t), at least 16) */
_Static_assert(HDR % MALLOC_ALIGN == 0, "a header keeps malloc's alignment");

static inline struct hdr *hdr_of(void *p)
{
    return (struct hdr *)p - 1;
}

/* 1 when p (from malloc or NULL) is a sampled block: reads the word glibc's
 * free reads first anyway (the chunk's size), so it costs no cache miss. */
static inline int is_sampled(void *p)
{
    return p && hdr_of(p)->tag == (TAG ^ (uint64_t)(uintptr_t)p);
}

/* The fast paths' test: 0 when p (from malloc or NULL) is certainly not a
 * sampled block, 1 when it may be (is_sampled then decides).  The top bit
 * of the word at p - 8: every sample's tag has it (TAG's top bit is set,
 * p's is not), no chunk size does.  One compare with 0 instead of
 * building TAG ^ p: two instructions fewer on every free and realloc. */
static inline int maybe_sampled(void *p)
{
    return p && (int64_t)hdr_of(p)->tag < 0;
}
_Static_assert((TAG >> 63) == 1, "a tag's top bit is set for every user-space p");

static inline void *base_of(void *p)
{
    return (char *)p - hdr_of(p)->off;
}

/* Reports the free of a sampled block, if its recording is the current one. */
static void report_free(uint64_t token, uint64_t g)
{
    gct_sample_report_free(&smp, &in_backend, &cur, token, g);
}

/* Tells the sink about sampled block p of n bytes; returns its token. */
static uint64_t take_sample(void *p, size_t n, uintptr_t ret)
{
    in_backend = 1;
    uint64_t token = cur.sample ? cur.sample(cur.ctx, p, n, smp.rate, ret) : 0;
    in_backend = 0;
    return token;
}

/* Writes the header of block p, glibc's block being at p - off. */
static void set_header(char *p, size_t off, uint64_t token, uint64_t g)
{
    struct hdr *h = hdr_of(p);
    h->token = token;
    h->gen = g;
    h->off = off;
    h->tag = TAG ^ (uint64_t)(uintptr_t)p;
}

/* Takes the sample of block p of n bytes (nobody else has it yet), writes
 * its header and returns p. */
static void *mark_sampled(char *p, size_t off, size_t n, uint64_t g, uintptr_t ret)
{
    set_header(p, off, take_sample(p, n, ret), g);
    return p;
}

/* A sampled allocation of n bytes, aligned to align (a power of two; up to
 * MALLOC_ALIGN: malloc's), zeroed if zero, of generation g.  When glibc
 * fails, the next allocation of the thread is sampled instead. */
static void *alloc_sampled(size_t n, size_t align, int zero, uint64_t g, uintptr_t ret)
{
    size_t off = align > HDR ? align : HDR, total;
    void *base = NULL;
    if (__builtin_add_overflow(n, off, &total))
        errno = ENOMEM;
    else if (align > MALLOC_ALIGN)
        base = __libc_memalign(align, total);
    else if (zero)
        base = __libc_calloc(1, total);
    else
        base = __libc_malloc(total);
    if (!base) {
        tls.countdown = 0;
        return NULL;
    }
    return mark_sampled((char *)base + off, off, n, g, ret);
}

/* ---- sampling ---- */

/* The fast path of every allocation of n bytes, taken before allocating:
 * 1 when no sample is due (gct_sampler_pass). */
static inline int pass(size_t n)
{
    return gct_sampler_pass(&tls, n);
}

/* After pass(n) said no: 1 when this allocation is sampled, of generation *g. */
static inline int decide(size_t n, uint64_t *g)
{
    return gct_sample_decide(&smp, &tls, in_backend, n, g);
}

/* ---- the interposed functions ---- */

static __attribute__((noinline)) void *malloc_slow(size_t n, uintptr_t ret)
{
    uint64_t g;
    if (decide(n, &g))
        return alloc_sampled(n, 0, 0, g, ret);
    return __libc_malloc(n);
}

EXPORT void *malloc(size_t n)
{
    if (__builtin_expect(pass(n), 1))
        return __libc_malloc(n);
    return malloc_slow(n, (uintptr_t)__builtin_return_address(0));
}

static void free_sampled(void *p)
{
    struct hdr *h = hdr_of(p);
    uint64_t token = h->token, g = h->gen;
    void *base = base_of(p);
    /* a second free of p is then glibc's (an invalid size: it aborts) */
    h->tag = 0;
    report_free(token, g);
    __libc_free(base);
}

/* free of a block whose word at p - 8 has its top bit set: a sample's, or
 * an invalid pointer, which glibc reports as it would without us. */
static __attribute__((noinline)) void free_marked(void *p)
{
    if (is_sampled(p))
        free_sampled(p);
    else
        __libc_free(p);
}

EXPORT void free(void *p)
{
    if (__builtin_expect(maybe_sampled(p), 0)) {
        free_marked(p);
        return;
    }
    __libc_free(p);
}

/* C23's sized frees (glibc 2.39 has them): a sampled block must never
 * reach glibc's own. */
EXPORT void free_sized(void *p, size_t n)
{
    (void)n;
    free(p);
}

EXPORT void free_aligned_sized(void *p, size_t align, size_t n)
{
    (void)align;
    (void)n;
    free(p);
}

static __attribute__((noinline)) void *calloc_slow(size_t a, size_t b, size_t n, uintptr_t ret)
{
    uint64_t g;
    if (decide(n, &g))
        return alloc_sampled(n, 0, 1, g, ret);
    return __libc_calloc(a, b);
}

EXPORT void *calloc(size_t a, size_t b)
{
    size_t n;
    /* an overflowing request fails in glibc and counts for nothing */
    if (__builtin_expect(__builtin_mul_overflow(a, b, &n), 0) || __builtin_expect(pass(n), 1))
        return __libc_calloc(a, b);
    return calloc_slow(a, b, n, (uintptr_t)__builtin_return_address(0));
}

static size_t (*real_usable_size)(void *);

/* glibc's malloc_usable_size of glibc's block p (found by the constructor, or by a
 * call made before it). */
static size_t glibc_usable_size(void *p)
{
    size_t (*fn)(void *) = __atomic_load_n(&real_usable_size, __ATOMIC_ACQUIRE);
    if (!fn) {
        fn = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
        if (!fn)
            return 0;
        __atomic_store_n(&real_usable_size, fn, __ATOMIC_RELEASE);
    }
    return fn(p);
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (is_sampled(p))
        return glibc_usable_size(base_of(p)) - hdr_of(p)->off;
    return glibc_usable_size(p);
}

/* realloc when old is a sampled block or the countdown has run out
 * (counted: pass(n) has been taken for this call already).  A sampled old
 * block is resized by glibc with its header (its sample is freed; the
 * result is sampled again only if a sample is due); an unsampled one that
 * becomes a sample moves into a new block with a header. */
static void *do_realloc(void *old, size_t n, uintptr_t ret, int counted)
{
    if (!old)
        return counted ? malloc_slow(n, ret) : malloc(n);
    if (n == 0) {                /* glibc frees the block and returns NULL */
        free(old);
        return NULL;
    }
    uint64_t g = 0;
    int take = (counted || !pass(n)) && decide(n, &g);
    if (!is_sampled(old)) {
        if (!take)
            return __libc_realloc(old, n);
        void *p = alloc_sampled(n, 0, 0, g, ret);
        if (p) {
            size_t have = glibc_usable_size(old);
            memcpy(p, old, have < n ? have : n);
            __libc_free(old);
        }
        return p;
    }
    struct hdr *h = hdr_of(old);
    uint64_t token = h->token, og = h->gen;
    size_t off = h->off, total;
    if (__builtin_add_overflow(n, off, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    char *base = __libc_realloc(base_of(old), total);
    if (!base)                   /* old is still live, and still its sample */
        return NULL;
    report_free(token, og);
    char *p = base + off;
    if (take)
        return mark_sampled(p, off, n, g, ret);
    /* still a block with a header (glibc's block starts off below), of
     * no sample */
    set_header(p, off, 0, 0);
    return p;
}

static __attribute__((noinline)) void *realloc_slow(void *old, size_t n, uintptr_t ret, int counted)
{
    return do_realloc(old, n, ret, counted);
}

EXPORT void *realloc(void *old, size_t n)
{
    if (__builtin_expect(!maybe_sampled(old), 1)) {
        if (__builtin_expect(pass(n), 1))
            return __libc_realloc(old, n);
        return realloc_slow(old, n, (uintptr_t)__builtin_return_address(0), 1);
    }
    return realloc_slow(old, n, (uintptr_t)__builtin_return_address(0), 0);
}

EXPORT void *reallocarray(void *old, size_t a, size_t b)
{
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(old, n, (uintptr_t)__builtin_return_address(0), 0);
}

/* The aligned allocations, after pass(n) said no.  glibc rounds an
 * alignment that is not a power of two up to one; so does a sample. */
static __attribute__((noinline)) void *aligned_slow(size_t align, size_t n, uintptr_t ret)
{
    uint64_t g;
    size_t a = MALLOC_ALIGN;
    while (a < align && a <= SIZE_MAX / 2)
        a <<= 1;
    if (a < align || !decide(n, &g))   /* too large an alignment: glibc's EINVAL */
        return __libc_memalign(align, n);
    return alloc_sampled(n, a, 0, g, ret);
}

static inline void *aligned(size_t align, size_t n, uintptr_t ret)
{
    if (__builtin_expect(pass(n), 1))
        return __libc_memalign(align, n);
    return aligned_slow(align, n, ret);
}

EXPORT void *memalign(size_t align, size_t n)
{
    return aligned(align, n, (uintptr_t)__builtin_return_address(0));
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    return aligned(align, n, (uintptr_t)__builtin_return_address(0));
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    int saved = errno;
    void *p = aligned(align, n, (uintptr_t)__builtin_return_address(0));
    if (!p)
        return ENOMEM;
    errno = saved;
    *out = p;
    return 0;
}

EXPORT void *valloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (__builtin_expect(pass(n), 1))
        return __libc_valloc(n);
    return aligned_slow(page, n, (uintptr_t)__builtin_return_address(0));
}

EXPORT void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), r;
    if (__builtin_add_overflow(n, page - 1, &r)) {
        errno = ENOMEM;
        return NULL;
    }
    r &= ~(page - 1);
    if (__builtin_expect(pass(r), 1))
        return __libc_pvalloc(n);
    return aligned_slow(page, r, (uintptr_t)__builtin_return_address(0));
}

/* ---- the backend ---- */

static int mb_attach(const gct_sink *sink, uint64_t rate, uint64_t seed)
{
    pthread_mutex_lock(&attach_lock);
    if (__atomic_load_n(&smp.enabled, __ATOMIC_RELAXED)) {
        pthread_mutex_unlock(&attach_lock);
        return EBUSY;
    }
    cur = *sink;
    gct_sampler_start(&smp, &tls, rate, seed);
    pthread_mutex_unlock(&attach_lock);
    return 0;
}

static void mb_detach(void)
{
    pthread_mutex_lock(&attach_lock);
    /* A new generation: the frees of blocks sampled until now are not
     * reported (gct_sampler_current). */
    gct_sampler_stop(&smp);
    pthread_mutex_unlock(&attach_lock);
}

/* mallinfo2 walks every free chunk of every arena with the arena's lock
 * held: milliseconds on a fragmented heap, while the program's malloc
 * waits (bench/preload.sh's churn spent 6 % of its CPU there at one call
 * per 100 ms).  So it is called again only once STATS_BUDGET times the
 * CPU time of its last call (this thread's, so that being descheduled
 * does not count) has passed, and at the latest after STATS_MAX_NS: about
 * 0.1 % of the time at most, unless one call takes over 1 ms.  In between,
 * read_stats returns its last figures (sys, from /proc/self/statm, is
 * read every time; read_heap_stats leaves it out). */
#define STATS_BUDGET 1000
#define STATS_MAX_NS 1000000000
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mallinfo2 stats_mi;
static int64_t stats_next_ns;    /* CLOCK_MONOTONIC: when mallinfo2 may run again */

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* read_stats (with_sys) and read_heap_stats */
static int mb_stats(gct_backend_stats *out, int with_sys)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&stats_lock);
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now >= stats_next_ns) {
        int64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        stats_mi = mallinfo2();
        int64_t wait = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) * STATS_BUDGET;
        stats_next_ns = now + (wait < 0 ? 0 : wait > STATS_MAX_NS ? STATS_MAX_NS : wait);
    }
    struct mallinfo2 mi = stats_mi;
    pthread_mutex_unlock(&stats_lock);
    out->heap_alloc = mi.uordblks + mi.hblkhd;
    out->heap_inuse = mi.uordblks + mi.hblkhd;
    out->heap_sys = mi.arena + mi.hblkhd;
    out->heap_idle = mi.fordblks;
    if (with_sys)
        out->sys = gci_rss_bytes();   /* without stdio: fopen's FILE and buffer were two allocations */
    out->gc_percent = -2;
    out->memory_limit = -2;
    return 0;
}

static int mb_read_stats(gct_backend_stats *out)
{
    return mb_stats(out, 1);
}

static int mb_read_heap_stats(gct_backend_stats *out)
{
    return mb_stats(out, 0);
}

static const gct_backend malloc_backend = {
    .name = "malloc",
    .caps = GCT_CAP_SAMPLING | GCT_CAP_FREES | GCT_CAP_STATS,
    .attach = mb_attach,
    .detach = mb_detach,
    .read_stats = mb_read_stats,
    .read_heap_stats = mb_read_heap_stats,
};

const gct_backend *gct_backend_malloc(void)
{
    return &malloc_backend;
}

/* ---- fork, start ---- */

static void fork_prepare(void)
{
    pthread_mutex_lock(&attach_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&attach_lock);
}

/* The child records nothing of the parent's recording: a new generation,
 * so the frees of the parent's sampled blocks are not reported (their
 * headers stay, and free still finds glibc's blocks below them). */
static void fork_child(void)
{
    gct_sampler_stop(&smp);
    pthread_mutex_init(&attach_lock, NULL);
    pthread_mutex_init(&stats_lock, NULL);
    stats_next_ns = 0;
}

/* Before the profiler's constructor (default priority), which starts the
 * recording from GCTUNE_PROFILE with the backend chosen here. */
__attribute__((constructor(101))) static void preload_init(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    gctp_set_env_backend(&malloc_backend);
    /* found here, so that the allocation path never calls dlsym (only a
     * call before this constructor does) */
    real_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
}
