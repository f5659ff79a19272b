/* test_pool.c - gc_pool (Go's sync.Pool): caching, the victim cache, threads.
 *
 * Lifetime tests hide the pooled object's address (XOR-masked, as in
 * test_collect.c) so that only the pool can keep it alive, put it from a
 * noinline helper and scrub the stack before collecting.  After one
 * collection the object must still come back from gc_pool_get (victim
 * cache); after two without a get it must be freed (gc_base == NULL: every
 * gc_collect finishes sweeping).  They rely on the collector calling
 * gci_pool_cycle_start at the start of every cycle (collect.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdint.h>
#include "gc_internal.h"
#include "test_util.h"

#define MASK ((uintptr_t)0x5a5a5a5a5a5a5a5aull)
#define POOLED_SIZE 3000

static int new_calls;

static void *new_small(void)
{
    __atomic_add_fetch(&new_calls, 1, __ATOMIC_RELAXED);
    return gc_malloc(40);
}



/* noinline: the unmasked address must not stay in the test's frame or
 * registers, where it would keep the object alive at the next collection. */
static __attribute__((noinline)) int is_freed(uintptr_t hidden) { return gc_base((void *)(hidden ^ MASK)) == NULL; }

/* Puts a fresh object filled with tag; returns its hidden address. */
static __attribute__((noinline)) uintptr_t put_hidden(gc_pool *p, unsigned char tag)
{
    unsigned char *o = gc_malloc(POOLED_SIZE);
    assert_non_null(o);
    memset(o, tag, POOLED_SIZE);
    gc_pool_put(p, o);
    uintptr_t h = (uintptr_t)o ^ MASK;
    o = NULL;
    return h;
}

/* Allocates two objects, then puts both (no collection in between, even
 * under GCTUNE_GCSTRESS). */
static __attribute__((noinline)) void put_two_hidden(gc_pool *p, uintptr_t *h1, uintptr_t *h2)
{
    unsigned char *a = gc_malloc(POOLED_SIZE), *b = gc_malloc(POOLED_SIZE);
    assert_non_null(a);
    assert_non_null(b);
    gc_pool_put(p, a);
    gc_pool_put(p, b);
    *h1 = (uintptr_t)a ^ MASK;
    *h2 = (uintptr_t)b ^ MASK;
    a = b = NULL;
}

/* Gets an object and reports whether it is the hidden one, intact. */
static __attribute__((noinline)) int get_is(gc_pool *p, uintptr_t hidden, unsigned char tag)
{
    unsigned char *o = gc_pool_get(p);
    if ((uintptr_t)o != (hidden ^ MASK))
        return 0;
    for (int i = 0; i < POOLED_SIZE; i++)
        if (o[i] != tag)
            return 0;
    return 1;
}

/* Gets an object and puts it back; returns its hidden address. */
static __attribute__((noinline)) uintptr_t get_put_back(gc_pool *p)
{
    void *o = gc_pool_get(p);
    assert_non_null(o);
    gc_pool_put(p, o);
    uintptr_t h = (uintptr_t)o ^ MASK;
    o = NULL;
    return h;
}

/* Pools an object that holds the only pointer to a child filled with 0x44;
 * returns the child's hidden address. */
static __attribute__((noinline)) uintptr_t put_holder(gc_pool *p)
{
    void **holder = gc_malloc(POOLED_SIZE);
    char *child = gc_malloc(100);
    assert_non_null(holder);
    assert_non_null(child);
    memset(child, 0x44, 100);
    holder[0] = child;
    gc_pool_put(p, holder);
    uintptr_t h = (uintptr_t)child ^ MASK;
    holder = NULL;
    child = NULL;
    return h;
}

static void test_pool_put_get_same_thread(void **state)
{
    (void)state;
    gc_pool *p = gc_pool_new(NULL);
    assert_non_null(p);
    void *a = gc_malloc(64), *b = gc_malloc(64), *c = gc_malloc(64);
    gc_pool_put(p, a);
    assert_ptr_equal(gc_pool_get(p), a);
    assert_null(gc_pool_get(p));   /* empty, no new_fn */
    /* private slot, then the shared list (LIFO) */
    gc_pool_put(p, a);
    gc_pool_put(p, b);
    gc_pool_put(p, c);
    assert_ptr_equal(gc_pool_get(p), a);
    assert_ptr_equal(gc_pool_get(p), c);
    assert_ptr_equal(gc_pool_get(p), b);
    assert_null(gc_pool_get(p));
    gc_pool_put(p, NULL);          /* ignored */
    assert_null(gc_pool_get(p));
    assert_null(gc_pool_get(NULL));
    gc_pool_delete(p);
}

static void test_pool_get_empty_calls_new(void **state)
{
    (void)state;
    gc_pool *p = gc_pool_new(new_small);
    assert_non_null(p);
    new_calls = 0;
    void *a = gc_pool_get(p);
    assert_non_null(a);
    assert_int_equal(new_calls, 1);
    gc_pool_put(p, a);
    assert_ptr_equal(gc_pool_get(p), a);
    assert_int_equal(new_calls, 1);
    assert_non_null(gc_pool_get(p));
    assert_int_equal(new_calls, 2);
    gc_pool_delete(p);
}

static void test_pool_many_objects_all_come_back(void **state)
{
    (void)state;
    enum { N = 1000 };
    gc_pool *p = gc_pool_new(NULL);
    void **objs = gc_malloc(N * sizeof *objs);
    for (int i = 0; i < N; i++) {
        objs[i] = gc_malloc(32);
        *(int *)objs[i] = i;
    }
    /* no allocation (so no collection, even under GCTUNE_GCSTRESS) from
     * the first put to the last get */
    for (int i = 0; i < N; i++)
        gc_pool_put(p, objs[i]);
    char *seen = calloc(N, 1);
    assert_non_null(seen);
    for (int i = 0; i < N; i++) {
        int *o = gc_pool_get(p);
        assert_non_null(o);
        assert_true(*o >= 0 && *o < N);
        assert_ptr_equal(objs[*o], o);
        assert_int_equal(seen[*o], 0);
        seen[*o] = 1;
    }
    assert_null(gc_pool_get(p));
    free(seen);
    gc_pool_delete(p);
}

static void test_pool_object_survives_one_collection(void **state)
{
    (void)state;
    gc_pool *p = gc_pool_new(new_small);
    uintptr_t h = put_hidden(p, 0x61);
    tu_scrub_stack();
    gc_collect();
    assert_false(is_freed(h));
    new_calls = 0;
    assert_true(get_is(p, h, 0x61));   /* from the victim cache */
    assert_int_equal(new_calls, 0);
    gc_pool_delete(p);
}

static void test_pool_shared_objects_survive_one_collection(void **state)
{
    (void)state;
    gc_pool *p = gc_pool_new(NULL);
    uintptr_t h1, h2;
    put_two_hidden(p, &h1, &h2);   /* private slot, shared list */
    tu_scrub_stack();
    gc_collect();
    assert_false(is_freed(h1));
    assert_false(is_freed(h2));
    /* an object got back and put again is primary once more: it survives
     * the next collection too, while the other one ages out */
    uintptr_t kept = get_put_back(p), other = kept == h1 ? h2 : h1;
    assert_true(kept == h1 || kept == h2);
    tu_scrub_stack();
    gc_collect();
    gc_collect();
    assert_true(is_freed(other));
    assert_true(is_freed(kept));   /* two collections since its last put */
    assert_null(gc_pool_get(p));
    gc_pool_delete(p);
}

static void test_pool_object_freed_after_two_collections(void **state)
{
    (void)state;
    gc_pool *p = gc_pool_new(new_small);
    uintptr_t h = put_hidden(p, 0x62);
    tu_scrub_stack();
    gc_collect();
    gc_collect();
    assert_true(is_freed(h));
    new_calls = 0;
    void *o = gc_pool_get(p);
    assert_non_null(o);
    assert_int_equal(new_calls, 1);   /* (o may reuse the freed memory) */
    gc_pool_delete(p);
}

static void test_pool_pooled_object_keeps_its_referents(void **state)
{
    (void)state;
    gc_pool *p = gc_pool_new(NULL);
    uintptr_t hc = put_holder(p);
    tu_scrub_stack();
    gc_collect();
    assert_false(is_freed(hc));
    void **h = gc_pool_get(p);
    assert_non_null(h);
    assert_ptr_equal(h[0], (void *)(hc ^ MASK));
    for (int i = 0; i < 100; i++)
        assert_int_equal(((char *)h[0])[i], 0x44);
    gc_pool_delete(p);
}

/* A thread puts and exits: its private object moves to the victim cache. */
static gc_pool *exit_pool;
static uintptr_t exit_hidden;

static void *put_and_exit(void *arg)
{
    (void)arg;
    exit_hidden = put_hidden(exit_pool, 0x63);
    return NULL;
}

static void test_pool_exited_thread_objects_are_reachable(void **state)
{
    (void)state;
    exit_pool = gc_pool_new(NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, put_and_exit, NULL), 0);
    pthread_join(th, NULL);
    tu_scrub_stack();
    gc_collect();
    assert_false(is_freed(exit_hidden));
    assert_true(get_is(exit_pool, exit_hidden, 0x63));
    gc_pool_delete(exit_pool);
}

/* Objects another thread put on the shared list are visible here. */
static void *put_two(void *arg)
{
    gc_pool *p = arg;
    for (int i = 0; i < 2; i++) {
        int *o = gc_malloc(sizeof(int));
        *o = 77;
        gc_pool_put(p, o);
    }
    return NULL;
}

static void test_pool_shared_between_threads(void **state)
{
    (void)state;
    gc_pool *p = gc_pool_new(NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, put_two, p), 0);
    pthread_join(th, NULL);
    int *o = gc_pool_get(p);   /* the second one, from the shared list */
    assert_non_null(o);
    assert_int_equal(*o, 77);
    gc_pool_delete(p);
}

static void test_pool_delete_does_not_leak_into_a_new_pool(void **state)
{
    (void)state;
    gc_pool *p1 = gc_pool_new(NULL);
    void *a = gc_malloc(64), *b = gc_malloc(64);
    gc_pool_put(p1, a);   /* private slot */
    gc_pool_put(p1, b);   /* shared */
    gc_pool_delete(p1);
    gc_pool *p2 = gc_pool_new(new_small);   /* likely the same index */
    new_calls = 0;
    void *o = gc_pool_get(p2);
    assert_true(o != a && o != b);
    assert_int_equal(new_calls, 1);
    gc_pool_delete(p2);
}

/* ---- threads ---- */

#define MAGIC 0x9001CAFEu
struct item {
    uint32_t magic;
    int inuse;             /* atomic: 1 while a thread holds it */
    uint32_t tag;
    unsigned char data[200];
};

static gc_pool *mt_pool;
static int mt_errors, mt_created;

static void *new_item(void)
{
    struct item *it = gc_malloc(sizeof *it);
    if (!it)
        return NULL;
    it->magic = MAGIC;
    __atomic_add_fetch(&mt_created, 1, __ATOMIC_RELAXED);
    return it;
}

static void mt_release(struct item *it, unsigned tag)
{
    it->tag = tag;
    memset(it->data, (int)(tag & 0xff), sizeof it->data);
    int one = 1;
    if (!__atomic_compare_exchange_n(&it->inuse, &one, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        __atomic_add_fetch(&mt_errors, 1, __ATOMIC_RELAXED);
    gc_pool_put(mt_pool, it);
}

static struct item *mt_acquire(void)
{
    struct item *it = gc_pool_get(mt_pool);
    int zero = 0;
    if (!it || it->magic != MAGIC ||
        !__atomic_compare_exchange_n(&it->inuse, &zero, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        __atomic_add_fetch(&mt_errors, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    for (size_t j = 0; j < sizeof it->data; j++)
        if (it->data[j] != (unsigned char)(it->tag & 0xff)) {
            __atomic_add_fetch(&mt_errors, 1, __ATOMIC_RELAXED);
            break;
        }
    return it;
}

#define MT_HELD 8
#define MT_ITERS (tu_stress() ? 300 : 200000)

/* Each thread holds 0..8 items and randomly gets or puts one, so the pool
 * holds a varying number, items move between threads through the shared
 * lists, and cycles (forced by thread 0, triggered by garbage) run while
 * items sit in private slots, shared lists and victim caches. */
static void *mt_worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg, seed = id * 7919u + 1;
    struct item *held[MT_HELD] = {0};
    int n = 0;
    for (int i = 0; i < MT_ITERS; i++) {
        seed = seed * 1103515245u + 12345u;
        int get = n == 0 || (n < MT_HELD && ((seed >> 16) & 1));
        if (get) {
            struct item *it = mt_acquire();
            if (it)
                held[n++] = it;
        } else {
            int k = (int)((seed >> 8) % (unsigned)n);
            struct item *it = held[k];
            held[k] = held[--n];
            held[n] = NULL;
            mt_release(it, id * 1000003u + (unsigned)i);
        }
        if (id == 0 && i % 20000 == 0)
            gc_collect();
        else if (i % 64 == 0)
            (void)gc_malloc(512);   /* garbage: triggered cycles, freed slots to reuse */
    }
    while (n > 0)
        mt_release(held[--n], id);
    return NULL;
}

static void test_pool_four_threads(void **state)
{
    (void)state;
    mt_pool = gc_pool_new(new_item);
    mt_errors = 0;
    mt_created = 0;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, mt_worker, (void *)(uintptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    gc_stats st;
    gc_read_stats(&st);
    print_message("[   INFO   ] 4 threads: %d items created, %u cycles\n", mt_created, st.num_gc);
    assert_int_equal(mt_errors, 0);
    /* reuse, not one new object per get */
    assert_true(mt_created < 4 * MT_ITERS / 2 / 4);
    gc_pool_delete(mt_pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_put_get_same_thread),
        cmocka_unit_test(test_pool_get_empty_calls_new),
        cmocka_unit_test(test_pool_many_objects_all_come_back),
        cmocka_unit_test(test_pool_object_survives_one_collection),
        cmocka_unit_test(test_pool_shared_objects_survive_one_collection),
        cmocka_unit_test(test_pool_object_freed_after_two_collections),
        cmocka_unit_test(test_pool_pooled_object_keeps_its_referents),
        cmocka_unit_test(test_pool_exited_thread_objects_are_reachable),
        cmocka_unit_test(test_pool_shared_between_threads),
        cmocka_unit_test(test_pool_delete_does_not_leak_into_a_new_pool),
        cmocka_unit_test(test_pool_four_threads),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, NULL);
}
