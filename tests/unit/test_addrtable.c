/* test_addrtable.c - the address-keyed table shared by the finalizer and
 * profiler tables (libgc/addrtable.c).
 *
 * Black box: the tests learn a key's home slot by inserting it alone into
 * an empty table and reading where it landed, so they do not depend on the
 * hash function.  After every change they check the table against a plain
 * list of what it should hold: every live key is found with its value, no
 * deleted key is, and count matches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include "gc_internal.h"
#include "test_util.h"

struct ent {
    uintptr_t key;
    uint64_t val;
};

static size_t slot_of(const struct gci_addrtable *t, const void *e)
{
    return (size_t)((const unsigned char *)e - t->slots) / t->esize;
}

/* The home slot of key in t, which must be empty (and mapped). */
static size_t home_of(struct gci_addrtable *t, uintptr_t key)
{
    assert_int_equal(t->count, 0);
    void *e = gci_addrtable_insert(t, key);
    assert_non_null(e);
    size_t i = slot_of(t, e);
    gci_addrtable_delete(t, e);
    return i;
}

/* Maps t (cap = min_cap) and leaves it empty. */
static void map_empty(struct gci_addrtable *t)
{
    gci_addrtable_delete(t, gci_addrtable_insert(t, 16));
    assert_int_equal(t->count, 0);
    assert_int_equal(t->cap, t->min_cap);
}

/* Up to want keys (multiples of 16, from 16 up) whose home in t is h. */
static size_t keys_with_home(struct gci_addrtable *t, size_t h, uintptr_t *out, size_t want)
{
    size_t n = 0;
    for (uintptr_t k = 16; n < want && k < ((uintptr_t)1 << 32); k += 16)
        if (home_of(t, k) == h)
            out[n++] = k;
    return n;
}

static void unmap(struct gci_addrtable *t)
{
    if (t->slots) {
        gci_os_unmap(t->slots, t->cap * t->esize);
        gci_sub(&gci->metadata_sys, t->cap * t->esize);
    }
    t->slots = NULL;
    t->cap = t->count = 0;
}

/* t holds exactly keys[0..n) (distinct) with vals[i], and none of gone[0..ngone). */
static void check_holds(const struct gci_addrtable *t, const uintptr_t *keys, const uint64_t *vals, size_t n,
                        const uintptr_t *gone, size_t ngone)
{
    assert_int_equal(t->count, n);
    assert_true(t->count * 4 <= t->cap * 3);
    for (size_t i = 0; i < n; i++) {
        struct ent *e = gci_addrtable_find(t, keys[i]);
        assert_non_null(e);
        assert_int_equal(e->key, keys[i]);
        assert_int_equal(e->val, vals[i]);
    }
    for (size_t i = 0; i < ngone; i++)
        assert_null(gci_addrtable_find(t, gone[i]));
    size_t used = 0;
    for (size_t i = 0; i < t->cap; i++)
        used += gci_addrtable_at(t, i) != NULL;
    assert_int_equal(used, n);
}

static void put(struct gci_addrtable *t, uintptr_t key, uint64_t val)
{
    struct ent *e = gci_addrtable_insert(t, key);
    assert_non_null(e);
    assert_int_equal(e->key, key);
    assert_int_equal(e->val, 0);   /* fresh entries are zeroed */
    e->val = val;
}

static void del(struct gci_addrtable *t, uintptr_t key)
{
    struct ent *e = gci_addrtable_find(t, key);
    assert_non_null(e);
    gci_addrtable_delete(t, e);
}

static void test_insert_find_delete(void **state)
{
    struct gci_addrtable t;
    gci_addrtable_init(&t, sizeof(struct ent), 64);
    assert_null(gci_addrtable_find(&t, 4096));   /* nothing mapped yet */
    assert_int_equal(gci_addrtable_remove_all(&t, 4096, NULL, NULL), 0);
    enum { N = 40 };
    uintptr_t keys[N], gone[N];
    uint64_t vals[N];
    for (size_t i = 0; i < N; i++) {
        keys[i] = 0x7f0000001000u + i * 48;
        vals[i] = 1000 + i;
        put(&t, keys[i], vals[i]);
    }
    check_holds(&t, keys, vals, N, NULL, 0);
    /* delete every other key */
    size_t n = 0, ngone = 0;
    for (size_t i = 0; i < N; i++) {
        if (i % 2) {
            del(&t, keys[i]);
            gone[ngone++] = keys[i];
        } else {
            keys[n] = keys[i];
            vals[n++] = vals[i];
        }
    }
    check_holds(&t, keys, vals, n, gone, ngone);
    unmap(&t);
}

/* Keys a0..a3 share home h; b has home h + 1, so it stands behind them.
 * Deleting from the front or the middle of the run must leave every other
 * key findable (with tombstone-free deletion, a naive emptying of the slot
 * would cut the chain).  h is chosen as cap - 2 so the run wraps to slot 0. */
static void test_delete_keeps_chains(void **state)
{
    enum { CAP = 64 };
    struct gci_addrtable t;
    gci_addrtable_init(&t, sizeof(struct ent), CAP);
    map_empty(&t);
    size_t h = CAP - 2;
    uintptr_t a[4], b;
    assert_int_equal(keys_with_home(&t, h, a, 4), 4);
    assert_int_equal(keys_with_home(&t, h + 1, &b, 1), 1);

    for (size_t victim = 0; victim < 5; victim++) {
        uintptr_t keys[5] = {a[0], a[1], a[2], a[3], b};
        uint64_t vals[5] = {1, 2, 3, 4, 5};
        for (size_t i = 0; i < 5; i++)
            put(&t, keys[i], vals[i]);
        /* the run fills h, h+1 and wraps: b was pushed past slot 0 */
        assert_int_equal(slot_of(&t, gci_addrtable_find(&t, a[0])), h);
        assert_true(slot_of(&t, gci_addrtable_find(&t, b)) < h);
        del(&t, keys[victim]);
        uintptr_t gone = keys[victim];
        keys[victim] = keys[4];
        vals[victim] = vals[4];
        check_holds(&t, keys, vals, 4, &gone, 1);
        for (size_t i = 0; i < 4; i++)
            del(&t, keys[i]);
        check_holds(&t, NULL, NULL, 0, keys, 4);
    }
    unmap(&t);
}

static void test_grow_under_load(void **state)
{
    enum { N = 5000 };
    static uintptr_t keys[N];
    static uint64_t vals[N];
    struct gci_addrtable t;
    gci_addrtable_init(&t, sizeof(struct ent), 16);
    uint64_t sys0 = gci_load(&gci->metadata_sys);
    size_t grows = 0, cap = 0;
    for (size_t i = 0; i < N; i++) {
        keys[i] = 0x100000 + i * 16;   /* dense, consecutive objects */
        vals[i] = i * 7 + 1;
        put(&t, keys[i], vals[i]);
        if (t.cap != cap) {
            assert_true(t.cap == 16 || t.cap == cap * 2);
            cap = t.cap;
            grows++;
            check_holds(&t, keys, vals, i + 1, NULL, 0);   /* nothing lost by the rehash */
        }
    }
    assert_true(grows >= 9);   /* 16 -> 8192 */
    check_holds(&t, keys, vals, N, NULL, 0);
    assert_int_equal(gci_load(&gci->metadata_sys) - sys0, t.cap * sizeof(struct ent));
    unmap(&t);
    assert_int_equal(gci_load(&gci->metadata_sys), sys0);
}

/* 300 keys with one home slot: a single run of 300, deleted from the
 * middle outwards, then refilled. */
static void test_many_keys_colliding(void **state)
{
    enum { CAP = 1024, N = 300 };
    static uintptr_t keys[N], gone[N];
    static uint64_t vals[N];
    struct gci_addrtable t;
    gci_addrtable_init(&t, sizeof(struct ent), CAP);
    map_empty(&t);
    size_t h = CAP - 100;   /* the run wraps */
    assert_int_equal(keys_with_home(&t, h, keys, N), N);
    for (size_t i = 0; i < N; i++) {
        vals[i] = ~(uint64_t)i;
        put(&t, keys[i], vals[i]);
    }
    assert_int_equal(t.cap, CAP);
    check_holds(&t, keys, vals, N, NULL, 0);
    size_t n = N, ngone = 0;
    while (n > 0) {
        size_t i = n / 2;
        del(&t, keys[i]);
        gone[ngone++] = keys[i];
        keys[i] = keys[n - 1];
        vals[i] = vals[n - 1];
        n--;
        if (n % 37 == 0)
            check_holds(&t, keys, vals, n, gone, ngone);
    }
    check_holds(&t, NULL, NULL, 0, gone, ngone);
    unmap(&t);
}

struct seen {
    uint64_t sum;
    size_t n;
    uintptr_t key;
};

static void on_removed(void *entry, void *arg)
{
    struct ent *e = entry;
    struct seen *s = arg;
    assert_int_equal(e->key, s->key);
    s->sum += e->val;
    s->n++;
}

/* Several entries per key (the profiler's tiny blocks): remove_all takes
 * them all, calls back once for each, and leaves the rest of the chain. */
static void test_duplicate_keys_remove_all(void **state)
{
    enum { CAP = 128 };
    struct gci_addrtable t;
    gci_addrtable_init(&t, sizeof(struct ent), CAP);
    map_empty(&t);
    uintptr_t k[6];
    assert_int_equal(keys_with_home(&t, 5, k, 6), 6);
    /* x = k[0] five times among the others, all in one run: x x k x k k x x k k */
    const char *order = "xxkxkkxxkk";
    uint64_t want = 0;
    for (size_t i = 0, nx = 0, nk = 0; order[i]; i++) {
        if (order[i] == 'k') {
            put(&t, k[1 + nk], 10 + nk);
            nk++;
            continue;
        }
        struct ent *e = gci_addrtable_insert(&t, k[0]);
        assert_non_null(e);
        e->val = 100 + nx++;
        want += e->val;
    }
    assert_int_equal(t.count, 10);
    struct seen s = {0, 0, k[0]};
    assert_int_equal(gci_addrtable_remove_all(&t, k[0], on_removed, &s), 5);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.sum, want);
    uint64_t vals[5] = {10, 11, 12, 13, 14};
    check_holds(&t, k + 1, vals, 5, k, 1);
    assert_int_equal(gci_addrtable_remove_all(&t, k[0], on_removed, &s), 0);
    assert_int_equal(s.n, 5);
    unmap(&t);
}

/* The finalizer's sweep: walk the slots, deleting some entries, without
 * advancing past a slot just freed.  Every entry is seen, the chosen ones
 * go, the others stay. */
static void test_delete_while_walking(void **state)
{
    enum { CAP = 256, N = 180 };
    static uintptr_t keys[N], gone[N];
    static uint64_t vals[N];
    struct gci_addrtable t;
    gci_addrtable_init(&t, sizeof(struct ent), CAP);
    map_empty(&t);
    /* half the keys pile up at the last slots so chains wrap */
    size_t n = keys_with_home(&t, CAP - 1, keys, N / 2);
    assert_int_equal(n, N / 2);
    for (uintptr_t k = 0x10000000; n < N; k += 16)   /* above every colliding key */
        keys[n++] = k;
    for (size_t i = 0; i < N; i++) {
        vals[i] = i;
        put(&t, keys[i], vals[i]);
    }
    size_t deleted = 0;
    for (size_t i = 0; i < t.cap;) {
        struct ent *e = gci_addrtable_at(&t, i);
        if (!e || e->val % 3 != 0) {
            i++;
            continue;
        }
        gci_addrtable_delete(&t, e);
        deleted++;
    }
    assert_int_equal(deleted, (N + 2) / 3);
    size_t m = 0, ngone = 0;
    for (size_t i = 0; i < N; i++) {
        if (vals[i] % 3 == 0) {
            gone[ngone++] = keys[i];
        } else {
            keys[m] = keys[i];
            vals[m++] = vals[i];
        }
    }
    check_holds(&t, keys, vals, m, gone, ngone);
    unmap(&t);
}

/* Key number k of the random test: dense runs of 16-byte objects, and
 * every third one far apart. */
static uintptr_t key_of(size_t k)
{
    return 0x20000 + (uintptr_t)k * 16 * (k % 3 ? 1 : 4096);
}

/* Random inserts and deletes against a list of what should be there. */
static void test_random_against_model(void **state)
{
    enum { UNIVERSE = 600, OPS = 20000 };
    static uintptr_t keys[UNIVERSE], gone[UNIVERSE];
    static uint64_t vals[UNIVERSE];
    static int in[UNIVERSE];
    struct gci_addrtable t;
    gci_addrtable_init(&t, sizeof(struct ent), 16);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t op = 0; op < OPS; op++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t k = (size_t)(x % UNIVERSE);
        uintptr_t key = key_of(k);
        if (in[k]) {
            del(&t, key);
            in[k] = 0;
        } else {
            put(&t, key, op + 1);
            in[k] = 1;
            vals[k] = op + 1;
        }
        if (op % 997 == 0 || op == OPS - 1) {
            size_t n = 0, ngone = 0;
            uint64_t v[UNIVERSE];
            for (size_t j = 0; j < UNIVERSE; j++) {
                uintptr_t kj = key_of(j);
                if (in[j]) {
                    keys[n] = kj;
                    v[n++] = vals[j];
                } else {
                    gone[ngone++] = kj;
                }
            }
            check_holds(&t, keys, v, n, gone, ngone);
        }
    }
    gci_addrtable_clear(&t);
    assert_int_equal(t.count, 0);
    for (size_t i = 0; i < t.cap; i++)
        assert_null(gci_addrtable_at(&t, i));
    unmap(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_find_delete),
        cmocka_unit_test(test_delete_keeps_chains),
        cmocka_unit_test(test_grow_under_load),
        cmocka_unit_test(test_many_keys_colliding),
        cmocka_unit_test(test_duplicate_keys_remove_all),
        cmocka_unit_test(test_delete_while_walking),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, NULL);
}
