/* test_tuner_model.c - the offline model (tuner/model.h): fit, predict,
 * recommend, and the reader of run databases.
 *
 * Recorded runs are generated exactly from the model's own assumptions (a
 * stop-the-world collector with per-cycle cost F + m x live, cycles every
 * GOGC/100 x live bytes), so the fit must recover F and m, predictions for
 * other GOGC values must match runs generated at those values, and the
 * prediction for the recorded setting must reproduce the recording.  A
 * phased recording (a live-set step) checks the segment replay; a database
 * written with store.h checks gctt_model_load.  No clock is read.
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
#include <unistd.h>
#include "model.h"
#include "store.h"

#define MiB (1024.0 * 1024.0)

struct gen {
    double F, m;            /* ns per cycle, ns per live byte */
    double rate;            /* bytes per second of program time */
    int procs;
    double other;           /* RSS beyond the heap */
    double b;               /* ns per byte of garbage at the cycle's start */
    int g2;                 /* GOGC from half the run on (0 = unchanged) */
    double trig;            /* a cycle starts at this fraction of the runway (0 = 1: at the goal) */
};

/* A recording of `secs` seconds at GOGC g; live(t) gives the live heap. */
static size_t generate(const struct gen *G, int g, double secs, double (*live)(double t), gctt_cycle_row *c,
                       size_t max, gctt_heap_row *h, size_t *nh)
{
    double t = 0, heap = live(0), marked = live(0);
    size_t n = 0;
    *nh = 0;
    double total = 0, last_series = 0;
    int g0 = g;
    while (t < secs * 1e9 && n < max) {
        g = G->g2 && t >= secs * 0.5e9 ? G->g2 : g0;
        double goal = marked * (1 + g / 100.0);
        if (goal < 4 * MiB * g / 100.0)
            goal = 4 * MiB * g / 100.0;
        double start = G->trig > 0 ? marked + G->trig * (goal - marked) : goal;
        double dt = (start - heap) / G->rate * 1e9;
        /* heap series every 100 ms of program time */
        while (last_series + 1e8 <= t + dt && *nh < 100000) {
            last_series += 1e8;
            double hv = heap + (last_series - t) / 1e9 * G->rate;
            h[*nh] = (gctt_heap_row){ (int64_t)last_series, (int64_t)hv, (int64_t)(goal * 1.05), 0,
                                      (int64_t)(goal * 1.05 + G->other), (int64_t)goal,
                                      (int64_t)(total + (hv - heap)) };
            (*nh)++;
        }
        t += dt;
        total += start - heap;
        double L = live(t / 1e9);
        double cpu = G->F + G->m * L + G->b * (start - marked);
        double pause = cpu / G->procs;
        c[n] = (gctt_cycle_row){ (int64_t)(n + 1), (int64_t)t, (int64_t)(t + pause), (int64_t)pause, (int64_t)start,
                                 (int64_t)L, (int64_t)(L * (1 + g / 100.0)), g, -1, (int64_t)cpu, 0, 0,
                                 G->procs, 0, 0 };
        n++;
        t += pause;
        marked = L;
        heap = L;
    }
    return n;
}

static double live_flat(double t) { (void)t; return 48 * MiB; }
static double live_step(double t) { return t >= 10 && t < 20 ? 96 * MiB : 48 * MiB; }
static double live_varied(double t) { return (32 + 32 * fmod(t, 4.0) / 4.0) * MiB; }

static gctt_cycle_row C[20000];
static gctt_heap_row H[100000];
static const struct gen G0 = { .F = 2e6, .m = 0.5, .rate = 400 * MiB, .procs = 2, .other = 10 * MiB };

static void measured(const gctt_cycle_row *c, size_t n, int procs, double *cpu_frac, double *peak)
{
    double cpu = 0;
    *peak = 0;
    for (size_t i = 0; i < n; i++) {
        cpu += (double)c[i].pause_ns * procs;
        if (c[i].heap_before > *peak)
            *peak = (double)c[i].heap_before;
    }
    *cpu_frac = cpu / ((double)c[n - 1].end_ns * procs);
}

/* A 30 s recording of G at GOGC 100 with the live set live (into C and
 * H), and m fitted to it (asserted to fit); returns the cycles in C. */
static size_t fit_recording(const struct gen *G, double (*live)(double t), gctt_model *m)
{
    size_t nh, n = generate(G, 100, 30, live, C, 20000, H, &nh);
    char err[200];
    assert_int_equal(gctt_model_fit(C, n, H, nh, 0, m, err, sizeof err), 0);
    return n;
}

static void test_fit_recovers_costs(void **state)
{
    (void)state;
    gctt_model m;
    size_t n = fit_recording(&G0, live_varied, &m);
    assert_true(n > 50);
    assert_true(fabs(m.mark_ns_per_byte - G0.m) < 0.01 * G0.m);
    assert_true(fabs(m.fixed_ns - G0.F) < 0.05 * G0.F);
    assert_int_equal(m.procs, 2);
    assert_int_equal(m.gogc, 100);
    assert_true(fabs(m.alloc_rate - G0.rate) < 0.1 * G0.rate);
    gctt_model_free(&m);
}

/* Fit at 100, predict 50/200/400: within 5% of runs generated there. */
static void test_predict_other_gogc(void **state)
{
    (void)state;
    static gctt_cycle_row C2[20000];
    gctt_model m;
    size_t n = fit_recording(&G0, live_flat, &m);
    /* its own setting first */
    gctt_prediction p;
    gctt_model_predict(&m, 100, -1, &p);
    double cpu, peak;
    measured(C, n, 2, &cpu, &peak);
    assert_true(fabs(p.gc_cpu_fraction - cpu) < 0.05 * cpu);
    assert_true(fabs(p.peak_heap - peak) < 0.02 * peak);
    const int gs[] = { 50, 200, 400 };
    for (int i = 0; i < 3; i++) {
        size_t nh2, n2 = generate(&G0, gs[i], 30, live_flat, C2, 20000, H, &nh2);
        double cpu2, peak2;
        measured(C2, n2, 2, &cpu2, &peak2);
        gctt_model_predict(&m, gs[i], -1, &p);
        if (fabs(p.gc_cpu_fraction - cpu2) > 0.06 * cpu2)
            fail_msg("GOGC %d: predicted GC CPU %.4f, generated %.4f", gs[i], p.gc_cpu_fraction, cpu2);
        assert_true(fabs(p.peak_heap - peak2) < 0.02 * peak2);
        /* the same work: the generated run did less of it in its 30 s when it paused more */
        double rate2 = (double)n2 / ((double)C2[n2 - 1].end_ns / 1e9);
        if (fabs(p.cycles_per_s - rate2) > 0.06 * rate2)
            fail_msg("GOGC %d: predicted %.2f cycles/s, generated %.2f", gs[i], p.cycles_per_s, rate2);
    }
    /* GC CPU falls with GOGC, peak heap rises */
    gctt_prediction a, b;
    gctt_model_predict(&m, 100, -1, &a);
    gctt_model_predict(&m, 400, -1, &b);
    assert_true(b.gc_cpu_fraction < a.gc_cpu_fraction / 3);
    assert_true(b.peak_heap > a.peak_heap * 2);
    /* a limit caps the peak heap */
    gctt_model_predict(&m, 400, (int64_t)(120 * MiB), &b);
    assert_true(b.limit_bound);
    assert_true(b.peak_heap <= 120 * MiB);
    /* GOGC off + limit: collects only at the limit */
    gctt_model_predict(&m, -1, (int64_t)(150 * MiB), &b);
    assert_true(b.cycles > 0 && b.peak_heap <= 150 * MiB);
    gctt_model_free(&m);
}

/* A live-set step: the replay keeps the phase (peak heap from the 96 MiB
 * phase) and reproduces the recording. */
static void test_phased_replay(void **state)
{
    (void)state;
    gctt_model m;
    size_t n = fit_recording(&G0, live_step, &m);
    gctt_prediction p;
    gctt_model_predict(&m, 100, -1, &p);
    double cpu, peak;
    measured(C, n, 2, &cpu, &peak);
    assert_true(fabs(p.gc_cpu_fraction - cpu) < 0.05 * cpu);
    assert_true(fabs(p.peak_heap - peak) < 0.03 * peak);
    assert_true(p.peak_heap > 180 * MiB);
    assert_true(m.live_max >= 95 * MiB);
    gctt_model_free(&m);
}

static void test_recommend(void **state)
{
    (void)state;
    gctt_model m;
    fit_recording(&G0, live_flat, &m);
    gctt_prediction p100;
    gctt_model_predict(&m, 100, -1, &p100);
    /* goal: half of GOGC 100's GC CPU -> a GOGC above 100, the smallest that meets it */
    gctt_goals g = { p100.gc_cpu_fraction / 2, 0, 0 };
    gctt_recommendation r;
    gctt_model_recommend(&m, &g, &r);
    assert_true(r.meets_cpu && r.meets_memory && r.meets_pause);
    assert_true(r.best.gogc > 100);
    assert_true(r.best.gc_cpu_fraction <= g.max_gc_cpu);
    gctt_prediction lower;
    gctt_model_predict(&m, r.best.gogc == 200 ? 150 : r.best.gogc / 2, -1, &lower);
    assert_true(lower.gc_cpu_fraction > g.max_gc_cpu || lower.peak_heap >= r.best.peak_heap);
    assert_non_null(strstr(r.why, "GOGC="));
    /* an impossible memory goal: not met, the smallest memory chosen */
    g.memory = (int64_t)(20 * MiB);
    gctt_model_recommend(&m, &g, &r);
    assert_false(r.meets_memory);
    /* a generous memory goal: met, and a limit may be part of the answer */
    g.memory = (int64_t)(400 * MiB);
    gctt_model_recommend(&m, &g, &r);
    assert_true(r.meets_cpu && r.meets_memory);
    /* a pause goal below the recorded pauses: reported not achievable */
    g.max_pause_ns = 1000;
    gctt_model_recommend(&m, &g, &r);
    assert_false(r.meets_pause);
    assert_non_null(strstr(r.why, "pause goal"));
    gctt_model_free(&m);
}

/* A recording whose GOGC changed (as the tuner changes it): the garbage
 * term is fitted, and predictions at other GOGC values follow it. */
static void test_fit_garbage_term(void **state)
{
    (void)state;
    static gctt_cycle_row C2[20000];
    struct gen g = G0;
    g.F = 0;
    g.b = 0.2;
    g.g2 = 300;
    gctt_model m;
    fit_recording(&g, live_flat, &m);
    assert_true(m.beta_fitted);
    assert_true(fabs(m.mark_ns_per_byte - g.m) < 0.02 * g.m);
    assert_true(fabs(m.garbage_ns_per_byte - g.b) < 0.02 * g.b);
    g.g2 = 0;
    size_t nh2, n2 = generate(&g, 400, 30, live_flat, C2, 20000, H, &nh2);
    double cpu2, peak2;
    measured(C2, n2, 2, &cpu2, &peak2);
    gctt_prediction p;
    gctt_model_predict(&m, 400, -1, &p);
    if (fabs(p.gc_cpu_fraction - cpu2) > 0.06 * cpu2)
        fail_msg("GOGC 400: predicted GC CPU %.4f, generated %.4f", p.gc_cpu_fraction, cpu2);
    gctt_model_free(&m);
    /* one GOGC all along: not identifiable, the default share is used */
    size_t nh, n = generate(&g, 100, 30, live_flat, C, 20000, H, &nh);
    char err[200];
    assert_int_equal(gctt_model_fit(C, n, H, nh, GCTT_MODEL_LIBGC_HEAP_BETA, &m, err, sizeof err), 0);
    assert_false(m.beta_fitted);
    assert_true(fabs(m.garbage_ns_per_byte / m.mark_ns_per_byte - GCTT_MODEL_LIBGC_HEAP_BETA) < 1e-9);
    gctt_model_free(&m);
}

static void test_fit_errors(void **state)
{
    (void)state;
    gctt_model m;
    char err[200];
    size_t nh;
    generate(&G0, 100, 30, live_flat, C, 20000, H, &nh);
    assert_int_equal(gctt_model_fit(C, 2, H, nh, 0, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "at least 3"));
    for (int i = 0; i < 5; i++)
        C[i].heap_marked = -1;
    assert_int_equal(gctt_model_fit(C, 5, H, 0, 0, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "heap_marked"));
}

/* A new run database at a fresh temporary path (path: a mkstemp template). */
static gcts_db *create_db(char *path, char *err, size_t errlen)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gcts_db *db = gcts_create(path, err, errlen);
    assert_non_null(db);
    return db;
}

/* Through a database written with store.h. */
static void test_load_db(void **state)
{
    (void)state;
    size_t nh, n = generate(&G0, 200, 20, live_flat, C, 20000, H, &nh);
    char path[] = "/tmp/gctune-model-XXXXXX";
    char err[512];
    gcts_db *db = create_db(path, err, sizeof err);
    assert_int_equal(gcts_begin(db), 0);
    for (size_t i = 0; i < n; i++) {
        gcts_gc_cycle c;
        gcts_gc_cycle_init(&c);
        c.num = C[i].num;
        c.start_ns = C[i].start_ns;
        c.end_ns = C[i].end_ns;
        c.pause_ns = C[i].pause_ns;
        c.heap_before = C[i].heap_before;
        c.heap_marked = C[i].heap_marked;
        c.heap_goal = C[i].heap_goal;
        c.gc_percent = C[i].gc_percent;
        c.mark_cpu_ns = C[i].mark_cpu_ns;
        c.assist_cpu_ns = 0;
        c.background_cpu_ns = 0;
        c.procs = C[i].procs;
        c.forced = 0;
        assert_int_equal(gcts_add_gc_cycle(db, &c), 0);
    }
    for (size_t i = 0; i < nh; i++) {
        gcts_heap_point p;
        gcts_heap_point_init(&p);
        p.time_ns = H[i].time_ns;
        p.heap_alloc = H[i].heap_alloc;
        p.heap_sys = H[i].heap_sys;
        p.rss = H[i].rss;
        p.next_gc = H[i].next_gc;
        p.total_alloc = H[i].total_alloc;
        assert_int_equal(gcts_add_heap_point(db, &p), 0);
    }
    assert_int_equal(gcts_commit(db), 0);
    gcts_close(db);
    gctt_model m, m2;
    assert_int_equal(gctt_model_load(path, &m, err, sizeof err), 0);
    assert_int_equal(gctt_model_fit(C, n, H, nh, 0, &m2, err, sizeof err), 0);
    assert_int_equal(m.gogc, 200);
    assert_int_equal(m.ncycles, (int)n);
    assert_true(fabs(m.mark_ns_per_byte - m2.mark_ns_per_byte) < 1e-6);
    assert_true(m.peak_rss > m.peak_heap);
    gctt_prediction p;
    gctt_model_predict(&m, 100, -1, &p);
    assert_true(p.cycles > (double)n * 1.8);
    gctt_model_free(&m);
    gctt_model_free(&m2);
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    /* errors name the file */
    assert_int_equal(gctt_model_load("/nonexistent/run.sqlite", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/run.sqlite"));
}

/* A pacer that starts a cycle at 70% of the runway (as Go's does): the
 * trigger is fitted, and predictions at other GOGC values follow it. */
static void test_trigger(void **state)
{
    (void)state;
    static gctt_cycle_row C2[20000];
    struct gen g = G0;
    g.trig = 0.7;
    size_t nh, n = generate(&g, 100, 30, live_flat, C, 20000, H, &nh);
    gctt_model m;
    char err[200];
    assert_int_equal(gctt_model_fit(C, n, H, nh, 0, &m, err, sizeof err), 0);
    if (fabs(m.trigger - 0.7) > 0.02)
        fail_msg("trigger %.3f, generated 0.7", m.trigger);
    const int gs[] = { 50, 100, 200, 400 };
    for (int i = 0; i < 4; i++) {
        size_t nh2, n2 = generate(&g, gs[i], 30, live_flat, C2, 20000, H, &nh2);
        double cpu2, peak2;
        measured(C2, n2, 2, &cpu2, &peak2);
        gctt_prediction p;
        gctt_model_predict(&m, gs[i], -1, &p);
        if (fabs(p.gc_cpu_fraction - cpu2) > 0.06 * cpu2 || fabs(p.peak_heap - peak2) > 0.03 * peak2)
            fail_msg("GOGC %d: predicted GC CPU %.4f peak %.1f MiB, generated %.4f %.1f MiB", gs[i],
                     p.gc_cpu_fraction, p.peak_heap / MiB, cpu2, peak2 / MiB);
    }
    gctt_model_free(&m);
    /* a collector that starts at the goal: 1 */
    n = generate(&G0, 100, 30, live_flat, C, 20000, H, &nh);
    assert_int_equal(gctt_model_fit(C, n, H, nh, 0, &m, err, sizeof err), 0);
    assert_true(fabs(m.trigger - 1.0) < 0.02);
    gctt_model_free(&m);
}

/* The heap after the last cycle (a run ending on its highest heap) counts
 * for the peak, measured and predicted. */
static void test_tail_segment(void **state)
{
    (void)state;
    size_t nh, n = generate(&G0, 100, 10, live_flat, C, 20000, H, &nh);
    gctt_model m;
    char err[200];
    double tail = 150 * MiB;   /* above the 96 MiB goal of GOGC 100 at 48 MiB live */
    H[nh] = (gctt_heap_row){ C[n - 1].end_ns + 1000000, (int64_t)tail, (int64_t)(tail * 1.05), 0,
                             (int64_t)(tail * 1.05 + G0.other), (int64_t)(96 * MiB), -1 };
    assert_int_equal(gctt_model_fit(C, n, H, nh + 1, 0, &m, err, sizeof err), 0);
    assert_true(fabs(m.peak_heap - tail) < 1);
    gctt_prediction p;
    gctt_model_predict(&m, 400, -1, &p);   /* a runway of 192 MiB: no cycle in the tail */
    assert_true(p.peak_heap >= tail - 1);
    gctt_model_predict(&m, 100, -1, &p);   /* its own setting: the tail is one more cycle's runway */
    assert_true(p.peak_heap <= 96 * MiB + 1);
    gctt_model_free(&m);
}

/* Candidates given by the caller; the judge; the limit for a memory goal. */
static void test_recommend_among(void **state)
{
    (void)state;
    size_t nh, n = generate(&G0, 100, 30, live_flat, C, 20000, H, &nh);
    gctt_model m;
    char err[200];
    assert_int_equal(gctt_model_fit(C, n, H, nh, 0, &m, err, sizeof err), 0);
    gctt_prediction p100, p400;
    gctt_model_predict(&m, 100, -1, &p100);
    gctt_model_predict(&m, 400, -1, &p400);
    /* a goal GOGC 400 meets and 100 does not: among {100, 400}, 400 */
    gctt_goals g = { (p100.gc_cpu_fraction + p400.gc_cpu_fraction) / 2, 0, 0 };
    const int gs[] = { 100, 400 };
    const int64_t none[] = { -1 };
    gctt_recommendation r;
    gctt_model_recommend_among(&m, &g, gs, 2, none, 1, &r);
    assert_int_equal(r.ncandidates, 2);
    assert_int_equal(r.best.gogc, 400);
    assert_true(r.meets_cpu);
    int okc, okm, okp;
    gctt_model_judge(&g, &p100, &okc, &okm, &okp);
    assert_false(okc);
    assert_true(okm && okp);
    gctt_model_judge(&g, &p400, &okc, &okm, &okp);
    assert_true(okc);
    /* a memory goal below GOGC 400's RSS: 100 is then the one within memory */
    g.memory = (int64_t)((p100.peak_rss + p400.peak_rss) / 2);
    gctt_model_judge(&g, &p400, &okc, &okm, &okp);
    assert_false(okm);
    gctt_model_recommend_among(&m, &g, gs, 2, none, 1, &r);
    assert_int_equal(r.best.gogc, 100);
    assert_true(r.meets_memory);
    assert_false(r.meets_cpu);
    /* off without a limit is no candidate */
    const int off[] = { -1 };
    gctt_model_recommend_among(&m, &g, off, 1, none, 1, &r);
    assert_int_equal(r.ncandidates, 0);
    /* the limit for a memory goal: the goal less the RSS beyond the heap */
    assert_int_equal(gctt_model_limit_for(&m, 0), -1);
    assert_int_equal(gctt_model_limit_for(&m, (int64_t)(2 * MiB)), -1);
    int64_t lim = gctt_model_limit_for(&m, (int64_t)(300 * MiB));
    assert_true(lim > 0 && lim < (int64_t)(300 * MiB));
    assert_true(lim > (int64_t)(300 * MiB - G0.other - 10 * MiB));
    /* with that limit as a candidate, GOGC off meets the memory goal */
    const int64_t lims[] = { lim };
    g.memory = (int64_t)(300 * MiB);
    gctt_model_recommend_among(&m, &g, off, 1, lims, 1, &r);
    assert_int_equal(r.ncandidates, 1);
    assert_true(r.meets_memory);
    size_t ng;
    const int *grid = gctt_model_gogc_grid(&ng);
    assert_int_equal(ng, 12);
    assert_int_equal(grid[0], 25);
    assert_int_equal(grid[ng - 1], -1);
    gctt_model_free(&m);
}

/* A Go run recorded by `gctune record`: gc_percent and memory_limit NULL
 * in gc_cycles, the environment's GOGC / GOMEMLIMIT in meta. */
static void test_load_meta_gogc(void **state)
{
    (void)state;
    size_t nh, n = generate(&G0, 200, 10, live_flat, C, 20000, H, &nh);
    char path[] = "/tmp/gctune-model-XXXXXX";
    char err[512];
    gcts_db *db = create_db(path, err, sizeof err);
    assert_int_equal(gcts_set_meta(db, "backend", "go"), 0);
    assert_int_equal(gcts_set_meta(db, "gogc", "200"), 0);
    assert_int_equal(gcts_set_meta(db, "gomemlimit", "512MiB"), 0);
    assert_int_equal(gcts_begin(db), 0);
    for (size_t i = 0; i < n; i++) {
        gcts_gc_cycle c;
        gcts_gc_cycle_init(&c);   /* gc_percent, memory_limit: NULL */
        c.num = C[i].num;
        c.start_ns = C[i].start_ns;
        c.end_ns = C[i].end_ns;
        c.pause_ns = C[i].pause_ns;
        c.heap_before = C[i].heap_before;
        c.heap_marked = C[i].heap_marked;
        c.procs = C[i].procs;
        c.concurrent = 1;
        assert_int_equal(gcts_add_gc_cycle(db, &c), 0);
    }
    assert_int_equal(gcts_commit(db), 0);
    gcts_close(db);
    gctt_model m;
    assert_int_equal(gctt_model_load(path, &m, err, sizeof err), 0);
    assert_int_equal(m.gogc, 200);
    assert_int_equal(m.memory_limit, (int64_t)(512 * MiB));
    /* the self-check holds at the recorded setting, not at the default 100 */
    double cpu, peak;
    measured(C, n, 2, &cpu, &peak);
    gctt_prediction p;
    gctt_model_predict(&m, m.gogc, m.memory_limit, &p);
    assert_true(fabs(p.peak_heap - peak) < 0.03 * peak);
    gctt_model_free(&m);
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* A database without GC cycles (the malloc backend): no GC to tune. */
static void test_load_no_gc(void **state)
{
    (void)state;
    char path[] = "/tmp/gctune-model-XXXXXX";
    char err[512];
    gcts_db *db = create_db(path, err, sizeof err);
    assert_int_equal(gcts_set_meta(db, "backend", "malloc"), 0);
    gcts_close(db);
    gctt_model m;
    assert_int_equal(gctt_model_load(path, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "no GC cycles recorded (backend malloc): there is no GC to tune"));
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_recovers_costs),
        cmocka_unit_test(test_predict_other_gogc),
        cmocka_unit_test(test_phased_replay),
        cmocka_unit_test(test_recommend),
        cmocka_unit_test(test_fit_garbage_term),
        cmocka_unit_test(test_fit_errors),
        cmocka_unit_test(test_load_db),
        cmocka_unit_test(test_trigger),
        cmocka_unit_test(test_tail_segment),
        cmocka_unit_test(test_recommend_among),
        cmocka_unit_test(test_load_no_gc),
        cmocka_unit_test(test_load_meta_gogc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
