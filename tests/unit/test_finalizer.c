/* test_finalizer.c - gc_set_finalizer semantics.
 *
 * Finalizers run once, on the finalizer thread (not the collecting thread,
 * never with the world stopped: they may allocate), after the object became
 * unreachable; the object and what it references are intact when they run.
 * Waiting for the asynchronous finalizer thread is a bounded poll
 * (collect, then sleep 1 ms, at most 2000 times), never a timing assertion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "gc_internal.h"

struct res { struct res *child; int id; char text[32]; };

static int ran[1000];
static int bad_content;
static int ran_on_main;
static pthread_t main_thread;

static void fin(void *obj, void *arg)
{
    struct res *r = obj;
    intptr_t id = (intptr_t)arg;
    __atomic_add_fetch(&ran[id], 1, __ATOMIC_SEQ_CST);
    if (r->id != id || strcmp(r->text, "payload") != 0)
        bad_content = 1;
    if (id < 500 && r->child && (r->child->id != -(int)id || strcmp(r->child->text, "child") != 0))
        bad_content = 1;
    if (id == 500 && (!r->child || r->child->id != 501 || strcmp(r->child->text, "payload") != 0))
        bad_content = 1;   /* the chain's referent is intact when its referrer is finalized */
    if (pthread_equal(pthread_self(), main_thread))
        ran_on_main = 1;
    /* Finalizers run in a live world: allocating here must work. */
    char *tmp = gc_strdup("allocated in a finalizer");
    if (strcmp(tmp, "allocated in a finalizer") != 0)
        bad_content = 1;
}

static __attribute__((noinline)) void make_finalizable(int id, int with_child)
{
    struct res *r = gc_malloc(sizeof *r);
    r->id = id;
    strcpy(r->text, "payload");
    if (with_child) {
        r->child = gc_malloc(sizeof *r);
        r->child->id = -id;
        strcpy(r->child->text, "child");
    }
    gc_set_finalizer(r, fin, (void *)(intptr_t)id);
}

static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

static int count_ran(int from, int to)
{
    int n = 0;
    for (int i = from; i < to; i++)
        n += __atomic_load_n(&ran[i], __ATOMIC_SEQ_CST) > 0;
    return n;
}

static void wait_for(int from, int to)
{
    for (int i = 0; i < 2000 && count_ran(from, to) < to - from; i++) {
        scrub_stack();
        gc_collect();
        usleep(1000);
    }
}

static void test_finalizer_runs_once_with_contents(void **state)
{
    (void)state;
    for (int i = 1; i < 200; i++)
        make_finalizable(i, i % 2);
    scrub_stack();
    wait_for(1, 200);
    assert_int_equal(count_ran(1, 200), 199);
    for (int k = 0; k < 5; k++)
        gc_collect();
    usleep(20000);
    for (int i = 1; i < 200; i++)
        assert_int_equal(ran[i], 1);
    assert_false(bad_content);
    assert_false(ran_on_main);
}

static void *volatile kept;

static void test_finalizer_not_run_while_reachable(void **state)
{
    (void)state;
    struct res *r = gc_malloc(sizeof *r);
    r->id = 300;
    strcpy(r->text, "payload");
    gc_set_finalizer(r, fin, (void *)(intptr_t)300);
    kept = r;
    r = NULL;
    for (int k = 0; k < 10; k++)
        gc_collect();
    usleep(10000);
    assert_int_equal(ran[300], 0);
    kept = NULL;
    scrub_stack();
    wait_for(300, 301);
    assert_int_equal(ran[300], 1);
}

static __attribute__((noinline)) void make_and_cancel(int id)
{
    struct res *r = gc_malloc(sizeof *r);
    r->id = id;
    gc_set_finalizer(r, fin, (void *)(intptr_t)id);
    gc_set_finalizer(r, NULL, NULL);
}

static void test_finalizer_removed_does_not_run(void **state)
{
    (void)state;
    for (int i = 400; i < 450; i++)
        make_and_cancel(i);
    make_finalizable(450, 0);   /* a sentinel that does run */
    scrub_stack();
    wait_for(450, 451);
    assert_int_equal(ran[450], 1);
    assert_int_equal(count_ran(400, 450), 0);
}

static __attribute__((noinline)) void make_chain(int id_a, int id_b)
{
    /* a -> b, both finalizable: b must stay alive until a's finalizer ran. */
    struct res *a = gc_malloc(sizeof *a), *b = gc_malloc(sizeof *b);
    a->id = id_a; strcpy(a->text, "payload");
    b->id = id_b; strcpy(b->text, "payload");
    a->child = b;
    b->child = NULL;
    gc_set_finalizer(a, fin, (void *)(intptr_t)id_a);
    gc_set_finalizer(b, fin, (void *)(intptr_t)id_b);
}

static void test_finalizer_ordering_referent_outlives_referrer(void **state)
{
    (void)state;
    bad_content = 0;
    make_chain(500, 501);
    scrub_stack();
    /* One cycle queues a (b is reachable from a), never b first. */
    gc_collect();
    usleep(20000);
    assert_true(ran[501] == 0 || ran[500] == 1);
    wait_for(500, 502);
    assert_int_equal(ran[500], 1);
    assert_int_equal(ran[501], 1);
    assert_false(bad_content);
}

/* Takes the first slot of the first span, the arena's base address: that
 * value is left in dead stack slots by the runtime's set-up, and under
 * GCTUNE_GCSTRESS one of them lingered in a live frame and kept object 1
 * (allocated there otherwise) alive for good, about 1 run in 16 -
 * conservative false retention, not a finalizer bug. */
static void *volatile arena_base_guard;

int main(void)
{
    main_thread = pthread_self();
    arena_base_guard = gc_malloc(sizeof(struct res));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finalizer_runs_once_with_contents),
        cmocka_unit_test(test_finalizer_not_run_while_reachable),
        cmocka_unit_test(test_finalizer_removed_does_not_run),
        cmocka_unit_test(test_finalizer_ordering_referent_outlives_referrer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
