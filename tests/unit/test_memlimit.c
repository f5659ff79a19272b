/* test_memlimit.c - the soft memory limit, the scavenger, the GC CPU limiter.
 *
 * Arithmetic first (the memory-limit goal, the limiter as a deterministic
 * state machine on explicit times, never the wall clock), then the page
 * heap's releasing (pages really leave the resident set: mincore; released
 * pages come back zeroed; pages_released stays exact under gci_heap_verify),
 * then whole-program behaviour measured with the resident set size
 * (gci_rss_bytes):
 *   GOGC=off + a 128 MiB limit + a 64 MiB live set under 1 GiB of churn:
 *     RSS stays under the limit + 10%;
 *   a 192 MiB live set under a 128 MiB limit: completes, limiter engaged;
 *   512 MiB freed then gc_free_os_memory: RSS under 64 MiB.
 * These rely on the collector's hooks (collect.c, pacer.c): the pacer's
 * goal includes gci_memlimit_goal, every cycle calls gci_limiter_note_cycle
 * and gci_scavenge_after_cycle, gc_free_os_memory calls gci_scavenge_all.
 * The big-heap tests are skipped under GCTUNE_GCSTRESS (a collection per
 * allocation would take hours) and each leaves GOGC=100, no limit and a
 * scavenged heap behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "gc_internal.h"
#include "scavenge.h"
#include "test_util.h"

#define MiB ((uint64_t)1 << 20)



#define OBJ 1024
/* Roots of the big tests, dropped by reset_heap (also after a failed
 * assertion, which leaves the test early).  volatile: the compiler must not
 * drop the NULL stores (the variables are never read again). */
static void **volatile ring;
static void **volatile big;

/* Back to the defaults with every free page released. */
static int reset_heap(void **state)
{
    (void)state;
    ring = NULL;
    big = NULL;
    gc_set_percent(100);
    gc_set_memory_limit(INT64_MAX);
    tu_scrub_stack();
    gc_collect();
    gci_scavenge_all();
    return 0;
}

static double mib(uint64_t b) { return (double)b / (double)MiB; }

/* Pages of [p, p + len) that are resident. */
static size_t resident_pages(const void *p, size_t len)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t n = (len + (size_t)ps - 1) / (size_t)ps, r = 0;
    unsigned char *vec = malloc(n);
    assert_non_null(vec);
    assert_int_equal(mincore((void *)p, len, vec), 0);
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    free(vec);
    return r;
}

static uint64_t released_pages(void)
{
    pthread_mutex_lock(&gci->heap_lock);
    uint64_t v = gci->pages_released;
    pthread_mutex_unlock(&gci->heap_lock);
    return v;
}

/* ---- the memory-limit heap goal ---- */

static void test_memlimit_goal_no_limit(void **state)
{
    (void)state;
    assert_true(gci_limit_goal_calc(INT64_MAX, 100 * MiB, 50 * MiB, 0, MiB, 10 * MiB) == UINT64_MAX);
    assert_true(gci_limit_goal_calc(-1, 100 * MiB, 50 * MiB, 0, MiB, 10 * MiB) == UINT64_MAX);
}

static void test_memlimit_goal_subtracts_overhead_and_headroom(void **state)
{
    (void)state;
    /* idle unreleased = 100 - 60 - 30 = 10 MiB, + 2 MiB metadata */
    uint64_t g = 116 * MiB, want = g - g / 100 * 3;
    assert_int_equal(gci_limit_goal_calc(128 * MiB, 100 * MiB, 60 * MiB, 30 * MiB, 2 * MiB, 10 * MiB), want);
    /* released pages are not overhead: releasing everything raises the goal */
    g = 126 * MiB;
    assert_int_equal(gci_limit_goal_calc(128 * MiB, 100 * MiB, 60 * MiB, 40 * MiB, 2 * MiB, 10 * MiB),
                     g - g / 100 * 3);
}

static void test_memlimit_goal_min_headroom(void **state)
{
    (void)state;
    /* 3% of 20 MiB < 1 MiB: the headroom is 1 MiB */
    assert_int_equal(gci_limit_goal_calc(21 * MiB, 10 * MiB, 10 * MiB, 0, MiB, 0), 19 * MiB);
}

static void test_memlimit_goal_floor(void **state)
{
    (void)state;
    /* overhead above the limit: the lowest goal, 1 MiB above the marked heap */
    assert_int_equal(gci_limit_goal_calc(64 * MiB, 200 * MiB, 100 * MiB, 0, 8 * MiB, 30 * MiB),
                     30 * MiB + GC_LIMIT_MIN_GROWTH);
    /* live heap above the limit */
    assert_int_equal(gci_limit_goal_calc(128 * MiB, 0, 0, 0, 0, 200 * MiB), 200 * MiB + GC_LIMIT_MIN_GROWTH);
    /* tiny limit: never below 1 MiB */
    assert_int_equal(gci_limit_goal_calc(2 * MiB, 0, 0, 0, MiB / 2, 0), GC_LIMIT_MIN_GROWTH);
    /* an inconsistent snapshot (released > idle) counts no idle memory */
    uint64_t g = 126 * MiB;
    assert_int_equal(gci_limit_goal_calc(128 * MiB, 10 * MiB, 8 * MiB, 5 * MiB, 2 * MiB, 0), g - g / 100 * 3);
}

static void test_memlimit_goal_reads_runtime_counters(void **state)
{
    (void)state;
    gc_set_memory_limit(512 * MiB);
    pthread_mutex_lock(&gci->gc_mutex);   /* no cycle moves heap_marked meanwhile */
    pthread_mutex_lock(&gci->heap_lock);
    uint64_t want = gci_limit_goal_calc(512 * MiB, gci->heap_sys, gci->pages_inuse * GC_PAGE_SIZE,
                                        gci->pages_released * GC_PAGE_SIZE, gci_load(&gci->metadata_sys),
                                        gci->heap_marked);
    pthread_mutex_unlock(&gci->heap_lock);
    uint64_t got = gci_limit_heap_goal();
    pthread_mutex_unlock(&gci->gc_mutex);
    gc_set_memory_limit(INT64_MAX);
    assert_int_equal(got, want);
    assert_true(gci_limit_heap_goal() == UINT64_MAX);
    gc_stats st;
    gc_read_stats(&st);
    assert_true(st.memory_limit_goal == UINT64_MAX);
}

/* ---- the GC CPU limiter (deterministic: explicit times) ---- */

#define MS ((uint64_t)1000000)

static void test_memlimit_limiter_quiet_at_25_percent(void **state)
{
    (void)state;
    struct gci_limiter l;
    memset(&l, 0, sizeof l);
    uint64_t now = 0;
    for (int i = 0; i < 1000; i++) {   /* 100 s at 25% GC on 4 procs */
        now += 100 * MS;
        gci_limiter_step(&l, 100 * MS, 100 * MS, 4, now, MiB);
    }
    assert_int_equal(l.enabled, 0);
    assert_int_equal(l.events, 0);
    assert_int_equal(l.fill, 0);
}

static void test_memlimit_limiter_engages_after_a_second_of_full_gc(void **state)
{
    (void)state;
    struct gci_limiter l;
    memset(&l, 0, sizeof l);
    uint64_t now = 0;
    /* 100% GC: the 4 s bucket (1 s x 4 procs) fills by 0.4 s per 100 ms cycle */
    for (int i = 1; i <= 9; i++) {
        now += 100 * MS;
        gci_limiter_step(&l, 400 * MS, 100 * MS, 4, now, MiB);
        assert_int_equal(l.enabled, 0);
    }
    now += 100 * MS;
    gci_limiter_step(&l, 400 * MS, 100 * MS, 4, now, MiB);
    assert_int_equal(l.enabled, 1);
    assert_int_equal(l.events, 1);
    uint64_t on_at = now;
    /* stays on while GC keeps above half */
    now += 100 * MS;
    gci_limiter_step(&l, 240 * MS, 100 * MS, 4, now, MiB);
    assert_int_equal(l.enabled, 1);
    assert_int_equal(l.events, 1);
    /* a cycle under half turns it off and accounts the time */
    now += 100 * MS;
    gci_limiter_step(&l, 40 * MS, 100 * MS, 4, now, MiB);
    assert_int_equal(l.enabled, 0);
    assert_int_equal(l.engaged_ns, now - on_at);
    /* the bucket is nearly full: it turns on again quickly */
    now += 100 * MS;
    gci_limiter_step(&l, 400 * MS, 100 * MS, 4, now, MiB);
    assert_int_equal(l.enabled, 1);
    assert_int_equal(l.events, 2);
}

static void test_memlimit_limiter_60_percent_takes_five_seconds(void **state)
{
    (void)state;
    struct gci_limiter l;
    memset(&l, 0, sizeof l);
    uint64_t now = 0;
    int cycles = 0;
    /* 60% GC on 1 proc: the bucket grows by 0.2 s per second of wall */
    while (!l.enabled && cycles < 1000) {
        now += 100 * MS;
        gci_limiter_step(&l, 60 * MS, 100 * MS, 1, now, MiB);
        cycles++;
    }
    assert_int_equal(cycles, 50);
}

static void test_memlimit_limiter_budget_is_twice_the_gc_time(void **state)
{
    (void)state;
    struct gci_limiter l;
    memset(&l, 0, sizeof l);
    /* 50 MiB allocated in 50 ms of program time, then 100 ms of GC: the
     * program may allocate 2 x 100 ms x 1 MiB/ms */
    gci_limiter_step(&l, 100 * MS, 150 * MS, 1, 150 * MS, 50 * MiB);
    assert_true(l.budget >= 199 * MiB && l.budget <= 201 * MiB);
    /* never under 1 MiB */
    gci_limiter_step(&l, 100 * MS, 150 * MS, 1, 300 * MS, 0);
    assert_int_equal(l.budget, MiB);
}

/* ---- releasing pages ---- */

static void test_scavenge_releases_and_reuse_is_zeroed(void **state)
{
    (void)state;
    size_t len = 32 * MiB;
    unsigned char *p = gc_malloc_atomic(len);
    assert_non_null(p);
    memset(p, 0xAB, len);
    assert_true(resident_pages(p, len) * (size_t)sysconf(_SC_PAGESIZE) == len);
    uint64_t rel0 = released_pages();
    gc_free(p);
    assert_true(resident_pages(p, len) > 0);

    /* a budget is respected, and counted exactly */
    size_t got = gci_scavenge(8 * MiB);
    assert_int_equal(got, 8 * MiB);
    assert_int_equal(released_pages(), rel0 + 8 * MiB / GC_PAGE_SIZE);
    tu_heap_verify();

    gci_scavenge_all();
    assert_int_equal(resident_pages(p, len), 0);
    assert_true(released_pages() >= rel0 + len / GC_PAGE_SIZE);
    assert_int_equal(gci_scavenge(MiB), 0);   /* nothing left */
    tu_heap_verify();
    gc_stats st;
    gc_read_stats(&st);
    assert_true(st.heap_released >= len);
    assert_true(st.heap_released <= st.heap_idle);
    assert_true(st.scavenged_total >= len);

    /* released pages come back zeroed (needzero == 0: nobody memsets them) */
    unsigned char *q = gc_malloc_atomic(len);
    assert_non_null(q);
    for (size_t i = 0; i < len; i += 4096)
        assert_int_equal(q[i] | q[i + 4095], 0);
    memset(q, 0xCD, len);
    gc_free(q);
    /* partly released run: must be zeroed by the allocator */
    assert_int_equal(gci_scavenge(4 * MiB), 4 * MiB);
    q = gc_malloc_atomic(len);
    assert_non_null(q);
    for (size_t i = 0; i < len; i += 512)
        assert_int_equal(q[i], 0);
    gc_free(q);
    tu_heap_verify();
}

static void test_scavenge_after_cycle_releases_runs_free_since_an_earlier_cycle(void **state)
{
    (void)state;
    uint64_t old_age = gci_scavenge_set_min_age(0);
    gci_scavenge_after_cycle();   /* everything free now is old from here on */
    size_t len = 16 * MiB;
    unsigned char *p = gc_malloc_atomic(len);
    assert_non_null(p);
    memset(p, 1, len);
    gc_free(p);
    size_t res = resident_pages(p, len);
    gci_scavenge_after_cycle();   /* p's run became free in this epoch: kept */
    assert_int_equal(resident_pages(p, len), res);
    gci_scavenge_after_cycle();   /* it was free at the previous cycle end: released */
    assert_int_equal(resident_pages(p, len), 0);

    /* with a minimum age, a run must also have been free that long */
    gci_scavenge_set_min_age(300 * MS);
    p = gc_malloc_atomic(len);
    assert_non_null(p);
    memset(p, 2, len);
    gc_free(p);
    res = resident_pages(p, len);
    gci_scavenge_after_cycle();
    gci_scavenge_after_cycle();
    assert_int_equal(resident_pages(p, len), res);
    struct timespec ts = {0, 350 * 1000 * 1000};
    nanosleep(&ts, NULL);
    gci_scavenge_after_cycle();
    assert_int_equal(resident_pages(p, len), 0);
    gci_scavenge_set_min_age(old_age);
    tu_heap_verify();
}

static struct span *take(size_t npages)
{
    int fresh;
    struct span *s = gci_heap_alloc(npages, &fresh);
    assert_non_null(s);
    gci_span_init_large(s, npages * GC_PAGE_SIZE, 1, fresh);
    return s;
}

static void test_scavenge_on_heap_growth_over_the_limit(void **state)
{
    (void)state;
    size_t npages = 32 * MiB / GC_PAGE_SIZE;
    struct span *a = take(npages);
    void *abase = (void *)a->base;
    memset(abase, 3, npages * GC_PAGE_SIZE);
    gci_heap_free(a);
    assert_true(resident_pages(abase, npages * GC_PAGE_SIZE) > 0);
    gc_stats st;
    gc_read_stats(&st);
    /* the heap is at the limit; growing it releases the free pages at once */
    gc_set_percent(-1);
    gc_set_memory_limit((int64_t)(st.sys - st.heap_released));
    struct span *b = take(gci_heap_largest_free_run() + 1024);
    assert_int_equal(resident_pages(abase, npages * GC_PAGE_SIZE), 0);
    gc_set_memory_limit(INT64_MAX);
    gc_set_percent(100);
    gci_heap_free(b);
    tu_heap_verify();
}

/* Several threads allocate, check zeroing, fill and free large objects while
 * another scavenges: released runs must never hand out stale bytes. */
static volatile int scav_stop;
static int alloc_errors;

static void *churn_large(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!__atomic_load_n(&scav_stop, __ATOMIC_ACQUIRE)) {
        seed = seed * 1103515245u + 12345u;
        size_t len = (size_t)(64 * 1024) + (seed >> 8) % (2 * MiB);
        unsigned char *p = gc_malloc_atomic(len);
        if (!p) {
            __atomic_add_fetch(&alloc_errors, 1, __ATOMIC_RELAXED);
            continue;
        }
        for (size_t i = 0; i < len; i += 1024)
            if (p[i])
                __atomic_add_fetch(&alloc_errors, 1, __ATOMIC_RELAXED);
        memset(p, (int)(seed | 1), len);
        gc_free(p);
    }
    return NULL;
}

static void *scavenger(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&scav_stop, __ATOMIC_ACQUIRE)) {
        gci_scavenge(4 * MiB);
        sched_yield();
    }
    return NULL;
}

static void test_scavenge_concurrent_with_allocation(void **state)
{
    (void)state;
    pthread_t th[5];
    scav_stop = 0;
    alloc_errors = 0;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, churn_large, (void *)(uintptr_t)(i + 1)), 0);
    assert_int_equal(pthread_create(&th[4], NULL, scavenger, NULL), 0);
    struct timespec ts = {tu_stress() ? 0 : 1, tu_stress() ? 200 * 1000 * 1000 : 500 * 1000 * 1000};
    nanosleep(&ts, NULL);
    __atomic_store_n(&scav_stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 5; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(alloc_errors, 0);
    gc_collect();
    tu_heap_verify();
}

/* ---- whole-program behaviour ---- */


static void test_memlimit_rss_within_limit_under_churn(void **state)
{
    (void)state;
    if (tu_stress())
        skip();
    const size_t live = 64 * MiB, limit = 128 * MiB, total = 1024 * MiB;
    const size_t n = live / OBJ;
    gc_set_percent(-1);
    gc_set_memory_limit((int64_t)limit);
    gc_stats st0, st;
    gc_read_stats(&st0);
    ring = gc_malloc(n * sizeof *ring);
    assert_non_null(ring);
    uint64_t max_rss = 0;
    for (size_t i = 0; i < total / OBJ; i++) {
        unsigned char *o = gc_malloc(OBJ);
        assert_non_null(o);
        o[0] = (unsigned char)i;
        o[OBJ - 1] = (unsigned char)(i >> 8);
        ring[i % n] = o;
        if (i % 1024 == 0) {
            uint64_t r = gci_rss_bytes();
            if (r > max_rss)
                max_rss = r;
        }
    }
    for (size_t j = 0; j < n; j += 97) {   /* the live set is intact */
        size_t i = total / OBJ - n + j;
        unsigned char *o = ring[i % n];
        assert_int_equal(o[0], (unsigned char)i);
        assert_int_equal(o[OBJ - 1], (unsigned char)(i >> 8));
    }
    gc_read_stats(&st);
    print_message("[   INFO   ] limit %.0f MiB, live %.0f MiB, %.0f MiB allocated: max RSS %.1f MiB, "
                  "%u cycles, heap_sys %.1f MiB, released %.1f MiB\n",
                  mib(limit), mib(live), mib(total), mib(max_rss), st.num_gc - st0.num_gc, mib(st.heap_sys),
                  mib(st.heap_released));
    assert_true(st.num_gc - st0.num_gc >= 5);
    assert_true(max_rss <= limit + limit / 10);
    ring = NULL;
}

static void test_memlimit_live_set_over_limit_completes(void **state)
{
    (void)state;
    if (tu_stress())
        skip();
    const size_t live = 192 * MiB, limit = 128 * MiB;
    const size_t n = live / OBJ;
    gc_set_percent(-1);
    gc_set_memory_limit((int64_t)limit);
    gc_stats st0, st;
    gc_read_stats(&st0);
    uint64_t t0 = gci_nanotime(), cpu0 = gci_load(&gci->gc_cpu_ns);
    ring = gc_malloc(n * sizeof *ring);
    assert_non_null(ring);
    for (size_t i = 0; i < n; i++) {
        ring[i] = gc_malloc(OBJ);
        assert_non_null(ring[i]);
    }
    /* garbage on top of a live set the limit cannot hold: at most 2 GiB,
     * and at least 256 MiB once the limiter has engaged (or in concurrent
     * mode, where marking takes a quarter of the CPU and the limiter need
     * not engage) */
    size_t churned = 0;
    for (;;) {
        for (int k = 0; k < 1024; k++)
            assert_non_null(gc_malloc(OBJ));
        churned += 1024 * OBJ;
        if (churned >= 2048 * MiB)
            break;
        if (churned >= 256 * MiB) {
            gc_read_stats(&st);
            if (st.limiter_events > st0.limiter_events || st.concurrent)
                break;
        }
    }
    uint64_t wall = gci_nanotime() - t0;
    double share = (double)(gci_load(&gci->gc_cpu_ns) - cpu0) / ((double)wall * gci->procs);
    gc_read_stats(&st);
    print_message("[   INFO   ] live %.0f MiB over a %.0f MiB limit%s: %.0f MiB churned in %.1f s, %u cycles, "
                  "GC CPU %.0f%%, limiter on %u times for %.2f s, RSS %.1f MiB\n",
                  mib(live), mib(limit), st.concurrent ? " (concurrent)" : "", mib(churned), (double)wall / 1e9,
                  st.num_gc - st0.num_gc, share * 100, st.limiter_events - st0.limiter_events,
                  (double)(st.limiter_engaged_ns - st0.limiter_engaged_ns) / 1e9, mib(gci_rss_bytes()));
    assert_true(wall < (uint64_t)120 * 1000000000u);
    if (st.concurrent && st.limiter_events == st0.limiter_events) {
        /* no death spiral without the limiter; gccheckmark (a debugging
         * mode) re-marks the whole live set in every cycle, which doubles
         * the marking CPU by design, so the bound doubles too */
        assert_true(share < (gci->gccheckmark ? 1.10 : 0.55));
    } else {
        assert_true(st.limiter_events > st0.limiter_events);
        assert_true(st.limiter_engaged_ns > st0.limiter_engaged_ns);
    }
}

/* 512 MiB live, reachable only from big; returns the RSS.  noinline: no
 * copy of the pointers stays in the test's frame. */
static __attribute__((noinline)) uint64_t make_big(size_t n, size_t len)
{
    void **a = gc_malloc(n * sizeof *a);
    assert_non_null(a);
    big = a;
    for (size_t i = 0; i < n; i++) {
        a[i] = gc_malloc_atomic(len);
        assert_non_null(a[i]);
        memset(a[i], 0x5A, len);
    }
    a = NULL;
    return gci_rss_bytes();
}

static void test_memlimit_free_os_memory_returns_freed_heap(void **state)
{
    (void)state;
    if (tu_stress())
        skip();
    uint64_t full = make_big(512, MiB);
    assert_true(full >= 512 * MiB);
    big = NULL;
    tu_scrub_stack();
    gc_free_os_memory();
    uint64_t after = gci_rss_bytes();
    gc_stats st;
    gc_read_stats(&st);
    print_message("[   INFO   ] RSS %.1f MiB with 512 MiB live, %.1f MiB after gc_free_os_memory; "
                  "heap_sys %.1f MiB, heap_released %.1f MiB\n",
                  mib(full), mib(after), mib(st.heap_sys), mib(st.heap_released));
    assert_true(after < 64 * MiB);
    assert_true(st.heap_released > 0);
    assert_true(st.heap_released >= 448 * MiB);
    tu_heap_verify();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memlimit_goal_no_limit),
        cmocka_unit_test(test_memlimit_goal_subtracts_overhead_and_headroom),
        cmocka_unit_test(test_memlimit_goal_min_headroom),
        cmocka_unit_test(test_memlimit_goal_floor),
        cmocka_unit_test_teardown(test_memlimit_goal_reads_runtime_counters, reset_heap),
        cmocka_unit_test(test_memlimit_limiter_quiet_at_25_percent),
        cmocka_unit_test(test_memlimit_limiter_engages_after_a_second_of_full_gc),
        cmocka_unit_test(test_memlimit_limiter_60_percent_takes_five_seconds),
        cmocka_unit_test(test_memlimit_limiter_budget_is_twice_the_gc_time),
        cmocka_unit_test_setup_teardown(test_scavenge_releases_and_reuse_is_zeroed, reset_heap, reset_heap),
        cmocka_unit_test_setup_teardown(test_scavenge_after_cycle_releases_runs_free_since_an_earlier_cycle,
                                        reset_heap, reset_heap),
        cmocka_unit_test_setup_teardown(test_scavenge_on_heap_growth_over_the_limit, reset_heap, reset_heap),
        cmocka_unit_test_setup_teardown(test_scavenge_concurrent_with_allocation, reset_heap, reset_heap),
        cmocka_unit_test_setup_teardown(test_memlimit_rss_within_limit_under_churn, reset_heap, reset_heap),
        cmocka_unit_test_setup_teardown(test_memlimit_live_set_over_limit_completes, reset_heap, reset_heap),
        cmocka_unit_test_setup_teardown(test_memlimit_free_os_memory_returns_freed_heap, reset_heap, reset_heap),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, NULL);
}
