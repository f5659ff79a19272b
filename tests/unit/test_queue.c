/* tests/unit/test_queue.c - the profiler's record queue (profiler/queue.c):
 * variable-length records over 64-byte cells, wrap-around, the full queue,
 * several producers, and a consumer in another process (shared mode, as
 * the helper process uses it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "queue.h"

/* A record of a type chosen by i, its fields derived from i. */
static void make_rec(struct gctp_rec *r, uint64_t i)
{
    memset(r, 0, sizeof *r);
    static const uint32_t types[] = { GCTP_REC_ALLOC, GCTP_REC_FREE, GCTP_REC_GC, GCTP_REC_HEAP, GCTP_REC_TUNER };
    r->type = types[i % 5];
    r->token = i;
    r->time_ns = (int64_t)(i * 7);
    if (r->type == GCTP_REC_ALLOC) {
        r->nframes = (uint32_t)((i * 13) % (GCTP_MAX_FRAMES + 1));
        r->addr = i * 16;
        r->size = i + 1;
        r->hash = ~i;
        for (uint32_t k = 0; k < r->nframes; k++)
            r->u.ips[k] = (uintptr_t)(i * 1000 + k);
    } else if (r->type == GCTP_REC_GC) {
        r->u.gc.num = (uint32_t)i;
        r->u.gc.pause_ns = i * 3;
    } else if (r->type == GCTP_REC_HEAP) {
        r->u.heap.heap_alloc = i * 5;
        r->u.heap.sys = i * 11;
    } else if (r->type == GCTP_REC_TUNER) {
        snprintf(r->u.tuner.knob, sizeof r->u.tuner.knob, "k%llu", (unsigned long long)i);
        snprintf(r->u.tuner.measurements, sizeof r->u.tuner.measurements, "m%llu", (unsigned long long)i);
    }
}

static void check_rec(const struct gctp_rec *got, uint64_t i)
{
    struct gctp_rec want;
    make_rec(&want, i);
    size_t len = gctp_rec_len(&want);
    assert_int_equal(gctp_rec_len(got), len);
    assert_memory_equal(got, &want, len);
}

static void test_lengths(void **state)
{
    (void)state;
    struct gctp_rec r;
    memset(&r, 0, sizeof r);
    r.type = GCTP_REC_FREE;
    assert_true(gctp_rec_len(&r) <= GCTP_CELL_DATA);   /* a free is one cell */
    r.type = GCTP_REC_ALLOC;
    r.nframes = 8;
    assert_true(gctp_rec_len(&r) <= 3 * GCTP_CELL_DATA);
    r.nframes = 1000;   /* clamped, never read past ips */
    assert_int_equal(gctp_rec_len(&r), offsetof(struct gctp_rec, u) + GCTP_MAX_FRAMES * sizeof(uintptr_t));
}

/* Many laps of a small ring: every record comes back whole and in order. */
static void test_wrap_in_order(void **state)
{
    (void)state;
    struct gctp_queue q;
    assert_int_equal(gctp_queue_init(&q, 4, 0), 0);
    uint64_t put = 0, got = 0;
    for (int round = 0; round < 2000; round++) {
        int burst = 1 + round % 7;
        for (int b = 0; b < burst; b++) {
            struct gctp_rec r;
            make_rec(&r, put);
            if (gctp_queue_put(&q, &r) == 0)
                put++;
            else
                break;   /* full: drain below */
        }
        struct gctp_rec *r;
        int take = 1 + round % 5;
        while (take-- > 0 && (r = gctp_queue_peek(&q)) != NULL) {
            check_rec(r, got++);
            gctp_queue_release(&q);
        }
    }
    struct gctp_rec *r;
    while ((r = gctp_queue_peek(&q)) != NULL) {
        check_rec(r, got++);
        gctp_queue_release(&q);
    }
    assert_int_equal(got, put);
    assert_true(put > 20 * (q.mask + 1) / 4);   /* many laps */
    gctp_queue_destroy(&q);
}

/* 1 when the page holding p is resident (mincore). */
static int resident(const void *p)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned char v = 0;
    void *base = (void *)((uintptr_t)p & ~(uintptr_t)(page - 1));
    assert_int_equal(mincore(base, (size_t)page, &v), 0);
    return v & 1;
}

/* On the first lap the producers make the cells ahead of them resident
 * before they get there (queue.c: populate_ahead), and no further: the
 * page just ahead of the last record is resident before anything was
 * written to it, a page far ahead is not, and the records are intact. */
static void test_populate_ahead(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    void *probe = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(probe != MAP_FAILED);
    int can = madvise(probe, (size_t)page, 23 /* MADV_POPULATE_WRITE */) == 0;
    munmap(probe, (size_t)page);
    if (!can)
        skip();   /* a kernel before 5.14: pages fault in as they are reached */
    struct gctp_queue q;
    assert_int_equal(gctp_queue_init(&q, 65536, 0), 0);
    uint64_t cap = q.mask + 1;
    assert_true(cap >= 65536);   /* far more cells than the records below take */
    assert_false(resident(&q.cells[0]));
    for (uint64_t i = 0; i < 3000; i++) {
        struct gctp_rec r;
        make_rec(&r, i);
        assert_int_equal(gctp_queue_put(&q, &r), 0);
    }
    uint64_t end = q.enqueue_pos;
    assert_true(q.populated > end && q.populated < cap);
    assert_true(resident(&q.cells[end + (size_t)page / sizeof(struct gctp_cell)]));   /* ahead, unwritten */
    assert_false(resident(&q.cells[cap - 1]));                                         /* far ahead */
    for (uint64_t i = 0; i < 3000; i++) {
        struct gctp_rec *r = gctp_queue_peek(&q);
        assert_non_null(r);
        check_rec(r, i);
        gctp_queue_release(&q);
    }
    assert_null(gctp_queue_peek(&q));
    gctp_queue_destroy(&q);
}

/* A full queue refuses at once and takes records again once drained. */
static void test_full(void **state)
{
    (void)state;
    struct gctp_queue q;
    assert_int_equal(gctp_queue_init(&q, 2, 0), 0);
    struct gctp_rec r;
    memset(&r, 0, sizeof r);
    r.type = GCTP_REC_ALLOC;
    r.nframes = GCTP_MAX_FRAMES;   /* the largest record */
    int n = 0;
    while (gctp_queue_put(&q, &r) == 0)
        n++;
    assert_true(n >= 2);                  /* two of the largest always fit */
    assert_int_equal(gctp_queue_put(&q, &r), -1);
    struct gctp_rec f;
    memset(&f, 0, sizeof f);
    f.type = GCTP_REC_FREE;
    int small = 0;
    while (gctp_queue_put(&q, &f) == 0)   /* what is left fits only small ones */
        small++;
    assert_non_null(gctp_queue_peek(&q));
    gctp_queue_release(&q);
    assert_int_equal(gctp_queue_put(&q, &r), 0);   /* room again */
    int left = 0;
    struct gctp_rec *p;
    while ((p = gctp_queue_peek(&q)) != NULL) {
        left++;
        gctp_queue_release(&q);
    }
    assert_int_equal(left, n + small);   /* n + small put, one taken, one put again */
    gctp_queue_destroy(&q);
}

#define NPROD 4
#define PER_PROD 50000
struct prod { struct gctp_queue *q; uint64_t id; };

static void *producer(void *arg)
{
    struct prod *p = arg;
    for (uint64_t i = 0; i < PER_PROD; i++) {
        struct gctp_rec r;
        make_rec(&r, i);
        r.token = p->id << 32 | i;   /* thread, sequence */
        while (gctp_queue_put(p->q, &r) != 0)
            sched_yield();
    }
    return NULL;
}

/* Several producers: every record arrives once, each thread's in order. */
static void test_producers(void **state)
{
    (void)state;
    struct gctp_queue q;
    assert_int_equal(gctp_queue_init(&q, 64, 0), 0);
    pthread_t t[NPROD];
    struct prod p[NPROD];
    for (int i = 0; i < NPROD; i++) {
        p[i] = (struct prod){ &q, (uint64_t)i };
        assert_int_equal(pthread_create(&t[i], NULL, producer, &p[i]), 0);
    }
    uint64_t next[NPROD] = { 0 }, total = 0;
    while (total < NPROD * PER_PROD) {
        struct gctp_rec *r = gctp_queue_peek(&q);
        if (!r) {
            sched_yield();
            continue;
        }
        uint64_t id = r->token >> 32, i = r->token & 0xffffffffu;
        assert_true(id < NPROD);
        assert_int_equal(i, next[id]);
        next[id]++;
        struct gctp_rec want;
        make_rec(&want, i);
        want.token = r->token;
        assert_memory_equal(r, &want, gctp_rec_len(&want));
        gctp_queue_release(&q);
        total++;
    }
    for (int i = 0; i < NPROD; i++)
        pthread_join(t[i], NULL);
    assert_null(gctp_queue_peek(&q));
    gctp_queue_destroy(&q);
}

/* Shared mode: a forked child consumes what this process produces. */
static void test_shared_across_fork(void **state)
{
    (void)state;
    struct gctp_queue q;
    assert_int_equal(gctp_queue_init(&q, 16, 1), 0);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    const uint64_t N = 100000;
    if (pid == 0) {
        close(pfd[0]);
        uint64_t got = 0, bad = 0;
        while (got < N) {
            struct gctp_rec *r = gctp_queue_peek(&q);
            if (!r) {
                if (getppid() != parent)
                    _exit(3);   /* the test failed and went: do not spin on */
                sched_yield();
                continue;
            }
            struct gctp_rec want;
            make_rec(&want, got);
            if (gctp_rec_len(r) != gctp_rec_len(&want) || memcmp(r, &want, gctp_rec_len(&want)) != 0)
                bad++;
            gctp_queue_release(&q);
            got++;
        }
        uint64_t res[2] = { got, bad };
        _exit(write(pfd[1], res, sizeof res) == sizeof res ? 0 : 1);
    }
    close(pfd[1]);
    for (uint64_t i = 0; i < N; i++) {
        struct gctp_rec r;
        make_rec(&r, i);
        while (gctp_queue_put(&q, &r) != 0) {
            assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);   /* the consumer is still there */
            sched_yield();
        }
    }
    uint64_t res[2] = { 0, 1 };
    assert_int_equal(read(pfd[0], res, sizeof res), (ssize_t)sizeof res);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(res[0], N);
    assert_int_equal(res[1], 0);
    close(pfd[0]);
    gctp_queue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_wrap_in_order),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_populate_ahead),
        cmocka_unit_test(test_producers),
        cmocka_unit_test(test_shared_across_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
