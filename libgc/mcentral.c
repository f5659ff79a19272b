/* mcentral.c - central lists of spans per span class.
 *
 * Owns: the partial/full span lists of each span class and the hand-over of
 * spans between the central lists and mcaches.  See malloc.c for the overview.
 * Invariants (gc_types.h "Central lists"), with sg = gci->sweepgen:
 *   partial[(sg/2)%2], full[(sg/2)%2]      hold swept spans (sweepgen == sg)
 *   partial[1-(sg/2)%2], full[1-(sg/2)%2]  hold spans still to sweep, or
 *                                          swept by gc_free (sweepgen == sg)
 *   a span on a partial list had free slots when it was put there
 * Locking: c->lock for the lists and span->list; sweepgen changes by CAS.
 */
#include "gc_internal.h"

void gci_list_push(struct span **head, struct span *s, uint8_t id)
{
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
    s->list = id;
}

void gci_list_remove(struct span **head, struct span *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->list = LIST_NONE;
}

static struct span *list_pop(struct span **head)
{
    struct span *s = *head;
    if (s)
        gci_list_remove(head, s);
    return s;
}

void gci_central_init(struct central *c, unsigned spc)
{
    pthread_mutex_init(&c->lock, NULL);
    c->spanclass = (uint16_t)spc;
}

struct span **gci_central_list(struct central *c, uint8_t id)
{
    switch (id) {
    case LIST_PARTIAL0: return &c->partial[0];
    case LIST_PARTIAL1: return &c->partial[1];
    case LIST_FULL0: return &c->full[0];
    case LIST_FULL1: return &c->full[1];
    default: return NULL;
    }
}

/* Puts a swept span on the swept partial or full list.  c->lock held. */
void gci_central_place_swept(struct central *c, struct span *s)
{
    unsigned i = (gci_load(&gci->sweepgen) / 2) % 2;
    if (gci_load(&s->alloc_count) < s->nelems)
        gci_list_push(&c->partial[i], s, (uint8_t)(LIST_PARTIAL0 + i));
    else
        gci_list_push(&c->full[i], s, (uint8_t)(LIST_FULL0 + i));
}

/* A span taken off an unswept list: sweep it unless gc_free already did. */
static void take_and_sweep(struct span *s) { gci_span_ensure_swept(s); }

static struct span *new_span(struct central *c)
{
    unsigned cls = gci_spc_class(c->spanclass);
    int fresh;
    gci_sweep_reclaim(gci_class_pages[cls]);
    struct span *s = gci_heap_alloc(gci_class_pages[cls], &fresh);
    if (!s)
        return NULL;
    gci_span_init_small(s, c->spanclass, fresh);
    return s;
}

/* Returns a swept span with at least one free slot, off every list, or NULL
 * on out-of-memory.  Sweeps spans of this class on the way (Go's
 * mcentral.cacheSpan), so the heap grows only when sweeping found nothing. */
struct span *gci_central_cache_span(struct central *c)
{
    int budget = 100;
    struct span *s;
    pthread_mutex_lock(&c->lock);
    unsigned sw = (gci_load(&gci->sweepgen) / 2) % 2, un = 1 - sw;
    if ((s = list_pop(&c->partial[sw])) != NULL)
        goto have;
    while (budget-- > 0 && (s = list_pop(&c->partial[un])) != NULL) {
        pthread_mutex_unlock(&c->lock);
        take_and_sweep(s);
        if (gci_load(&s->alloc_count) == 0 && s->nfinalizers == 0) {
            /* Entirely free: reuse it as is. */
            return s;
        }
        if (gci_load(&s->alloc_count) < s->nelems)
            return s;
        pthread_mutex_lock(&c->lock);
        gci_central_place_swept(c, s);
    }
    while (budget-- > 0 && (s = list_pop(&c->full[un])) != NULL) {
        pthread_mutex_unlock(&c->lock);
        take_and_sweep(s);
        if (gci_load(&s->alloc_count) < s->nelems)
            return s;
        pthread_mutex_lock(&c->lock);
        gci_central_place_swept(c, s);
    }
    pthread_mutex_unlock(&c->lock);
    return new_span(c);
have:
    pthread_mutex_unlock(&c->lock);
    return s;
}

/* Returns a span from an mcache to the central lists (or, if it is empty,
 * to the heap).  The caller has already returned the unused cache bits. */
void gci_central_uncache_span(struct central *c, struct span *s)
{
    s->owner = NULL;
    if (gci_load(&s->alloc_count) == 0 && s->nfinalizers == 0 && !gci_marking) {
        gci_heap_free(s);   /* (not while marking: see gci_free_to_span) */
        return;
    }
    pthread_mutex_lock(&c->lock);
    gci_central_place_swept(c, s);
    pthread_mutex_unlock(&c->lock);
}
