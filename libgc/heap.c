/* heap.c - the page heap: arenas, free page runs, metadata allocation.
 *
 * Owns: arena reservation, the arena index (arena_l1), free runs of pages and
 * their coalescing, span structs (via span_fa), and the fixed-size metadata
 * allocators.  See malloc.c for the overview.
 *
 * Free runs: a run of n < GC_FREE_SMALL_RUNS pages is on free_exact[n]
 * (a bitmap of non-empty lists finds the smallest fitting n with one ctz);
 * longer runs are in a treap ordered by (npages, base), searched for the
 * smallest run that fits.  Allocation and free are O(log runs), never a scan
 * of all spans.
 * Invariants (checked by gci_heap_verify):
 *   no two free runs are adjacent (free coalesces both neighbours)
 *   heap_sys == (pages in use + pages in free runs) * GC_PAGE_SIZE
 *   spans[] maps every page of an in-use span, and the first and last page
 *   of a free run, to that span
 * Locking: heap_lock for everything here except fixalloc (own locks) and
 * the arena index, which is written under heap_lock and read without locks
 * (entries only go from NULL to a value).
 *
 * Released pages (the scavenger, scavenge.c).  A free page may have been
 * returned to the OS (gci_os_release, MADV_DONTNEED: it is no longer
 * resident and reads back as zeros).  Each arena has a bitmap of released
 * pages, one bit per page, stored right after its struct arena_meta in the
 * same metadata mapping (released_bits()).  Free spans (state SPAN_FREE)
 * do not use the object fields, so two of them are reused while a span is
 * a free run (span.c overwrites both when the pages are put in use):
 *   large_size  released pages in the run (the bitmap's popcount over it)
 *   nelems      scavenger epoch when the run became free (its "free since"
 *               stamp; merged runs keep the stamp of the part with more
 *               unreleased pages)
 * Invariants (checked by gci_heap_verify), all under heap_lock:
 *   pages_released == sum over free runs of large_size
 *   a page of an in-use span, or of the unused tail of the newest
 *   reservation, has its released bit clear
 *   a free run with large_size == npages has needzero == 0 (its pages
 *   come back zeroed), and a span allocated entirely from released pages
 *   is fresh (needzero == 0); any other split keeps needzero
 * The never-touched tail of a retired reservation becomes a free run that
 * counts as released (it is not resident), as Go counts fresh mappings.
 * Released pages are cleared from the bitmap when they are allocated, so
 * pages_released is exact.  Releasing is done by gci_heap_scavenge_locked,
 * largest runs first and from the end of each run (allocation takes the
 * start of a run, so the pages that stay resident are the ones reused
 * first).
 */
#include "gc_internal.h"
#include "scavenge.h"
#include <errno.h>
#include <stdlib.h>

#define FIXALLOC_CHUNK (256 * 1024)
#define ALLSPANS_MAX   ((size_t)1 << 24)
#define RELEASED_BITMAP_BYTES (GC_PAGES_PER_ARENA / 8)   /* 1 KiB per 64 MiB arena */

/* Scavenger epoch: stamped on runs as they become free (nelems); advanced
 * by gci_heap_scav_advance_epoch.  heap_lock. */
static uint32_t scav_epoch;
/* Pages released by the scavenger since start (heap_released only counts
 * what is still released).  heap_lock. */
static uint64_t scav_total_pages;

/* ---- fixalloc ---- */

void gci_fixalloc_init(struct fixalloc *f, size_t size, void (*first)(void *))
{
    pthread_mutex_init(&f->lock, NULL);
    f->size = (size + 15) & ~(size_t)15;
    f->free = NULL;
    f->chunk = f->chunk_end = NULL;
    f->first = first;
}

void *gci_fixalloc_alloc(struct fixalloc *f)
{
    void *p;
    int fresh = 0;
    pthread_mutex_lock(&f->lock);
    if (f->free) {
        p = f->free;
        f->free = *(void **)p;
    } else {
        if ((size_t)(f->chunk_end - f->chunk) < f->size) {
            size_t len = f->size > FIXALLOC_CHUNK ? f->size : FIXALLOC_CHUNK;
            char *c = gci_os_map_meta(len);
            if (!c) {
                pthread_mutex_unlock(&f->lock);
                errno = ENOMEM;
                return NULL;
            }
            gci_add(&gci->metadata_sys, len);
            f->chunk = c;
            f->chunk_end = c + len;
        }
        p = f->chunk;
        f->chunk += f->size;
        fresh = 1;
    }
    if (fresh && f->first)
        f->first(p);
    pthread_mutex_unlock(&f->lock);
    if (!fresh)
        memset(p, 0, f->size);
    return p;
}

/* Replaces a growable metadata array (roots, finalizer queue, pool slots)
 * by a fresh mapping of new_bytes holding its first keep_bytes, and keeps
 * metadata_sys in step.  Returns the new array, or NULL (old kept) on
 * ENOMEM. */
void *gci_meta_resize(void *old, size_t old_bytes, size_t keep_bytes, size_t new_bytes)
{
    void *n = gci_os_map_meta(new_bytes);
    if (!n)
        return NULL;
    if (old) {
        memcpy(n, old, keep_bytes);
        gci_os_unmap(old, old_bytes);
    }
    gci_add(&gci->metadata_sys, new_bytes);
    gci_sub(&gci->metadata_sys, old_bytes);
    return n;
}

void gci_fixalloc_free(struct fixalloc *f, void *p)
{
    pthread_mutex_lock(&f->lock);
    *(void **)p = f->free;
    f->free = p;
    pthread_mutex_unlock(&f->lock);
}

/* First allocation of a span struct: remember it for gci_heap_verify. */
static void record_span(void *p)
{
    uint64_t i = gci->nallspans;
    if (i >= ALLSPANS_MAX)
        gci_fatal("more than %zu span structs", ALLSPANS_MAX);
    gci->allspans[i] = p;
    gci_store(&gci->nallspans, i + 1);
}

void gci_heap_init(void)
{
    pthread_mutex_init(&gci->heap_lock, NULL);
    gci->arena_l1 = gci_os_map_meta(GC_ARENA_L1_LEN * sizeof(struct arena_meta *));
    gci->allspans = gci_os_map_meta(ALLSPANS_MAX * sizeof(struct span *));
    if (!gci->arena_l1 || !gci->allspans)
        gci_fatal("cannot reserve heap metadata");
    gci->heap_lo = gci->heap_hi = 0;
    gci->treap_seed = 2463534242u;
    gci_fixalloc_init(&gci->span_fa, sizeof(struct span), record_span);
}

/* ---- free runs: exact lists and treap ---- */

static uint32_t treap_rand(void)
{
    uint32_t x = gci->treap_seed;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return gci->treap_seed = x;
}

static int key_less(const struct span *t, size_t n, uintptr_t base)
{
    return t->npages < n || (t->npages == n && t->base < base);
}

static struct span *treap_merge(struct span *a, struct span *b)
{
    if (!a) return b;
    if (!b) return a;
    if (a->prio > b->prio) {
        a->right = treap_merge(a->right, b);
        return a;
    }
    b->left = treap_merge(a, b->left);
    return b;
}

/* Splits t into keys < (n, base) and keys >= (n, base). */
static void treap_split(struct span *t, size_t n, uintptr_t base, struct span **l, struct span **r)
{
    if (!t) {
        *l = *r = NULL;
    } else if (key_less(t, n, base)) {
        treap_split(t->right, n, base, &t->right, r);
        *l = t;
    } else {
        treap_split(t->left, n, base, l, &t->left);
        *r = t;
    }
}

static void treap_insert(struct span *s)
{
    struct span *l, *r;
    s->left = s->right = NULL;
    s->prio = treap_rand();
    treap_split(gci->free_tree, s->npages, s->base, &l, &r);
    gci->free_tree = treap_merge(treap_merge(l, s), r);
}

static void treap_remove(struct span *s)
{
    struct span *l, *m, *r;
    treap_split(gci->free_tree, s->npages, s->base, &l, &m);
    treap_split(m, s->npages, s->base + 1, &m, &r);
    gc_assert_always(m == s && !s->left && !s->right);
    gci->free_tree = treap_merge(l, r);
}

static struct span *treap_lower_bound(size_t n)
{
    struct span *t = gci->free_tree, *best = NULL;
    while (t) {
        if (t->npages >= n) {
            best = t;
            t = t->left;
        } else {
            t = t->right;
        }
    }
    return best;
}

static void free_insert(struct span *s)
{
    s->state = SPAN_FREE;
    s->list = LIST_FREE;
    if (s->npages < GC_FREE_SMALL_RUNS) {
        gci_list_push(&gci->free_exact[s->npages], s, LIST_FREE);
        gci->free_exact_nonempty[s->npages >> 6] |= 1ull << (s->npages & 63);
    } else {
        treap_insert(s);
    }
}

static void free_remove(struct span *s)
{
    gc_assert_internal(s->state == SPAN_FREE && s->list == LIST_FREE);
    if (s->npages < GC_FREE_SMALL_RUNS) {
        gci_list_remove(&gci->free_exact[s->npages], s);
        if (!gci->free_exact[s->npages])
            gci->free_exact_nonempty[s->npages >> 6] &= ~(1ull << (s->npages & 63));
    } else {
        treap_remove(s);
    }
    s->list = LIST_NONE;
}

static struct span *free_find(size_t npages)
{
    if (npages < GC_FREE_SMALL_RUNS) {
        for (size_t w = npages >> 6; w < GC_FREE_SMALL_RUNS / 64; w++) {
            uint64_t bits = gci->free_exact_nonempty[w];
            if (w == npages >> 6)
                bits &= ~0ull << (npages & 63);
            if (bits) {
                size_t n = w * 64 + (size_t)__builtin_ctzll(bits);
                struct span *s = gci->free_exact[n];
                free_remove(s);
                return s;
            }
        }
    }
    struct span *s = treap_lower_bound(npages);
    if (s)
        free_remove(s);
    return s;
}

/* ---- page map ---- */

static struct span **page_slot(uintptr_t addr)
{
    struct arena_meta *a = gci->arena_l1[addr >> GC_ARENA_SHIFT];
    return a ? &a->spans[(addr >> GC_PAGE_SHIFT) & (GC_PAGES_PER_ARENA - 1)] : NULL;
}

/* ---- released-page bitmaps (see the header comment) ---- */

static uint64_t *released_bits(uintptr_t addr)
{
    return (uint64_t *)(gci->arena_l1[addr >> GC_ARENA_SHIFT] + 1);
}

static size_t page_in_arena(uintptr_t addr) { return (addr >> GC_PAGE_SHIFT) & (GC_PAGES_PER_ARENA - 1); }

static int page_released(uintptr_t addr)
{
    size_t i = page_in_arena(addr);
    return (int)((released_bits(addr)[i >> 6] >> (i & 63)) & 1);
}

enum bits_op { BITS_COUNT, BITS_SET, BITS_CLEAR };

/* Counts the released bits of [base, base + npages pages) (the range may
 * cross arenas), then sets or clears them if asked.  Returns the count
 * before the change. */
static size_t released_op(uintptr_t base, size_t npages, enum bits_op op)
{
    size_t total = 0;
    while (npages > 0) {
        uint64_t *bits = released_bits(base);
        size_t i = page_in_arena(base);
        size_t n = GC_PAGES_PER_ARENA - i < npages ? GC_PAGES_PER_ARENA - i : npages;
        for (size_t end = i + n; i < end;) {
            size_t b = i & 63, k = 64 - b < end - i ? 64 - b : end - i;
            uint64_t mask = (k == 64 ? ~0ull : (1ull << k) - 1) << b;
            uint64_t *w = &bits[i >> 6];
            total += (size_t)__builtin_popcountll(*w & mask);
            if (op == BITS_SET)
                *w |= mask;
            else if (op == BITS_CLEAR)
                *w &= ~mask;
            i += k;
        }
        base += n * GC_PAGE_SIZE;
        npages -= n;
    }
    return total;
}

void gci_span_set_pages(struct span *s, struct span *val, int all)
{
    if (all) {
        for (size_t i = 0; i < s->npages; i++)
            *page_slot(s->base + i * GC_PAGE_SIZE) = val;
    } else {
        *page_slot(s->base) = val;
        *page_slot(s->base + (s->npages - 1) * GC_PAGE_SIZE) = val;
    }
}

static struct span *new_span_struct(uintptr_t base, size_t npages)
{
    struct span *s = gci_fixalloc_alloc(&gci->span_fa);
    if (!s)
        return NULL;
    s->base = base;
    s->npages = npages;
    s->state = SPAN_FREE;
    return s;
}

/* Folds free run o into s (the caller fixes base and unlinks o): the
 * released counts add up, and the stamp of the part with more unreleased
 * pages wins (so a small fresh neighbour neither resets the age of a big
 * old run nor gets a big fresh run released early). */
static void merge_free_fields(struct span *s, const struct span *o)
{
    uint64_t us = s->npages - s->large_size, uo = o->npages - o->large_size;
    if (uo > us)
        s->nelems = o->nelems;
    s->npages += o->npages;
    s->large_size += o->large_size;
    s->needzero |= o->needzero;
}

/* Inserts a free run (large_size and nelems already set), merging it with
 * free neighbours. */
static void free_coalesce_insert(struct span *s)
{
    if (s->base >= GC_PAGE_SIZE) {
        struct span **slot = page_slot(s->base - GC_PAGE_SIZE);
        struct span *p = slot ? *slot : NULL;
        if (p && p != s && p->state == SPAN_FREE && p->list == LIST_FREE &&
            p->base + p->npages * GC_PAGE_SIZE == s->base) {
            free_remove(p);
            s->base = p->base;
            merge_free_fields(s, p);
            p->state = SPAN_DEAD;
            gci_fixalloc_free(&gci->span_fa, p);
        }
    }
    uintptr_t end = s->base + s->npages * GC_PAGE_SIZE;
    if (end < gci->heap_hi && !(end >= gci->cur_arena && end < gci->cur_arena_end)) {
        struct span **slot = page_slot(end);
        struct span *n = slot ? *slot : NULL;
        if (n && n != s && n->state == SPAN_FREE && n->list == LIST_FREE && n->base == end) {
            free_remove(n);
            merge_free_fields(s, n);
            n->state = SPAN_DEAD;
            gci_fixalloc_free(&gci->span_fa, n);
        }
    }
    if (s->large_size == s->npages)
        s->needzero = 0;
    gci_span_set_pages(s, s, 0);
    free_insert(s);
}

/* Reserves a new arena region of at least `bytes` and makes it current. */
static int grow_arena(size_t bytes)
{
    size_t size = (bytes + GC_ARENA_SIZE - 1) & ~(GC_ARENA_SIZE - 1);
    if (size < bytes)
        return -1;
    char *p = gci_os_reserve(size, GC_ARENA_SIZE);
    if (!p)
        return -1;
    for (size_t off = 0; off < size; off += GC_ARENA_SIZE) {
        uintptr_t a = (uintptr_t)p + off;
        struct arena_meta *m = gci_os_map_meta(sizeof *m + RELEASED_BITMAP_BYTES);
        if (!m) {
            gci_os_unmap(p, size);   /* earlier arena_meta of this region stay, unused */
            return -1;
        }
        gci_add(&gci->metadata_sys, sizeof *m + RELEASED_BITMAP_BYTES);
        gci_store(&gci->arena_l1[a >> GC_ARENA_SHIFT], m);
    }
    uintptr_t lo = (uintptr_t)p, hi = lo + size;
    if (gci->heap_hi == 0) {
        gci->heap_lo = lo;
        gci->heap_hi = hi;
    } else {
        if (lo < gci->heap_lo) gci->heap_lo = lo;
        if (hi > gci->heap_hi) gci->heap_hi = hi;
    }
    if (lo == gci->cur_arena_end) {
        gci->cur_arena_end = hi;
        return 0;
    }
    /* Retire the unused tail of the previous region as a free run. */
    if (gci->cur_arena_end > gci->cur_arena) {
        size_t rest = (gci->cur_arena_end - gci->cur_arena) / GC_PAGE_SIZE;
        struct span *s = new_span_struct(gci->cur_arena, rest);
        if (s) {
            /* Never touched, so not resident: released (and zero). */
            released_op(s->base, rest, BITS_SET);
            s->large_size = rest;
            s->nelems = scav_epoch;
            s->needzero = 0;
            gci->pages_released += rest;
            gci->heap_sys += rest * GC_PAGE_SIZE;
            gci->cur_arena = gci->cur_arena_end;
            free_coalesce_insert(s);
        }
    }
    gci->cur_arena = lo;
    gci->cur_arena_end = hi;
    return 0;
}

struct span *gci_heap_alloc(size_t npages, int *fresh)
{
    if (npages == 0 || npages > ((size_t)1 << (GC_ADDR_BITS - GC_PAGE_SHIFT - 1))) {
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_lock(&gci->heap_lock);
    size_t grown = 0;
    struct span *s = free_find(npages);
    if (!s) {
        size_t bytes = npages * GC_PAGE_SIZE;
        if (gci->cur_arena_end - gci->cur_arena < bytes && grow_arena(bytes) != 0) {
            pthread_mutex_unlock(&gci->heap_lock);
            errno = ENOMEM;
            return NULL;
        }
        s = new_span_struct(gci->cur_arena, npages);
        if (!s) {
            pthread_mutex_unlock(&gci->heap_lock);
            errno = ENOMEM;
            return NULL;
        }
        gci->cur_arena += bytes;
        gci->heap_sys += bytes;
        s->needzero = 0;
        s->large_size = 0;   /* bits of never-used pages are clear */
        grown = bytes;
    }
    if (s->npages > npages) {
        struct span *rest = new_span_struct(s->base + npages * GC_PAGE_SIZE, s->npages - npages);
        if (!rest) {
            free_coalesce_insert(s);
            pthread_mutex_unlock(&gci->heap_lock);
            errno = ENOMEM;
            return NULL;
        }
        size_t rel = s->large_size ? released_op(s->base, npages, BITS_CLEAR) : 0;
        rest->large_size = s->large_size - rel;
        rest->nelems = s->nelems;   /* the rest has been free as long as s */
        rest->needzero = rest->large_size == rest->npages ? 0 : s->needzero;
        s->npages = npages;
        s->large_size = rel;
        gci_span_set_pages(rest, rest, 0);
        free_insert(rest);
    } else if (s->large_size) {
        released_op(s->base, npages, BITS_CLEAR);
    }
    /* Released pages read back as zeros: all released means fresh. */
    if (s->large_size == npages)
        s->needzero = 0;
    gci->pages_released -= s->large_size;
    s->large_size = 0;
    s->list = LIST_NONE;
    gci_span_set_pages(s, s, 1);
    gci->pages_inuse += npages;
    *fresh = !s->needzero;
    if (grown)
        gci_scavenge_on_grow_locked(grown);
    pthread_mutex_unlock(&gci->heap_lock);
    return s;
}

void gci_heap_free_locked(struct span *s)
{
    gc_assert(s->state == SPAN_SMALL || s->state == SPAN_LARGE);
    gc_assert(s->list == LIST_NONE);
    gci_span_release_bits(s);
    gci->pages_inuse -= s->npages;
    __atomic_store_n(&s->state, SPAN_FREE, __ATOMIC_RELEASE);
    s->needzero = 1;
    s->owner = NULL;
    s->large_size = 0;          /* in-use pages are never released */
    s->nelems = scav_epoch;     /* free since now */
    free_coalesce_insert(s);
}

void gci_heap_free(struct span *s)
{
#if GCTUNE_DEBUG >= 1
    memset((void *)s->base, GC_POISON_FREED, s->npages * GC_PAGE_SIZE);
#endif
    pthread_mutex_lock(&gci->heap_lock);
    gci_heap_free_locked(s);
    pthread_mutex_unlock(&gci->heap_lock);
}

size_t gci_heap_largest_free_run(void)
{
    size_t best = 0;
    pthread_mutex_lock(&gci->heap_lock);
    for (struct span *t = gci->free_tree; t; t = t->right)
        best = t->npages;
    if (!best)
        for (size_t n = GC_FREE_SMALL_RUNS - 1; n > 0 && !best; n--)
            if (gci->free_exact[n])
                best = n;
    pthread_mutex_unlock(&gci->heap_lock);
    return best;
}

/* ---- scavenging: the mechanism (the policy is in scavenge.c) ---- */

/* Releases up to budget unreleased pages of free run s, from its last page
 * down, in maximal contiguous ranges.  heap_lock held.  Returns the pages
 * released. */
static size_t release_run(struct span *s, size_t budget)
{
    size_t done = 0, i = s->npages;   /* pages [0, i) are still to look at */
    while (i > 0 && done < budget) {
        /* Skip released pages, a whole bitmap word at a time when it can. */
        while (i > 0) {
            uintptr_t a = s->base + (i - 1) * GC_PAGE_SIZE;
            size_t pi = page_in_arena(a);
            uint64_t w = released_bits(a)[pi >> 6];
            if ((pi & 63) == 63 && w == ~0ull && i >= 64) {
                i -= 64;
                continue;
            }
            if (!((w >> (pi & 63)) & 1))
                break;
            i--;
        }
        size_t hi = i;
        while (i > 0 && hi - i < budget - done && !page_released(s->base + (i - 1) * GC_PAGE_SIZE))
            i--;
        if (hi == i)
            break;
        uintptr_t lo = s->base + i * GC_PAGE_SIZE;
        gci_os_release((void *)lo, (hi - i) * GC_PAGE_SIZE);
        released_op(lo, hi - i, BITS_SET);
        done += hi - i;
    }
    s->large_size += done;
    if (s->large_size == s->npages)
        s->needzero = 0;
    return done;
}

struct scav_walk {
    size_t budget, done;   /* pages */
    int aged;              /* only runs stamped before cutoff */
    uint32_t cutoff;
};

static void scav_visit(struct span *s, struct scav_walk *w)
{
    if (w->done >= w->budget || s->large_size == s->npages)
        return;
    if (w->aged && (int32_t)(s->nelems - w->cutoff) >= 0)
        return;
    w->done += release_run(s, w->budget - w->done);
}

/* Largest runs first: the treap in decreasing (npages, base) order. */
static void scav_tree(struct span *t, struct scav_walk *w)
{
    while (t && w->done < w->budget) {
        scav_tree(t->right, w);
        scav_visit(t, w);
        t = t->left;   /* tail position: iterate instead of recursing */
    }
}

size_t gci_heap_scavenge_locked(size_t max_pages, int aged, uint32_t cutoff)
{
    struct scav_walk w = {max_pages, 0, aged, cutoff};
    if (gci->pages_released * GC_PAGE_SIZE + gci->pages_inuse * GC_PAGE_SIZE >= gci->heap_sys)
        return 0;   /* every free page is released already */
    scav_tree(gci->free_tree, &w);
    for (size_t n = GC_FREE_SMALL_RUNS - 1; n > 0 && w.done < w.budget; n--)
        for (struct span *s = gci->free_exact[n]; s && w.done < w.budget; s = s->next)
            scav_visit(s, &w);
    gci->pages_released += w.done;
    scav_total_pages += w.done;
    return w.done;
}

uint32_t gci_heap_scav_advance_epoch(void)
{
    return scav_epoch++;
}

uint64_t gci_heap_scavenged_total_pages(void)
{
    return scav_total_pages;
}

/* Checks the heap's invariant equations; fatal on a violation.  Call with
 * the world stopped or from a single thread.  Returns the free pages. */
#ifdef GC_TESTING
static uint64_t test_verify_runs;
uint64_t gci_test_heap_verify_runs(void) { return __atomic_load_n(&test_verify_runs, __ATOMIC_ACQUIRE); }
#endif

uint64_t gci_heap_verify(void)
{
#ifdef GC_TESTING
    __atomic_add_fetch(&test_verify_runs, 1, __ATOMIC_RELEASE);
#endif
    pthread_mutex_lock(&gci->heap_lock);
    uint64_t inuse = 0, freep = 0, released = 0, n = gci_load(&gci->nallspans);
    for (uint64_t i = 0; i < n; i++) {
        struct span *s = gci->allspans[i];
        if (s->state == SPAN_DEAD)
            continue;
        if (s->state != SPAN_FREE || s->list != LIST_FREE) {
            if (released_op(s->base, s->npages, BITS_COUNT) != 0)
                gci_fatal("heap verify: span %p [%#lx, +%zu pages) in use has released pages", (void *)s,
                          (unsigned long)s->base, s->npages);
        }
        if (s->state == SPAN_FREE) {
            if (s->list != LIST_FREE) {
                /* Allocated but not yet published: a large object being
                 * zeroed outside its critical section (gci_alloc_large). */
                inuse += s->npages;
                continue;
            }
            freep += s->npages;
            size_t rel = released_op(s->base, s->npages, BITS_COUNT);
            if (rel != s->large_size)
                gci_fatal("heap verify: free run %p: %zu released pages in the bitmap but %lu counted", (void *)s,
                          rel, (unsigned long)s->large_size);
            if (rel == s->npages && s->needzero)
                gci_fatal("heap verify: free run %p is all released but needzero", (void *)s);
            released += rel;
            if (*page_slot(s->base) != s || *page_slot(s->base + (s->npages - 1) * GC_PAGE_SIZE) != s)
                gci_fatal("heap verify: free span %p [%#lx, +%zu pages) not mapped", (void *)s,
                          (unsigned long)s->base, s->npages);
            struct span **nx = page_slot(s->base + s->npages * GC_PAGE_SIZE);
            if (nx && *nx && *nx != s && (*nx)->state == SPAN_FREE && (*nx)->list == LIST_FREE &&
                (*nx)->base == s->base + s->npages * GC_PAGE_SIZE)
                gci_fatal("heap verify: adjacent free runs at %#lx not coalesced", (unsigned long)(*nx)->base);
            continue;
        }
        inuse += s->npages;
        for (size_t p = 0; p < s->npages; p++)
            if (*page_slot(s->base + p * GC_PAGE_SIZE) != s)
                gci_fatal("heap verify: page %zu of span %p maps elsewhere", p, (void *)s);
        if (s->state == SPAN_SMALL && !s->owner) {
            uint32_t cnt = 0;
            for (unsigned w = 0; w < s->nwords; w++)
                cnt += (uint32_t)__builtin_popcountll(s->alloc_bits[w]);
            cnt -= s->nwords * 64 - s->nelems;
            if (cnt != gci_load(&s->alloc_count))
                gci_fatal("heap verify: span %p class %u: alloc_count %u but %u bits set", (void *)s,
                          s->spanclass, s->alloc_count, cnt);
            if (s->limit != s->base + (uintptr_t)s->nelems * s->elemsize ||
                s->limit > s->base + s->npages * GC_PAGE_SIZE)
                gci_fatal("heap verify: span %p limit out of range", (void *)s);
        }
    }
    if (inuse != gci->pages_inuse)
        gci_fatal("heap verify: %lu pages in spans but pages_inuse %lu", (unsigned long)inuse,
                  (unsigned long)gci->pages_inuse);
    if ((inuse + freep) * GC_PAGE_SIZE != gci->heap_sys)
        gci_fatal("heap verify: in use %lu + free %lu pages != heap_sys %lu bytes", (unsigned long)inuse,
                  (unsigned long)freep, (unsigned long)gci->heap_sys);
    if (released != gci->pages_released)
        gci_fatal("heap verify: %lu released pages in free runs but pages_released %lu", (unsigned long)released,
                  (unsigned long)gci->pages_released);
    if (gci->cur_arena < gci->cur_arena_end &&
        released_op(gci->cur_arena, (gci->cur_arena_end - gci->cur_arena) / GC_PAGE_SIZE, BITS_COUNT) != 0)
        gci_fatal("heap verify: unused reservation tail has released pages");
    pthread_mutex_unlock(&gci->heap_lock);
    return freep;
}
