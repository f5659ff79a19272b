/* backends/malloc.c - the malloc backend: glibc's malloc seen through
 * <gctune/backend.h>, built into libgctune-preload.so (LD_PRELOAD).
 *
 * Owns: the interposed allocation functions (malloc, calloc, realloc,
 * free, posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
 * reallocarray, malloc_usable_size), each thread's sampling countdown,
 * the set of sampled blocks (address -> the profiler's token), and the heap
 * statistics (read_stats: mallinfo2, rate-limited, see mb_read_stats).
 *
 * Forwarding: to glibc's __libc_* entry points (no dlsym on the allocation
 * path; malloc_usable_size is found with dlsym(RTLD_NEXT) once), called
 * through the GOT (noplt), never a PLT stub.
 *
 * Fast paths (bench/preload.sh measures them): malloc and calloc decide
 * before allocating (pass(): the countdown and its generation, in
 * thread-local storage of the initial-exec model, against `gen`; not
 * recording, the countdown is INT64_MAX) and,
 * when no sample is due, tail-call glibc with no stack frame of their own;
 * free tail-calls glibc unless the block may be sampled (`live` and the
 * filter, below); realloc goes straight to glibc while nothing is recorded
 * and nothing is in the set.  Everything else is in noinline functions.
 *
 * Sampling: as libgc (libgc/profile.c), drawn with backends/sample.h:
 * each thread's countdown is drawn from an exponential with mean `rate`
 * (1 = every allocation, 0 = off);
 * the allocation that brings it to <= 0 is sampled with ret =
 * __builtin_return_address(0) of the interposed function.  A failed
 * allocation does not count (its bytes are given back to the countdown).
 * Never sampled: allocations made while this thread is already inside the
 * sampling path (in_backend: the unwinder and the sink allocate), and
 * allocations of the profiler's own threads (gctp_is_profiler_thread:
 * the writer's SQLite, the symbolizer).
 *
 * Sampled set: NSTRIPE stripes, each an open-addressing table (linear
 * probing, backward-shift deletion) under its own mutex, first in the
 * stripe itself, in mmap'd memory once it grows; plus `filter_bits`, a
 * Bloom-style filter of one bit per value of a second, cheaper hash of the
 * address (one multiply, filter_of): the bit of every address in the set
 * is 1; 8 KiB that stay in the L1 cache for free() to test.  An address's
 * stripe is chosen by its filter index, and `filter_count` (a byte per
 * index, under that stripe's lock) clears the bit when the last entry
 * with its index goes: a bit left set after its block was freed would
 * send every later free of whatever reuses that address (binary-trees
 * frees the same few addresses millions of times) to the locked path.
 * free() of a block whose bit is 0 (nearly all of them) takes no lock; while the set is empty (`live` == 0: not
 * recording, rate 0) free does not even read the bits.
 * Memory: every page a program touches for the first time costs it a page
 * fault (~14 us on the 2-vCPU VM of bench/preload.sh: more than a
 * thousand interposed calls), so the set touches few: 8 stripes of 32
 * entries in two pages of .bss, the 8 KiB of bits, at most the 16 pages of
 * byte counters, and tables that grow with the number of live sampled
 * blocks, not with the program's heap (it had 64 stripes of a page each
 * and 256 KiB of 32-bit counters: 129 page faults in a 0.4 s churn run).
 * Invariant: an address is in the table exactly while its sampled block is
 * live; it is inserted before the allocation returns and removed before
 * the block goes back to glibc, so a reused address never meets a stale
 * entry.  A recording's entries belong to it (gen): after detach the table
 * is emptied lazily (entries of an old generation are dropped silently).
 *
 * Fork: the child records nothing (the profiler is off there): the atfork
 * handlers hold every stripe lock across fork, and the child empties the
 * table and detaches.
 */
#define _GNU_SOURCE
#include "gctune/backend.h"
#include "internal.h"
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
#include <sys/mman.h>
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

/* ---- the sampled set ---- */

#define NSTRIPE 8
#define FILTER_BITS 16         /* 8 KiB of bits, 64 KiB of counters */
#define FIRST_CAP 32           /* entries in a stripe's own first table */
struct entry {
    uintptr_t addr;              /* 0 = empty */
    uint64_t token;
    uint64_t gen;
};
struct stripe {
    pthread_mutex_t lock;
    struct entry *tab;           /* first, or mmap'd once grown; cap entries */
    size_t cap, n;
    struct entry first[FIRST_CAP];
} __attribute__((aligned(64)));
static struct stripe stripes[NSTRIPE];
/* filter_count[i]: entries whose address has filter index i, under the
 * lock of stripe i % NSTRIPE (a byte of its own: neighbours belong to other
 * stripes); 255 sticks (the bit then stays set: a false hit now and then,
 * never a miss).  filter_bits: bit i set iff filter_count[i] != 0. */
static uint8_t filter_count[1u << FILTER_BITS];
static uint64_t filter_bits[(1u << FILTER_BITS) / 64];   /* atomic */
static uint64_t live;            /* atomic: entries in the set (0: free skips the filter too) */

static inline uint64_t hash_addr(uintptr_t p)
{
    uint64_t x = (uint64_t)p >> 4;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}
#define SLOT_OF(h, mask) (((h) >> 6) & (mask))
/* The filter's index: Fibonacci hashing of the address (one multiply, the
 * top bits), cheap enough for every free while something is recorded. */
static inline size_t filter_of(uintptr_t p)
{
    return (size_t)((((uint64_t)p >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - FILTER_BITS));
}

static void *map_table(size_t cap)
{
    void *p = mmap(NULL, cap * sizeof(struct entry), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void stripe_reset(struct stripe *s)
{
    if (s->tab && s->tab != s->first)
        munmap(s->tab, s->cap * sizeof(struct entry));
    s->tab = NULL;
    s->cap = s->n = 0;
}

/* s->lock held.  Returns 0 or -1 (no memory: the sample is not kept). */
static int stripe_insert(struct stripe *s, uintptr_t p, uint64_t h, uint64_t token, uint64_t g)
{
    if (!s->tab) {
        memset(s->first, 0, sizeof s->first);   /* stale after a fork child's reset */
        s->tab = s->first;
        s->cap = FIRST_CAP;
    }
    if ((s->n + 1) * 4 > s->cap * 3) {
        size_t ncap = s->cap * 2;
        struct entry *nt = map_table(ncap);
        if (!nt)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            struct entry *e = &s->tab[i];
            if (!e->addr)
                continue;
            size_t j = SLOT_OF(hash_addr(e->addr), ncap - 1);
            while (nt[j].addr)
                j = (j + 1) & (ncap - 1);
            nt[j] = *e;
        }
        if (s->tab != s->first)
            munmap(s->tab, s->cap * sizeof(struct entry));
        s->tab = nt;
        s->cap = ncap;
    }
    size_t mask = s->cap - 1, j = SLOT_OF(h, mask);
    while (s->tab[j].addr && s->tab[j].addr != p)
        j = (j + 1) & mask;
    if (!s->tab[j].addr)
        s->n++;
    s->tab[j].addr = p;
    s->tab[j].token = token;
    s->tab[j].gen = g;
    return 0;
}

/* s->lock held.  Removes p; returns 1 and its entry if it was there. */
static int stripe_remove(struct stripe *s, uintptr_t p, uint64_t h, struct entry *out)
{
    if (!s->cap)
        return 0;
    size_t mask = s->cap - 1, j = SLOT_OF(h, mask);
    while (s->tab[j].addr != p) {
        if (!s->tab[j].addr)
            return 0;
        j = (j + 1) & mask;
    }
    *out = s->tab[j];
    s->n--;
    /* backward-shift deletion */
    size_t i = j;
    for (;;) {
        s->tab[i].addr = 0;
        size_t k = i;
        for (;;) {
            k = (k + 1) & mask;
            if (!s->tab[k].addr)
                return 1;
            size_t home = SLOT_OF(hash_addr(s->tab[k].addr), mask);
            /* may move k to i when home is not cyclically in (i, k] */
            if (i <= k ? (home <= i || home > k) : (home <= i && home > k))
                break;
        }
        s->tab[i] = s->tab[k];
        i = k;
    }
}

#define STRIPE_OF_FI(fi) (&stripes[(fi) & (NSTRIPE - 1)])

/* Records a sampled block (before the allocation returns). */
static void set_add(void *obj, uint64_t token, uint64_t g)
{
    uintptr_t p = (uintptr_t)obj;
    uint64_t h = hash_addr(p);
    size_t fi = filter_of(p);
    struct stripe *s = STRIPE_OF_FI(fi);
    pthread_mutex_lock(&s->lock);
    if (stripe_insert(s, p, h, token, g) == 0) {
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
        if (filter_count[fi] == 0)
            __atomic_fetch_or(&filter_bits[fi / 64], 1ull << (fi % 64), __ATOMIC_RELEASE);
        if (filter_count[fi] < 255)
            filter_count[fi]++;
    }
    pthread_mutex_unlock(&s->lock);
}

/* 0 when obj is certainly not in the set: nothing is (`live` == 0), or its
 * filter bit is 0.  The insertion happened before the allocation
 * returned, and the block reached this thread after that: the bit is
 * visible, and it is cleared only once no entry has its index. */
static inline int may_be_sampled(void *obj)
{
    if (__builtin_expect(__atomic_load_n(&live, __ATOMIC_RELAXED) == 0, 1))
        return 0;
    size_t fi = filter_of((uintptr_t)obj);
    return (__atomic_load_n(&filter_bits[fi / 64], __ATOMIC_ACQUIRE) >> (fi % 64)) & 1;
}

/* Takes obj out of the set if it is there; returns its token (0 if not
 * sampled or of an older recording). */
static inline uint64_t set_take(void *obj, uint64_t *gout)
{
    if (__builtin_expect(!may_be_sampled(obj), 1))
        return 0;
    uintptr_t p = (uintptr_t)obj;
    uint64_t h = hash_addr(p);
    size_t fi = filter_of(p);
    struct stripe *s = STRIPE_OF_FI(fi);
    struct entry e;
    pthread_mutex_lock(&s->lock);
    int found = stripe_remove(s, p, h, &e);
    if (found) {
        if (filter_count[fi] != 255 && --filter_count[fi] == 0)
            __atomic_fetch_and(&filter_bits[fi / 64], ~(1ull << (fi % 64)), __ATOMIC_RELEASE);
        __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&s->lock);
    if (!found)
        return 0;
    *gout = e.gen;
    return e.token;
}

/* ---- sampling ---- */

/* The countdown ran out, or belongs to another generation (a recording
 * started or stopped since it was drawn): gct_sampler_due decides. */
static __attribute__((noinline)) void sample_slow(void *obj, size_t n, uintptr_t ret)
{
    gct_sample_take(&smp, &tls, &in_backend, &cur, obj, n, ret, set_add);
}

/* The fast path of every allocation of n bytes, taken before or after
 * allocating: 1 when no sample is due (gct_sampler_pass). */
static inline int pass(size_t n)
{
    return gct_sampler_pass(&smp, &tls, n);
}

/* After pass(n) said no: obj is the allocation (NULL: it failed, and its
 * bytes go back to the countdown). */
static inline void sample_due(void *obj, size_t n, uintptr_t ret)
{
    if (!obj) {
        tls.countdown += (int64_t)n;
        return;
    }
    sample_slow(obj, n, ret);
}

/* For the allocation functions that account after allocating. */
static inline void account(void *obj, size_t n, uintptr_t ret)
{
    if (obj && !pass(n))
        sample_slow(obj, n, ret);
}

/* Before obj goes back to glibc. */
static inline void forget(void *obj)
{
    if (!obj)
        return;
    uint64_t g;
    uint64_t token = set_take(obj, &g);
    if (!token)
        return;
    if (!gct_sampler_current(&smp, g))
        return;
    int saved = in_backend;
    in_backend = 1;
    if (cur.freed)
        cur.freed(cur.ctx, token);
    in_backend = saved;
}

/* ---- the interposed functions ---- */

static __attribute__((noinline)) void *malloc_slow(size_t n, uintptr_t ret)
{
    void *p = __libc_malloc(n);
    sample_due(p, n, ret);
    return p;
}

EXPORT void *malloc(size_t n)
{
    if (__builtin_expect(pass(n), 1))
        return __libc_malloc(n);
    return malloc_slow(n, (uintptr_t)__builtin_return_address(0));
}

static __attribute__((noinline)) void free_slow(void *p)
{
    forget(p);
    __libc_free(p);
}

EXPORT void free(void *p)
{
    /* no test for NULL: free_slow(NULL) (a filter hit on address 0) only
     * forwards it */
    if (__builtin_expect(may_be_sampled(p), 0)) {
        free_slow(p);
        return;
    }
    __libc_free(p);
}

static __attribute__((noinline)) void *calloc_slow(size_t a, size_t b, size_t n, uintptr_t ret)
{
    void *p = __libc_calloc(a, b);
    sample_due(p, n, ret);
    return p;
}

EXPORT void *calloc(size_t a, size_t b)
{
    size_t n;
    /* an overflowing request fails in glibc and counts for nothing */
    if (__builtin_expect(__builtin_mul_overflow(a, b, &n), 0) || __builtin_expect(pass(n), 1))
        return __libc_calloc(a, b);
    return calloc_slow(a, b, n, (uintptr_t)__builtin_return_address(0));
}

static inline void *do_realloc(void *old, size_t n, uintptr_t ret)
{
    if (!old) {
        void *p = __libc_malloc(n);
        account(p, n, ret);
        return p;
    }
    if (n == 0) {
        forget(old);
        __libc_free(old);
        return NULL;
    }
    /* Out of the set before glibc may hand the address to another thread;
     * if realloc fails the block is still live and keeps its token. */
    uint64_t g = 0;
    uint64_t token = set_take(old, &g);
    void *p = __libc_realloc(old, n);
    if (!p) {
        if (token)
            set_add(old, token, g);
        return NULL;
    }
    if (token && gct_sampler_current(&smp, g) && cur.freed) {
        int saved = in_backend;
        in_backend = 1;
        cur.freed(cur.ctx, token);
        in_backend = saved;
    }
    account(p, n, ret);
    return p;
}

static __attribute__((noinline)) void *realloc_slow(void *old, size_t n, uintptr_t ret)
{
    return do_realloc(old, n, ret);
}

EXPORT void *realloc(void *old, size_t n)
{
    /* not recording and nothing in the set: glibc alone */
    if (__builtin_expect(!__atomic_load_n(&smp.enabled, __ATOMIC_ACQUIRE) &&
                         __atomic_load_n(&live, __ATOMIC_RELAXED) == 0, 1))
        return __libc_realloc(old, n);
    return realloc_slow(old, n, (uintptr_t)__builtin_return_address(0));
}

EXPORT void *reallocarray(void *old, size_t a, size_t b)
{
    size_t n;
    if (__builtin_mul_overflow(a, b, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(old, n, (uintptr_t)__builtin_return_address(0));
}

EXPORT void *memalign(size_t align, size_t n)
{
    void *p = __libc_memalign(align, n);
    account(p, n, (uintptr_t)__builtin_return_address(0));
    return p;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    void *p = __libc_memalign(align, n);
    account(p, n, (uintptr_t)__builtin_return_address(0));
    return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    int saved = errno;
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    errno = saved;
    account(p, n, (uintptr_t)__builtin_return_address(0));
    *out = p;
    return 0;
}

EXPORT void *valloc(size_t n)
{
    void *p = __libc_valloc(n);
    account(p, n, (uintptr_t)__builtin_return_address(0));
    return p;
}

EXPORT void *pvalloc(size_t n)
{
    void *p = __libc_pvalloc(n);
    account(p, n, (uintptr_t)__builtin_return_address(0));
    return p;
}

static size_t (*real_usable_size)(void *);

EXPORT size_t malloc_usable_size(void *p)
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

/* ---- the backend ---- */

static int mb_attach(const gct_sink *sink, uint64_t rate, uint64_t seed)
{
    pthread_mutex_lock(&attach_lock);
    if (__atomic_load_n(&smp.enabled, __ATOMIC_RELAXED)) {
        pthread_mutex_unlock(&attach_lock);
        return EBUSY;
    }
    cur = *sink;
    gct_sampler_start(&smp, rate, seed);
    pthread_mutex_unlock(&attach_lock);
    return 0;
}

static void mb_detach(void)
{
    pthread_mutex_lock(&attach_lock);
    /* A new generation: entries still in the set are dropped silently when
     * their blocks are freed. */
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
 * read every time). */
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

static int mb_read_stats(gct_backend_stats *out)
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
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "re");
    if (f) {
        unsigned long size = 0, resident = 0;
        if (fscanf(f, "%lu %lu", &size, &resident) == 2)
            out->sys = (uint64_t)resident * (uint64_t)page;
        fclose(f);
    }
    out->gc_percent = -2;
    out->memory_limit = -2;
    return 0;
}

static const gct_backend malloc_backend = {
    .name = "malloc",
    .caps = GCT_CAP_SAMPLING | GCT_CAP_FREES | GCT_CAP_STATS,
    .attach = mb_attach,
    .detach = mb_detach,
    .read_stats = mb_read_stats,
};

const gct_backend *gct_backend_malloc(void)
{
    return &malloc_backend;
}

/* ---- fork, start ---- */

static void fork_prepare(void)
{
    pthread_mutex_lock(&attach_lock);
    for (int i = 0; i < NSTRIPE; i++)
        pthread_mutex_lock(&stripes[i].lock);
}

static void fork_parent(void)
{
    for (int i = NSTRIPE - 1; i >= 0; i--)
        pthread_mutex_unlock(&stripes[i].lock);
    pthread_mutex_unlock(&attach_lock);
}

static void fork_child(void)
{
    gct_sampler_stop(&smp);
    for (int i = 0; i < NSTRIPE; i++) {
        stripe_reset(&stripes[i]);
        pthread_mutex_init(&stripes[i].lock, NULL);
    }
    /* live == 0: every counter and bit is 0 already, and their untouched
     * pages stay unallocated (a memset would fault them in, in every fork
     * child, the profiler's helper included) */
    if (live) {
        memset(filter_count, 0, sizeof filter_count);
        memset(filter_bits, 0, sizeof filter_bits);
    }
    live = 0;
    pthread_mutex_init(&attach_lock, NULL);
    pthread_mutex_init(&stats_lock, NULL);
    stats_next_ns = 0;
}

/* Before the profiler's constructor (default priority), which starts the
 * recording from GCTUNE_PROFILE with the backend chosen here. */
__attribute__((constructor(101))) static void preload_init(void)
{
    for (int i = 0; i < NSTRIPE; i++)
        pthread_mutex_init(&stripes[i].lock, NULL);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    gctp_set_env_backend(&malloc_backend);
    real_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
}
