/* test_tuner.c - the tuner: its decision function on simulated programs,
 * the parsers, and the real thing on libgc.
 *
 * 1. Scenarios (deterministic: tuner/sim.c with fixed seeds, simulated time,
 *    no clock): steady, step_alloc, live_set_step, spike, leak, for every
 *    policy, with and without a memory budget and a pause goal.  Every run
 *    checks the invariants on each decision (GOGC within bounds; with a
 *    budget, the planned memory of the GOGC in effect within it; the limit
 *    at most the budget; a reversal at least 10 cycles after the previous
 *    change unless the budget forced it; static changes nothing) and each
 *    scenario asserts the direction it expects (GOGC up when GC CPU is over
 *    the goal, down for footprint, down at a live-heap step under a budget,
 *    ...).  Evaluation: a change that cannot help (a GC cost GOGC does not
 *    change; pauses that follow the live heap) is reverted and held, and
 *    the pause goal is reported not achievable.  Missing knobs: reported
 *    once, never set.
 * 2. Parsers: durations, percentages, byte counts.
 * 3. Live: the tuner thread on libgc with the profiler recording (events in
 *    tuner_events, knobs within bounds), and examples/demo started with
 *    GCTUNE_TUNER and friends (one warning per bad value).  These loop on
 *    the tuner's step counter, never on wall-clock time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>
#include <gctune/gc.h>
#include <gctune/profiler.h>
#include <gctune/tuner.h>
#include "controller.h"
#include "sim.h"

#define MiB ((int64_t)1 << 20)
#define SEC 1000000000ll

/* ---- the scenario harness ---- */

enum scenario { STEADY, STEP_ALLOC, LIVE_SET_STEP, SPIKE, LEAK };
static const char *const scenario_names[] = { "steady", "step_alloc", "live_set_step", "spike", "leak" };

struct run {
    gctt_state st;
    gctt_sim sim;
    gctt_params p;
    gctt_sim_params base;
    int scenario;
    int ticks;
    /* observed */
    int gogc_min_seen, gogc_max_seen;
    int knob_changes, gogc_changes, limit_changes, reverts, notices, reversals;
    int budget_decisions;
    int last_dir;
    uint64_t last_change_cycle;
    int64_t max_limit_set;
    char notes[8][200];
    int nnotes;
    int gogc_at[400];             /* GOGC in effect after each tick */
    double cpu_at[400];           /* GC CPU fraction of each tick */
    int64_t p99_window[400];
};

static void check_decision(struct run *r, const gctt_decision *d)
{
    const gctt_params *p = &r->p;
    const char *trace = getenv("TUNER_TRACE");   /* debugging aid: "1" or "scenario/policy" */
    char who[64];
    snprintf(who, sizeof who, "%s/%s", scenario_names[r->scenario], gctt_policy_name(p->policy));
    if (trace && (!strcmp(trace, "1") || !strcmp(trace, who)))
        fprintf(stderr, "[%s/%s t=%d cyc=%llu] knob %d %lld -> %lld: %s %s\n", scenario_names[r->scenario],
                gctt_policy_name(p->policy), r->ticks, (unsigned long long)r->sim.cycles, d->knob,
                (long long)d->old_value, (long long)d->new_value, d->reason, d->json);
    if (d->knob == GCTT_KNOB_NOTICE) {
        r->notices++;
        if (r->nnotes < 8)
            snprintf(r->notes[r->nnotes++], sizeof r->notes[0], "%s", d->reason);
        assert_int_equal(d->old_value, INT64_MIN);
        return;
    }
    assert_int_not_equal(p->policy, GCTT_POLICY_STATIC);
    assert_true(strlen(d->reason) > 10);
    assert_true(d->json[0] == '{' && d->json[strlen(d->json) - 1] == '}');
    r->knob_changes++;
    if (d->knob == GCTT_KNOB_GOGC) {
        assert_true(p->have_gogc);
        int g = (int)d->new_value;
        assert_in_range(g, p->gogc_min, p->gogc_max);
        int old = r->sim.gogc < 0 ? p->gogc_max : r->sim.gogc;
        int dir = g > old ? 1 : -1;
        if (d->goal == GCTT_GOAL_BUDGET) {
            r->budget_decisions++;
        } else if (r->last_dir && dir != r->last_dir) {
            /* a reversal: at least GCTT_REVERSAL_CYCLES cycles after the previous change */
            if (r->sim.cycles - r->last_change_cycle < GCTT_REVERSAL_CYCLES)
                fail_msg("%s/%s: reversal %d -> %d only %llu cycles after the previous change (%s)",
                         scenario_names[r->scenario], gctt_policy_name(p->policy), old, g,
                         (unsigned long long)(r->sim.cycles - r->last_change_cycle), d->reason);
        }
        if (r->last_dir && dir != r->last_dir)
            r->reversals++;
        r->last_dir = dir;
        r->last_change_cycle = r->sim.cycles;
        r->gogc_changes++;
        if (d->revert)
            r->reverts++;
        if (g < r->gogc_min_seen)
            r->gogc_min_seen = g;
        if (g > r->gogc_max_seen)
            r->gogc_max_seen = g;
        gctt_sim_set_gogc(&r->sim, g);
    } else {
        assert_true(p->have_limit);
        assert_true(p->budget > 0);
        assert_true(d->new_value <= p->budget);
        if (d->new_value > r->max_limit_set)
            r->max_limit_set = d->new_value;
        r->limit_changes++;
        gctt_sim_set_limit(&r->sim, d->new_value);
    }
}

/* The budget invariant: the GOGC in effect plans within the budget, unless
 * it is already at the floor. */
static void check_budget(struct run *r)
{
    if (!r->p.budget || r->p.policy == GCTT_POLICY_STATIC || !r->p.have_gogc || r->st.live_now <= 0)
        return;
    if (r->st.gogc == r->p.gogc_min)
        return;
    double planned = gctt_planned_memory(&r->st, r->st.gogc, r->st.live_now);
    if (planned > (double)r->p.budget * 1.0001)
        fail_msg("%s/%s: GOGC %d plans %.1f MiB > budget %.1f MiB (live %.1f MiB)", scenario_names[r->scenario],
                 gctt_policy_name(r->p.policy), r->st.gogc, planned / MiB, (double)r->p.budget / MiB,
                 (double)r->st.live_now / MiB);
}

static void on_cycle(void *arg, int64_t live)
{
    struct run *r = arg;
    gctt_decision d[GCTT_MAX_DECISIONS];
    int n = gctt_cycle_end(&r->st, live, 1, d, GCTT_MAX_DECISIONS);
    for (int i = 0; i < n; i++)
        check_decision(r, &d[i]);
    check_budget(r);
}

/* The program of each scenario at time t (seconds) of a run of T seconds. */
static void shape(struct run *r, double t, double T)
{
    gctt_sim_params *s = &r->sim.p;
    *s = r->base;
    s->seed = r->sim.p.seed;
    switch (r->scenario) {
    case STEP_ALLOC:
        if (t >= T / 3)
            s->alloc_rate = 2 * r->base.alloc_rate;
        break;
    case LIVE_SET_STEP:
        if (t >= T / 3 && t < 2 * T / 3)
            s->live = 2 * r->base.live;
        break;
    case SPIKE:
        if (t >= T / 3 && t < T / 3 + 10)
            s->alloc_rate = 3 * r->base.alloc_rate;
        break;
    case LEAK:
        s->live = r->base.live * (1.0 + t / T);
        break;
    default:
        break;
    }
}

/* 1: the samples carry no marking CPU (a backend that does not measure
 * it): pause changes are then judged on the mean pause. */
static int blank_work;

static void run(struct run *r, int scenario, const gctt_params *p, const gctt_sim_params *base, int seconds)
{
    memset(r, 0, sizeof *r);
    r->scenario = scenario;
    r->p = *p;
    r->base = *base;
    r->gogc_min_seen = 100;
    r->gogc_max_seen = 100;
    gctt_sim_init(&r->sim, base, 100, -1);
    gctt_init(&r->st, p, 100, INT64_MAX);
    assert_true(seconds <= 400);
    for (int t = 0; t < seconds; t++) {
        shape(r, t, seconds);
        gctt_sample s;
        gctt_sim_run(&r->sim, SEC, &s, on_cycle, r);
        if (blank_work)
            s.mark_cpu_ns = -1;
        r->cpu_at[t] = (double)s.gc_cpu_ns / ((double)s.dt_ns * s.procs);
        gctt_decision d[GCTT_MAX_DECISIONS];
        int n = gctt_step(&r->st, &s, d, GCTT_MAX_DECISIONS);
        assert_in_range(n, 0, GCTT_MAX_DECISIONS);
        for (int i = 0; i < n; i++)
            check_decision(r, &d[i]);
        check_budget(r);
        r->gogc_at[t] = r->sim.gogc;
        r->ticks++;
    }
    /* the controller's own count agrees with what it emitted */
    assert_int_equal(r->st.decisions, (uint64_t)r->knob_changes);
}

static double mean_cpu(const struct run *r, int from, int to)
{
    double s = 0;
    for (int t = from; t < to; t++)
        s += r->cpu_at[t];
    return s / (to - from);
}

static int has_note(const struct run *r, const char *needle)
{
    for (int i = 0; i < r->nnotes; i++)
        if (strstr(r->notes[i], needle))
            return 1;
    return 0;
}

/* A program like examples/demo: 48 MiB live, 200 MiB/s, pauses of ~21 ms at
 * GOGC 100 growing with the heap: ~8.8% GC CPU at GOGC 100. */
static gctt_sim_params demo_like(void)
{
    gctt_sim_params s = {
        .live = 48.0 * MiB,
        .alloc_rate = 200.0 * MiB,
        .pause_fixed_ns = 1e6,
        .pause_per_live = 0.3,
        .pause_per_heap = 0.05,
        .procs = 2,
        .frag = 1.1,
        .other = 8.0 * MiB,
        .noise = 0.1,
        .seed = 42,
    };
    return s;
}

/* The same program allocating slowly: ~1% GC CPU at GOGC 100. */
static gctt_sim_params cheap(void)
{
    gctt_sim_params s = demo_like();
    s.alloc_rate = 24.0 * MiB;
    return s;
}

static gctt_params params(int policy, int64_t budget, int64_t max_pause)
{
    gctt_params p = {
        .policy = policy,
        .max_pause_ns = max_pause,
        .max_gc_cpu = 0.05,
        .budget = budget,
        .gogc_min = 25,
        .gogc_max = 1000,
        .have_gogc = 1,
        .have_limit = 1,
        .have_cycles = 1,
    };
    return p;
}

static struct run R;   /* large: static */

/* ---- every scenario, every policy: the invariants ---- */

static void test_invariants_all(void **state)
{
    (void)state;
    const int policies[] = { GCTT_POLICY_STATIC, GCTT_POLICY_THROUGHPUT, GCTT_POLICY_LATENCY, GCTT_POLICY_MEMORY,
                             GCTT_POLICY_ADAPTIVE };
    const int64_t budgets[] = { 0, 144 * MiB };
    const int64_t pauses[] = { 0, 20 * 1000000ll };
    for (int sc = STEADY; sc <= LEAK; sc++)
        for (size_t pi = 0; pi < 5; pi++)
            for (size_t bi = 0; bi < 2; bi++)
                for (size_t qi = 0; qi < 2; qi++)
                    for (int prog = 0; prog < 2; prog++) {
                        gctt_params p = params(policies[pi], budgets[bi], pauses[qi]);
                        gctt_sim_params s = prog ? cheap() : demo_like();
                        s.seed = 1000 + (uint64_t)sc * 100 + pi * 10 + bi * 2 + qi + (uint64_t)prog * 7;
                        run(&R, sc, &p, &s, 240);
                        if (policies[pi] == GCTT_POLICY_STATIC) {
                            assert_int_equal(R.knob_changes, 0);
                            continue;
                        }
                        /* no oscillation: at most one reversal per 10 cycles, and in
                         * steady state only a handful at all */
                        assert_true((uint64_t)R.reversals * GCTT_REVERSAL_CYCLES <= R.sim.cycles + GCTT_REVERSAL_CYCLES);
                        /* steady: far fewer (a goal out of GOGC's reach is retried after
                         * 500, 1000, ... cycles: one try and its revert each time) */
                        if (sc == STEADY && (uint64_t)R.reversals * 100 > R.sim.cycles + 200)
                            fail_msg("steady/%s budget %d pause %d prog %d: %d reversals", gctt_policy_name(policies[pi]),
                                     (int)bi, (int)qi, prog, R.reversals);
                        if (budgets[bi])
                            assert_true(R.limit_changes >= 1);
                    }
}

/* ---- directions ---- */

/* GC CPU over the goal: throughput and adaptive raise GOGC until it is met
 * (no budget), latency (no pause goal) and static leave it. */
static void test_steady_throughput_raises(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    gctt_params p = params(GCTT_POLICY_THROUGHPUT, 0, 0);
    run(&R, STEADY, &p, &s, 120);
    assert_true(mean_cpu(&R, 0, 5) > 0.05);
    assert_true(R.gogc_at[119] > 100);
    assert_true(mean_cpu(&R, 90, 120) <= 0.05);
    assert_int_equal(R.reverts, 0);
    /* bounded steps: at most x2 per change, never past the bounds */
    for (int t = 1; t < 120; t++)
        assert_true(R.gogc_at[t] <= 2 * R.gogc_at[t - 1] + 1);

    p.policy = GCTT_POLICY_ADAPTIVE;
    run(&R, STEADY, &p, &s, 120);
    assert_true(R.gogc_at[119] > 100);
    assert_true(mean_cpu(&R, 90, 120) <= 0.05);

    p.policy = GCTT_POLICY_LATENCY;
    run(&R, STEADY, &p, &s, 120);
    assert_int_equal(R.gogc_changes, 0);
}

/* Under a budget of 3x the live heap the raise stops at the budget's GOGC;
 * the limit follows the budget; the throughput goal is reported not
 * reachable. */
static void test_steady_budget_caps(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    gctt_params p = params(GCTT_POLICY_ADAPTIVE, 144 * MiB, 0);
    run(&R, STEADY, &p, &s, 120);
    int cap = gctt_budget_gogc(&R.st, (int64_t)s.live);
    assert_true(cap > 100 && cap < 200);
    assert_true(R.gogc_at[119] > 100);
    assert_true(R.gogc_at[119] <= cap);
    assert_true(R.max_limit_set > 0 && R.max_limit_set <= 144 * MiB);
    assert_true(has_note(&R, "not reachable"));
    assert_true(R.sim.peak_rss <= 144.0 * MiB * 1.02);
}

/* Cheap GC: memory and adaptive give memory back (GOGC down), memory
 * faster, and GC CPU stays within the goal; throughput does not. */
static void test_steady_footprint(void **state)
{
    (void)state;
    gctt_sim_params s = cheap();
    gctt_params p = params(GCTT_POLICY_MEMORY, 0, 0);
    run(&R, STEADY, &p, &s, 120);
    int mem_final = R.gogc_at[119];
    assert_true(mem_final < 100);
    assert_true(mean_cpu(&R, 60, 120) <= 0.05);
    int mem_at_20 = R.gogc_at[20];

    p.policy = GCTT_POLICY_ADAPTIVE;
    run(&R, STEADY, &p, &s, 120);
    assert_true(R.gogc_at[119] < 100);
    assert_true(mean_cpu(&R, 60, 120) <= 0.05);
    assert_true(R.gogc_at[20] >= mem_at_20);   /* slower than the memory policy */
    assert_true(R.gogc_at[119] >= mem_final);  /* and not further */

    p.policy = GCTT_POLICY_THROUGHPUT;
    run(&R, STEADY, &p, &s, 120);
    assert_int_equal(R.gogc_changes, 0);
}

/* Allocation doubles: GC CPU goes over the goal, GOGC goes up after the step. */
static void test_step_alloc(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    s.alloc_rate = 60.0 * MiB;   /* ~2.6% before, ~5.3% after */
    gctt_params p = params(GCTT_POLICY_ADAPTIVE, 0, 0);
    run(&R, STEP_ALLOC, &p, &s, 180);
    int before = R.gogc_at[59];
    assert_true(R.gogc_at[179] > before);
    assert_true(mean_cpu(&R, 150, 180) <= 0.05);
}

/* The live heap doubles under a budget: GOGC drops at once (the cycle-end
 * check, before the next interval), the plan never passes the budget (the
 * harness checks it at every cycle), and after the step down GOGC climbs
 * back without oscillating. */
static void test_live_set_step(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    gctt_params p = params(GCTT_POLICY_ADAPTIVE, 144 * MiB, 0);
    run(&R, LIVE_SET_STEP, &p, &s, 240);
    int before = R.gogc_at[79], during = R.gogc_at[81], after = R.gogc_at[239];
    assert_true(during < before);
    assert_true(during <= 40);   /* (144 - 8) / 1.08 / 96 - 1: ~31 fits */
    assert_true(R.budget_decisions >= 1);
    assert_true(after > during);
    for (int t = 81; t < 160; t++)
        assert_true(R.gogc_at[t] <= 60);
    /* memory-limited meanwhile: RSS within the budget (+ the sim's jitter) */
    assert_true(R.sim.peak_rss <= 144.0 * MiB * 1.05);
}

/* A 3x allocation spike: GOGC goes up for it, and does not oscillate. */
static void test_spike(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    s.alloc_rate = 50.0 * MiB;
    gctt_params p = params(GCTT_POLICY_THROUGHPUT, 0, 0);
    run(&R, SPIKE, &p, &s, 120);
    assert_true(R.gogc_at[49] > R.gogc_at[39]);
    assert_true(R.reversals <= 1);
}

/* A slow leak under a budget: GOGC falls as the live heap grows, always
 * planning within the budget; the memory policy without a budget keeps GC
 * CPU within the goal. */
static void test_leak(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    gctt_params p = params(GCTT_POLICY_ADAPTIVE, 144 * MiB, 0);
    run(&R, LEAK, &p, &s, 240);
    assert_true(R.gogc_at[239] < R.gogc_at[60]);
    assert_true(R.gogc_at[239] <= 40);

    s = cheap();
    p = params(GCTT_POLICY_MEMORY, 0, 0);
    run(&R, LEAK, &p, &s, 240);
    assert_true(mean_cpu(&R, 200, 240) <= 0.05);
}

/* ---- the pause goal ---- */

/* Pauses that grow with the heap: latency lowers GOGC until p99 meets the
 * goal. */
static void test_pause_achievable(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    s.alloc_rate = 24.0 * MiB;
    s.pause_per_live = 0.1;
    s.pause_per_heap = 0.15;   /* at GOGC 100: 1 + 5 + 15 = 21 ms */
    s.noise = 0.05;
    gctt_params p = params(GCTT_POLICY_LATENCY, 0, 18 * 1000000ll);
    run(&R, STEADY, &p, &s, 200);
    assert_true(R.gogc_at[199] < 100);
    double heap = s.live * (1 + R.gogc_at[199] / 100.0);
    double pause = (s.pause_fixed_ns + s.pause_per_live * s.live + s.pause_per_heap * heap) * (1 + s.noise);
    assert_true(pause <= 18e6);
    assert_int_equal(R.reverts, 0);
    int final = R.gogc_at[199];

    blank_work = 1;
    run(&R, STEADY, &p, &s, 200);
    blank_work = 0;
    assert_true(R.gogc_at[199] <= final + 15);
    assert_true(R.gogc_at[199] < 100);
}

/* Pauses that follow the live heap only: cutting GOGC does not help; the
 * cut is reverted, GOGC held, the goal reported not achievable. */
static void test_pause_not_achievable(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    s.alloc_rate = 24.0 * MiB;
    s.pause_per_live = 0.4;
    s.pause_per_heap = 0;
    s.noise = 0.05;
    gctt_params p = params(GCTT_POLICY_LATENCY, 0, 10 * 1000000ll);
    run(&R, STEADY, &p, &s, 120);
    assert_true(R.reverts >= 1);
    assert_true(has_note(&R, "not achievable"));
    assert_int_equal(R.gogc_at[119], 100);
    assert_true(R.gogc_changes <= 2 * 1 + 2);   /* one try (and maybe a retry), each undone */
    int changes = R.gogc_changes;

    /* the same judged on the mean pause, without marking CPU */
    blank_work = 1;
    run(&R, STEADY, &p, &s, 120);
    blank_work = 0;
    assert_true(R.reverts >= 1);
    assert_int_equal(R.gogc_at[119], 100);
    assert_int_equal(R.gogc_changes, changes);
}

/* A GC cost GOGC cannot change (per allocated byte): raising GOGC does not
 * lower GC CPU per byte; the change is reverted and GOGC held. */
static void test_revert_when_no_effect(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    s.alloc_rate = 100.0 * MiB;
    s.pause_fixed_ns = 0.1e6;
    s.pause_per_live = 0.002;
    s.pause_per_heap = 0;
    s.cpu_per_alloc = 1.0;   /* 1 ns per byte: ~10% of 1 CPU, whatever GOGC */
    s.noise = 0.02;
    gctt_params p = params(GCTT_POLICY_THROUGHPUT, 0, 0);
    run(&R, STEADY, &p, &s, 60);
    assert_true(R.reverts >= 1);
    assert_true(has_note(&R, "not reachable with GOGC"));
    /* held after the revert: no change for GCTT_HOLD_CYCLES cycles */
    int first_revert_t = -1;
    for (int t = 1; t < 60; t++)
        if (R.gogc_at[t] < R.gogc_at[t - 1]) {
            first_revert_t = t;
            break;
        }
    assert_true(first_revert_t > 0);
    assert_int_equal(R.reverts, 1);   /* not retried within 500 cycles */
}

/* ---- degraded backends ---- */

static void test_missing_knobs(void **state)
{
    (void)state;
    gctt_sim_params s = demo_like();
    gctt_params p = params(GCTT_POLICY_ADAPTIVE, 144 * MiB, 0);
    p.have_limit = 0;
    run(&R, LIVE_SET_STEP, &p, &s, 120);
    assert_int_equal(R.limit_changes, 0);
    assert_true(has_note(&R, "cannot set a memory limit"));
    int n = 0;
    for (int i = 0; i < R.nnotes; i++)
        n += strstr(R.notes[i], "cannot set a memory limit") != NULL;
    assert_int_equal(n, 1);
    assert_true(R.budget_decisions >= 1);   /* GOGC alone keeps the budget */

    p = params(GCTT_POLICY_ADAPTIVE, 144 * MiB, 0);
    p.have_gogc = 0;
    run(&R, STEADY, &p, &s, 60);
    assert_int_equal(R.gogc_changes, 0);
    assert_true(R.limit_changes >= 1);
    assert_true(has_note(&R, "cannot set GOGC"));

    p = params(GCTT_POLICY_LATENCY, 0, 5 * 1000000ll);
    p.have_cycles = 0;
    run(&R, STEADY, &p, &s, 60);
    assert_true(has_note(&R, "no GC cycles"));
    assert_int_equal(R.gogc_changes, 0);   /* no pauses: no pause decisions */
}

/* GOGC set outside the bounds by the program is brought in; GOGC off with
 * a budget gets a number. */
static void test_bounds_and_off(void **state)
{
    (void)state;
    gctt_state st;
    gctt_params p = params(GCTT_POLICY_THROUGHPUT, 0, 0);
    gctt_init(&st, &p, 5000, INT64_MAX);
    gctt_sample s;
    memset(&s, 0, sizeof s);
    s.dt_ns = SEC;
    s.procs = 1;
    s.gogc = 5000;
    s.limit = INT64_MAX;
    s.rss = -1;
    gctt_decision d[GCTT_MAX_DECISIONS];
    int n = gctt_step(&st, &s, d, GCTT_MAX_DECISIONS);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].new_value, 1000);

    p = params(GCTT_POLICY_ADAPTIVE, 144 * MiB, 0);
    gctt_init(&st, &p, -1, INT64_MAX);
    s.gogc = -1;
    s.live = 48 * MiB;
    s.ncycles = 1;
    s.rss = 100 * MiB;
    s.sys = 90 * MiB;
    s.heap_goal = 80 * MiB;
    n = gctt_step(&st, &s, d, GCTT_MAX_DECISIONS);
    int found = 0;
    for (int i = 0; i < n; i++)
        if (d[i].knob == GCTT_KNOB_GOGC) {
            assert_int_equal(d[i].old_value, -1);
            assert_in_range(d[i].new_value, 25, 200);
            found = 1;
        }
    assert_true(found);
}

/* Same inputs, same decisions. */
static void test_deterministic(void **state)
{
    (void)state;
    static struct run a;
    gctt_sim_params s = demo_like();
    gctt_params p = params(GCTT_POLICY_ADAPTIVE, 144 * MiB, 20 * 1000000ll);
    run(&a, LIVE_SET_STEP, &p, &s, 150);
    run(&R, LIVE_SET_STEP, &p, &s, 150);
    assert_memory_equal(a.gogc_at, R.gogc_at, sizeof a.gogc_at);
    assert_int_equal(a.knob_changes, R.knob_changes);
}

/* ---- parsers ---- */

static void test_parsers(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(gct_tuner_parse_duration("5ms", &ns), 0);
    assert_int_equal(ns, 5000000);
    assert_int_equal(gct_tuner_parse_duration("500us", &ns), 0);
    assert_int_equal(ns, 500000);
    assert_int_equal(gct_tuner_parse_duration("0.2s", &ns), 0);
    assert_int_equal(ns, 200000000);
    assert_int_equal(gct_tuner_parse_duration("7", &ns), 0);
    assert_int_equal(ns, 7000000);
    assert_int_equal(gct_tuner_parse_duration("250ns", &ns), 0);
    assert_int_equal(ns, 250);
    assert_int_equal(gct_tuner_parse_duration("5 ms", &ns), -1);
    assert_int_equal(gct_tuner_parse_duration("-1ms", &ns), -1);
    assert_int_equal(gct_tuner_parse_duration("fast", &ns), -1);
    assert_int_equal(gct_tuner_parse_duration("", &ns), -1);
    double f;
    assert_int_equal(gct_tuner_parse_percent("5", &f), 0);
    assert_true(fabs(f - 0.05) < 1e-12);
    assert_int_equal(gct_tuner_parse_percent("2.5%", &f), 0);
    assert_true(fabs(f - 0.025) < 1e-12);
    assert_int_equal(gct_tuner_parse_percent("0", &f), -1);
    assert_int_equal(gct_tuner_parse_percent("101", &f), -1);
    assert_int_equal(gct_tuner_parse_percent("5%%", &f), -1);
    assert_int_equal(gct_tuner_parse_percent("x", &f), -1);
    int64_t b;
    assert_int_equal(gct_tuner_parse_bytes("512MiB", &b), 0);
    assert_int_equal(b, 512 * MiB);
    assert_int_equal(gct_tuner_parse_bytes("2G", &b), 0);
    assert_int_equal(b, 2048 * MiB);
    assert_int_equal(gct_tuner_parse_bytes("1TiB", &b), 0);
    assert_int_equal(b, (int64_t)1 << 40);
    assert_int_equal(gct_tuner_parse_bytes("4096", &b), 0);
    assert_int_equal(b, 4096);
    assert_int_equal(gct_tuner_parse_bytes("12XB", &b), -1);
    assert_int_equal(gct_tuner_parse_bytes("-5", &b), -1);
    assert_int_equal(gct_tuner_parse_bytes("99999999999TiB", &b), -1);
    assert_int_equal(gctt_policy_parse("adaptive"), GCTT_POLICY_ADAPTIVE);
    assert_int_equal(gctt_policy_parse("Adaptive"), -1);
}

static void test_start_errors(void **state)
{
    (void)state;
    gct_tuner_config cfg;
    gct_tuner_config_init(&cfg);
    cfg.policy = "fastest";
    errno = 0;
    assert_int_equal(gct_tuner_start(&cfg), -1);
    assert_int_equal(errno, EINVAL);
    gct_tuner_config_init(&cfg);
    cfg.gogc_min = 500;
    cfg.gogc_max = 100;
    assert_int_equal(gct_tuner_start(&cfg), -1);
    assert_int_equal(errno, EINVAL);
    gct_tuner_config_init(&cfg);
    cfg.max_gc_cpu = 2;
    assert_int_equal(gct_tuner_start(&cfg), -1);
    assert_int_equal(errno, EINVAL);
    /* a backend without statistics */
    static gct_backend blind = { .name = "blind", .caps = 0 };
    gct_tuner_config_init(&cfg);
    cfg.backend = &blind;
    assert_int_equal(gct_tuner_start(&cfg), -1);
    assert_int_equal(errno, ENOTSUP);
    /* EBUSY */
    gct_tuner_config_init(&cfg);
    cfg.policy = "static";
    cfg.memory_budget = -1;
    assert_int_equal(gct_tuner_start(&cfg), 0);
    assert_int_equal(gct_tuner_start(&cfg), -1);
    assert_int_equal(errno, EBUSY);
    gct_tuner_stop();
    gct_tuner_stop();   /* twice is fine */
}

/* ---- live ---- */

static void **volatile keep;

static void churn_until_ticks(uint64_t ticks, size_t max_rounds)
{
    keep = gc_malloc(4096 * sizeof(void *));
    gct_tuner_stats ts;
    for (size_t r = 0; r < max_rounds; r++) {
        for (int i = 0; i < 4096; i++)
            keep[i] = gc_malloc(64 + (size_t)(i % 64) * 16);
        gct_tuner_get_stats(&ts);
        if (ts.ticks >= ticks)
            break;
        usleep(1000);
    }
    keep = NULL;
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* The tuner thread on libgc, recorded by the profiler: a start row, every
 * GOGC row within bounds with a reason and JSON measurements, the knobs in
 * the collector as the last rows say. */
static void test_live_recorded(void **state)
{
    (void)state;
    char path[] = "/tmp/gctune-tuner-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gct_profiler_config pc;
    gct_profiler_config_init(&pc);
    pc.db_path = path;
    pc.sample_rate = 0;
    pc.quiet = 1;
    assert_int_equal(gct_profiler_start(&pc), 0);
    int old_gogc = gc_set_percent(100);
    gct_tuner_config cfg;
    gct_tuner_config_init(&cfg);
    cfg.policy = "throughput";
    cfg.max_gc_cpu = 0.001;     /* 0.1%: any churn is over it */
    cfg.interval_ms = 20;
    cfg.memory_budget = 1024 * MiB;
    cfg.gogc_max = 400;
    assert_int_equal(gct_tuner_start(&cfg), 0);
    churn_until_ticks(40, 200000);
    gct_tuner_stats ts;
    gct_tuner_get_stats(&ts);
    gct_tuner_stop();
    gct_profiler_stop();
    assert_true(ts.ticks >= 1);
    assert_string_equal(ts.policy, "throughput");
    assert_int_equal(ts.memory_budget, 1024 * MiB);
    assert_true(ts.events_recorded >= 2);   /* the start row and the memory limit */
    assert_true(ts.cpu_ns > 0);
    int gogc_now = gc_set_percent(old_gogc);
    int64_t lim = gc_set_memory_limit(INT64_MAX);
    assert_in_range(gogc_now, 25, 400);
    assert_true(lim <= 1024 * MiB);

    sqlite3 *db = open_db(path);
    assert_int_equal(q_int(db, "SELECT count(*) FROM tuner_events WHERE knob = 'policy' AND reason LIKE 'tuner started%'"), 1);
    assert_true(q_int(db, "SELECT count(*) FROM tuner_events WHERE knob = 'memory_limit' AND new_value <= 1073741824") >= 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM tuner_events WHERE knob = 'gogc' AND (new_value < 25 OR new_value > 400)"), 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM tuner_events WHERE knob IN ('gogc', 'memory_limit') AND "
                               "(length(reason) < 10 OR json_valid(measurements) = 0)"), 0);
    assert_int_equal(q_int(db, "SELECT count(*) FROM tuner_events WHERE knob IN ('gogc', 'memory_limit')"),
                     (int64_t)ts.decisions);
    if (ts.decisions > 1)   /* GOGC went up for the 0.1% goal */
        assert_true(q_int(db, "SELECT count(*) FROM tuner_events WHERE knob = 'gogc' AND new_value > old_value") >= 1);
    sqlite3_close(db);
    unlink(path);
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* Runs examples/demo with the environment env (NULL-terminated "K=V"
 * strings added to ours); returns the exit status and fills err with its
 * stderr. */
static int run_demo(char *const *env_add, const char *const *args, char *err, size_t errlen)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        for (char *const *e = env_add; *e; e++)
            putenv(*e);
        char *argv[16] = { (char *)DEMO_PATH };
        int i = 1;
        for (const char *const *a = args; *a && i < 15; a++)
            argv[i++] = (char *)*a;
        argv[i] = NULL;
        execv(DEMO_PATH, argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], err + n, errlen - 1 - n)) > 0 && n + (size_t)r < errlen - 1)
        n += (size_t)r;
    if (r > 0)
        n += (size_t)r;
    err[n < errlen ? n : errlen - 1] = 0;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_env_start(void **state)
{
    (void)state;
    if (access(DEMO_PATH, X_OK) != 0)
        skip();
    char db[] = "/tmp/gctune-tuner-env-XXXXXX";
    int fd = mkstemp(db);
    assert_true(fd >= 0);
    close(fd);
    char prof[128];
    snprintf(prof, sizeof prof, "GCTUNE_PROFILE=%s", db);
    char *env[] = { prof, "GCTUNE_TUNER=adaptive", "GCTUNE_MEMORY=200MiB", "GCTUNE_MAX_PAUSE=50ms",
                    "GCTUNE_MAX_GC_CPU=5%", "GCTUNE_TUNER_INTERVAL=100ms", "GCTUNE_SAMPLE_RATE=0", NULL };
    const char *args[] = { "--short", "--quiet", NULL };   /* ~2 s, 16 MiB live */
    char err[4096];
    int st = run_demo(env, args, err, sizeof err);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_string_equal(err, "");
    sqlite3 *d = open_db(db);
    assert_int_equal(q_int(d, "SELECT count(*) FROM tuner_events WHERE knob = 'policy' AND reason LIKE "
                              "'tuner started: policy adaptive; budget 200.0 MiB (explicit); p99 pause goal 50.000 ms%'"),
                     1);
    assert_true(q_int(d, "SELECT count(*) FROM tuner_events WHERE knob = 'memory_limit' AND new_value <= 209715200") >= 1);
    sqlite3_close(d);
    /* a read-only connection leaves the -wal and -shm files behind */
    const char *suffix[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        char f[sizeof db + 8];
        snprintf(f, sizeof f, "%s%s", db, suffix[i]);
        unlink(f);
    }

    /* bad values: one warning each, defaults used, the program runs */
    char *bad[] = { "GCTUNE_TUNER=fastest", "GCTUNE_MAX_PAUSE=soon", "GCTUNE_MAX_GC_CPU=200", "GCTUNE_MEMORY=12XB",
                    "GCTUNE_TUNER_INTERVAL=0", NULL };
    const char *args2[] = { "--seconds", "0.3", "--live", "4", "--quiet", NULL };
    st = run_demo(bad, args2, err, sizeof err);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int lines = 0;
    for (char *p = err; (p = strchr(p, '\n')); p++)
        lines++;
    if (lines != 5)
        fail_msg("want 5 warning lines, got:\n%s", err);
    assert_non_null(strstr(err, "GCTUNE_TUNER=fastest"));
    assert_non_null(strstr(err, "GCTUNE_MAX_PAUSE=soon"));
    assert_non_null(strstr(err, "GCTUNE_MAX_GC_CPU=200"));
    assert_non_null(strstr(err, "GCTUNE_MEMORY=12XB"));
    assert_non_null(strstr(err, "GCTUNE_TUNER_INTERVAL=0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_steady_throughput_raises),
        cmocka_unit_test(test_steady_budget_caps),
        cmocka_unit_test(test_steady_footprint),
        cmocka_unit_test(test_step_alloc),
        cmocka_unit_test(test_live_set_step),
        cmocka_unit_test(test_spike),
        cmocka_unit_test(test_leak),
        cmocka_unit_test(test_pause_achievable),
        cmocka_unit_test(test_pause_not_achievable),
        cmocka_unit_test(test_revert_when_no_effect),
        cmocka_unit_test(test_missing_knobs),
        cmocka_unit_test(test_bounds_and_off),
        cmocka_unit_test(test_invariants_all),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_live_recorded),
        cmocka_unit_test(test_env_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
