/* test_collect.c - the collector keeps everything reachable and frees the rest.
 *
 * Each "survives" test hides an object so that exactly one kind of root
 * refers to it, collects several times while allocating garbage of the same
 * size (a wrongly freed object would be reused and overwritten), then checks
 * its contents.  Each "reclaimed" test hides the object's address
 * (XOR-masked, so the test itself is not a root) and checks that the
 * collector freed it: after gc_collect, which finishes sweeping, gc_base
 * returns NULL for a freed object.
 * Sizes shrink under GCTUNE_GCSTRESS (a collection per allocation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "gc_internal.h"

#define MASK ((uintptr_t)0x5a5a5a5a5a5a5a5aull)
#define OBJ_SIZE 48
#define FILL 0x3c

static int stress;   /* GCTUNE_GCSTRESS set: use small sizes */

static void *make_obj(unsigned char tag)
{
    unsigned char *p = gc_malloc(OBJ_SIZE);
    assert_non_null(p);
    memset(p, tag, OBJ_SIZE);
    return p;
}

static void check_obj(const void *p, unsigned char tag)
{
    const unsigned char *c = p;
    for (int i = 0; i < OBJ_SIZE; i++)
        assert_int_equal(c[i], tag);
}

/* Allocates garbage of the test objects' size, overwriting freed slots. */
static __attribute__((noinline)) void churn(int rounds)
{
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < (stress ? 50 : 20000); i++) {
            unsigned char *g = gc_malloc(OBJ_SIZE);
            memset(g, 0xEE, OBJ_SIZE);
        }
        gc_collect();
    }
}

/* Scrubs the dead part of the stack so stale copies cannot act as roots. */
static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

static __attribute__((noinline)) uintptr_t hidden_garbage(size_t size)
{
    uintptr_t h = (uintptr_t)gc_malloc(size) ^ MASK;
    return h;
}

static int is_freed(uintptr_t hidden) { return gc_base((void *)(hidden ^ MASK)) == NULL; }

/* ---- survives ---- */

/* Helpers touch the pointers so that the test frames never hold them. */
static __attribute__((noinline)) uintptr_t put_obj(void **slot, unsigned char tag)
{
    *slot = make_obj(tag);
    return (uintptr_t)*slot ^ MASK;
}

static __attribute__((noinline)) void check_slot(void **slot, unsigned char tag) { check_obj(*slot, tag); }


static void test_collect_local_survives(void **state)
{
    (void)state;
    void *volatile local = make_obj(0x11);
    scrub_stack();
    churn(5);
    check_obj(local, 0x11);
}

static void *global_ptr;

static void test_collect_global_survives(void **state)
{
    (void)state;
    put_obj(&global_ptr, 0x22);
    scrub_stack();
    churn(5);
    check_slot(&global_ptr, 0x22);
    global_ptr = NULL;
}

static void test_collect_interior_pointer_survives(void **state)
{
    (void)state;
    char *volatile interior = (char *)make_obj(0x33) + OBJ_SIZE - 1;
    scrub_stack();
    churn(5);
    check_obj(interior - (OBJ_SIZE - 1), 0x33);
}

static void test_collect_add_roots_survives(void **state)
{
    (void)state;
    void **box = malloc(4 * sizeof *box);   /* system malloc: not scanned by itself */
    memset(box, 0, 4 * sizeof *box);
    gc_add_roots(box, box + 4);
    uintptr_t hidden = put_obj(&box[2], 0x44);
    scrub_stack();
    churn(5);
    check_slot(&box[2], 0x44);
    scrub_stack();
    /* Once the range is removed, the object is garbage. */
    gc_remove_roots(box, box + 4);
    churn(2);
    assert_true(is_freed(hidden));
    free(box);
}

static void test_collect_malloc_memory_is_not_a_root(void **state)
{
    (void)state;
    void **box = malloc(sizeof *box);
    uintptr_t hidden = put_obj(box, 0x45);   /* the only pointer is in unscanned memory */
    scrub_stack();
    churn(2);
    assert_true(is_freed(hidden));
    free(box);
}

static void test_collect_heap_reference_survives(void **state)
{
    (void)state;
    void **holder = gc_malloc(8 * sizeof(void *));
    holder[5] = make_obj(0x55);
    void *volatile h = holder;
    holder = NULL;
    scrub_stack();
    churn(5);
    check_obj(((void **)h)[5], 0x55);
}

/* Another thread keeps the only pointer in r12 while spinning: the object
 * survives only if the suspend handler's saved registers are scanned. */
static volatile int reg_stop, reg_ready;

static __attribute__((noinline)) void *reg_thread(void *arg)
{
    (void)arg;
    gc_register_thread();
    register uintptr_t r12 __asm__("r12") = (uintptr_t)make_obj(0x66) ^ 0;
    scrub_stack();
    __asm__ volatile("" : "+r"(r12));
    reg_ready = 1;
    while (!reg_stop)
        __asm__ volatile("pause" : "+r"(r12));
    return (void *)r12;
}

static void test_collect_register_in_other_thread_survives(void **state)
{
    (void)state;
    pthread_t th;
    reg_stop = reg_ready = 0;
    assert_int_equal(pthread_create(&th, NULL, reg_thread, NULL), 0);
    while (!reg_ready)
        sched_yield();
    churn(5);
    reg_stop = 1;
    void *p;
    pthread_join(th, &p);
    check_obj(p, 0x66);
}

static pthread_mutex_t st_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t st_cond = PTHREAD_COND_INITIALIZER;
static int st_phase;

static void *stack_thread(void *arg)
{
    void *volatile mine = make_obj(0x77);
    pthread_mutex_lock(&st_lock);
    st_phase = 1;
    pthread_cond_broadcast(&st_cond);
    while (st_phase != 2)
        pthread_cond_wait(&st_cond, &st_lock);   /* blocked: suspended while waiting */
    pthread_mutex_unlock(&st_lock);
    check_obj(mine, 0x77);
    (void)arg;
    return NULL;
}

static void test_collect_other_thread_stack_survives(void **state)
{
    (void)state;
    pthread_t th;
    st_phase = 0;
    assert_int_equal(pthread_create(&th, NULL, stack_thread, NULL), 0);
    pthread_mutex_lock(&st_lock);
    while (st_phase != 1)
        pthread_cond_wait(&st_cond, &st_lock);
    pthread_mutex_unlock(&st_lock);
    churn(5);
    pthread_mutex_lock(&st_lock);
    st_phase = 2;
    pthread_cond_broadcast(&st_cond);
    pthread_mutex_unlock(&st_lock);
    pthread_join(th, NULL);
}

/* ---- reclaimed ---- */

static void test_collect_unreachable_reclaimed(void **state)
{
    (void)state;
    uintptr_t small = hidden_garbage(OBJ_SIZE);
    uintptr_t large = hidden_garbage(200000);
    scrub_stack();
    gc_collect();
    assert_true(is_freed(small));
    assert_true(is_freed(large));
}

static void test_collect_noscan_does_not_retain(void **state)
{
    (void)state;
    void *volatile keep = gc_malloc_atomic(4 * sizeof(void *));
    uintptr_t hidden = put_obj(&((void **)keep)[1], 0x46);
    scrub_stack();
    gc_collect();
    assert_non_null(gc_base(keep));   /* the noscan block itself is alive */
    assert_true(is_freed(hidden));    /* what it "points to" is not */
}

static void test_collect_bounded_heap_for_100x_live_set(void **state)
{
    (void)state;
    /* Live set: a ring of 2 MiB of 1 KiB objects, replaced continuously;
     * total allocation 100x the live set.  heap_alloc must stay within a
     * small multiple of live + the 4 MiB minimum heap. */
    enum { N = 2048, SZ = 1024 };
    void **ring = gc_malloc(N * sizeof(void *));
    static gc_stats st;
    uint64_t peak = 0;
    long total = stress ? 2 * N : 100L * N;
    for (long i = 0; i < total; i++) {
        ring[i % N] = gc_malloc_atomic(SZ);
        if (i % 4096 == 0) {
            gc_read_stats(&st);
            if (st.heap_alloc > peak)
                peak = st.heap_alloc;
        }
    }
    gc_read_stats(&st);
    uint64_t live = (uint64_t)N * SZ;
    assert_true(peak <= 3 * (live + (4u << 20)));
    assert_true(st.heap_sys <= 4 * (live + (4u << 20)));
    assert_true(stress || st.num_gc >= 10);
}

/* A list of 10 million nodes marks without recursion (no stack overflow). */
static void test_collect_deep_list(void **state)
{
    (void)state;
    long n = stress ? 2000 : 10 * 1000 * 1000;
    struct node { struct node *next; long v; } *head = NULL;
    for (long i = 0; i < n; i++) {
        struct node *x = gc_malloc(sizeof *x);
        x->v = i;
        x->next = head;
        head = x;
    }
    gc_collect();
    /* Reuse whatever was freed: a wrongly freed node gets overwritten. */
    for (long i = 0; i < (stress ? 200 : 200000); i++) {
        long *junk = gc_malloc(sizeof(struct node));
        junk[0] = junk[1] = -1;
    }
    long k = n;
    for (struct node *x = head; x; x = x->next)
        assert_int_equal(x->v, --k);
    assert_int_equal(k, 0);
}

#if GCTUNE_DEBUG >= 1
/* Debug builds poison what the collector frees, so a use after free reads
 * 0xDF bytes instead of plausible data. */
static void test_collect_debug_poisons_freed(void **state)
{
    (void)state;
    uintptr_t hidden = hidden_garbage(OBJ_SIZE);
    scrub_stack();
    gc_collect();
    assert_true(is_freed(hidden));
    const unsigned char *p = (const unsigned char *)(hidden ^ MASK);   /* still mapped */
    for (int i = 0; i < OBJ_SIZE; i++)
        assert_int_equal(p[i], GC_POISON_FREED);
}
#endif

/* ---- mutator threads ---- */

struct tnode { struct tnode *next; uint32_t owner, seq; unsigned char pad[24]; };

static void *mutator(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    uint64_t rnd = 88172645463325252ull ^ id;
    int rounds = stress ? 5 : 300;
    for (int r = 0; r < rounds; r++) {
        struct tnode *head = NULL;
        int len = 100 + (int)(rnd % 2000);
        for (int i = 0; i < len; i++) {
            rnd ^= rnd << 13; rnd ^= rnd >> 7; rnd ^= rnd << 17;
            struct tnode *x = gc_malloc(sizeof *x + (rnd % 3) * 100);
            x->owner = id;
            x->seq = (uint32_t)i;
            memset(x->pad, (int)(i & 0xff), sizeof x->pad);
            x->next = head;
            head = x;
        }
        int expect = len;
        for (struct tnode *x = head; x; x = x->next) {
            expect--;
            assert_int_equal(x->owner, id);
            assert_int_equal(x->seq, (uint32_t)expect);
            for (size_t b = 0; b < sizeof x->pad; b++)
                assert_int_equal(x->pad[b], expect & 0xff);
        }
        assert_int_equal(expect, 0);
    }
    return NULL;
}

static void test_collect_four_mutators(void **state)
{
    (void)state;
    pthread_t th[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, mutator, (void *)(i + 1)), 0);
    for (int i = 0; i < (stress ? 3 : 30); i++)
        gc_collect();
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    gc_collect();
    gci_heap_verify();
}

/* ---- pacer and hook ---- */

static struct { uint32_t n; uint64_t before[64], goal[64]; int forced[64]; } seen;

static void record_hook(const gc_cycle_info *info, void *arg)
{
    (void)arg;
    if (seen.n < 64) {
        seen.before[seen.n] = info->heap_before;
        seen.goal[seen.n] = info->heap_goal;
        seen.forced[seen.n] = info->forced;
        seen.n++;
    }
}

static void test_collect_pacer_triggers_at_goal(void **state)
{
    (void)state;
    if (stress)
        skip();
    int old = gc_set_percent(100);
    /* Stop-the-world pacing (trigger == goal); the concurrent trigger is
     * earlier by design (pacer.c), e.g. under gcstress.sh's
     * GCTUNE_CONCURRENT=1. */
    int old_concurrent = gc_set_concurrent(0);
    gc_collect();
    memset(&seen, 0, sizeof seen);
    assert_int_equal(gc_add_cycle_hook(record_hook, NULL), 0);
    for (int i = 0; i < 200000; i++)
        (void)gc_malloc_atomic(512);   /* 100 MiB of garbage */
    gc_remove_cycle_hook(record_hook, NULL);
    if (seen.n < 5) {
        /* what the pacer did instead (seen once under a loaded machine in
         * the sanitizer build, not reproduced since) */
        gc_stats st;
        gc_read_stats(&st);
        for (uint32_t i = 0; i < seen.n; i++)
            print_message("cycle %u: heap at start %lu, goal %lu, forced %d\n", i,
                          (unsigned long)seen.before[i], (unsigned long)seen.goal[i], seen.forced[i]);
        fail_msg("%u cycles for 100 MiB of garbage at GOGC=100 (want >= 5); heap_alloc %lu, next_gc %lu",
                 seen.n, (unsigned long)st.heap_alloc, (unsigned long)st.next_gc);
    }
    for (uint32_t i = 1; i < seen.n; i++) {
        if (seen.forced[i] || seen.forced[i - 1])
            continue;
        /* A triggered cycle starts once the heap reached the previous goal,
         * overshooting by at most one claimed bitmap word per thread. */
        if (!(seen.before[i] + 128 * 1024 >= seen.goal[i - 1] && seen.before[i] <= seen.goal[i - 1] + 256 * 1024))
            print_message("cycle %u: heap at start %lu, previous goal %lu\n", i, (unsigned long)seen.before[i],
                          (unsigned long)seen.goal[i - 1]);
        /* claimed-but-unused slots are subtracted when mcaches are flushed */
        assert_true(seen.before[i] + 128 * 1024 >= seen.goal[i - 1]);
        assert_true(seen.before[i] <= seen.goal[i - 1] + 256 * 1024);
    }
    gc_set_percent(old);
    gc_set_concurrent(old_concurrent > 0);
}

static void test_collect_gogc_off_never_triggers(void **state)
{
    (void)state;
    if (stress)
        skip();
    static gc_stats a, b;
    int old = gc_set_percent(-1);
    gc_read_stats(&a);
    for (int i = 0; i < 20000; i++)
        (void)gc_malloc_atomic(4096);   /* 80 MiB */
    gc_read_stats(&b);
    assert_int_equal(a.num_gc, b.num_gc);
    assert_int_equal(b.gc_percent, -1);
    gc_set_percent(old);
    gc_collect();
}

/* ---- fork ---- */

static void *fork_bg(void *arg)
{
    volatile int *stop = arg;
    while (!*stop)
        (void)gc_malloc(64);
    return NULL;
}

static void test_collect_fork_child_works(void **state)
{
    (void)state;
    volatile int stop = 0;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fork_bg, (void *)&stop), 0);
    for (int k = 0; k < (stress ? 2 : 20); k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            void **keep = gc_malloc(100 * sizeof(void *));
            for (int i = 0; i < 100; i++)
                keep[i] = gc_strdup("child");
            for (int i = 0; i < 20000; i++)
                (void)gc_malloc(128);
            gc_collect();
            for (int i = 0; i < 100; i++)
                if (strcmp(keep[i], "child") != 0)
                    _exit(3);
            _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    stop = 1;
    pthread_join(th, NULL);
}

int main(void)
{
    stress = getenv("GCTUNE_GCSTRESS") != NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_local_survives),
        cmocka_unit_test(test_collect_global_survives),
        cmocka_unit_test(test_collect_interior_pointer_survives),
        cmocka_unit_test(test_collect_add_roots_survives),
        cmocka_unit_test(test_collect_malloc_memory_is_not_a_root),
        cmocka_unit_test(test_collect_heap_reference_survives),
        cmocka_unit_test(test_collect_register_in_other_thread_survives),
        cmocka_unit_test(test_collect_other_thread_stack_survives),
        cmocka_unit_test(test_collect_unreachable_reclaimed),
        cmocka_unit_test(test_collect_noscan_does_not_retain),
#if GCTUNE_DEBUG >= 1
        cmocka_unit_test(test_collect_debug_poisons_freed),
#endif
        cmocka_unit_test(test_collect_bounded_heap_for_100x_live_set),
        cmocka_unit_test(test_collect_deep_list),
        cmocka_unit_test(test_collect_four_mutators),
        cmocka_unit_test(test_collect_pacer_triggers_at_goal),
        cmocka_unit_test(test_collect_gogc_off_never_triggers),
        cmocka_unit_test(test_collect_fork_child_works),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
