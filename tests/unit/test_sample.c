/* test_sample.c - backends/sample.h, the preload backends' sampler: the
 * fast path (the countdown alone), the slow path's decision, and how
 * threads join and leave a recording without a generation test on the
 * fast path: the starting thread at once, an idle one within
 * GCT_SAMPLE_IDLE bytes, none samples after a stop; and the intervals'
 * mean is the rate.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sample.h"

/* one allocation of n bytes through the sampler, as malloc.c makes it:
 * 1 when it is sampled */
static int alloc(struct gct_sampler *s, struct gct_sample_tls *t, size_t n)
{
    uint64_t g;
    if (gct_sampler_pass(t, n))
        return 0;
    return gct_sampler_due(s, t, n, &g);
}

static void test_idle_then_start(void **state)
{
    (void)state;
    struct gct_sampler s;
    memset(&s, 0, sizeof s);
    struct gct_sample_tls me = { 0, 0, 0 }, other = { 0, 0, 0 };

    /* not recording: never sampled; the countdown is the idle one */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(alloc(&s, &me, 4096), 0);
        assert_int_equal(alloc(&s, &other, 4096), 0);
    }
    assert_true(me.countdown > 0 && me.countdown <= GCT_SAMPLE_IDLE);

    /* rate 1: every allocation of the starting thread from the next one */
    gct_sampler_start(&s, &me, 1, 42);
    assert_int_equal(alloc(&s, &me, 16), 1);
    assert_int_equal(alloc(&s, &me, 16), 1);
    /* the other thread joins once its idle countdown runs out */
    int64_t left = other.countdown;
    assert_true(left > 0 && left <= GCT_SAMPLE_IDLE);
    size_t bytes = 0;
    int joined = 0;
    while (bytes <= (size_t)GCT_SAMPLE_IDLE + 16) {
        bytes += 16;
        if (alloc(&s, &other, 16)) {
            joined = 1;
            break;
        }
    }
    assert_true(joined);
    assert_true((int64_t)bytes >= left && (int64_t)bytes <= left + 16);

    /* stop: nobody samples any more, at rate 1 either */
    gct_sampler_stop(&s);
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(alloc(&s, &me, 64), 0);
        assert_int_equal(alloc(&s, &other, 64), 0);
    }
}

static void test_rate(void **state)
{
    (void)state;
    struct gct_sampler s;
    memset(&s, 0, sizeof s);
    struct gct_sample_tls t = { 0, 0, 0 };
    const uint64_t rate = 64 << 10;
    gct_sampler_start(&s, &t, rate, 7);
    /* 2 GiB in 256-byte allocations: ~32768 samples expected */
    uint64_t samples = 0, n = (2ull << 30) / 256;
    for (uint64_t i = 0; i < n; i++)
        samples += (uint64_t)alloc(&s, &t, 256);
    double expect = (double)(n * 256) / (double)rate;
    /* a Poisson count: 5 standard deviations */
    if (fabs((double)samples - expect) > 5 * sqrt(expect))
        fail_msg("%llu samples, %.0f expected", (unsigned long long)samples, expect);

    /* rate 0 (a recording without samples): never */
    gct_sampler_stop(&s);
    gct_sampler_start(&s, &t, 0, 7);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(alloc(&s, &t, 4096), 0);
    assert_true(t.countdown <= GCT_SAMPLE_IDLE);
}

/* a countdown drawn in an earlier recording is not a sample of the new
 * one: the slow path redraws (and seeds the stream) first */
static void test_stale_countdown(void **state)
{
    (void)state;
    struct gct_sampler s;
    memset(&s, 0, sizeof s);
    struct gct_sample_tls me = { 0, 0, 0 }, other = { 0, 0, 0 };
    gct_sampler_start(&s, &me, 1u << 30, 1);   /* 1 GiB mean: a first allocation is not sampled */
    (void)alloc(&s, &other, 16);
    uint64_t g1 = other.tgen;
    gct_sampler_stop(&s);
    gct_sampler_start(&s, &me, 1u << 30, 2);
    other.countdown = 0;   /* the old countdown runs out */
    assert_int_equal(alloc(&s, &other, 16), 0);   /* redrawn, almost surely > 16 bytes */
    assert_true(other.tgen != g1);
    assert_true(other.countdown > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_then_start),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_stale_countdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
