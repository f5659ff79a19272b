/* span.c - span initialisation and bitmaps.
 *
 * Owns: turning a run of pages from the heap into a small-object span of a
 * span class or a large-object span, and the span's two bitmaps.
 * Invariants (see gc_types.h "Spans"):
 *   nwords == ceil(nelems / 64); bits >= nelems are set in alloc_bits and in
 *   mark_bits' reset pattern, so they never look free;
 *   divmul == UINT32_MAX / elemsize + 1, exact for every offset in the span
 *   (Go's divMagic; verified for all classes by test_span).
 * A span is published to lock-free readers (gci_find_object) by the release
 * store of its state, after all other fields are written.
 */
#include "gc_internal.h"

struct span gci_empty_span;   /* alloc_cache == 0: the fast path always misses */

static void span_alloc_bits(struct span *s, unsigned nwords)
{
    uint64_t *b = gci_fixalloc_alloc(&gci->bits_fa[nwords]);
    if (!b)
        gci_fatal("out of memory for span bitmaps");
    s->nwords = (uint8_t)nwords;
    s->alloc_bits = b;
    s->mark_bits = b + nwords;
    unsigned tail = s->nelems & 63;
    if (tail) {
        uint64_t mask = ~0ull << tail;
        s->alloc_bits[nwords - 1] = mask;
        s->mark_bits[nwords - 1] = mask;
    }
}

void gci_span_release_bits(struct span *s)
{
    if (s->alloc_bits) {
        gci_fixalloc_free(&gci->bits_fa[s->nwords], s->alloc_bits);
        s->alloc_bits = s->mark_bits = NULL;
    }
}

void gci_span_init_small(struct span *s, unsigned spc, int fresh)
{
    uint32_t size = gci_spc_size[spc];
    s->elemsize = size;
    s->nelems = (uint32_t)(s->npages * GC_PAGE_SIZE / size);
    s->divmul = UINT32_MAX / size + 1;
    s->limit = s->base + (uintptr_t)s->nelems * size;
    s->spanclass = (uint16_t)spc;
    s->noscan = (uint8_t)gci_spc_noscan(spc);
    s->needzero = (uint8_t)!fresh;
    s->alloc_count = 0;
    s->nfinalizers = 0;
    s->nsampled = 0;
    s->cache_word = 0;
    s->alloc_cache = 0;
    s->owner = NULL;
    s->list = LIST_NONE;
    s->large_size = 0;
    span_alloc_bits(s, (s->nelems + 63) / 64);
    s->sweepgen = gci_load(&gci->sweepgen);
    __atomic_store_n(&s->state, SPAN_SMALL, __ATOMIC_RELEASE);
}

void gci_span_init_large(struct span *s, uint64_t size, int noscan, int fresh)
{
    uint64_t bytes = s->npages * GC_PAGE_SIZE;
    s->elemsize = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
    s->nelems = 1;
    s->divmul = 0;
    s->limit = s->base + bytes;
    s->spanclass = (uint16_t)(noscan ? 1 : 0);
    s->noscan = (uint8_t)noscan;
    s->needzero = (uint8_t)!fresh;
    s->nfinalizers = 0;
    s->nsampled = 0;
    s->owner = NULL;
    s->list = LIST_NONE;
    s->large_size = size;
    span_alloc_bits(s, 1);
    s->alloc_bits[0] |= 1;          /* the one object is allocated */
    s->alloc_count = 1;
    s->sweepgen = gci_load(&gci->sweepgen);
    __atomic_store_n(&s->state, SPAN_LARGE, __ATOMIC_RELEASE);
}
