/* test_span.c - span initialisation, object index arithmetic and bitmaps.
 *
 * gci_span_init_small/large and gci_span_index are exercised on span structs
 * on the stack (they only need gci_init for the bitmap allocators), over
 * every byte offset of every size class.  The bitmap invariants of
 * gc_types.h "Spans" are then checked on real spans filled with gc_malloc:
 *     alloc_count == popcount(alloc_bits) - tail bits       (not cached)
 *     bits >= nelems are 1 in alloc_bits and in mark_bits
 *     limit == base + nelems * elemsize <= base + npages * page size
 *     a cached span's claimed word is all ones
 * followed by gci_heap_verify (see test_util.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "gc_internal.h"
#include "test_util.h"

/* A page-aligned address that is not in the heap: stack spans only do
 * arithmetic on it. */
#define FAKE_BASE ((uintptr_t)0x7e0000000000ull)


static uint64_t tail_mask(uint32_t nelems)
{
    return (nelems & 63) ? ~0ull << (nelems & 63) : 0;
}

static void check_fresh_small_span(const struct span *s, unsigned spc, int fresh)
{
    uint32_t size = gci_spc_size[spc];
    uint32_t nelems = (uint32_t)(s->npages * GC_PAGE_SIZE / size);
    assert_int_equal(s->state, SPAN_SMALL);
    assert_int_equal(s->spanclass, spc);
    assert_int_equal(s->noscan, gci_spc_noscan(spc));
    assert_int_equal(s->elemsize, size);
    assert_int_equal(s->nelems, nelems);
    assert_int_equal(s->nwords, (nelems + 63) / 64);
    assert_true(s->limit == s->base + (uintptr_t)nelems * size);
    assert_true(s->limit <= s->base + s->npages * GC_PAGE_SIZE);
    assert_int_equal(s->alloc_count, 0);
    assert_int_equal(s->needzero, !fresh);
    assert_null(s->owner);
    assert_int_equal(s->sweepgen, gci_load(&gci->sweepgen));
    /* No object allocated or marked; tail bits set in both bitmaps. */
    for (unsigned w = 0; w < s->nwords; w++) {
        uint64_t expect = w == s->nwords - 1u ? tail_mask(nelems) : 0;
        assert_int_equal(s->alloc_bits[w], expect);
        assert_int_equal(s->mark_bits[w], expect);
    }
}

/* gci_span_index is a multiply-shift (Go's divMagic); it must equal
 * off / elemsize for every offset of every class, tail included. */
static void test_span_index_divmul_every_offset(void **state)
{
    (void)state;
    for (unsigned spc = 2; spc < GC_NUM_SPANCLASSES; spc++) {
        if ((spc & 1) && spc != GC_SPANCLASS_TINY)
            continue;   /* noscan twin: same size */
        struct span s;
        memset(&s, 0, sizeof s);
        s.base = FAKE_BASE;
        s.npages = gci_class_pages[gci_spc_class(spc)];
        gci_span_init_small(&s, spc, 1 /* fresh */);
        check_fresh_small_span(&s, spc, 1);
        uint32_t size = s.elemsize;
        uint64_t bytes = s.npages * GC_PAGE_SIZE;
        for (uint64_t off = 0; off < bytes; off++) {
            uint32_t idx = gci_span_index(&s, s.base + off);
            if (idx != off / size)
                fail_msg("span class %u (%u bytes): index of offset %lu is %u, want %lu", spc, size,
                         (unsigned long)off, idx, (unsigned long)(off / size));
        }
        gci_span_release_bits(&s);
        assert_null(s.alloc_bits);
    }
}

static void test_span_init_small_reused_needs_zero(void **state)
{
    (void)state;
    struct span s;
    memset(&s, 0, sizeof s);
    s.base = FAKE_BASE;
    unsigned spc = 5u << 1 | 1;   /* 48-byte noscan: 170 objects, a partial last word */
    s.npages = gci_class_pages[5];
    gci_span_init_small(&s, spc, 0 /* reused pages */);
    check_fresh_small_span(&s, spc, 0);
    gci_span_release_bits(&s);
}

static void test_span_init_large_one_object(void **state)
{
    (void)state;
    struct span s;
    memset(&s, 0, sizeof s);
    s.base = FAKE_BASE;
    s.npages = 100;
    gci_span_init_large(&s, 100 * GC_PAGE_SIZE - 40, 1 /* noscan */, 1 /* fresh */);
    assert_int_equal(s.state, SPAN_LARGE);
    assert_int_equal(s.nelems, 1);
    assert_int_equal(s.elemsize, 100 * GC_PAGE_SIZE);
    assert_true(s.limit == s.base + 100 * GC_PAGE_SIZE);
    assert_int_equal(s.noscan, 1);
    assert_int_equal(s.spanclass, 1);
    assert_int_equal(s.large_size, 100 * GC_PAGE_SIZE - 40);
    assert_int_equal(s.nwords, 1);
    /* Object 0 allocated; bits 1..63 are tail; the bitmap equation holds. */
    assert_int_equal(s.alloc_bits[0], ~0ull);
    assert_int_equal(s.mark_bits[0], ~1ull);
    assert_int_equal(s.alloc_count, (uint32_t)__builtin_popcountll(s.alloc_bits[0]) - 63);
    /* Every address of the span is object 0. */
    for (uint64_t off = 0; off < 100 * GC_PAGE_SIZE; off += 4093)
        assert_int_equal(gci_span_index(&s, s.base + off), 0);
    gci_span_release_bits(&s);
}

/* elemsize is 32 bits: a span of 4 GiB or more caps it. */
static void test_span_init_large_elemsize_capped(void **state)
{
    (void)state;
    struct span s;
    memset(&s, 0, sizeof s);
    s.base = FAKE_BASE;
    s.npages = (size_t)1 << 20;   /* 8 GiB; never touched */
    gci_span_init_large(&s, (uint64_t)s.npages * GC_PAGE_SIZE, 0, 1);
    assert_int_equal(s.elemsize, UINT32_MAX);
    assert_true(s.limit == s.base + ((uintptr_t)1 << 33));
    assert_int_equal(s.spanclass, 0);
    assert_int_equal(s.noscan, 0);
    assert_int_equal(gci_span_index(&s, s.base + ((uintptr_t)1 << 33) - 1), 0);
    gci_span_release_bits(&s);
}

/* ---- real spans ---- */

#define OBJ_CLASS 5             /* 48 bytes: 170 objects per 8 KiB span */
#define OBJ_SIZE 48
#define MAX_OBJS 4096

static void *objs[MAX_OBJS];   /* roots: keep every object alive */

static uint32_t popcount_bits(const struct span *s)
{
    uint32_t n = 0;
    for (unsigned w = 0; w < s->nwords; w++)
        n += (uint32_t)__builtin_popcountll(gci_load(&s->alloc_bits[w]));
    return n;
}

/* Invariants of a small span that no mcache caches, after gc_collect
 * (swept: mark bits reset to the tail pattern). */
static void check_swept_span(const struct span *s)
{
    assert_int_equal(s->state, SPAN_SMALL);
    assert_null(s->owner);
    assert_int_equal(s->sweepgen, gci_load(&gci->sweepgen));
    assert_int_equal(s->nelems, s->npages * GC_PAGE_SIZE / s->elemsize);
    assert_true(s->limit == s->base + (uintptr_t)s->nelems * s->elemsize);
    uint64_t tail = tail_mask(s->nelems);
    assert_int_equal(s->alloc_bits[s->nwords - 1] & tail, tail);
    assert_int_equal(s->alloc_count, popcount_bits(s) - (s->nwords * 64u - s->nelems));
    for (unsigned w = 0; w < s->nwords; w++)
        assert_int_equal(s->mark_bits[w], w == s->nwords - 1u ? tail : 0);
}

static unsigned count_in_span(const struct span *s, void **arr, size_t n)
{
    unsigned k = 0;
    for (size_t i = 0; i < n; i++)
        if (arr[i] && (uintptr_t)arr[i] >= s->base && (uintptr_t)arr[i] < s->limit)
            k++;
    return k;
}

static void test_span_bitmap_real_span_invariants(void **state)
{
    (void)state;
    uint32_t nelems = gci_class_nelems(OBJ_CLASS);
    assert_int_equal(gci_class_size[OBJ_CLASS], OBJ_SIZE);
    /* Every 48-byte scan object in this process is allocated here, so every
     * object of the class is in objs[].  Allocate until some span holds
     * nelems of them, then once more (into another span: that one is full). */
    struct span *full = NULL;
    size_t n = 0;
    while (n < MAX_OBJS && !full) {
        objs[n] = gc_malloc(OBJ_SIZE);
        assert_non_null(objs[n]);
        struct span *s = gci_span_of((uintptr_t)objs[n]);
        assert_non_null(s);
        n++;
        if (count_in_span(s, objs, n) == nelems)
            full = s;
    }
    assert_non_null(full);
    objs[n] = gc_malloc(OBJ_SIZE);
    assert_non_null(objs[n]);
    n++;
    assert_true(gci_span_of((uintptr_t)objs[n - 1]) != full);

    /* The span now being filled is cached by this thread's mcache. */
    struct span *cur = gci_span_of((uintptr_t)objs[n - 1]);
    if (!tu_stress()) {   /* a stress collection may have flushed the cache */
        assert_ptr_equal(cur->owner, &gci_self->cache);
        assert_int_equal(cur->alloc_bits[cur->cache_word], ~0ull);
    }
    assert_int_equal(cur->alloc_bits[cur->nwords - 1] & tail_mask(cur->nelems), tail_mask(cur->nelems));
    assert_true(cur->limit == cur->base + (uintptr_t)cur->nelems * cur->elemsize);
    assert_int_equal(cur->spanclass, OBJ_CLASS << 1);

    gc_collect();   /* flushes the mcache, marks, sweeps everything */
    check_swept_span(full);
    check_swept_span(cur);
    assert_int_equal(full->alloc_count, nelems);
    assert_int_equal(cur->alloc_count, count_in_span(cur, objs, n));
    for (size_t i = 0; i < n; i++) {
        struct span *s = gci_span_of((uintptr_t)objs[i]);
        assert_true(gci_span_bit(s->alloc_bits, gci_span_index(s, (uintptr_t)objs[i])));
    }
    tu_heap_verify();

    /* Free every other object of `full`: the counts follow exactly. */
    unsigned freed = 0;
    for (size_t i = 0; i < n; i++) {
        if ((uintptr_t)objs[i] >= full->base && (uintptr_t)objs[i] < full->limit &&
            gci_span_index(full, (uintptr_t)objs[i]) % 2 == 0) {
            gc_free(objs[i]);
            objs[i] = NULL;
            freed++;
        }
    }
    assert_int_equal(freed, (nelems + 1) / 2);
    gc_collect();
    check_swept_span(full);
    assert_int_equal(full->alloc_count, nelems - freed);
    for (uint32_t i = 0; i < nelems; i++)
        assert_int_equal(gci_span_bit(full->alloc_bits, i), i % 2);
    tu_heap_verify();

    /* Free the rest: the empty span goes back to the page heap. */
    uintptr_t full_base = full->base;
    for (size_t i = 0; i < n; i++) {
        if (objs[i] && (uintptr_t)objs[i] >= full->base && (uintptr_t)objs[i] < full->limit) {
            gc_free(objs[i]);
            objs[i] = NULL;
        }
    }
    gc_collect();
    struct span *after = gci_span_of(full_base);
    assert_true(after == NULL || after->state == SPAN_FREE || after->state == SPAN_DEAD ||
                after->base != full_base);
    assert_null(gc_base((void *)full_base));
    tu_heap_verify();
    memset(objs, 0, sizeof objs);
}

/* One object of every size class: tail bits, limits and word counts of a
 * span of each class, while cached and after sweeping. */
static void *one_per_class[GC_NUM_CLASSES][2];

static void test_span_bitmap_every_class_tail_bits(void **state)
{
    (void)state;
    for (unsigned c = 1; c < GC_NUM_CLASSES; c++) {
        one_per_class[c][0] = gc_malloc(gci_class_size[c]);
        one_per_class[c][1] = gc_malloc_atomic(gci_class_size[c]);
        for (int k = 0; k < 2; k++) {
            void *p = one_per_class[c][k];
            assert_non_null(p);
            struct span *s = gci_span_of((uintptr_t)p);
            /* noscan requests under 16 bytes go to the tiny allocator */
            int tiny = k && gci_class_size[c] < GC_TINY_SIZE;
            unsigned spc = tiny ? GC_SPANCLASS_TINY : (c << 1 | (unsigned)k);
            unsigned cls = gci_spc_class(spc);
            assert_int_equal(s->spanclass, spc);
            assert_int_equal(s->npages, gci_class_pages[cls]);
            assert_int_equal(s->nelems, gci_class_nelems(cls));
            assert_int_equal(s->nwords, (s->nelems + 63) / 64);
            uint64_t tail = tail_mask(s->nelems);
            assert_int_equal(s->alloc_bits[s->nwords - 1] & tail, tail);
            assert_int_equal(s->mark_bits[s->nwords - 1] & tail, tail);
            assert_true(s->limit == s->base + (uintptr_t)s->nelems * s->elemsize);
            if (!tiny)
                assert_int_equal(((uintptr_t)p - s->base) % s->elemsize, 0);
        }
    }
    gc_collect();
    for (unsigned c = 1; c < GC_NUM_CLASSES; c++) {
        for (int k = 0; k < 2; k++) {
            struct span *s = gci_span_of((uintptr_t)one_per_class[c][k]);
            check_swept_span(s);
            assert_true(s->alloc_count >= 1);
        }
    }
    tu_heap_verify();
    memset(one_per_class, 0, sizeof one_per_class);
}

/* gci_find_object on a swept span: interior pointers map to the base,
 * free slots and the tail past limit map to nothing. */
static void *probe[3];

static void test_span_find_object_interior_and_free_slots(void **state)
{
    (void)state;
    unsigned c = 41;   /* 3072 bytes x 8 in 3 pages: no tail */
    unsigned c_tail = 45;   /* 4864 bytes x 5 in 3 pages: 256-byte tail */
    probe[0] = gc_malloc(gci_class_size[c]);
    probe[1] = gc_malloc(gci_class_size[c]);
    probe[2] = gc_malloc(gci_class_size[c_tail]);
    gc_free(probe[1]);
    void *freed = probe[1];
    probe[1] = NULL;
    gc_collect();   /* nothing cached: the bitmaps are exact */

    uintptr_t base, p = (uintptr_t)probe[0];
    uint32_t idx;
    struct span *s = gci_span_of(p);
    for (uint32_t off = 0; off < s->elemsize; off++) {
        assert_ptr_equal(gci_find_object(p + off, &base, &idx), s);
        assert_true(base == p);
        assert_int_equal(idx, gci_span_index(s, p));
    }
    /* gc_free put the object on this thread's free list; gc_collect's mcache
     * flush returned it to the span before marking, so no stale copy of
     * the pointer can keep it. */
    struct span *fs = gci_span_of((uintptr_t)freed);
    uint32_t fidx = gci_span_index(fs, (uintptr_t)freed);
    assert_false(gci_span_bit(fs->alloc_bits, fidx));
    assert_null(gci_find_object((uintptr_t)freed + 8, &base, &idx));
    assert_null(gc_base(freed));

    /* The tail of a span past limit holds no object. */
    struct span *ts = gci_span_of((uintptr_t)probe[2]);
    assert_true(ts->limit < ts->base + ts->npages * GC_PAGE_SIZE);
    assert_null(gci_find_object(ts->limit, &base, &idx));
    assert_null(gci_find_object(ts->base + ts->npages * GC_PAGE_SIZE - 1, &base, &idx));
    memset(probe, 0, sizeof probe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_span_index_divmul_every_offset),
        cmocka_unit_test(test_span_init_small_reused_needs_zero),
        cmocka_unit_test(test_span_init_large_one_object),
        cmocka_unit_test(test_span_init_large_elemsize_capped),
        cmocka_unit_test(test_span_bitmap_real_span_invariants),
        cmocka_unit_test(test_span_bitmap_every_class_tail_bits),
        cmocka_unit_test(test_span_find_object_interior_and_free_slots),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, NULL);
}
