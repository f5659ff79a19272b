/* tuner/controller.c - the tuner's decision function (tuner/controller.h).
 *
 * Owns: the smoothed measurements, the pending-change evaluation, the
 * hold and reversal bookkeeping, and the policy rules.  Pure: the state
 * struct is all the memory it touches; nothing here reads a clock.
 *
 * Measurements.  Samples (one per interval) accumulate into a window that
 * closes at >= 3 GC cycles or 8 samples, so that a window always spans
 * whole cycles when there are any.  A closed window updates exponential
 * averages with mean deviation (weight 0.3) of: the GC CPU fraction, GC cost
 * per allocated byte (what GOGC controls: ~ mark cost x 100 / GOGC,
 * independent of the allocation rate; the marking threads' CPU time when the
 * backend gives it, which a busy machine does not inflate as it does
 * pause x procs), the allocation rate, the live heap,
 * the memory that is not the collector's (RSS - (sys - released)) and the
 * collector's fragmentation (sys - released over the heap goal).  Pauses
 * since the last GOGC change are kept (128) for the p99.  Decisions compare
 * avg + dev (the smoothed value plus its usual error) with the goals.
 *
 * Rules, in priority order (each policy enables a subset):
 *   budget     every sample and at cycle ends: GOGC is lowered at once to
 *              the largest value whose planned memory fits; the memory
 *              limit follows budget - other memory.  Never evaluated, never
 *              held back (a hard constraint).
 *   pause      p99 > goal: GOGC x 0.75 (the pause grows with the heap the
 *              cycle must handle); if a cut did not lower the pauses, the
 *              goal is declared not achievable with GOGC and tried again
 *              after 500 cycles (doubling with each failure) or when the
 *              live heap moves by 25%.
 *   throughput avg + dev of GC CPU > goal: GOGC x (cpu / (0.8 goal)),
 *              between x1.1 and x2 per step, up to the budget and bounds.
 *   footprint  every goal met with margin (cpu < lo x goal, p99 < 0.7 goal):
 *              GOGC x 0.85 (adaptive, every 3rd window) or x 0.7 (memory),
 *              never below what keeps the predicted GC CPU under 0.75 x goal.
 *   The bands (throughput raises above 1.0 x goal and aims at 0.8; footprint
 *   lowers only below 0.5 and never predicts above 0.75) do not overlap, so
 *   the two cannot chase each other.
 * Evaluation: after a discretionary change, the target metric over the
 * following >= GCTT_REVERSAL_CYCLES cycles (and >= 2 samples) is compared
 * with its value before: GC CPU per byte must fall by at least a quarter of
 * what 1/GOGC predicts; for a pause cut, the marking CPU per cycle (the
 * work a stop-the-world pause does, measured in thread CPU time so that a
 * busy machine does not fake a change; the mean pause when the backend
 * does not measure it) must fall by 3%; the heap goal over live must fall.  If the live heap moved by more than 25% meanwhile the
 * result is inconclusive and the change kept.  A failed change is reverted
 * and GOGC held for GCTT_HOLD_CYCLES cycles and 5 samples; a failed
 * throughput raise marks that goal out of GOGC's reach like the pause goal.
 * The budget lowers GOGC to 95% of what fits, so that a creeping live heap
 * does not cost one decision per interval; throughput raises stop at 97%
 * of the budget's GOGC for the same reason (noise in the estimates).
 */
#include "controller.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MiB (1024.0 * 1024.0)
#define HEAP_MINIMUM (4.0 * MiB)        /* libgc's pacer: goal >= 4 MiB x GOGC/100 */
#define ALPHA 0.3
#define WINDOW_CYCLES 3
#define WINDOW_SAMPLES 8
#define EVAL_MIN_SAMPLES 2
#define EVAL_MAX_SAMPLES 20
#define HOLD_SAMPLES 5
#define RETRY_CYCLES 500
#define GROWTH_HORIZON 3                /* samples of live-heap growth planned ahead */
#define LIMIT_HEADROOM 0.96             /* the limit is 96% of budget - other memory */

enum {
    NOTE_STARTED = 1u << 0,
    NOTE_NO_GOGC = 1u << 1,
    NOTE_NO_LIMIT = 1u << 2,
    NOTE_NO_CYCLES = 1u << 3,
    NOTE_BUDGET_UNREACHABLE = 1u << 4,
    NOTE_CPU_UNREACHABLE = 1u << 5,
    NOTE_PAUSE_UNCONTROLLABLE = 1u << 6,
    NOTE_CPU_YIELDS = 1u << 7,
    NOTE_CPU_UNCONTROLLABLE = 1u << 8,
};

static const char *const policy_names[] = { "static", "throughput", "latency", "memory", "adaptive" };

int gctt_policy_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < (int)(sizeof policy_names / sizeof policy_names[0]); i++)
        if (!strcmp(name, policy_names[i]))
            return i;
    return -1;
}

const char *gctt_policy_name(int policy)
{
    return policy >= 0 && policy < (int)(sizeof policy_names / sizeof policy_names[0]) ? policy_names[policy] : "?";
}

const char *gctt_goal_name(int goal)
{
    static const char *const names[] = { "none", "budget", "pause", "throughput", "footprint" };
    return goal >= 0 && goal < (int)(sizeof names / sizeof names[0]) ? names[goal] : "?";
}

static void ewma_add(gctt_ewma *e, double x)
{
    if (e->n == 0) {
        e->avg = x;
        e->dev = 0.25 * fabs(x);
    } else {
        double err = x - e->avg;
        e->avg += ALPHA * err;
        e->dev += ALPHA * (fabs(err) - e->dev);
    }
    e->n++;
}

static double ewma_hi(const gctt_ewma *e) { return e->avg + e->dev; }

void gctt_init(gctt_state *st, const gctt_params *p, int gogc_now, int64_t limit_now)
{
    memset(st, 0, sizeof *st);
    st->p = *p;
    if (st->p.gogc_min < 1)
        st->p.gogc_min = 1;
    if (st->p.gogc_max < st->p.gogc_min)
        st->p.gogc_max = st->p.gogc_min;
    if (!(st->p.max_gc_cpu > 0))
        st->p.max_gc_cpu = 0.05;
    if (st->p.budget < 0)
        st->p.budget = 0;
    st->gogc = gogc_now;
    st->limit = limit_now < 0 ? INT64_MAX : limit_now;
    st->cpu_frac_prev = -1;
}

/* ---- plans ---- */

static double heap_goal_for(int g, double live)
{
    double goal = live * (1.0 + g / 100.0), minimum = HEAP_MINIMUM * g / 100.0;
    return goal < minimum ? minimum : goal;
}

static double frag_est(const gctt_state *st)
{
    double f = st->frag.n ? st->frag.avg : 1.1;
    return f < 1.0 ? 1.0 : f > 1.6 ? 1.6 : f;
}

static double other_est(const gctt_state *st)
{
    double o = st->other.n ? ewma_hi(&st->other) : 0;
    return o < 0 ? 0 : o;
}

/* Live heap to plan with: the last cycle's, or the average if higher (a
 * step down is believed a window later, a step up at once). */
static double plan_live(const gctt_state *st)
{
    double l = (double)st->live_now;
    if (st->live.n && st->live.avg > l)
        l = st->live.avg;
    /* a growing live heap (a leak) is planned GROWTH_HORIZON samples ahead,
     * so that the budget does not cut GOGC one step per interval */
    if (st->growth.n >= 3 && st->growth.avg > st->growth.dev) {
        /* a steady trend (not one jump, which the cycle-end check answers),
         * at most 10% of the live heap ahead */
        double ahead = st->growth.avg * GROWTH_HORIZON;
        l += ahead < 0.1 * l ? ahead : 0.1 * l;
    }
    return l;
}

double gctt_planned_memory(const gctt_state *st, int g, int64_t live)
{
    return heap_goal_for(g, (double)live) * frag_est(st) + other_est(st);
}

int gctt_budget_gogc(const gctt_state *st, int64_t live)
{
    const gctt_params *p = &st->p;
    if (!p->budget || live <= 0)
        return p->gogc_max;
    double heap_room = ((double)p->budget - other_est(st)) / frag_est(st);
    double g = 100.0 * (heap_room / (double)live - 1.0);
    double gmin = 100.0 * heap_room / HEAP_MINIMUM;   /* the pacer's minimum heap */
    if (gmin < g)
        g = gmin;
    if (!(g >= p->gogc_min))
        return p->gogc_min;
    if (g >= p->gogc_max)
        return p->gogc_max;
    return (int)floor(g);
}

int64_t gctt_budget_limit(const gctt_state *st)
{
    if (!st->p.budget)
        return 0;
    double l = ((double)st->p.budget - other_est(st)) * LIMIT_HEADROOM;
    double floor_ = 4.0 * MiB;
    if (l < floor_)
        l = floor_;
    if (l > (double)st->p.budget)
        l = (double)st->p.budget;
    return (int64_t)l;
}

/* GOGC as a number for comparisons: off counts as the maximum. */
static int eff_gogc(const gctt_state *st)
{
    return st->gogc < 0 ? st->p.gogc_max : st->gogc;
}

/* ---- pauses ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* p99 (nearest rank) of the pauses since the last change; -1 if < 5. */
static int64_t pause_p99(const gctt_state *st)
{
    uint32_t n = st->npauses < GCTT_PAUSE_WINDOW ? st->npauses : GCTT_PAUSE_WINDOW;
    if (n < 5)
        return -1;
    int64_t tmp[GCTT_PAUSE_WINDOW];
    memcpy(tmp, st->pauses, n * sizeof tmp[0]);
    /* insertion sort: n <= 128, deterministic */
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && cmp_i64(&tmp[j - 1], &tmp[j]) > 0; j--) {
            int64_t t = tmp[j];
            tmp[j] = tmp[j - 1];
            tmp[j - 1] = t;
        }
    uint32_t rank = (uint32_t)ceil(0.99 * n);
    return tmp[(rank ? rank : 1) - 1];
}

static double pause_mean(const gctt_state *st)
{
    uint32_t n = st->npauses < GCTT_PAUSE_WINDOW ? st->npauses : GCTT_PAUSE_WINDOW;
    if (!n)
        return -1;
    double s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += (double)st->pauses[i];
    return s / n;
}

/* ---- output ---- */

static void fmt_mib(char *buf, size_t len, double bytes)
{
    if (bytes >= 0 && bytes < 9e18)
        snprintf(buf, len, "%.1f", bytes / MiB);
    else
        snprintf(buf, len, "-1");
}

static void meas_json(const gctt_state *st, char *out, size_t len)
{
    char live[24], rss[24], goal[24], other[24], budget[24], limit[24];
    fmt_mib(live, sizeof live, (double)st->live_now);
    fmt_mib(rss, sizeof rss, st->rss_now >= 0 ? (double)st->rss_now : -1);
    fmt_mib(goal, sizeof goal, (double)st->heap_goal_now);
    fmt_mib(other, sizeof other, other_est(st));
    fmt_mib(budget, sizeof budget, st->p.budget ? (double)st->p.budget : -1);
    fmt_mib(limit, sizeof limit, st->limit == INT64_MAX ? -1 : (double)st->limit);
    int64_t p99 = pause_p99(st);
    if (snprintf(out, len,
             "{\"gogc\":%d,\"limit_mib\":%s,\"budget_mib\":%s,\"live_mib\":%s,\"rss_mib\":%s,\"goal_mib\":%s,"
             "\"other_mib\":%s,\"frag\":%.2f,\"alloc_mbs\":%.1f,\"cpu\":%.4f,\"cpu_dev\":%.4f,\"ns_per_b\":%.4f,"
             "\"p99_ms\":%.3f,\"pauses\":%u}",
             st->gogc, limit, budget, live, rss, goal, other, frag_est(st), st->alloc_rate.avg / MiB, st->cpu.avg,
             st->cpu.dev, st->ns_per_byte.avg, p99 >= 0 ? (double)p99 / 1e6 : -1.0,
             st->npauses < GCTT_PAUSE_WINDOW ? st->npauses : GCTT_PAUSE_WINDOW) >= (int)len)
        snprintf(out, len, "{\"truncated\":true}");
}

static gctt_decision *emit(gctt_state *st, gctt_decision *out, int max, int *n, int knob, int goal, int64_t old,
                           int64_t new_, const char *fmt, ...) __attribute__((format(printf, 9, 10)));

#include <stdarg.h>
static gctt_decision *emit(gctt_state *st, gctt_decision *out, int max, int *n, int knob, int goal, int64_t old,
                           int64_t new_, const char *fmt, ...)
{
    if (*n >= max)
        return NULL;
    gctt_decision *d = &out[(*n)++];
    memset(d, 0, sizeof *d);
    d->knob = knob;
    d->goal = goal;
    d->old_value = old;
    d->new_value = new_;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
    if (st->snap_valid)
        memcpy(d->json, st->snap, sizeof d->json);
    else
        meas_json(st, d->json, sizeof d->json);
    st->snap_valid = 0;
    if (knob != GCTT_KNOB_NOTICE)
        st->decisions++;
    return d;
}

static int notice_once(gctt_state *st, unsigned bit)
{
    if (st->noticed & bit)
        return 0;
    st->noticed |= bit;
    return 1;
}

/* ---- GOGC changes ---- */

/* The measurements as they are before a change (emit uses them). */
static void snapshot(gctt_state *st)
{
    meas_json(st, st->snap, sizeof st->snap);
    st->snap_valid = 1;
}

static void clear_regime(gctt_state *st)
{
    st->npauses = 0;
    st->cpu.n = 0;
    st->ns_per_byte.n = 0;
    st->work.n = 0;
}

static void set_gogc(gctt_state *st, int g)
{
    int dir = g > eff_gogc(st) ? 1 : -1;
    if (st->last_dir && dir != st->last_dir)
        st->reversals++;
    st->last_dir = dir;
    st->last_change_cycle = st->cycles;
    st->gogc = g;
    clear_regime(st);
}

/* May GOGC move in direction dir now (the reversal rule)? */
static int reversal_ok(const gctt_state *st, int dir)
{
    return !st->last_dir || dir == st->last_dir || st->cycles - st->last_change_cycle >= GCTT_REVERSAL_CYCLES;
}

/* A discretionary change, evaluated over the next window. */
static void propose(gctt_state *st, gctt_decision *out, int max, int *n, int goal, int g, double before,
                    const char *why)
{
    int old = eff_gogc(st);
    if (g == old || *n >= max)
        return;
    if (!reversal_ok(st, g > old ? 1 : -1))
        return;
    int raw_old = st->gogc;
    snapshot(st);
    set_gogc(st, g);
    st->ev.active = 1;
    st->ev.goal = goal;
    st->ev.from = raw_old;
    st->ev.to = g;
    st->ev.before = before;
    st->ev.before_live = (double)st->live_now;
    st->ev.at_cycle = st->cycles;
    st->ev.at_tick = st->ticks;
    st->ev.cycles = 0;
    st->ev.dt_ns = st->ev.gc_cpu_ns = st->ev.alloc_bytes = st->ev.pause_sum = st->ev.npause = 0;
    st->ev.heap_ratio_sum = 0;
    st->ev.nratio = 0;
    emit(st, out, max, n, GCTT_KNOB_GOGC, goal, raw_old, g, "%s", why);
}

/* ---- the hard budget ---- */

static int budget_check(gctt_state *st, gctt_decision *out, int max)
{
    int n = 0;
    const gctt_params *p = &st->p;
    if (!p->budget || p->policy == GCTT_POLICY_STATIC || !p->have_gogc)
        return 0;
    double live = plan_live(st);
    if (live <= 0)
        return 0;
    int cap = gctt_budget_gogc(st, (int64_t)live);
    int g = eff_gogc(st);
    if (st->gogc < 0 || g > cap) {
        double planned = gctt_planned_memory(st, g, (int64_t)live);
        int old = st->gogc;
        /* 5% under what fits, so that a creeping live heap (a leak) is not
         * followed one step per interval */
        int to = (int)floor(cap * 0.95);
        if (to < p->gogc_min)
            to = p->gogc_min;
        snapshot(st);
        set_gogc(st, to);
        st->ev.active = 0;   /* a pending evaluation is moot: the budget decided */
        emit(st, out, max, &n, GCTT_KNOB_GOGC, GCTT_GOAL_BUDGET, old, to,
             "memory budget: GOGC %d plans %.1f MiB at live heap %.1f MiB, over the budget of %.1f MiB; "
             "lowered to %d (%d fits, less 5%%)",
             old, old < 0 ? INFINITY : planned / MiB, live / MiB, (double)p->budget / MiB, to, cap);
    }
    if (cap == p->gogc_min && gctt_planned_memory(st, cap, (int64_t)live) > (double)p->budget &&
        notice_once(st, NOTE_BUDGET_UNREACHABLE)) {
        emit(st, out, max, &n, GCTT_KNOB_NOTICE, GCTT_GOAL_BUDGET, INT64_MIN, INT64_MIN,
             "memory budget %.1f MiB cannot be met with GOGC >= %d at live heap %.1f MiB: %s", (double)p->budget / MiB,
             p->gogc_min, live / MiB,
             p->have_limit ? "the memory limit holds the heap (the GC runs more often)"
                           : "the backend has no memory limit either; the budget will be exceeded");
    }
    return n;
}

int gctt_cycle_end(gctt_state *st, int64_t live, uint32_t ncycles, gctt_decision *out, int max)
{
    st->cycles += ncycles;
    st->ends_pending += ncycles;
    if (live > 0)
        st->live_now = live;
    return budget_check(st, out, max);
}

static int limit_check(gctt_state *st, gctt_decision *out, int max)
{
    int n = 0;
    const gctt_params *p = &st->p;
    if (!p->budget || !p->have_limit || p->policy == GCTT_POLICY_STATIC)
        return 0;
    int64_t want = gctt_budget_limit(st);
    int64_t cur = st->limit;
    /* Raised when 5% (at least 1 MiB) below what the budget allows;
     * lowered when 1.5% above it: the 4% headroom (LIMIT_HEADROOM) in
     * want keeps such a limit inside the budget, and the memory outside
     * the collector, which creeps, does not move the limit every step. */
    int64_t slack = (int64_t)(0.05 * (double)want);
    if (slack < (int64_t)MiB)
        slack = (int64_t)MiB;
    int64_t down = (int64_t)(0.015 * (double)want);
    if (cur == INT64_MAX || cur - want > down || want - cur > slack) {
        st->limit = want;
        emit(st, out, max, &n, GCTT_KNOB_LIMIT, GCTT_GOAL_BUDGET, cur == INT64_MAX ? -1 : cur, want,
             "memory budget %.1f MiB less %.1f MiB of memory outside the collector, less 4%%: soft limit %.1f MiB",
             (double)p->budget / MiB, other_est(st) / MiB, (double)want / MiB);
    }
    return n;
}

/* ---- evaluation ---- */

static void evaluate(gctt_state *st, gctt_decision *out, int max, int *n)
{
    if (!st->ev.active)
        return;
    uint64_t samples = st->ticks - st->ev.at_tick;
    int enough = st->ev.cycles >= GCTT_REVERSAL_CYCLES && samples >= EVAL_MIN_SAMPLES;
    if (!enough && samples < EVAL_MAX_SAMPLES)
        return;
    st->ev.active = 0;
    if (st->ev.cycles < 3)
        return;   /* too few cycles to judge: kept */
    double live_after = (double)st->live_now;
    if (st->ev.before_live > 0 && fabs(live_after - st->ev.before_live) > 0.25 * st->ev.before_live)
        return;   /* the live heap moved: inconclusive, kept */
    double before = st->ev.before, after = -1;
    int failed = 0;
    const char *metric = "";
    double from = st->ev.from < 0 ? st->p.gogc_max : st->ev.from, to = st->ev.to;
    switch (st->ev.goal) {
    case GCTT_GOAL_THROUGHPUT:
        metric = "GC CPU per allocated byte (ns)";
        if (st->ev.alloc_bytes <= 0 || before <= 0)
            return;
        after = (double)st->ev.gc_cpu_ns / (double)st->ev.alloc_bytes;
        /* 1/GOGC predicts after = before x from/to: at least a quarter of that fall */
        failed = after > before * (1.0 - 0.25 * (1.0 - from / to));
        break;
    case GCTT_GOAL_PAUSE:
        if (st->ev.by_work) {
            /* the marking work per cycle (thread CPU time): what a smaller
             * heap can shorten in a stop-the-world pause, and unlike the
             * pause's wall time not stretched by a busy machine */
            metric = "marking CPU per cycle (ms)";
            after = (double)st->ev.gc_cpu_ns / (double)st->ev.cycles;
        } else {
            metric = "mean pause (ms)";
            if (!st->ev.npause)
                return;
            after = (double)st->ev.pause_sum / (double)st->ev.npause;
        }
        if (before <= 0)
            return;
        failed = after > before * 0.97;
        before /= 1e6;
        after /= 1e6;
        break;
    case GCTT_GOAL_FOOTPRINT:
        metric = "heap goal / live heap";
        if (!st->ev.nratio || before <= 0)
            return;
        after = st->ev.heap_ratio_sum / st->ev.nratio;
        failed = after > before * 0.99;
        break;
    default:
        return;
    }
    if (!failed)
        return;
    /* Revert: the evaluation spanned >= GCTT_REVERSAL_CYCLES cycles unless
     * it timed out; the reversal rule still applies. */
    int back = st->ev.from;
    if (st->p.budget) {
        int cap = gctt_budget_gogc(st, (int64_t)plan_live(st));
        if (back < 0 || back > cap)
            back = cap;   /* never back past the budget */
    }
    int cur = st->gogc;
    if (back == cur)
        return;
    if (!reversal_ok(st, back > cur ? 1 : -1))
        return;
    snapshot(st);
    set_gogc(st, back);
    st->reverts++;
    st->hold_until_cycle = st->cycles + GCTT_HOLD_CYCLES;
    st->hold_until_tick = st->ticks + HOLD_SAMPLES;
    gctt_decision *d = emit(st, out, max, n, GCTT_KNOB_GOGC, st->ev.goal, cur, back,
                            "reverted: %s did not fall after GOGC %d -> %d (%s goal): before %.4g, after %.4g; "
                            "GOGC held for %d cycles",
                            metric, st->ev.from, st->ev.to, gctt_goal_name(st->ev.goal), before, after,
                            GCTT_HOLD_CYCLES);
    if (d)
        d->revert = 1;
    if (st->ev.goal == GCTT_GOAL_THROUGHPUT) {
        st->cpu_uncontrollable = 1;
        st->cpu_fails++;
        st->cpu_retry_cycle = st->cycles + ((uint64_t)RETRY_CYCLES << (st->cpu_fails < 8 ? st->cpu_fails - 1 : 7));
        st->fail_live = (double)st->live_now;
        int limit_bound = st->live_now > 0 && st->heap_goal_now > 0 &&
                          (double)st->heap_goal_now < 0.95 * (double)st->live_now * (1.0 + st->ev.to / 100.0);
        if (notice_once(st, NOTE_CPU_UNCONTROLLABLE))
            emit(st, out, max, n, GCTT_KNOB_NOTICE, GCTT_GOAL_THROUGHPUT, INT64_MIN, INT64_MIN,
                 "throughput goal %.2f%% not reachable with GOGC: GC CPU per allocated byte did not fall when "
                 "GOGC was raised (%s); retried after %d cycles (doubling), or when the live heap moves",
                 100 * st->p.max_gc_cpu,
                 limit_bound ? "the memory limit, not GOGC, sets the heap goal" : "a cost GOGC does not change",
                 RETRY_CYCLES);
    }
    if (st->ev.goal == GCTT_GOAL_PAUSE) {
        st->pause_uncontrollable = 1;
        st->pause_fails++;
        st->pause_retry_cycle =
            st->cycles + ((uint64_t)RETRY_CYCLES << (st->pause_fails < 8 ? st->pause_fails - 1 : 7));
        st->fail_live = (double)st->live_now;
        st->pause_cap = 0;
        if (notice_once(st, NOTE_PAUSE_UNCONTROLLABLE))
            emit(st, out, max, n, GCTT_KNOB_NOTICE, GCTT_GOAL_PAUSE, INT64_MIN, INT64_MIN,
                 "pause goal %.3f ms not achievable with GOGC: the pause work did not fall when GOGC was lowered "
                 "(they follow the live heap); retried after %d cycles (doubling), or when the live heap moves",
                 (double)st->p.max_pause_ns / 1e6, RETRY_CYCLES);
    }
}

/* ---- measurements ---- */

static int take_sample(gctt_state *st, const gctt_sample *s)
{
    st->ticks++;
    st->cycles += s->ncycles > st->ends_pending ? s->ncycles - st->ends_pending : 0;
    st->ends_pending = 0;
    if (s->live > 0) {
        if (st->live_prev > 0)
            ewma_add(&st->growth, (double)(s->live - st->live_prev));
        st->live_prev = s->live;
        st->live_now = s->live;
    } else if (!st->live_now && s->heap_alloc > 0 && !st->p.have_cycles) {
        st->live_now = s->heap_alloc;   /* no cycle events: an upper bound */
    }
    st->rss_now = s->rss;
    st->heap_goal_now = s->heap_goal;
    int64_t mem_gc = s->sys - s->heap_released;
    st->mem_gc_now = mem_gc;
    if (s->rss >= 0 && mem_gc > 0) {
        double other = (double)(s->rss - mem_gc);
        ewma_add(&st->other, other < 0 ? 0 : other);
    }
    if (mem_gc > 0 && s->heap_goal > 0 && s->heap_goal < (int64_t)1 << 50 && s->ncycles > 0)
        ewma_add(&st->frag, (double)mem_gc / (double)s->heap_goal);
    /* observed knobs (someone else may set them) */
    if (s->limit > 0 && st->limit != s->limit && !st->p.have_limit)
        st->limit = s->limit;
    if (!st->p.have_gogc)
        st->gogc = s->gogc;

    /* pauses since the last change */
    for (uint32_t i = 0; i < s->npauses && i < GCTT_SAMPLE_PAUSES; i++)
        st->pauses[st->npauses++ % GCTT_PAUSE_WINDOW] = s->pauses[i];

    /* GC CPU of this sample */
    int64_t cpu_ns = s->gc_cpu_ns;
    int procs = s->procs > 0 ? s->procs : 1;
    if (cpu_ns < 0 && s->gc_cpu_fraction >= 0) {
        /* cumulative fraction only: take it as the window's */
        cpu_ns = (int64_t)(s->gc_cpu_fraction * (double)s->dt_ns * procs);
    }

    /* the cost GOGC acts on: marking CPU time when the backend measures it
     * (robust to a busy machine, unlike pause x procs), else GC CPU */
    int64_t cost_ns = s->mark_cpu_ns >= 0 ? s->mark_cpu_ns : cpu_ns;

    /* evaluation accumulators */
    if (st->ev.active) {
        st->ev.cycles += s->ncycles;
        st->ev.dt_ns += s->dt_ns;
        st->ev.gc_cpu_ns += cost_ns > 0 ? cost_ns : 0;
        st->ev.alloc_bytes += s->alloc_bytes;
        for (uint32_t i = 0; i < s->npauses && i < GCTT_SAMPLE_PAUSES; i++) {
            st->ev.pause_sum += s->pauses[i];
            st->ev.npause++;
        }
        if (s->live > 0 && s->heap_goal > 0 && s->heap_goal < (int64_t)1 << 50 && s->ncycles > 0) {
            st->ev.heap_ratio_sum += (double)s->heap_goal / (double)s->live;
            st->ev.nratio++;
        }
    }

    /* the window */
    st->acc.samples++;
    st->acc.cycles += s->ncycles;
    st->acc.dt_ns += s->dt_ns;
    st->acc.alloc_bytes += s->alloc_bytes;
    if (cpu_ns >= 0) {
        st->acc.gc_cpu_ns += cpu_ns;
        st->acc.cpu_known = 1;
    }
    if (cost_ns >= 0)
        st->acc.cost_ns += cost_ns;
    if (s->mark_cpu_ns > 0)
        st->acc.work_known = 1;
    if (st->acc.cycles < WINDOW_CYCLES && st->acc.samples < WINDOW_SAMPLES)
        return 0;
    /* close it */
    if (st->acc.dt_ns > 0) {
        if (st->acc.cpu_known) {
            double cpu = (double)st->acc.gc_cpu_ns / ((double)st->acc.dt_ns * procs);
            ewma_add(&st->cpu, cpu);
            st->last_cpu = cpu;
        }
        double rate = (double)st->acc.alloc_bytes * 1e9 / (double)st->acc.dt_ns;
        ewma_add(&st->alloc_rate, rate);
        if (st->acc.cycles > 0 && st->acc.work_known)
            ewma_add(&st->work, (double)st->acc.cost_ns / st->acc.cycles);
        if (st->acc.alloc_bytes > 0 && st->acc.cpu_known) {
            double npb = (double)st->acc.cost_ns / (double)st->acc.alloc_bytes;
            ewma_add(&st->ns_per_byte, npb);
            st->last_npb = npb;
        }
    }
    if (st->live_now > 0)
        ewma_add(&st->live, (double)st->live_now);
    memset(&st->acc, 0, sizeof st->acc);
    return 1;
}

/* ---- the step ---- */

static void start_notices(gctt_state *st, gctt_decision *out, int max, int *n)
{
    const gctt_params *p = &st->p;
    if (!notice_once(st, NOTE_STARTED))
        return;
    if (p->policy == GCTT_POLICY_STATIC)
        return;
    if (!p->have_gogc && notice_once(st, NOTE_NO_GOGC))
        emit(st, out, max, n, GCTT_KNOB_NOTICE, GCTT_GOAL_NONE, INT64_MIN, INT64_MIN,
             "the backend cannot set GOGC: pause, throughput and footprint goals are observed only%s",
             p->budget && p->have_limit ? "; the budget is kept with the memory limit" : "");
    if (p->budget && !p->have_limit && notice_once(st, NOTE_NO_LIMIT))
        emit(st, out, max, n, GCTT_KNOB_NOTICE, GCTT_GOAL_BUDGET, INT64_MIN, INT64_MIN,
             "the backend cannot set a memory limit: the budget is kept with GOGC alone, checked every "
             "interval and at cycle ends");
    if (!p->have_cycles && notice_once(st, NOTE_NO_CYCLES))
        emit(st, out, max, n, GCTT_KNOB_NOTICE, GCTT_GOAL_NONE, INT64_MIN, INT64_MIN,
             "the backend reports no GC cycles: no pause goal, GC CPU from the cumulative fraction, live heap "
             "estimated from heap_alloc");
}

int gctt_step(gctt_state *st, const gctt_sample *s, gctt_decision *out, int max)
{
    int n = 0;
    const gctt_params *p = &st->p;
    int closed = take_sample(st, s);
    start_notices(st, out, max, &n);
    if (p->policy == GCTT_POLICY_STATIC)
        return n;

    /* 0. bounds: a GOGC set by the program outside them is brought in */
    if (p->have_gogc && st->gogc >= 0 && (st->gogc < p->gogc_min || st->gogc > p->gogc_max)) {
        int old = st->gogc, g = old < p->gogc_min ? p->gogc_min : p->gogc_max;
        set_gogc(st, g);
        emit(st, out, max, &n, GCTT_KNOB_GOGC, GCTT_GOAL_NONE, old, g, "GOGC %d is outside the tuner's bounds %d..%d",
             old, p->gogc_min, p->gogc_max);
    }
    /* 1. budget (hard) */
    n += limit_check(st, out + n, max - n);
    n += budget_check(st, out + n, max - n);
    if (!p->have_gogc || !closed)
        return n;

    /* 2. the pending change */
    evaluate(st, out, max, &n);
    if (st->ev.active || st->cycles < st->hold_until_cycle || st->ticks < st->hold_until_tick)
        return n;
    if (!st->cpu.n)
        return n;   /* a fresh regime: wait for a window */

    int use_pause = (p->policy == GCTT_POLICY_ADAPTIVE || p->policy == GCTT_POLICY_LATENCY) && p->max_pause_ns > 0 &&
                    p->have_cycles;
    int use_cpu = p->policy == GCTT_POLICY_ADAPTIVE || p->policy == GCTT_POLICY_THROUGHPUT ||
                  p->policy == GCTT_POLICY_MEMORY;
    int use_foot = p->policy == GCTT_POLICY_ADAPTIVE || p->policy == GCTT_POLICY_MEMORY;
    int g = eff_gogc(st);
    int cap = p->budget ? gctt_budget_gogc(st, (int64_t)plan_live(st)) : p->gogc_max;
    /* a goal found out of GOGC's reach is tried again later (the wait
     * doubles with each failure), or at once when the live heap moved */
    int moved = st->fail_live > 0 && fabs((double)st->live_now - st->fail_live) > 0.25 * st->fail_live;
    if (st->pause_uncontrollable && (st->cycles >= st->pause_retry_cycle || moved))
        st->pause_uncontrollable = 0;
    if (st->cpu_uncontrollable && (st->cycles >= st->cpu_retry_cycle || moved))
        st->cpu_uncontrollable = 0;
    int64_t p99 = use_pause ? pause_p99(st) : -1;
    double goal_ms = (double)p->max_pause_ns / 1e6;
    int pause_over = p99 >= 0 && p99 > p->max_pause_ns;
    int pause_near = p99 >= 0 && (double)p99 > 0.8 * (double)p->max_pause_ns;
    int pause_margin = !use_pause || p99 < 0 || (double)p99 < 0.7 * (double)p->max_pause_ns;
    double cpu_hi = ewma_hi(&st->cpu), max_cpu = p->max_gc_cpu;
    char why[200];

    /* 3. pause */
    if (use_pause && pause_over && !st->pause_uncontrollable) {
        int want = (int)floor(g * 0.75);
        if (want < p->gogc_min)
            want = p->gogc_min;
        if (want < g) {
            snprintf(why, sizeof why,
                     "pause goal: p99 pause %.3f ms over the last %u cycles > goal %.3f ms; GOGC %d -> %d "
                     "(a smaller heap per cycle)",
                     (double)p99 / 1e6, st->npauses < GCTT_PAUSE_WINDOW ? st->npauses : GCTT_PAUSE_WINDOW, goal_ms,
                     g, want);
            st->pause_cap = want;
            int by_work = st->work.n > 0 && st->work.avg > 0;
            propose(st, out, max, &n, GCTT_GOAL_PAUSE, want, by_work ? st->work.avg : pause_mean(st), why);
            st->ev.by_work = by_work;
        }
        return n;
    }

    /* 4. throughput */
    if (use_cpu && cpu_hi > max_cpu && !st->cpu_uncontrollable) {
        if (use_pause && pause_near && !st->pause_uncontrollable) {
            if (notice_once(st, NOTE_CPU_YIELDS))
                emit(st, out, max, &n, GCTT_KNOB_NOTICE, GCTT_GOAL_THROUGHPUT, INT64_MIN, INT64_MIN,
                     "throughput goal yields to the pause goal: GC CPU %.1f%% > %.1f%% but p99 pause %.3f ms is "
                     "near its goal %.3f ms",
                     100 * cpu_hi, 100 * max_cpu, (double)p99 / 1e6, goal_ms);
            return n;
        }
        double want_d = g * cpu_hi / (0.8 * max_cpu);
        if (want_d < g * 1.1)
            want_d = g * 1.1;
        if (want_d > g * 2.0)
            want_d = g * 2.0;
        int want = (int)ceil(want_d);
        if (use_pause && st->pause_cap && !st->pause_uncontrollable && want > st->pause_cap && !pause_margin)
            want = st->pause_cap;
        int capped = 0;
        if (want > cap) {
            /* a margin under the budget's GOGC, so that the estimate's noise
             * does not bounce GOGC between the goals */
            want = cap < p->gogc_max ? (int)floor(cap * 0.97) : cap;
            capped = 1;
        }
        if (want > p->gogc_max)
            want = p->gogc_max;
        if (want >= g * 1.05 && want > g) {
            snprintf(why, sizeof why,
                     "throughput goal: GC CPU %.2f%% (avg %.2f%% + dev %.2f%%) > goal %.2f%%; GOGC %d -> %d "
                     "(aiming at %.2f%%%s)",
                     100 * cpu_hi, 100 * st->cpu.avg, 100 * st->cpu.dev, 100 * max_cpu, g, want, 80 * max_cpu,
                     capped && cap < p->gogc_max ? ", capped by the memory budget" : "");
            double before = st->ns_per_byte.n ? st->ns_per_byte.avg : st->last_npb;
            propose(st, out, max, &n, GCTT_GOAL_THROUGHPUT, want, before, why);
        } else if (notice_once(st, NOTE_CPU_UNREACHABLE)) {
            emit(st, out, max, &n, GCTT_KNOB_NOTICE, GCTT_GOAL_THROUGHPUT, INT64_MIN, INT64_MIN,
                 "throughput goal %.2f%% not reachable: GC CPU %.2f%% at GOGC %d, near the most the %s allows",
                 100 * max_cpu, 100 * cpu_hi, g, g >= p->gogc_max ? "upper bound" : "memory budget");
        }
        return n;
    }

    /* 5. footprint */
    if (use_foot && pause_margin) {
        int memory = p->policy == GCTT_POLICY_MEMORY;
        double lo = memory ? 0.7 : 0.5, ceiling = memory ? 0.9 : 0.75;
        uint64_t every = memory ? 1 : 3;
        if (cpu_hi < lo * max_cpu && st->ticks - st->last_footprint_tick >= every && g > p->gogc_min) {
            double want_d = g * (memory ? 0.7 : 0.85);
            /* predicted GC CPU ~ cpu x g / want: keep it under ceiling x goal */
            double floor_d = cpu_hi > 0 ? g * cpu_hi / (ceiling * max_cpu) : 0;
            if (want_d < floor_d)
                want_d = floor_d;
            int want = (int)ceil(want_d);
            if (want < p->gogc_min)
                want = p->gogc_min;
            if (want < g) {
                st->last_footprint_tick = st->ticks;
                snprintf(why, sizeof why,
                         "footprint: every goal met with margin (GC CPU %.2f%% < %.0f%% of %.2f%%%s); GOGC %d -> %d "
                         "gives memory back",
                         100 * cpu_hi, 100 * lo, 100 * max_cpu, use_pause && p99 >= 0 ? ", p99 pause under 70% of goal" : "",
                         g, want);
                double ratio = st->live_now > 0 && st->heap_goal_now > 0
                                   ? (double)st->heap_goal_now / (double)st->live_now
                                   : 1.0 + g / 100.0;
                propose(st, out, max, &n, GCTT_GOAL_FOOTPRINT, want, ratio, why);
            }
        }
    }
    return n;
}
