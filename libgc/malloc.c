/* malloc.c - the allocator's public entry points, and the OVERVIEW.
 *
 * OVERVIEW (after Go's runtime/malloc.go)
 *
 * The heap is a set of 64 MiB arenas divided into 8 KiB pages.  A span is a
 * run of pages.  Objects up to 32 KiB are rounded up to one of 67 size
 * classes (sizeclass.c) and live in small spans of that class; bigger
 * objects get a span of their own.  Each size class has two span classes:
 * scan (gc_malloc: the collector looks for pointers inside) and noscan
 * (gc_malloc_atomic: never scanned).  Noscan requests under 16 bytes are
 * packed into 16-byte blocks by the tiny allocator.
 *
 * Allocation goes through three levels, each a cache for the next:
 *   1. mcache (mcache.c): per thread, no locks.  For each span class it
 *      holds a span and a 64-bit word of that span's allocation bitmap;
 *      the fast path (gci_mcache_alloc) takes the lowest free bit with
 *      count-trailing-zeros.  Objects the thread frees with gc_free go on
 *      its own free list and are reused first.
 *   2. mcentral (mcentral.c): per span class, a lock and lists of spans
 *      with free slots (partial) or none (full), split into swept and
 *      unswept sets by sweep generation.  Getting a span sweeps spans of
 *      the class before the heap is asked for more pages.
 *   3. mheap (heap.c): free page runs, coalesced, found in O(log n); the
 *      heap grows by reserving arenas with mmap.  Large objects come here.
 * Any address maps in O(1) to its span through the arena index and the
 * per-arena page table; gci_find_object turns it into an object base, which
 * is how the collector recognises pointers, interior ones included.
 *
 * Safepoints.  Allocator work runs in a per-thread critical section
 * (gci_crit_enter/exit).  The collector's suspend signal, when it lands in a
 * critical section, only sets a flag; the thread suspends itself at the
 * end of the section.  So with the world stopped no thread holds an
 * allocator lock or is half-way through its mcache, and the collector can
 * flush every mcache (collect.c).
 *
 * Memory is zeroed: fresh pages come zeroed from the kernel, and spans that
 * held objects are marked needzero so reused slots are cleared on allocation.
 */
#include "gc_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct gcstate *gci;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_once_fn(void)
{
    struct gcstate *g = gci_os_map_meta(sizeof *g);
    if (!g)
        gci_fatal("cannot map runtime state");
    gci = g;
    gci->metadata_sys = sizeof *g;
    gci->start_ns = gci_nanotime();
    gci->start_real_ns = gci_realtime();
    gci_sizeclass_init();
    gci_heap_init();
    for (unsigned w = 1; w <= GC_MAX_BITMAP_WORDS; w++)
        gci_fixalloc_init(&gci->bits_fa[w], 2 * w * sizeof(uint64_t), NULL);
    for (unsigned spc = 0; spc < GC_NUM_SPANCLASSES; spc++)
        gci_central_init(&gci->central[spc], spc);
    pthread_mutex_init(&gci->large_lock, NULL);
    pthread_mutex_init(&gci->gc_mutex, NULL);
    pthread_mutex_init(&gci->hooks_lock, NULL);
    gci->sweepgen = 4;   /* so that sweepgen - 2 never wraps */
    gci_options_init();
    gci_pacer_init();
    gci_threads_init();
    gci_stw_init();
    gci_mark_init();
    gci_fin_init();
    gci_prof_init();
    gci_fork_init();
}

void gci_init(void)
{
    pthread_once(&init_once, init_once_fn);
}

static size_t round_page(size_t n) { return (n + GC_PAGE_SIZE - 1) & ~(GC_PAGE_SIZE - 1); }

/* Called inside the critical section t; may leave and re-enter it to zero
 * memory without delaying a stop-the-world. */
void *gci_alloc_large(struct gthread *t, size_t n, int noscan)
{
    if (n > ((size_t)1 << (GC_ADDR_BITS - 1))) {
        errno = ENOMEM;
        return NULL;
    }
    size_t npages = round_page(n) / GC_PAGE_SIZE;
    int fresh;
    gci_sweep_reclaim(npages);
    struct span *s = gci_heap_alloc(npages, &fresh);
    if (!s)
        return NULL;
    if (!fresh) {
        /* The span is off every list and not yet published (state FREE):
         * the collector ignores it, so zeroing can run preemptibly. */
        gci_crit_exit(t);
        memset((void *)s->base, 0, npages * GC_PAGE_SIZE);
        gci_crit_enter();
    }
    gci_span_init_large(s, npages * GC_PAGE_SIZE, noscan, 1);
    if (GC_UNLIKELY(gci_marking))
        s->mark_bits[0] |= 1;   /* allocated black; not yet visible to markers */
    uint64_t bytes = npages * GC_PAGE_SIZE;
    gci_add(&gci->heap_live, bytes);
    gci_add(&gci->large_alloc_bytes, bytes);
    gci_add(&gci->large_mallocs, 1);
    pthread_mutex_lock(&gci->large_lock);
    unsigned sw = (gci_load(&gci->sweepgen) / 2) % 2;
    gci_list_push(&gci->large[sw], s, (uint8_t)(LIST_LARGE0 + sw));
    pthread_mutex_unlock(&gci->large_lock);
    if (GC_UNLIKELY(gci_marking))
        gci_assist_for(t, bytes);   /* large objects owe scan work too */
    else if (gci_should_trigger())
        t->pending.f.gc = 1;
    return (void *)s->base;
}

static inline __attribute__((always_inline)) void *alloc_in(struct gthread *t, size_t n, int noscan)
{
    struct mcache *c = &t->cache;
    if (n <= GC_MAX_SMALL) {
        if (noscan && n < GC_TINY_SIZE && n > 0) {
            uint32_t off = c->tiny_off;
            if ((n & 7) == 0)
                off = (off + 7) & ~7u;
            else if ((n & 3) == 0)
                off = (off + 3) & ~3u;
            else if ((n & 1) == 0)
                off = (off + 1) & ~1u;
            if (c->tiny && off + n <= GC_TINY_SIZE) {
                c->tiny_off = off + (uint32_t)n;
                c->ntiny++;
                return (void *)(c->tiny + off);
            }
            void *p = gci_mcache_alloc(c, GC_SPANCLASS_TINY);
            if (p && (n < c->tiny_off || !c->tiny)) {
                c->tiny = (uintptr_t)p;
                c->tiny_off = (uint32_t)n;
            }
            return p;
        }
        unsigned cls = gci_size_class(n ? n : 1);
        return gci_mcache_alloc(c, cls << 1 | (unsigned)noscan);
    }
    return gci_alloc_large(t, n, noscan);
}

static GC_NOINLINE void *alloc_slow_retry(size_t n, int noscan)
{
    gc_collect();
    struct gthread *t = gci_crit_enter();
    void *p = t ? alloc_in(t, n, noscan) : NULL;
    if (t)
        gci_crit_exit(t);
    if (!p)
        errno = ENOMEM;
    return p;
}

static inline __attribute__((always_inline)) void *gci_alloc(size_t n, int noscan)
{
    struct gthread *t = gci_crit_enter();
    if (GC_UNLIKELY(!t)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = alloc_in(t, n, noscan);
    if (GC_UNLIKELY(t->stress_every) && ++t->cache.stress_count >= t->stress_every) {
        t->cache.stress_count = 0;
        t->pending.f.gc = 2;   /* 2: collect regardless of the trigger */
    }
    /* Profiler sampling (profile.c): one subtraction and branch. */
    int sampled = (t->cache.next_sample -= (int64_t)n) <= 0;
    gci_crit_exit(t);
    if (GC_UNLIKELY(!p))
        return alloc_slow_retry(n, noscan);
    if (GC_UNLIKELY(sampled))
        gci_prof_sampled(p, n, (uintptr_t)__builtin_return_address(0));
    return p;
}

void *gc_malloc(size_t n) { return gci_alloc(n, 0); }
void *gc_malloc_atomic(size_t n) { return gci_alloc(n, 1); }

void *gc_calloc(size_t count, size_t n)
{
    size_t total;
    if (__builtin_mul_overflow(count, n, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return gci_alloc(total, 0);
}

char *gc_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = gci_alloc(n, 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void bad_free(const void *p, const char *why)
{
#if GCTUNE_DEBUG >= 1
    gci_fatal("gc_free(%p): %s", p, why);
#else
    gci_warn("gc_free(%p): %s; ignored", p, why);
#endif
}

/* The alloc bit is cleared and the list checked under large_lock, the lock
 * under which a sweeper disposes of a large span (sweep.c dispose_large):
 * clearing it first let a sweeper free the span, another thread reuse it,
 * and this call then free the other thread's live object. */
static void free_large(struct span *s)
{
    pthread_mutex_lock(&gci->large_lock);
    uint64_t old = __atomic_fetch_and(&s->alloc_bits[0], ~1ull, __ATOMIC_ACQ_REL);
    if (!(old & 1)) {
        pthread_mutex_unlock(&gci->large_lock);
        bad_free((void *)s->base, "double free of a large object");
        return;
    }
    /* Whoever holds the span off the lists (a sweeper) frees it when it
     * sees the cleared bit under large_lock; otherwise we do.  While
     * marking runs concurrently the next sweep frees it (markers may be
     * reading it). */
    int mine = 0;
    if (!gci_marking && (s->list == LIST_LARGE0 || s->list == LIST_LARGE1)) {
        gci_list_remove(&gci->large[s->list - LIST_LARGE0], s);
        mine = 1;
    }
    pthread_mutex_unlock(&gci->large_lock);
    uint64_t bytes = s->npages * GC_PAGE_SIZE;
    gci_sub(&gci->heap_live, bytes);
    gci_add(&gci->large_free_bytes, bytes);
    gci_add(&gci->large_frees, 1);
    if (mine)
        gci_heap_free(s);
}

/* Debug builds poison what gc_free frees (all but the free-list link), so a
 * second gc_free of the same object is recognised.  Release builds catch
 * the common immediate double free by comparing with the free-list head. */
static int poisoned(const struct span *s, const void *ptr)
{
#if GCTUNE_DEBUG >= 1
    const unsigned char *p = ptr;
    if (s->elemsize <= sizeof(void *))
        return 0;
    for (uint32_t i = sizeof(void *); i < s->elemsize; i++)
        if (p[i] != GC_POISON_FREED)
            return 0;
    return 1;
#else
    (void)s; (void)ptr;
    return 0;
#endif
}

void gc_free(void *ptr)
{
    if (!ptr)
        return;
    struct gthread *t = gci_crit_enter();
    if (!t)
        return;
    uintptr_t p = (uintptr_t)ptr;
    struct span *s = gci_span_of(p);
    uint8_t st = s ? __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) : SPAN_DEAD;
    if (st == SPAN_LARGE && p == s->base) {
        gci_span_ensure_swept(s);
        if (s->nfinalizers)
            gci_fin_forget(p);
        if (gci_load(&s->nsampled))
            gci_prof_forget(s, p);
        free_large(s);
    } else if (st == SPAN_SMALL && p >= s->base && p < s->limit) {
        uint32_t idx = gci_span_index(s, p);
        if (s->spanclass == GC_SPANCLASS_TINY) {
            /* shared 16-byte block: left to the collector */
        } else if (s->base + (uintptr_t)idx * s->elemsize != p) {
            bad_free(ptr, "pointer into the middle of an object");
        } else {
            gci_span_ensure_swept(s);
            if (!gci_span_bit(s->alloc_bits, idx) || t->cache.freelist[s->spanclass] == ptr || poisoned(s, ptr)) {
                bad_free(ptr, "object is not allocated (double free, or its pointer was hidden from the collector)");
            } else {
                if (s->nfinalizers)
                    gci_fin_forget(p);
                if (gci_load(&s->nsampled))
                    gci_prof_forget(s, p);
#if GCTUNE_DEBUG >= 1
                memset(ptr, GC_POISON_FREED, s->elemsize);
#endif
                gci_mcache_free_small(&t->cache, s, p);
            }
        }
    } else {
        bad_free(ptr, "not a pointer to a gc object");
    }
    gci_crit_exit(t);
}

size_t gc_usable_size(const void *ptr)
{
    uintptr_t p = (uintptr_t)ptr, base;
    uint32_t idx;
    if (!ptr || !gci)
        return 0;
    struct span *s = gci_find_object(p, &base, &idx);
    if (!s)
        return 0;
    if (s->state == SPAN_LARGE)
        return s->npages * GC_PAGE_SIZE - (p - base);
    if (s->spanclass == GC_SPANCLASS_TINY)
        return 0;   /* tiny objects share 16-byte blocks; their sizes are not recorded */
    return s->elemsize - (p - base);
}

void *gc_base(const void *ptr)
{
    uintptr_t base;
    uint32_t idx;
    if (!ptr || !gci)
        return NULL;
    return gci_find_object((uintptr_t)ptr, &base, &idx) ? (void *)base : NULL;
}

void *gc_realloc(void *p, size_t n)
{
    if (!p)
        return gc_malloc(n);
    if (n == 0) {
        gc_free(p);
        return NULL;
    }
    uintptr_t base;
    uint32_t idx;
    struct span *s = gci ? gci_find_object((uintptr_t)p, &base, &idx) : NULL;
    if (!s || base != (uintptr_t)p) {
        bad_free(p, "gc_realloc of a pointer that is not a gc object");
        errno = EINVAL;
        return NULL;
    }
    size_t old = s->state == SPAN_LARGE ? s->npages * GC_PAGE_SIZE : s->elemsize;
    int noscan = s->noscan;
    if (s->spanclass == GC_SPANCLASS_TINY)
        old = 0;   /* a tiny object's extent is unknown: always copy what fits */
    if (n <= old && n > old / 2) {
        memset((char *)p + n, 0, old - n);   /* keep "memory is zeroed" for later growth */
        return p;
    }
    void *q = gci_alloc(n, noscan);
    if (!q)
        return NULL;
    if (s->spanclass == GC_SPANCLASS_TINY) {
        size_t avail = GC_TINY_SIZE - ((uintptr_t)p & (GC_TINY_SIZE - 1));
        memcpy(q, p, n < avail ? n : avail);
    } else {
        memcpy(q, p, n < old ? n : old);
        gc_free(p);
    }
    return q;
}
