/* test_heap.c - the page heap: free runs, coalescing, reuse, out of memory.
 *
 * Spans taken with gci_heap_alloc are initialised with gci_span_init_large
 * (state SPAN_LARGE, pages counted in use) before gci_heap_free, as the
 * allocator does; they are on no list, so the collector never frees them.
 * The coalescing test runs first, on a heap with no free run yet.
 * gci_heap_verify (via tu_heap_verify) checks the heap's equations after
 * each step: no two adjacent free runs, heap_sys == (in use + free) pages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include "gc_internal.h"
#include "test_util.h"

/* Fault injector of os_posix.c, compiled only into GC_TESTING builds of
 * the runtime; weak so this test also links against one without it. */
extern void gci_test_fail_map_after(long n) __attribute__((weak));


static struct span *take(size_t npages, int *fresh)
{
    int f = -1;
    struct span *s = gci_heap_alloc(npages, &f);
    assert_non_null(s);
    assert_int_equal(s->npages, npages);
    assert_int_equal(s->base % GC_PAGE_SIZE, 0);
    assert_true(f == 0 || f == 1);
    gci_span_init_large(s, npages * GC_PAGE_SIZE, 1, f);
    if (fresh)
        *fresh = f;
    return s;
}

static uint64_t heap_sys(void)
{
    pthread_mutex_lock(&gci->heap_lock);
    uint64_t v = gci->heap_sys;
    pthread_mutex_unlock(&gci->heap_lock);
    return v;
}

/* The free run whose first page is at addr, or NULL. */
static struct span *free_run_at(uintptr_t addr)
{
    struct span *s = gci_span_of(addr);
    if (s && s->state == SPAN_FREE && s->list == LIST_FREE && s->base == addr)
        return s;
    return NULL;
}

/* Pages of the free run that ends exactly at addr (0 if none). */
static size_t free_pages_before(uintptr_t addr)
{
    struct span *s = gci_span_of(addr - GC_PAGE_SIZE);
    if (s && s->state == SPAN_FREE && s->list == LIST_FREE && s->base + s->npages * GC_PAGE_SIZE == addr)
        return s->npages;
    return 0;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* Three adjacent runs a|b|c; free b, then a, then c.  Each free merges
 * with its free neighbours: the run grows n -> 2n -> 3n (plus a free run
 * that may precede a), and never merges with the unreserved bump region
 * after c. */
static void coalesce_three(size_t n)
{
    int fa, fb, fc;
    struct span *a = take(n, &fa), *b = take(n, &fb), *c = take(n, &fc);
    uintptr_t abase = a->base, bbase = b->base, cend = c->base + n * GC_PAGE_SIZE;
    /* No free run fits yet (a fresh heap, or the runs left by an earlier
     * call are too small): all three come from the bump region. */
    assert_true(fa && fb && fc);
    assert_true(b->base == a->base + n * GC_PAGE_SIZE);
    assert_true(c->base == b->base + n * GC_PAGE_SIZE);
    assert_true(gci->cur_arena == cend);
    size_t before = free_pages_before(abase);   /* merges with a, too */
    size_t largest0 = gci_heap_largest_free_run();
    tu_heap_verify();

    gci_heap_free(b);
    struct span *r = free_run_at(bbase);
    assert_non_null(r);
    assert_int_equal(r->npages, n);   /* a and c are in use */
    assert_int_equal(gci_heap_largest_free_run(), max_sz(largest0, n));
    tu_heap_verify();

    gci_heap_free(a);
    r = free_run_at(abase - before * GC_PAGE_SIZE);
    assert_non_null(r);
    assert_int_equal(r->npages, before + 2 * n);
    assert_null(free_run_at(bbase));   /* b's run was absorbed */
    assert_int_equal(gci_heap_largest_free_run(), max_sz(largest0, before + 2 * n));
    tu_heap_verify();

    gci_heap_free(c);
    r = free_run_at(abase - before * GC_PAGE_SIZE);
    assert_non_null(r);
    assert_int_equal(r->npages, before + 3 * n);
    /* first and last page both map to the run (what coalescing relies on) */
    assert_ptr_equal(gci_span_of(cend - GC_PAGE_SIZE), r);
    assert_int_equal(gci_heap_largest_free_run(), max_sz(largest0, before + 3 * n));
    tu_heap_verify();

    /* The merged run is reused whole: same pages, marked as needing zeroing. */
    uintptr_t rbase = r->base;
    size_t rpages = r->npages;
    uint64_t sys = heap_sys();
    int fresh;
    struct span *again = take(rpages, &fresh);
    assert_true(again->base == rbase);
    assert_int_equal(fresh, 0);
    assert_int_equal(heap_sys(), sys);
    tu_heap_verify();
    gci_heap_free(again);
    tu_heap_verify();
}

static void test_heap_free_coalesce_exact_lists(void **state)
{
    (void)state;
    coalesce_three(40);   /* 40..120 pages: the exact lists */
}

static void test_heap_free_coalesce_treap(void **state)
{
    (void)state;
    coalesce_three(200);   /* >= 128 pages: the treap */
}

/* A run is split: the rest stays a free run right after the span. */
static void test_heap_alloc_split_keeps_rest(void **state)
{
    (void)state;
    struct span *big = take(300, NULL);
    uintptr_t base = big->base;
    gci_heap_free(big);
    struct span *r = free_run_at(base - free_pages_before(base) * GC_PAGE_SIZE);
    assert_non_null(r);
    size_t total = r->npages;
    uintptr_t rbase = r->base;
    /* Take the whole run in two pieces. */
    struct span *p1 = take(total - 17, NULL);
    struct span *p2 = take(17, NULL);
    if (p1->base == rbase) {
        /* p1 came from this run: its rest (17 pages) was the best fit for p2 */
        assert_true(p2->base == rbase + (total - 17) * GC_PAGE_SIZE);
    }
    tu_heap_verify();
    gci_heap_free(p2);
    gci_heap_free(p1);
    tu_heap_verify();
}

/* gc_free of a large object returns its pages, and the next allocation of
 * the same size reuses them: 1000 rounds do not grow the heap. */
static void test_heap_large_object_reuse_after_free(void **state)
{
    (void)state;
    const size_t sz = (size_t)1 << 20;
    int rounds = tu_stress() ? 200 : 1000;
    static gc_stats st;
    unsigned char *p = gc_malloc_atomic(sz);
    assert_non_null(p);
    assert_int_equal(gc_usable_size(p), sz);   /* exactly 128 pages */
    uintptr_t first = (uintptr_t)p;
    gc_free(p);
    gc_read_stats(&st);
    uint64_t sys0 = st.heap_sys, inuse0 = st.heap_inuse;
    int same = 0;
    for (int i = 0; i < rounds; i++) {
        p = gc_malloc_atomic(sz);
        assert_non_null(p);
        same += (uintptr_t)p == first;
        /* reused pages are zeroed again */
        assert_int_equal(p[0] | p[sz / 2] | p[sz - 1], 0);
        p[0] = p[sz / 2] = p[sz - 1] = 0xAB;
        gc_free(p);
    }
    gc_read_stats(&st);
    assert_int_equal(st.heap_sys, sys0);
    assert_int_equal(st.heap_inuse, inuse0);
    /* Single-threaded, nothing else allocated: always the same pages. */
    assert_int_equal(same, rounds);
    gc_collect();
    tu_heap_verify();
}

/* 10000 one-page spans; free every other one; the next 5000 one-page
 * allocations fit in the holes (the heap does not grow); freeing
 * everything coalesces it all back and returns every page. */
#define NSPANS 10000
static struct span *spans[NSPANS];
static uintptr_t holes[NSPANS / 2];

static int cmp_uptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static void test_heap_alloc_many_spans_reuses_holes(void **state)
{
    (void)state;
    uint64_t sys_start = heap_sys();
    uint64_t free_start = tu_heap_verify();
    for (int i = 0; i < NSPANS; i++)
        spans[i] = take(1, NULL);
    tu_heap_verify();
    /* One-page free runs that existed before can be used too. */
    size_t preexisting = 0;
    pthread_mutex_lock(&gci->heap_lock);
    for (struct span *s = gci->free_exact[1]; s; s = s->next)
        preexisting++;
    pthread_mutex_unlock(&gci->heap_lock);
    for (int i = 0; i < NSPANS; i += 2) {
        holes[i / 2] = spans[i]->base;
        gci_heap_free(spans[i]);
        spans[i] = NULL;
    }
    tu_heap_verify();
    qsort(holes, NSPANS / 2, sizeof holes[0], cmp_uptr);

    uint64_t sys = heap_sys();
    size_t in_holes = 0;
    for (int i = 0; i < NSPANS; i += 2) {
        spans[i] = take(1, NULL);
        in_holes += bsearch(&spans[i]->base, holes, NSPANS / 2, sizeof holes[0], cmp_uptr) != NULL;
    }
    assert_int_equal(heap_sys(), sys);
    assert_true(in_holes + preexisting >= NSPANS / 2);
    tu_heap_verify();

    for (int i = 0; i < NSPANS; i++) {
        gci_heap_free(spans[i]);
        spans[i] = NULL;
    }
    /* Every page taken is free again, and verify found no two adjacent
     * free runs. */
    uint64_t free_end = tu_heap_verify();
    assert_int_equal(free_end, free_start + (heap_sys() - sys_start) / GC_PAGE_SIZE);
}

/* ---- out of memory ---- */

static void test_heap_alloc_impossible_sizes(void **state)
{
    (void)state;
    uint64_t sys = heap_sys();
    int fresh;
    errno = 0;
    assert_null(gci_heap_alloc(0, &fresh));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    /* more pages than a 47-bit address space holds */
    assert_null(gci_heap_alloc(((size_t)1 << (GC_ADDR_BITS - GC_PAGE_SHIFT - 1)) + 1, &fresh));
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(heap_sys(), sys);
    tu_heap_verify();
}

static void test_heap_malloc_huge_enomem(void **state)
{
    (void)state;
    uint64_t sys = heap_sys();
    static const size_t sizes[] = {
        (size_t)1 << 62,
        SIZE_MAX,
        ((size_t)1 << (GC_ADDR_BITS - 1)) + 1,   /* just over the size check */
        (size_t)1 << (GC_ADDR_BITS - 1),         /* passes the check: mmap of 128 TiB fails */
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        assert_null(gc_malloc(sizes[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(gc_malloc_atomic(sizes[i]));
        assert_int_equal(errno, ENOMEM);
    }
    errno = 0;
    assert_null(gc_calloc(SIZE_MAX / 2 + 1, 2));   /* count * n overflows */
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(gc_calloc((size_t)1 << 32, (size_t)1 << 32));
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(heap_sys(), sys);
    /* The heap is still usable. */
    void *p = gc_malloc(100000);
    assert_non_null(p);
    gc_free(p);
    gc_collect();
    tu_heap_verify();
}

/* More pages than any free run and than the newest arena has left: a
 * request for this many needs a new arena reservation. */
static size_t pages_needing_new_arena(void)
{
    size_t n = gci_heap_largest_free_run();
    pthread_mutex_lock(&gci->heap_lock);
    size_t bump = (gci->cur_arena_end - gci->cur_arena) / GC_PAGE_SIZE;
    pthread_mutex_unlock(&gci->heap_lock);
    return (n > bump ? n : bump) + 1;
}

/* With the fault injector (os_posix.c, GC_TESTING builds): an arena
 * reservation that fails makes gci_heap_alloc return NULL/ENOMEM and leaves
 * the heap unchanged; gc_malloc recovers, because after a failure it runs
 * a collection and retries once, and the injector fails one mapping only. */
static void test_heap_alloc_arena_map_fails(void **state)
{
    (void)state;
    if (!gci_test_fail_map_after) {
        print_message("[   INFO   ] runtime built without GC_TESTING: fault injection not available\n");
        skip();
    }
    gc_collect();
    size_t big_pages = pages_needing_new_arena();
    uint64_t sys = heap_sys();
    uint64_t free_pages = tu_heap_verify();

    int fresh;
    gci_test_fail_map_after(0);
    errno = 0;
    assert_null(gci_heap_alloc(big_pages, &fresh));
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(heap_sys(), sys);
    assert_int_equal(tu_heap_verify(), free_pages);

    /* Armed for the second mapping: the first succeeds. */
    gci_test_fail_map_after(1);
    struct span *s = take(big_pages, &fresh);
    assert_int_equal(fresh, 1);
    size_t more = pages_needing_new_arena();
    errno = 0;
    assert_null(gci_heap_alloc(more, &fresh));
    assert_int_equal(errno, ENOMEM);
    gci_heap_free(s);
    tu_heap_verify();

    /* gc_malloc: the first reservation fails, the retry succeeds. */
    size_t bytes = pages_needing_new_arena() * GC_PAGE_SIZE;
    gci_test_fail_map_after(0);
    void *p = gc_malloc_atomic(bytes);
    gci_test_fail_map_after(-1);
    assert_non_null(p);
    assert_int_equal(gc_usable_size(p), bytes);
    gc_free(p);
    gc_collect();
    tu_heap_verify();
}

/* ---- heap verify while a large object is being zeroed ----
 *
 * gci_alloc_large leaves its critical section to zero reused pages, holding
 * a span that gci_heap_alloc already counted in pages_inuse but that is
 * not published yet (state SPAN_FREE, list LIST_NONE).  A collection that
 * stops the world during that memset verifies the heap (collect.c, at every
 * cycle when GCTUNE_DEBUG >= 1), so gci_heap_verify must count such spans
 * as in use; it once skipped them and died with "heap verify: N pages in
 * spans but pages_inuse M".  In a child: one thread allocates and frees
 * 32 MiB objects (reused, so zeroed outside the critical section); the
 * main thread does what a debug collection does: stop the world, verify. */

static volatile int churn_stop;

static void *large_churn(void *arg)
{
    (void)arg;
    while (!churn_stop) {
        void *p = gc_malloc_atomic((size_t)32 << 20);
        if (!p)
            break;
        gc_free(p);
    }
    return NULL;
}

static int verify_during_large_churn(void *arg)
{
    (void)arg;
    gc_set_percent(-1);   /* no collections of its own */
    pthread_t th;
    if (pthread_create(&th, NULL, large_churn, NULL) != 0)
        return 2;
    for (int i = 0; i < 400; i++) {
        pthread_mutex_lock(&gci->gc_mutex);
        gci_sweep_gate_lock();
        gci_stop_world();
        gci_heap_verify();   /* aborts on a violation */
        gci_start_world();
        gci_sweep_gate_unlock();
        pthread_mutex_unlock(&gci->gc_mutex);
        usleep(200);
    }
    churn_stop = 1;
    pthread_join(th, NULL);
    return 0;
}

static void test_heap_verify_stopped_world_during_large_alloc(void **state)
{
    (void)state;
    static char err[4096];
    int status = tu_run_in_child(verify_during_large_churn, NULL, err, sizeof err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("child died (status %#x); stderr:\n%s", status, err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: relies on an empty heap */
        cmocka_unit_test(test_heap_free_coalesce_exact_lists),
        cmocka_unit_test(test_heap_free_coalesce_treap),
        cmocka_unit_test(test_heap_alloc_split_keeps_rest),
        cmocka_unit_test(test_heap_large_object_reuse_after_free),
        cmocka_unit_test(test_heap_alloc_many_spans_reuses_holes),
        cmocka_unit_test(test_heap_alloc_impossible_sizes),
        cmocka_unit_test(test_heap_malloc_huge_enomem),
        cmocka_unit_test(test_heap_alloc_arena_map_fails),
        cmocka_unit_test(test_heap_verify_stopped_world_during_large_alloc),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, NULL);
}
