/* mcache.c - per-thread allocation caches.
 *
 * Owns: struct mcache: the current span of each span class with its cached
 * bitmap word, the thread's free lists of gc_free'd objects, the tiny block,
 * and the thread's unflushed statistics.  See malloc.c for the overview.
 * Invariants:
 *   c->alloc[spc] == &gci_empty_span, or a swept span with owner == c whose
 *   alloc_bits[cache_word] is all ones and alloc_cache holds its free slots
 *   objects on c->freelist[spc] are allocated in their span's bitmap and
 *   already counted in c->nfree (they are free for statistics)
 * Only the owning thread touches its mcache, inside a critical section; the
 * collector flushes it with the world stopped.
 */
#include "gc_internal.h"
#include <errno.h>
#include <stdio.h>

#define container_of(p, T, m) ((T *)((char *)(p) - offsetof(T, m)))

void gci_mcache_init(struct mcache *c)
{
    for (unsigned i = 0; i < GC_NUM_SPANCLASSES; i++)
        c->alloc[i] = &gci_empty_span;
}

/* Free-list length above which half the list goes back to its spans. */
static uint32_t freelist_limit(unsigned spc)
{
    uint32_t n = (64 * 1024) / gci_spc_size[spc];
    return n < 32 ? 32 : n;
}

/* Claims the next bitmap word of s that has free slots.  Returns the number
 * of slots claimed (0 if none). */
static unsigned claim_word(struct span *s, uint32_t from)
{
    for (uint32_t w = from; w < s->nwords; w++) {
        if (gci_load_relaxed(&s->alloc_bits[w]) == ~0ull)
            continue;
        uint64_t old = __atomic_exchange_n(&s->alloc_bits[w], ~0ull, __ATOMIC_ACQ_REL);
        uint64_t freebits = ~old;
        if (!freebits)
            continue;
        unsigned n = (unsigned)__builtin_popcountll(freebits);
        s->cache_word = w;
        s->alloc_cache = freebits;
        gci_add(&s->alloc_count, n);
        gci_add(&gci->heap_live, (uint64_t)n * s->elemsize);
        return n;
    }
    return 0;
}

/* During concurrent marking an allocating thread owes scan work in
 * proportion to what it claims: the work still expected this cycle over the
 * bytes left before the heap goal (Go's assistWorkPerByte).  Debts under
 * 64 KiB are carried to amortise the cost of taking a work buffer.  Past
 * the heap goal the thread also asks to wait for the cycle's end when it
 * leaves its critical section (gci_crit_exit_slow). */
void gci_assist_for(struct gthread *t, uint64_t bytes)
{
    uint64_t expected = gci_load_relaxed(&gci->mark_expected), done = gci_load_relaxed(&gci->mark_scanned);
    uint64_t goal = gci_load_relaxed(&gci->next_gc), live = gci_load_relaxed(&gci->heap_live);
    uint64_t left = expected > done ? expected - done : 0;
    uint64_t runway = goal > live + (1u << 20) ? goal - live : (1u << 20);
    double per_byte = (double)left / (double)runway;
    t->assist_credit -= (int64_t)((double)bytes * per_byte);
    if (t->assist_credit < -(64 << 10))
        gci_mark_assist(t, (uint64_t)-t->assist_credit);
    if (live >= gci_pacer_wait_goal())
        t->pending.f.gc = 1;   /* past the goal: wait for the cycle (threads.c) */
}

/* Gives the unused slots of the cached word back to the span's bitmap. */
static void unclaim_word(struct span *s)
{
    uint64_t rest = s->alloc_cache;
    if (rest) {
        unsigned n = (unsigned)__builtin_popcountll(rest);
        __atomic_fetch_and(&s->alloc_bits[s->cache_word], ~rest, __ATOMIC_ACQ_REL);
        gci_sub(&s->alloc_count, n);
        gci_sub(&gci->heap_live, (uint64_t)n * s->elemsize);
        s->alloc_cache = 0;
    }
}

void *gci_mcache_refill_alloc(struct mcache *c, unsigned spc)
{
    struct span *s = c->alloc[spc];
    unsigned claimed;
    if (s != &gci_empty_span) {
        if ((claimed = claim_word(s, s->cache_word + 1)) != 0)
            goto take;
        c->alloc[spc] = &gci_empty_span;
        gci_central_uncache_span(&gci->central[spc], s);
    }
    for (int tries = 0; tries < 8; tries++) {
        s = gci_central_cache_span(&gci->central[spc]);
        if (!s)
            return NULL;
        s->owner = c;
        if ((claimed = claim_word(s, 0)) != 0) {
            c->alloc[spc] = s;
            goto take;
        }
        gci_central_uncache_span(&gci->central[spc], s);   /* raced to full: try another */
    }
    errno = ENOMEM;
    return NULL;
take: {
        struct gthread *t = container_of(c, struct gthread, cache);
        if (GC_UNLIKELY(gci_marking))
            gci_assist_for(t, (uint64_t)claimed * s->elemsize);
        else if (gci_should_trigger())
            t->pending.f.gc = 1;
    }
    return gci_mcache_alloc(c, spc);
}

/* Returns an object to its span's bitmap.  Statistics were counted at
 * gc_free time.  Inside a critical section or with the world stopped. */
void gci_free_to_span(struct span *s, uintptr_t p, uint32_t idx)
{
    gci_span_ensure_swept(s);
    uint64_t bit = 1ull << (idx & 63);
    uint64_t old = __atomic_fetch_and(&s->alloc_bits[idx >> 6], ~bit, __ATOMIC_ACQ_REL);
    if (!(old & bit))
        gci_fatal("free list object %p was already free", (void *)p);
    s->needzero = 1;   /* the slot holds the old object's bytes */
    uint32_t cnt = gci_sub(&s->alloc_count, 1);
    gci_sub(&gci->heap_live, (uint64_t)s->elemsize);
    if (cnt != s->nelems - 1 && cnt != 0)
        return;
    /* Full -> partial, or partial -> empty: fix the span's list. */
    struct central *c = &gci->central[s->spanclass];
    struct span *to_free = NULL;
    pthread_mutex_lock(&c->lock);
    unsigned sw = (gci_load(&gci->sweepgen) / 2) % 2;
    if (s->list == LIST_FULL0 + sw && cnt < s->nelems) {
        gci_list_remove(&c->full[sw], s);
        gci_central_place_swept(c, s);
    }
    /* No span goes back to the heap while marking runs concurrently: a
     * marker may be reading its metadata (the next sweep frees it). */
    if (s->list == LIST_PARTIAL0 + sw && gci_load(&s->alloc_count) == 0 && s->nfinalizers == 0 && !gci_marking) {
        gci_list_remove(&c->partial[sw], s);
        to_free = s;
    }
    pthread_mutex_unlock(&c->lock);
    if (to_free)
        gci_heap_free(to_free);
}

void gci_mcache_free_small(struct mcache *c, struct span *s, uintptr_t p)
{
    unsigned spc = s->spanclass;
    *(void **)p = c->freelist[spc];
    c->freelist[spc] = (void *)p;
    c->nfree[spc]++;
    if (++c->freelist_len[spc] <= freelist_limit(spc))
        return;
    /* Keep the most recently freed half (cache-warm), return the rest. */
    uint32_t keep = c->freelist_len[spc] / 2;
    void *q = c->freelist[spc];
    for (uint32_t i = 1; i < keep; i++)
        q = *(void **)q;
    void *rest = *(void **)q;
    *(void **)q = NULL;
    c->freelist_len[spc] = keep;
    while (rest) {
        void *next = *(void **)rest;
        struct span *rs = gci_span_of((uintptr_t)rest);
        *(void **)rest = NULL;
        gci_free_to_span(rs, (uintptr_t)rest, gci_span_index(rs, (uintptr_t)rest));
        rest = next;
    }
}

void gci_mcache_flush(struct mcache *c)
{
    for (unsigned spc = 0; spc < GC_NUM_SPANCLASSES; spc++) {
        void *q = c->freelist[spc];
        c->freelist[spc] = NULL;
        c->freelist_len[spc] = 0;
        while (q) {
            void *next = *(void **)q;
            struct span *s = gci_span_of((uintptr_t)q);
            *(void **)q = NULL;
            gci_free_to_span(s, (uintptr_t)q, gci_span_index(s, (uintptr_t)q));
            q = next;
        }
        struct span *s = c->alloc[spc];
        if (s != &gci_empty_span) {
            c->alloc[spc] = &gci_empty_span;
            unclaim_word(s);
            gci_central_uncache_span(&gci->central[spc], s);
        }
    }
    c->tiny = 0;
    c->tiny_off = 0;
}

void gci_mcache_flush_stats(struct mcache *c)
{
    for (unsigned spc = 0; spc < GC_NUM_SPANCLASSES; spc++) {
        if (c->nmalloc[spc]) {
            gci_add(&gci->nmalloc[spc], c->nmalloc[spc]);
            c->nmalloc[spc] = 0;
        }
        if (c->nfree[spc]) {
            gci_add(&gci->nfree[spc], c->nfree[spc]);
            c->nfree[spc] = 0;
        }
    }
    if (c->ntiny) {
        gci_add(&gci->ntiny, c->ntiny);
        c->ntiny = 0;
    }
}
