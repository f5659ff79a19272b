/* test_gctrace.c - reports/gctrace.c against real gctrace output.
 *
 * Fixtures (tests/fixtures/gctrace/, checked in, see their sources there):
 *   go119.log            Go 1.19 running alloc.go (25 cycles, one forced,
 *                        and a summary line that is not gctrace)
 *   libgc.log            libgc running examples/hello (stop the world)
 *   libgc_concurrent.log libgc running libgc_alloc.c (concurrent, forced)
 * Every line of every fixture is parsed: the number of cycle lines equals
 * the number of lines matching `^gc [0-9]` (what `grep -c` counts), no line
 * is malformed, cycle numbers count up by one, and every parsed line agrees
 * with an independent sscanf-based reading of it.  Hand-picked lines
 * (asserted to be in the fixtures) are checked field by field; then
 * non-gctrace lines (0) and malformed ones (-1 with a message).
 *
 * gcts_gc_cycle_init comes from the store library when it is linked; the
 * weak definition below stands in for it otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gctrace.h"

#ifndef GCTRACE_FIXTURES
#define GCTRACE_FIXTURES "tests/fixtures/gctrace"
#endif

__attribute__((weak)) void gcts_gc_cycle_init(gcts_gc_cycle *c)
{
    c->num = c->start_ns = c->end_ns = c->pause_ns = GCTS_NULL;
    c->heap_before = c->heap_after = c->heap_marked = c->heap_goal = GCTS_NULL;
    c->gc_percent = c->memory_limit = GCTS_NULL;
    c->mark_cpu_ns = c->assist_cpu_ns = c->background_cpu_ns = c->idle_cpu_ns = GCTS_NULL;
    c->concurrent = c->forced = c->procs = GCTS_NULL;
    c->gc_cpu_fraction = NAN;
}

#define MiB (INT64_C(1) << 20)

static int is_cycle_line(const char *s)   /* grep '^gc [0-9]' */
{
    return strncmp(s, "gc ", 3) == 0 && s[3] >= '0' && s[3] <= '9';
}

static int64_t ms_ns(double ms) { return llround(ms * 1e6); }

/* The same line read with sscanf and doubles, for cross-checking. */
static void cross_check(const char *line, const gcts_gc_cycle *c)
{
    long long num, i, j, k, l;
    double t, a, b, cc, d, e, f, g, h;
    int p, n = 0;
    int got = sscanf(line,
                     "gc %lld @%lfs %d%%: %lf+%lf+%lf ms clock, %lf+%lf/%lf/%lf+%lf ms cpu, "
                     "%lld->%lld->%lld MB, %lld MB goal, %n",
                     &num, &t, &p, &a, &b, &cc, &d, &e, &f, &g, &h, &i, &j, &k, &l, &n);
    assert_int_equal(got, 15);
    assert_true(n > 0);
    const char *rest = line + n;
    long long procs = -1;
    /* the item before " P" */
    const char *pp = strstr(rest, " P");
    assert_non_null(pp);
    while (pp > rest && pp[-1] >= '0' && pp[-1] <= '9')
        pp--;
    assert_int_equal(sscanf(pp, "%lld P", &procs), 1);

    assert_int_equal(c->num, num);
    assert_int_equal(c->start_ns, llround(t * 1e9));
    assert_int_equal(c->pause_ns, ms_ns(a) + ms_ns(cc));
    assert_int_equal(c->end_ns, llround(t * 1e9) + ms_ns(a) + ms_ns(b) + ms_ns(cc));
    assert_int_equal(c->assist_cpu_ns, ms_ns(e));
    assert_int_equal(c->background_cpu_ns, ms_ns(f));
    assert_int_equal(c->idle_cpu_ns, ms_ns(g));
    assert_int_equal(c->mark_cpu_ns, ms_ns(e) + ms_ns(f) + ms_ns(g));
    assert_int_equal(c->heap_before, i * MiB);
    assert_int_equal(c->heap_after, j * MiB);
    assert_int_equal(c->heap_marked, k * MiB);
    assert_int_equal(c->heap_goal, l * MiB);
    assert_int_equal(c->procs, procs);
    assert_int_equal(c->forced, strstr(line, "(forced)") != NULL);
    assert_int_equal(c->concurrent, 1);
    assert_true(fabs(c->gc_cpu_fraction - p / 100.0) < 1e-12);
    assert_int_equal(c->gc_percent, GCTS_NULL);
    assert_int_equal(c->memory_limit, GCTS_NULL);
}

/* Parses every line of a fixture; returns the number of cycle lines and
 * of forced ones. */
static int parse_fixture(const char *name, int *nforced)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", GCTRACE_FIXTURES, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, ncycles = 0, ngrep = 0;
    int64_t last_num = 0, last_start = -1;
    *nforced = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        gcts_gc_cycle c;
        char err[256];
        int rc = gctrace_parse_line(line, &c, err, sizeof err);
        if (rc < 0)
            fail_msg("%s:%d: %s", name, lineno, err);
        ngrep += is_cycle_line(line);
        if (rc == 0) {
            assert_string_equal(err, "");
            continue;
        }
        ncycles++;
        cross_check(line, &c);
        assert_int_equal(c.num, last_num + 1);
        assert_true(c.start_ns >= last_start);
        assert_true(c.end_ns >= c.start_ns);
        assert_true(c.pause_ns <= c.end_ns - c.start_ns);
        last_num = c.num;
        last_start = c.start_ns;
        *nforced += (int)c.forced;
    }
    free(line);
    fclose(f);
    assert_int_equal(ncycles, ngrep);
    return ncycles;
}

static void test_gctrace_fixture_go(void **state)
{
    (void)state;
    int forced;
    int n = parse_fixture("go119.log", &forced);
    assert_int_equal(n, 25);
    assert_int_equal(forced, 1);
}

static void test_gctrace_fixture_libgc(void **state)
{
    (void)state;
    int forced;
    int n = parse_fixture("libgc.log", &forced);
    assert_true(n >= 20);
    assert_int_equal(forced, 0);
    n = parse_fixture("libgc_concurrent.log", &forced);
    assert_int_equal(n, 26);
    assert_int_equal(forced, 1);
}

/* line must be in the fixture (so the picked lines are real). */
static void assert_in_fixture(const char *name, const char *line)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", GCTRACE_FIXTURES, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = NULL;
    size_t cap = 0;
    int found = 0;
    ssize_t n;
    while (!found && (n = getline(&buf, &cap, f)) >= 0) {
        if (n > 0 && buf[n - 1] == '\n')
            buf[n - 1] = '\0';
        found = strcmp(buf, line) == 0;
    }
    free(buf);
    fclose(f);
    if (!found)
        fail_msg("not in %s: %s", name, line);
}

static void parse_ok(const char *line, gcts_gc_cycle *c)
{
    char err[256];
    int rc = gctrace_parse_line(line, c, err, sizeof err);
    if (rc != 1)
        fail_msg("rc %d (%s) for: %s", rc, err, line);
    assert_string_equal(err, "");
}

/* What a parsed line must hold: X (or NAN for frac) where a case does
 * not check the field; heap sizes in MiB. */
#define X INT64_MIN
typedef struct want {
    int64_t num, start_ns, pause_ns, end_ns;
    int64_t assist_ns, background_ns, idle_ns, mark_ns;
    int64_t before_mib, after_mib, marked_mib, goal_mib;
    int64_t procs, forced;
    double frac;
} want;

static void check_want(const gcts_gc_cycle *c, const want *w)
{
#define CHECK(field, v) do { if ((v) != X) assert_int_equal(c->field, (v)); } while (0)
#define CHECK_MIB(field, v) do { if ((v) != X) assert_int_equal(c->field, (v) * MiB); } while (0)
    CHECK(num, w->num);
    CHECK(start_ns, w->start_ns);
    CHECK(pause_ns, w->pause_ns);
    CHECK(end_ns, w->end_ns);
    CHECK(assist_cpu_ns, w->assist_ns);
    CHECK(background_cpu_ns, w->background_ns);
    CHECK(idle_cpu_ns, w->idle_ns);
    CHECK(mark_cpu_ns, w->mark_ns);
    CHECK_MIB(heap_before, w->before_mib);
    CHECK_MIB(heap_after, w->after_mib);
    CHECK_MIB(heap_marked, w->marked_mib);
    CHECK_MIB(heap_goal, w->goal_mib);
    CHECK(procs, w->procs);
    CHECK(forced, w->forced);
    if (!isnan(w->frac))
        assert_true(c->gc_cpu_fraction == w->frac);
#undef CHECK
#undef CHECK_MIB
}

/* A line of a fixture (asserted to be in it) and what it must parse to. */
typedef struct picked {
    const char *fixture, *line;
    want w;
} picked;

static void check_picked(const picked *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        gcts_gc_cycle c;
        assert_in_fixture(p[i].fixture, p[i].line);
        parse_ok(p[i].line, &c);
        check_want(&c, &p[i].w);
    }
}

static void test_gctrace_go_lines(void **state)
{
    (void)state;
    static const picked lines[] = {
        {"go119.log", "gc 1 @0.002s 5%: 0.049+1.1+0.042 ms clock, 0.099+0.23/0.070/0.58+0.084 ms cpu, "
                      "3->4->4 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P",
         {1, 2000000, 49000 + 42000, 2000000 + 49000 + 1100000 + 42000,
          230000, 70000, 580000, 230000 + 70000 + 580000, 3, 4, 4, 4, 2, 0, 0.05}},
        {"go119.log", "gc 11 @0.030s 8%: 0.050+0.45+0.094 ms clock, 0.10+0.041/0.011/0+0.18 ms cpu, "
                      "4->4->2 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P",
         {11, 30000000, 144000, 30000000 + 594000, 41000, 11000, 0, 52000, X, X, X, X, X, X, 0.08}},
        /* the forced line */
        {"go119.log", "gc 25 @0.048s 15%: 0.10+0.046+0.002 ms clock, 0.20+0/0.062/0+0.004 ms cpu, "
                      "5->5->2 MB, 6 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)",
         {25, 48000000, 102000, 48148000, 0, 62000, 0, 62000, 5, 5, 2, 6, X, 1, 0.15}},
    };
    check_picked(lines, sizeof lines / sizeof lines[0]);
    /* and what gctrace never gives */
    gcts_gc_cycle c;
    parse_ok(lines[0].line, &c);
    assert_int_equal(c.concurrent, 1);
    assert_int_equal(c.gc_percent, GCTS_NULL);
    assert_int_equal(c.memory_limit, GCTS_NULL);
}

static void test_gctrace_libgc_lines(void **state)
{
    (void)state;
    static const picked lines[] = {
        {"libgc_concurrent.log",
         "gc 24 @0.101s 6%: 0.006+0.008+4.056 ms clock, 0.011+0.000/0.007/0+8.112 ms cpu, "
         "10->10->4 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P",
         {24, 101000000, 4062000, 101000000 + 4070000, 0, 7000, 0, 7000, 10, 10, 4, 8, 2, 0, NAN}},
        {"libgc_concurrent.log",
         "gc 26 @0.102s 6%: 0.010+0.009+0.080 ms clock, 0.020+0.000/0.008/0+0.160 ms cpu, "
         "4->4->4 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)",
         {26, X, 90000, 102099000, X, X, X, X, X, X, X, X, X, 1, NAN}},
        {"libgc.log",
         "gc 1 @0.031s 11%: 3.441+0.000+0.002 ms clock, 6.881+0.000/0.000/0+0.004 ms cpu, "
         "4->4->3 MB, 6 MB goal, 0 MB stacks, 0 MB globals, 2 P",
         {X, 31000000, 3443000, 34443000, X, X, X, 0, 4, X, 3, 6, X, X, 0.11}},
    };
    check_picked(lines, sizeof lines / sizeof lines[0]);
}

/* Variants of the format: older Go, CRLF, more digits, more fields. */
static void test_gctrace_variants(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        want w;
    } variants[] = {
        /* Go <= 1.17: no stacks / globals */
        {"gc 3 @0.010s 2%: 0.010+0.50+0.003 ms clock, 0.040+0.12/0.45/0.80+0.012 ms cpu, "
         "4->4->0 MB, 5 MB goal, 4 P\n",
         {3, 10000000, 13000, 10513000, X, X, X, 1370000, X, X, 0, 5, 4, 0, NAN}},
        {"gc 7 @12.345678901s 0%: 1+2+3 ms clock, 1+2/3/4+5 ms cpu, 100->200->50 MB, 128 MB goal, "
         "8 P (forced)\r\n",
         {X, INT64_C(12345678901), 4000000, INT64_C(12345678901) + 6000000, X, X, X, 9000000,
          X, 200, X, X, 8, 1, 0.0}},
        /* digits past ns are truncated */
        {"gc 1 @1.0000000019s 1%: 0.0000019+0+0 ms clock, 0+0/0/0+0 ms cpu, 0->0->0 MB, 4 MB goal, 1 P",
         {X, 1000000001, 1, X, X, X, X, X, X, X, X, X, X, X, NAN}},
        /* fields of a newer Go before "Q P" and anything after it */
        {"gc 2 @1.5s 3%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, "
         "1 MB stacks, 2 MB globals, 3 MB future, 16 P (forced), 9 X",
         {X, X, X, 1500600000, X, X, X, X, X, X, X, X, 16, 1, NAN}},
        {"gc 2 @1.5s 3%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, "
         "5 widgets, 2 P ",
         {X, X, X, X, X, X, X, X, X, X, X, X, 2, 0, NAN}},
        /* the largest accepted values: 2^62 cycles, 2^62 bytes (2^42 MiB), 2^20 P */
        {"gc 4611686018427387904 @0s 10000%: 0+0+0 ms clock, 0+0/0/0+0 ms cpu, "
         "4398046511104->0->0 MB, 0 MB goal, 1048576 P",
         {INT64_C(4611686018427387904), X, X, X, X, X, X, X, INT64_C(1) << 42, X, X, X, 1 << 20, X, 100.0}},
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        gcts_gc_cycle c;
        parse_ok(variants[i].line, &c);
        check_want(&c, &variants[i].w);
    }
}

static void test_gctrace_not_gctrace(void **state)
{
    (void)state;
    const char *lines[] = {
        "",
        "\n",
        "\r\n",
        "scvg: 0 MB released",
        "scvg-1: inuse: 3, idle: 0, sys: 3, released: 0, consumed: 3 (MB)",
        "scvg: inuse: 4, idle: 59, sys: 63, released: 59, consumed: 4 (MB)\n",
        "alloc: 64 live chunks, checksum 124716, 25 cycles",
        "hello: allocated 1027.1 MiB in total",
        "# command-line-arguments",
        "gctune: warning: something",
        "gc",
        "gc ",
        "gc 1",
        "gc 12 cycles done",
        "gc 1 at 0.1s",
        "gc x @0.1s 1%: ...",
        "gc - @0.1s",
        "gc @0.1s",
        "gc 1@0.1s 1%:",
        " gc 1 @0.1s 5%: 0.1+0.1+0.1 ms clock, 0.1+0.1/0.1/0.1+0.1 ms cpu, 1->1->1 MB, 4 MB goal, 1 P",
        "GC 1 @0.1s 5%: 0.1+0.1+0.1 ms clock",
        "gcc 1 @0.1s",
        "gc\t1 @0.1s",
        "pacer: assist ratio=+1.0e+000 (scan 0 MB in 4->4 MB) workers=1++0.000000e+000",
        "GC forced",
        "panic: runtime error: index out of range [3] with length 3",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        gcts_gc_cycle c;
        memset(&c, 0x5a, sizeof c);
        gcts_gc_cycle before = c;
        char err[64];
        memset(err, 'q', sizeof err);
        int rc = gctrace_parse_line(lines[i], &c, err, sizeof err);
        if (rc != 0)
            fail_msg("rc %d for: \"%s\"", rc, lines[i]);
        assert_string_equal(err, "");
        assert_memory_equal(&c, &before, sizeof c);
    }
    /* NULL line, no err buffer */
    gcts_gc_cycle c;
    assert_int_equal(gctrace_parse_line(NULL, &c, NULL, 0), 0);
}

#define GOOD_TAIL "0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P"

static void test_gctrace_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *want;   /* in the message */
    } bad[] = {
        {"gc 1 @", "start time"},
        {"gc 1 @\n", "start time"},
        {"gc -1 @0.1s 5%: " GOOD_TAIL, "negative"},
        {"gc +1 @0.1s 5%: " GOOD_TAIL, "sign"},
        {"gc 1x @0.1s 5%: " GOOD_TAIL, "\" @\""},
        {"gc 1.5 @0.1s 5%: " GOOD_TAIL, "integer"},
        {"gc 99999999999999999999 @0.1s 5%: " GOOD_TAIL, "out of range"},
        {"gc 4611686018427387905 @0.1s 5%: " GOOD_TAIL, "out of range"},
        {"gc 1 @-0.5s 5%: " GOOD_TAIL, "negative"},
        {"gc 1 @nans 5%: " GOOD_TAIL, "finite"},
        {"gc 1 @NaNs 5%: " GOOD_TAIL, "finite"},
        {"gc 1 @infs 5%: " GOOD_TAIL, "finite"},
        {"gc 1 @Infinitys 5%: " GOOD_TAIL, "finite"},
        {"gc 1 @1e3s 5%: " GOOD_TAIL, "exponent"},
        {"gc 1 @0x10s 5%: " GOOD_TAIL, "\"s \""},
        {"gc 1 @0.s 5%: " GOOD_TAIL, "decimal point"},
        {"gc 1 @.5s 5%: " GOOD_TAIL, "start time"},
        {"gc 1 @0.1 5%: " GOOD_TAIL, "\"s \""},
        {"gc 1 @9999999999s 5%: " GOOD_TAIL, "out of range"},
        {"gc 1 @0.1s 5.5%: " GOOD_TAIL, "integer"},
        {"gc 1 @0.1s 10001%: " GOOD_TAIL, "out of range"},
        {"gc 1 @0.1s -5%: " GOOD_TAIL, "negative"},
        {"gc 1 @0.1s 5%:" GOOD_TAIL, "\"%: \""},
        {"gc 1 @0.1s 5%: ", "line ends"},
        {"gc 1 @0.1s 5%: 0.1+0.2 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 P", "\"+\""},
        {"gc 1 @0.1s 5%: 0.1+-0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 P",
         "negative"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3.4 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 P",
         "ms clock"},
        {"gc 1 @0.1s 5%: 0.1+0.2+NaN ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 P", "finite"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 P", "\"/\""},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/-0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 P",
         "negative"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 4->5->2 MB, 8 MB goal, 2 P", "\"+\""},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5 MB, 8 MB goal, 2 P", "\"->\""},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2.5 MB, 8 MB goal, 2 P",
         "integer"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 2 P", "goal"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal", "processor"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, "
         "0 MB stacks, 0 MB globals", "processor"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, "
         "0 MB stacks, 0 MB globals, ", "line ends"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 0 P",
         "out of range"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 1048577 P",
         "out of range"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, -2 P",
         "negative"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, P", "number"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2", "\" \""},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 ", "unit"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal,2 P", "\", \""},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, "
         "4398046511104->5->2 MB, 8 MB goal, 2 P", NULL},   /* 2^42 MiB is fine */
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, "
         "4398046511105->5->2 MB, 8 MB goal, 2 P", "out of range"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, "
         "4->5->2 MB, 8 MB goal, 4398046511105 MB stacks, 2 P", "out of range"},
        /* each time <= 2^62 ns, but their sums are not */
        {"gc 1 @0.1s 5%: 3000000000000+3000000000000+0 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, "
         "4->5->2 MB, 8 MB goal, 2 P", "clock time is out of range"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0+3000000000000/3000000000000/0+0 ms cpu, "
         "4->5->2 MB, 8 MB goal, 2 P", "mark CPU time is out of range"},
        {"gc 1 @4000000000s 5%: 1000000000000+0+0 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, "
         "4->5->2 MB, 8 MB goal, 2 P", "end time is out of range"},
        {"gc 1 @0.1s 5%: 4611686018428+0+0 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, "
         "4->5->2 MB, 8 MB goal, 2 P", "out of range"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock, 0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 P\n\n",
         "control character 0x0a"},
        {"gc 1 @0.1s 5%: 0.1+0.2+0.3 ms clock,\t0.1+0.2/0.3/0.4+0.5 ms cpu, 4->5->2 MB, 8 MB goal, 2 P",
         "control character 0x09"},
        {"gc 1 @0.1s\t5%: " GOOD_TAIL, "control character 0x09"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gcts_gc_cycle c;
        memset(&c, 0x5a, sizeof c);
        gcts_gc_cycle before = c;
        char err[256];
        int rc = gctrace_parse_line(bad[i].line, &c, err, sizeof err);
        if (!bad[i].want) {
            if (rc != 1)
                fail_msg("rc %d (%s) for: %s", rc, err, bad[i].line);
            continue;
        }
        if (rc != -1)
            fail_msg("rc %d, not -1, for: %s", rc, bad[i].line);
        assert_memory_equal(&c, &before, sizeof c);
        if (strncmp(err, "column ", 7) != 0 || strchr(err, '\n') || strchr(err, '\r') ||
            !strstr(err, bad[i].want))
            fail_msg("message \"%s\" (want \"%s\") for: %s", err, bad[i].want, bad[i].line);
        char shown[61];
        size_t k = 0;
        for (const char *p = bad[i].line; *p && k < sizeof shown - 1; p++)
            shown[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
        shown[k] = '\0';
        print_message("  %-60s -> %s\n", shown, err);
    }
}

/* err is always NUL-terminated, however short. */
static void test_gctrace_short_err(void **state)
{
    (void)state;
    gcts_gc_cycle c;
    for (size_t len = 1; len < 80; len++) {
        char err[80];
        memset(err, 'z', sizeof err);
        assert_int_equal(gctrace_parse_line("gc 1 @0.1s 5%: 0.1+", &c, err, len), -1);
        assert_int_equal(err[len - 1] == '\0' || strlen(err) < len, 1);
        assert_true(strlen(err) < len);
        assert_int_equal(err[len], 'z');
    }
    assert_int_equal(gctrace_parse_line("gc 1 @0.1s 5%: 0.1+", &c, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gctrace_fixture_go),
        cmocka_unit_test(test_gctrace_fixture_libgc),
        cmocka_unit_test(test_gctrace_go_lines),
        cmocka_unit_test(test_gctrace_libgc_lines),
        cmocka_unit_test(test_gctrace_variants),
        cmocka_unit_test(test_gctrace_not_gctrace),
        cmocka_unit_test(test_gctrace_malformed),
        cmocka_unit_test(test_gctrace_short_err),
    };
    return cmocka_run_group_tests_name("gctrace", tests, NULL, NULL);
}
