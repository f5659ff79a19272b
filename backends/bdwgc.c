/* backends/bdwgc.c - the bdwgc backend: Boehm-Demers-Weiser GC (Debian's
 * libgc.so.1) seen through <gctune/backend.h>, built into
 * libgctune-preload.so (LD_PRELOAD).
 *
 * Owns: the interposed Boehm allocation functions (GC_malloc,
 * GC_malloc_atomic, GC_malloc_uncollectable, GC_malloc_atomic_uncollectable,
 * GC_malloc_ignore_off_page, GC_malloc_atomic_ignore_off_page, GC_realloc,
 * GC_free), GC_gcollect / GC_gcollect_and_unmap (to mark cycles forced),
 * GC_set_on_collection_event / GC_get_on_collection_event (the program's
 * own event callback is kept and chained), the set of sampled objects, the
 * cycle records, the GOGC <-> free space divisor mapping and the soft
 * memory limit.  Also chooses the preload library's backend (bdwgc when
 * the process has Boehm's GC, else malloc; GCTUNE_PRELOAD_BACKEND
 * overrides) for the profiler's and the tuner's start from the
 * environment.
 *
 * Boehm is found at run time (dlsym(RTLD_NEXT) in the constructor): this
 * file does not include <gc.h> and the preload library does not link
 * libgc, so it builds and runs without Boehm.  The few Boehm types used are
 * declared below with their ABI (GC_word = unsigned long, the event enum).
 * Not interposed (not sampled): GC_malloc_kind / GC_generic_malloc, typed
 * and gcj allocation, GC_debug_* (debug objects start past a header: a
 * disappearing link needs the object's base), and a libgc loaded later
 * with dlopen.
 *
 * Sampling: as malloc.c and libgc, with backends/sample.h: a per-thread
 * countdown drawn from an exponential with mean `rate`; never sampled
 * inside the sampling path (in_backend) or on the profiler's threads.
 *
 * Frees: Boehm reclaims unreachable objects without a call we could
 * interpose.  Each recorded sample gets a node in `nodes` (mmap'd, never
 * moved) whose field `link` is registered as a disappearing link
 * (GC_general_register_disappearing_link): the collector clears it when
 * the object is found unreachable (before finalization, as Boehm's short
 * weak links).  At the end of every cycle (GC_EVENT_RECLAIM_END, allocation
 * lock held, world running: nothing has reused the memory yet) the set is
 * scanned and the nodes whose link is NULL are reported freed.  Cost: one
 * registration per sample, one scan of the set per cycle.  GC_free and
 * GC_realloc of a sampled object take its node out first, unregister the
 * link, and report the free at once.  An address allocated again while
 * still in the set (its object was freed inside libgc without passing
 * through GC_free, e.g. by GC_realloc's internal free) retires the old
 * node as freed.
 * Invariants: a node is LIVE exactly while it is in its bucket's chain; a
 * node's memory is reused only after its link is known to Boehm no more
 * (cleared by the collector, or unregistered).  The set never holds a
 * plain pointer to an object (addresses are stored complemented, and the
 * node memory is not a Boehm root), so the profiler never keeps an object
 * alive.  Lock order: Boehm's allocation lock before set_lock; nothing
 * calls into Boehm while holding set_lock.  This library's own writable
 * segments are excluded from Boehm's roots (GC_exclude_static_roots): they
 * never hold pointers into the Boehm heap.
 *
 * GC cycles (GC_set_on_collection_event; Boehm calls the hook with its
 * allocation lock held): a cycle starts at GC_EVENT_START (or the first
 * MARK_START / PRE_STOP_WORLD of an incremental cycle) and ends at
 * RECLAIM_END.  pause_ns = the time between PRE_STOP_WORLD and
 * POST_START_WORLD, summed over the cycle (the hook does only clock reads
 * while the world is stopped); mark_cpu_ns = the collecting thread's CPU
 * time over the cycle (parallel markers not counted); heap_before = bytes
 * in non-free heap blocks at the start; heap_marked = the same after the
 * sweep started: Boehm sweeps lazily, so this is an upper bound of the live
 * heap (it includes the free slots of partly used blocks); heap_goal =
 * heap_marked * (1 + 2/divisor), Boehm's trigger for a pointer-rich heap.
 *
 * Knobs: Boehm collects when the bytes allocated since the last cycle
 * exceed (2 * pointer-containing live bytes + pointer-free live bytes / 4
 * + roots) / divisor (alloc.c, min_bytes_allocd).  For a pointer-rich heap
 * that is 2 * live / divisor, and Go's GOGC=P allocates live * P / 100:
 * divisor = 200 / P, rounded, in 1..200 (GOGC 100 = divisor 2; Boehm's
 * default 3 = GOGC 67; GOGC >= 134 all map to divisor 1, Boehm's
 * minimum).  gc_percent reads back 200 / divisor.  GOGC off = GC_disable
 * (GC_enable when set again).  Memory limit: a soft limit.  After every
 * cycle the divisor is raised so that live * (1 + 2/divisor) stays under
 * 95% of the limit (at most 64), and allocating threads check every 64 KiB
 * whether live + allocated since the cycle reached 95% of the limit; then
 * they collect (GC_gcollect, recorded as forced) provided at least
 * max(live / 8, 256 KiB) was allocated since the last cycle (so a live heap
 * over the limit costs GC time like GOGC 12, not a collection per check).
 * GC_set_max_heap_size, Boehm's hard limit, is never called (the program
 * can set it, or GC_MAXIMUM_HEAP_SIZE in the environment).  GOGC and
 * GOMEMLIMIT in the environment are applied at start-up (Boehm's own
 * GC_FREE_SPACE_DIVISOR, read when the GC initializes, wins over GOGC).
 *
 * Fork: the child records nothing (the profiler is off there); the atfork
 * handlers hold set_lock across fork.
 */
#define _GNU_SOURCE
#include "gctune/backend.h"
#include "gctune/tuner.h"
#include "internal.h"
#include "gc_internal.h"   /* gci_rss_bytes */
#include "preload.h"
#include "sample.h"
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))
#define EXPORT __attribute__((visibility("default")))

/* ---- Boehm's ABI (gc.h 7.6 .. 8.2) ---- */

typedef unsigned long gc_word;
enum {
    EV_START, EV_MARK_START, EV_MARK_END, EV_RECLAIM_START, EV_RECLAIM_END, EV_END,
    EV_PRE_STOP_WORLD, EV_POST_STOP_WORLD, EV_PRE_START_WORLD, EV_POST_START_WORLD,
};
typedef void (*gc_event_fn)(int);
struct gc_prof_stats {
    gc_word heapsize_full, free_bytes_full, unmapped_bytes, bytes_allocd_since_gc,
        allocd_bytes_before_gc, non_gc_bytes, gc_no, markers_m1, bytes_reclaimed_since_gc,
        reclaimed_bytes_before_gc, expl_freed_bytes_since_gc, obtained_from_os_bytes;
};

static struct {
    void *(*malloc)(size_t), *(*malloc_atomic)(size_t), *(*malloc_uncollectable)(size_t),
        *(*malloc_atomic_uncollectable)(size_t), *(*malloc_ignore_off_page)(size_t),
        *(*malloc_atomic_ignore_off_page)(size_t), *(*realloc)(void *, size_t);
    void (*free)(void *), (*gcollect)(void), (*gcollect_and_unmap)(void);
    void (*set_on_collection_event)(gc_event_fn);
    gc_event_fn (*get_on_collection_event)(void);
    int (*register_link)(void **, const void *), (*unregister_link)(void **);
    size_t (*prof_stats_unsafe)(struct gc_prof_stats *, size_t);
    void (*heap_usage_safe)(gc_word *, gc_word *, gc_word *, gc_word *, gc_word *);
    gc_word (*gc_no)(void);
    size_t (*bytes_since_gc)(void);
    void (*set_divisor)(gc_word);
    gc_word (*get_divisor)(void);
    void (*disable)(void), (*enable)(void);
    int (*is_init_called)(void);
    void (*exclude_static_roots)(void *, void *);
} gc;
static int have_boehm;           /* every function above was found */

/* ---- state ---- */

static gct_sink cur;             /* copied before `attached` is set */
static struct gct_sampler smp;   /* backends/sample.h */
static int attached;             /* atomic: a sink is attached */
static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;

static TLS int in_backend;
static TLS struct gct_sample_tls tls;
static TLS int forcing;          /* this thread is in GC_gcollect */
static TLS int64_t limit_left;   /* bytes to allocate before the next soft limit check */

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
    char buf[384];
    int n = snprintf(buf, sizeof buf, "gctune: bdwgc: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(buf);
    buf[len++] = '\n';
    ssize_t w = write(2, buf, len);
    (void)w;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the sampled set ---- */

#define NODE_CHUNK_BITS 12
#define NODE_CHUNK (1u << NODE_CHUNK_BITS)
#define MAX_CHUNKS 1024          /* 4M live samples */
#define BUCKET_BITS 16
enum { N_FREE, N_LIVE, N_DETACHED };
struct node {
    void *link;                  /* the disappearing link: ~addr until Boehm clears it */
    uintptr_t haddr;             /* ~addr */
    uint64_t token, gen;
    uint32_t next;               /* bucket chain or free list (index, 0 = none) */
    uint32_t state;
};
static struct node *chunks[MAX_CHUNKS];   /* under set_lock */
static uint32_t nchunks, free_head;
static uint32_t *heads;          /* mmap'd; atomic reads without the lock */
static uint64_t live;            /* atomic: LIVE nodes */
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;

#define NODE(i) (&chunks[((i) - 1) >> NODE_CHUNK_BITS][((i) - 1) & (NODE_CHUNK - 1)])

static inline uint32_t bucket_of(uintptr_t p)
{
    uint64_t x = (uint64_t)p >> 4;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return (uint32_t)(x & ((1u << BUCKET_BITS) - 1));
}

/* set_lock held; 0 when out of memory. */
static uint32_t node_alloc(void)
{
    if (!free_head) {
        if (nchunks == MAX_CHUNKS)
            return 0;
        void *m = mmap(NULL, NODE_CHUNK * sizeof(struct node), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return 0;
        chunks[nchunks] = m;
        uint32_t base = nchunks * NODE_CHUNK + 1;
        nchunks++;
        for (uint32_t k = NODE_CHUNK; k-- > 0;) {
            struct node *n = &((struct node *)m)[k];
            n->state = N_FREE;
            n->next = free_head;
            free_head = base + k;
        }
    }
    uint32_t i = free_head;
    free_head = NODE(i)->next;
    return i;
}

/* set_lock held. */
static void node_free(uint32_t i)
{
    struct node *n = NODE(i);
    n->state = N_FREE;
    n->link = NULL;
    n->next = free_head;
    free_head = i;
}

/* set_lock held: takes the LIVE node of address p out of its chain. */
static uint32_t chain_remove(uintptr_t p)
{
    uint32_t b = bucket_of(p);
    uint32_t *prev = &heads[b];
    for (uint32_t i = *prev; i; i = *prev) {
        struct node *n = NODE(i);
        if (n->haddr == ~p) {
            __atomic_store_n(prev, n->next, __ATOMIC_RELEASE);
            n->state = N_DETACHED;
            __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
            return i;
        }
        prev = &n->next;
    }
    return 0;
}

static void report_freed(uint64_t token, uint64_t g)
{
    gct_sample_report_free(&smp, &in_backend, &cur, token, g);
}

/* A DETACHED node whose object is gone: unregister its link (no locks of
 * ours held), report, recycle. */
static void retire(uint32_t i, int report)
{
    struct node *n = NODE(i);
    gc.unregister_link(&n->link);
    if (report)
        report_freed(n->token, n->gen);
    pthread_mutex_lock(&set_lock);
    node_free(i);
    pthread_mutex_unlock(&set_lock);
}

/* Records a sampled object (before the allocation returns). */
static void set_add(void *obj, uint64_t token, uint64_t g)
{
    uintptr_t p = (uintptr_t)obj;
    pthread_mutex_lock(&set_lock);
    uint32_t stale = chain_remove(p);
    uint32_t i = node_alloc();
    if (i) {
        struct node *n = NODE(i);
        n->link = (void *)~p;
        n->haddr = ~p;
        n->token = token;
        n->gen = g;
        n->state = N_LIVE;
        uint32_t b = bucket_of(p);
        n->next = heads[b];
        __atomic_store_n(&heads[b], i, __ATOMIC_RELEASE);
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&set_lock);
    if (stale)
        retire(stale, 1);
    if (i && gc.register_link(&NODE(i)->link, obj) != 0) {
        /* no memory (or a duplicate): the sample stays without its free */
        pthread_mutex_lock(&set_lock);
        uint32_t j = chain_remove(p);
        if (j)
            node_free(j);
        pthread_mutex_unlock(&set_lock);
    }
}

/* Takes obj's node out of the set; 0 if obj was not sampled. */
static inline uint32_t set_take(void *obj)
{
    if (__builtin_expect(__atomic_load_n(&live, __ATOMIC_RELAXED) == 0, 1))
        return 0;
    uintptr_t p = (uintptr_t)obj;
    /* inserted before the allocation returned: a nonzero head is visible */
    if (__atomic_load_n(&heads[bucket_of(p)], __ATOMIC_ACQUIRE) == 0)
        return 0;
    pthread_mutex_lock(&set_lock);
    uint32_t i = chain_remove(p);
    pthread_mutex_unlock(&set_lock);
    return i;
}

/* Boehm's allocation lock held (end of a cycle): reports the nodes whose
 * link the collector cleared. */
static void scan_cleared(void)
{
    if (__atomic_load_n(&live, __ATOMIC_RELAXED) == 0)
        return;
    pthread_mutex_lock(&set_lock);
    for (uint32_t b = 0; b < (1u << BUCKET_BITS); b++) {
        uint32_t *prev = &heads[b];
        for (uint32_t i = *prev; i; i = *prev) {
            struct node *n = NODE(i);
            if (__atomic_load_n(&n->link, __ATOMIC_RELAXED) != NULL) {
                prev = &n->next;
                continue;
            }
            __atomic_store_n(prev, n->next, __ATOMIC_RELEASE);
            __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
            report_freed(n->token, n->gen);   /* the sink never blocks */
            node_free(i);                     /* Boehm dropped the link when clearing it */
        }
    }
    pthread_mutex_unlock(&set_lock);
}

/* ---- knobs ---- */

#define DIV_MAX 200
#define DIV_LIMIT_MAX 64
static pthread_mutex_t knob_lock = PTHREAD_MUTEX_INITIALIZER;
static gc_word base_div;         /* divisor for the GOGC set (0 = Boehm's own, not read yet) */
static gc_word limit_div;        /* the soft limit's minimum divisor (0 = none) */
static int disabled;             /* GOGC off: we called GC_disable */
static int64_t mem_limit = INT64_MAX;   /* atomic */
static int limit_on;             /* atomic: mem_limit != INT64_MAX */
static int64_t last_live;        /* atomic: heap_marked of the last cycle */
static uint64_t soft_collections;   /* atomic */

static gc_word percent_to_div(int p)
{
    if (p < 1)
        p = 1;
    gc_word d = (gc_word)((200 + p / 2) / p);
    return d < 1 ? 1 : d > DIV_MAX ? DIV_MAX : d;
}

static int div_to_percent(gc_word d)
{
    return d ? (int)((200 + d / 2) / d) : 100;
}

/* The divisor the GOGC setting stands for (knob_lock or the allocation
 * lock held; a plain read either way). */
static gc_word base_divisor(void)
{
    gc_word b = __atomic_load_n(&base_div, __ATOMIC_RELAXED);
    return b ? b : gc.get_divisor();
}

static void apply_divisor(void)
{
    gc_word b = base_divisor(), l = __atomic_load_n(&limit_div, __ATOMIC_RELAXED);
    gc.set_divisor(l > b ? l : b);   /* a plain store in Boehm: safe in the hook too */
}

static int current_percent(void)
{
    return __atomic_load_n(&disabled, __ATOMIC_RELAXED) ? -1 : div_to_percent(base_divisor());
}

static int bw_set_gc_percent(int percent)
{
    pthread_mutex_lock(&knob_lock);
    int prev = current_percent();
    if (percent < 0) {
        if (!disabled) {
            gc.disable();
            __atomic_store_n(&disabled, 1, __ATOMIC_RELAXED);
        }
    } else {
        if (disabled) {
            gc.enable();
            __atomic_store_n(&disabled, 0, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&base_div, percent_to_div(percent), __ATOMIC_RELAXED);
        apply_divisor();
    }
    pthread_mutex_unlock(&knob_lock);
    return prev;
}

static int64_t bw_set_memory_limit(int64_t bytes)
{
    pthread_mutex_lock(&knob_lock);
    int64_t prev = __atomic_load_n(&mem_limit, __ATOMIC_RELAXED);
    if (bytes >= 0) {
        if (!__atomic_load_n(&base_div, __ATOMIC_RELAXED) && !__atomic_load_n(&limit_div, __ATOMIC_RELAXED))
            __atomic_store_n(&base_div, gc.get_divisor(), __ATOMIC_RELAXED);
        __atomic_store_n(&mem_limit, bytes, __ATOMIC_RELAXED);
        __atomic_store_n(&limit_on, bytes != INT64_MAX, __ATOMIC_RELEASE);
        if (bytes == INT64_MAX) {
            __atomic_store_n(&limit_div, 0, __ATOMIC_RELAXED);
            apply_divisor();
        }
    }
    pthread_mutex_unlock(&knob_lock);
    return prev;
}

/* Allocation lock held, end of a cycle: the divisor that keeps
 * live * (1 + 2/divisor) under 95% of the limit. */
static void limit_adjust(int64_t live_bytes)
{
    if (!__atomic_load_n(&limit_on, __ATOMIC_ACQUIRE))
        return;
    double room = 0.95 * (double)__atomic_load_n(&mem_limit, __ATOMIC_RELAXED) - (double)live_bytes;
    gc_word d = DIV_LIMIT_MAX;
    if (room > 0) {
        double want = 2.0 * (double)live_bytes / room;
        d = want >= DIV_LIMIT_MAX ? DIV_LIMIT_MAX : (gc_word)want + 1;
    }
    if (!__atomic_load_n(&base_div, __ATOMIC_RELAXED))
        __atomic_store_n(&base_div, gc.get_divisor(), __ATOMIC_RELAXED);
    __atomic_store_n(&limit_div, d, __ATOMIC_RELAXED);
    apply_divisor();
}

/* An allocating thread's check, every 64 KiB while a limit is set. */
static __attribute__((noinline)) void limit_check(void)
{
    limit_left = 64 << 10;
    if (in_backend || forcing || __atomic_load_n(&disabled, __ATOMIC_RELAXED))
        return;
    int64_t lim = __atomic_load_n(&mem_limit, __ATOMIC_RELAXED);
    int64_t lv = __atomic_load_n(&last_live, __ATOMIC_RELAXED);
    int64_t since = (int64_t)gc.bytes_since_gc();   /* unsynchronized read: a heuristic */
    int64_t min_alloc = lv / 8 > (256 << 10) ? lv / 8 : (256 << 10);
    if ((double)(lv + since) >= 0.95 * (double)lim && since >= min_alloc) {
        __atomic_add_fetch(&soft_collections, 1, __ATOMIC_RELAXED);
        forcing = 1;
        gc.gcollect();
        forcing = 0;
    }
}

/* ---- sampling ---- */

static __attribute__((noinline)) void sample_slow(void *obj, size_t n, uintptr_t ret)
{
    gct_sample_take(&smp, &tls, &in_backend, &cur, obj, n, ret, set_add);
}

static inline void account(void *obj, size_t n, uintptr_t ret)
{
    if (!obj)
        return;
    if (__builtin_expect(__atomic_load_n(&limit_on, __ATOMIC_RELAXED), 0) && (limit_left -= (int64_t)n) <= 0)
        limit_check();
    if (__builtin_expect(gct_sampler_pass(&tls, n), 1))
        return;
    sample_slow(obj, n, ret);
}

/* ---- the interposed functions ---- */

/* The real function; a program that calls it without Boehm loaded (or
 * with a libgc we did not find) gets a clear message. */
static void *need(void *fn, const char *name)
{
    if (__builtin_expect(fn != NULL, 1))
        return fn;
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        msg("%s: Boehm GC's libgc not found after the preload library (loaded with dlopen?)", name);
        abort();
    }
    return f;
}
#define REAL(field, name) ((__typeof__(gc.field))need((void *)gc.field, name))

#define ALLOC_FN(name, field)                                          \
    EXPORT void *name(size_t n)                                        \
    {                                                                  \
        void *p = REAL(field, #name)(n);                               \
        account(p, n, (uintptr_t)__builtin_return_address(0));        \
        return p;                                                      \
    }
ALLOC_FN(GC_malloc, malloc)
ALLOC_FN(GC_malloc_atomic, malloc_atomic)
ALLOC_FN(GC_malloc_uncollectable, malloc_uncollectable)
ALLOC_FN(GC_malloc_atomic_uncollectable, malloc_atomic_uncollectable)
ALLOC_FN(GC_malloc_ignore_off_page, malloc_ignore_off_page)
ALLOC_FN(GC_malloc_atomic_ignore_off_page, malloc_atomic_ignore_off_page)

EXPORT void GC_free(void *p)
{
    if (p) {
        uint32_t i = set_take(p);
        if (i)
            retire(i, 1);
    }
    REAL(free, "GC_free")(p);
}

EXPORT void *GC_realloc(void *old, size_t n)
{
    void *(*fn)(void *, size_t) = REAL(realloc, "GC_realloc");
    uintptr_t ret = (uintptr_t)__builtin_return_address(0);
    if (!old) {
        void *p = fn(NULL, n);
        account(p, n, ret);
        return p;
    }
    /* Out of the set before Boehm may hand the address to another thread;
     * if the realloc fails the object is still live and keeps its node. */
    uint32_t i = set_take(old);
    void *p = fn(old, n);
    if (!p && n) {
        if (i) {
            pthread_mutex_lock(&set_lock);
            struct node *nd = NODE(i);
            uint32_t b = bucket_of((uintptr_t)old);
            nd->state = N_LIVE;
            nd->next = heads[b];
            __atomic_store_n(&heads[b], i, __ATOMIC_RELEASE);
            __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
            pthread_mutex_unlock(&set_lock);
        }
        return NULL;
    }
    if (i)
        retire(i, 1);
    account(p, n, ret);
    return p;
}

EXPORT void GC_gcollect(void)
{
    forcing++;
    REAL(gcollect, "GC_gcollect")();
    forcing--;
}

EXPORT void GC_gcollect_and_unmap(void)
{
    forcing++;
    REAL(gcollect_and_unmap, "GC_gcollect_and_unmap")();
    forcing--;
}

static gc_event_fn user_hook;    /* atomic: the program's own event callback */
static int hook_installed;

EXPORT void GC_set_on_collection_event(gc_event_fn fn)
{
    if (hook_installed)
        __atomic_store_n(&user_hook, fn, __ATOMIC_RELEASE);
    else
        REAL(set_on_collection_event, "GC_set_on_collection_event")(fn);
}

EXPORT gc_event_fn GC_get_on_collection_event(void)
{
    if (hook_installed)
        return __atomic_load_n(&user_hook, __ATOMIC_ACQUIRE);
    return REAL(get_on_collection_event, "GC_get_on_collection_event")();
}

/* ---- GC cycles ---- */

/* GC listeners (add_gc_listener) under lis_lock; the hook copies them. */
static struct { void (*fn)(const gct_gc_event *, void *); void *arg; } listeners[4];
static int nlisteners;
static pthread_mutex_t lis_lock = PTHREAD_MUTEX_INITIALIZER;

/* The hook's state: Boehm's allocation lock serializes every access. */
static struct {
    int in_cycle, stop_seen;
    uint64_t start_real, start_mono, start_cpu, stop_mono, pause;
    uint64_t heap_before;
} cy;
static uint64_t init_mono;
static uint64_t gc_total_ns;     /* cycle durations, for gc_cpu_fraction */
static uint64_t pause_total_ns;  /* atomic */
static uint64_t last_goal;       /* atomic */
static uint32_t cycles_seen;     /* atomic */

static uint64_t in_use(const struct gc_prof_stats *s)
{
    return s->heapsize_full > s->free_bytes_full ? s->heapsize_full - s->free_bytes_full : 0;
}

static void cycle_begin(void)
{
    struct gc_prof_stats s;
    memset(&s, 0, sizeof s);
    gc.prof_stats_unsafe(&s, sizeof s);
    cy.in_cycle = 1;
    cy.stop_seen = 0;
    cy.pause = 0;
    cy.start_real = clock_ns(CLOCK_REALTIME);
    cy.start_mono = clock_ns(CLOCK_MONOTONIC);
    cy.start_cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    cy.heap_before = in_use(&s);
}

static void cycle_end(void)
{
    struct gc_prof_stats s;
    memset(&s, 0, sizeof s);
    gc.prof_stats_unsafe(&s, sizeof s);
    uint64_t end_mono = clock_ns(CLOCK_MONOTONIC);
    uint64_t dur = end_mono - cy.start_mono;
    uint64_t marked = in_use(&s);
    gc_word d;
    gct_gc_event ev = {
        .num = (uint32_t)s.gc_no,
        .forced = forcing > 0,
        .concurrent = 0,
        .procs = (int)s.markers_m1 + 1,
        .start_ns = cy.start_real,
        .end_ns = cy.start_real + dur,
        /* without stop-the-world events (a libgc without threads) the
         * whole cycle stops the program */
        .pause_ns = cy.stop_seen ? cy.pause : dur,
        .heap_before = cy.heap_before,
        .heap_marked = marked,
        .heap_goal = 0,   /* set below, after the soft limit's adjustment */
        .mark_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cy.start_cpu,
        .gc_percent = current_percent(),
        .memory_limit = __atomic_load_n(&mem_limit, __ATOMIC_RELAXED),
    };
    gc_total_ns += dur;
    ev.gc_cpu_fraction = end_mono > init_mono ? (double)gc_total_ns / (double)(end_mono - init_mono) : 0;
    cy.in_cycle = 0;
    __atomic_add_fetch(&pause_total_ns, ev.pause_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&last_live, (int64_t)marked, __ATOMIC_RELAXED);
    __atomic_add_fetch(&cycles_seen, 1, __ATOMIC_RELAXED);
    limit_adjust((int64_t)marked);
    d = gc.get_divisor();
    ev.heap_goal = __atomic_load_n(&disabled, __ATOMIC_RELAXED) ? 0 : marked + 2 * marked / (d ? d : 1);
    __atomic_store_n(&last_goal, ev.heap_goal, __ATOMIC_RELAXED);

    int saved = in_backend;
    in_backend = 1;
    scan_cleared();
    if (__atomic_load_n(&attached, __ATOMIC_ACQUIRE) && cur.gc_cycle)
        cur.gc_cycle(cur.ctx, &ev);
    pthread_mutex_lock(&lis_lock);
    int nl = nlisteners;
    __typeof__(listeners) ls;
    memcpy(ls, listeners, sizeof ls);
    pthread_mutex_unlock(&lis_lock);
    for (int i = 0; i < nl; i++)
        ls[i].fn(&ev, ls[i].arg);
    in_backend = saved;
}

static void on_event(int e)
{
    switch (e) {
    case EV_START:
    case EV_MARK_START:
        if (!cy.in_cycle)
            cycle_begin();
        break;
    case EV_PRE_STOP_WORLD:
        if (!cy.in_cycle)
            cycle_begin();
        cy.stop_mono = clock_ns(CLOCK_MONOTONIC);
        break;
    case EV_POST_START_WORLD:
        if (cy.stop_mono) {
            cy.pause += clock_ns(CLOCK_MONOTONIC) - cy.stop_mono;
            cy.stop_seen = 1;
            cy.stop_mono = 0;
        }
        break;
    case EV_RECLAIM_END:
        if (cy.in_cycle)
            cycle_end();
        break;
    default:
        break;
    }
    gc_event_fn u = __atomic_load_n(&user_hook, __ATOMIC_ACQUIRE);
    if (u)
        u(e);
}

/* ---- the backend ---- */

static int bw_attach(const gct_sink *sink, uint64_t rate, uint64_t seed)
{
    pthread_mutex_lock(&attach_lock);
    if (__atomic_load_n(&attached, __ATOMIC_RELAXED)) {
        pthread_mutex_unlock(&attach_lock);
        return EBUSY;
    }
    cur = *sink;
    __atomic_store_n(&attached, 1, __ATOMIC_SEQ_CST);
    gct_sampler_start(&smp, &tls, rate, seed);
    pthread_mutex_unlock(&attach_lock);
    return 0;
}

static void bw_detach(void)
{
    pthread_mutex_lock(&attach_lock);
    __atomic_store_n(&attached, 0, __ATOMIC_SEQ_CST);
    /* nodes of this recording still in the set are dropped silently */
    gct_sampler_stop(&smp);
    pthread_mutex_unlock(&attach_lock);
}

/* read_stats (with_sys) and read_heap_stats */
static int bw_stats(gct_backend_stats *out, int with_sys)
{
    memset(out, 0, sizeof *out);
    if (gc.is_init_called()) {
        gc_word heap = 0, free_b = 0, unmapped = 0, since = 0, total = 0;
        gc.heap_usage_safe(&heap, &free_b, &unmapped, &since, &total);
        out->heap_sys = heap + unmapped;
        out->heap_idle = free_b + unmapped;
        out->heap_released = unmapped;
        out->heap_inuse = heap > free_b ? heap - free_b : 0;
        out->heap_alloc = out->heap_inuse;
        out->total_alloc = total;
        out->num_gc = (uint32_t)gc.gc_no();
    }
    out->next_gc = __atomic_load_n(&last_goal, __ATOMIC_RELAXED);
    out->pause_total_ns = __atomic_load_n(&pause_total_ns, __ATOMIC_RELAXED);
    if (with_sys)
        out->sys = gci_rss_bytes();
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    uint64_t gct = __atomic_load_n(&gc_total_ns, __ATOMIC_RELAXED);
    out->gc_cpu_fraction = now > init_mono ? (double)gct / (double)(now - init_mono) : 0;
    pthread_mutex_lock(&knob_lock);
    out->gc_percent = current_percent();
    pthread_mutex_unlock(&knob_lock);
    out->memory_limit = __atomic_load_n(&mem_limit, __ATOMIC_RELAXED);
    return 0;
}

static int bw_read_stats(gct_backend_stats *out)
{
    return bw_stats(out, 1);
}

static int bw_read_heap_stats(gct_backend_stats *out)
{
    return bw_stats(out, 0);
}

static int bw_add_listener(void (*fn)(const gct_gc_event *, void *), void *arg)
{
    int rc = 0;
    pthread_mutex_lock(&lis_lock);
    if (nlisteners == (int)(sizeof listeners / sizeof listeners[0])) {
        rc = ENOSPC;
    } else {
        listeners[nlisteners].fn = fn;
        listeners[nlisteners].arg = arg;
        nlisteners++;
    }
    pthread_mutex_unlock(&lis_lock);
    return rc;
}

static void bw_remove_listener(void (*fn)(const gct_gc_event *, void *), void *arg)
{
    pthread_mutex_lock(&lis_lock);
    for (int i = 0; i < nlisteners; i++) {
        if (listeners[i].fn == fn && listeners[i].arg == arg) {
            listeners[i] = listeners[--nlisteners];
            break;
        }
    }
    pthread_mutex_unlock(&lis_lock);
}

static const gct_backend bdwgc_backend = {
    .name = "bdwgc",
    .caps = GCT_CAP_SAMPLING | GCT_CAP_FREES | GCT_CAP_GC_EVENTS | GCT_CAP_STATS |
            GCT_CAP_SET_GC_PERCENT | GCT_CAP_SET_MEMORY_LIMIT,
    .attach = bw_attach,
    .detach = bw_detach,
    .read_stats = bw_read_stats,
    .read_heap_stats = bw_read_heap_stats,
    .add_gc_listener = bw_add_listener,
    .remove_gc_listener = bw_remove_listener,
    .set_gc_percent = bw_set_gc_percent,
    .set_memory_limit = bw_set_memory_limit,
};

const gct_backend *gct_backend_bdwgc(void)
{
    return have_boehm ? &bdwgc_backend : NULL;
}

/* ---- start ---- */

static void fork_prepare(void)
{
    pthread_mutex_lock(&set_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&set_lock);
}

static void fork_child(void)
{
    __atomic_store_n(&attached, 0, __ATOMIC_RELAXED);
    gct_sampler_stop(&smp);
    pthread_mutex_init(&set_lock, NULL);
    pthread_mutex_init(&attach_lock, NULL);
    pthread_mutex_init(&lis_lock, NULL);
    nlisteners = 0;
}

static int resolve(void)
{
#define R(field, name) (*(void **)&gc.field = dlsym(RTLD_NEXT, name)) != NULL
    int ok = R(malloc, "GC_malloc");
    if (!ok)
        return 0;
    ok &= R(malloc_atomic, "GC_malloc_atomic");
    ok &= R(malloc_uncollectable, "GC_malloc_uncollectable");
    ok &= R(malloc_atomic_uncollectable, "GC_malloc_atomic_uncollectable");
    ok &= R(malloc_ignore_off_page, "GC_malloc_ignore_off_page");
    ok &= R(malloc_atomic_ignore_off_page, "GC_malloc_atomic_ignore_off_page");
    ok &= R(realloc, "GC_realloc");
    ok &= R(free, "GC_free");
    ok &= R(gcollect, "GC_gcollect");
    ok &= R(gcollect_and_unmap, "GC_gcollect_and_unmap");
    ok &= R(set_on_collection_event, "GC_set_on_collection_event");
    ok &= R(get_on_collection_event, "GC_get_on_collection_event");
    ok &= R(register_link, "GC_general_register_disappearing_link");
    ok &= R(unregister_link, "GC_unregister_disappearing_link");
    ok &= R(prof_stats_unsafe, "GC_get_prof_stats_unsafe");
    ok &= R(heap_usage_safe, "GC_get_heap_usage_safe");
    ok &= R(gc_no, "GC_get_gc_no");
    ok &= R(bytes_since_gc, "GC_get_bytes_since_gc");
    ok &= R(set_divisor, "GC_set_free_space_divisor");
    ok &= R(get_divisor, "GC_get_free_space_divisor");
    ok &= R(disable, "GC_disable");
    ok &= R(enable, "GC_enable");
    ok &= R(is_init_called, "GC_is_init_called");
    ok &= R(exclude_static_roots, "GC_exclude_static_roots");
#undef R
    if (!ok)
        msg("this libgc lacks functions the bdwgc backend needs (Boehm GC 8.0 or later); using the malloc backend");
    return ok;
}

/* Our writable segments never hold pointers into Boehm's heap: not roots. */
static int exclude_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (info->dlpi_addr != (ElfW(Addr))arg)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            char *lo = (char *)(info->dlpi_addr + ph->p_vaddr);
            gc.exclude_static_roots(lo, lo + ph->p_memsz);
        }
    }
    return 1;
}

static void apply_env(void)
{
    const char *v = getenv("GOGC");
    if (v && *v) {
        char *end;
        long p = strtol(v, &end, 10);
        if (!strcmp(v, "off"))
            bw_set_gc_percent(-1);
        else if (*end || end == v || p < 0 || p > 1000000)
            msg("GOGC=%s: not a percentage or off; ignored", v);
        else
            bw_set_gc_percent((int)p);
    }
    v = getenv("GOMEMLIMIT");
    if (v && *v && strcmp(v, "off") != 0) {
        int64_t b;
        if (gct_tuner_parse_bytes(v, &b) != 0 || b <= 0)
            msg("GOMEMLIMIT=%s: not a byte count (like 512MiB); ignored", v);
        else
            bw_set_memory_limit(b);
    }
}

/* After malloc.c's constructor (101), before the profiler's and the
 * tuner's (default priority), which start from the environment with the
 * backend chosen here. */
__attribute__((constructor(102))) static void bdwgc_init(void)
{
    init_mono = clock_ns(CLOCK_MONOTONIC);
    const char *want = getenv("GCTUNE_PRELOAD_BACKEND");
    const gct_backend *be = gct_backend_malloc();
    int use_malloc = want && !strcmp(want, "malloc");
    if (resolve()) {
        heads = mmap(NULL, (sizeof *heads) << BUCKET_BITS, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (heads == MAP_FAILED)
            msg("no memory for the sampled set; using the malloc backend");
        else
            have_boehm = 1;
    } else if (want && !strcmp(want, "bdwgc")) {
        msg("the program has no Boehm GC (GC_malloc not found); using the malloc backend");
    }
    if (have_boehm && !use_malloc) {
        be = &bdwgc_backend;
        pthread_atfork(fork_prepare, fork_parent, fork_child);
        Dl_info di;
        if (dladdr((void *)&bdwgc_init, &di) && di.dli_fbase)
            dl_iterate_phdr(exclude_phdr, di.dli_fbase);
        user_hook = gc.get_on_collection_event();
        gc.set_on_collection_event(on_event);
        hook_installed = 1;
        apply_env();
    }
    gctp_set_env_backend(be);
    gctt_set_env_backend(be);
}
