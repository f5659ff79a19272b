/* tuner/sim.c - the simulated GC'd program of tuner/sim.h.
 *
 * Owns nothing global: all state is in the gctt_sim struct.  Time advances
 * event by event inside gctt_sim_run: program time until the heap reaches
 * the goal, then a pause.  Invariant: heap >= marked, goal > marked.
 */
#include "sim.h"
#include <math.h>
#include <string.h>

#define MiB (1024.0 * 1024.0)

static double urand(gctt_sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (double)(s->rng >> 11) / 9007199254740992.0;
}

static double jitter(gctt_sim *s)
{
    return 1.0 + s->p.noise * (2.0 * urand(s) - 1.0);
}

static void compute_goal(gctt_sim *s)
{
    double L = s->marked;
    double goal = s->gogc < 0 ? INFINITY : L * (1.0 + s->gogc / 100.0);
    double minimum = s->gogc < 0 ? 0 : 4.0 * MiB * s->gogc / 100.0;
    if (goal < minimum)
        goal = minimum;
    if (s->limit != INT64_MAX) {
        double lg = (double)s->limit / s->p.frag * 0.97;
        if (lg < L * 1.05)
            lg = L * 1.05;
        if (lg < goal)
            goal = lg;
    }
    if (!(goal > L * 1.01))
        goal = L * 1.01 + 1;
    s->goal = goal;
}

void gctt_sim_init(gctt_sim *s, const gctt_sim_params *p, int gogc, int64_t limit)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    if (s->p.procs < 1)
        s->p.procs = 1;
    if (s->p.frag < 1)
        s->p.frag = 1;
    s->rng = p->seed ? p->seed : 0x2545F4914F6CDD1Dull;
    s->gogc = gogc;
    s->limit = limit < 0 ? INT64_MAX : limit;
    s->marked = p->live;
    s->heap = p->live;
    s->mem = p->live * s->p.frag;
    compute_goal(s);
}

void gctt_sim_set_gogc(gctt_sim *s, int gogc)
{
    s->gogc = gogc;
    compute_goal(s);
}

void gctt_sim_set_limit(gctt_sim *s, int64_t limit)
{
    s->limit = limit < 0 ? INT64_MAX : limit;
    compute_goal(s);
}

static void scavenge(gctt_sim *s, double dt_s)
{
    double target = (isfinite(s->goal) ? s->goal : s->heap) * s->p.frag;
    if (target < s->heap * s->p.frag)
        target = s->heap * s->p.frag;
    if (s->mem > target)
        s->mem -= (s->mem - target) * (dt_s > 2 ? 1.0 : dt_s / 2.0);
    if (s->limit != INT64_MAX) {
        double cap = 0.95 * (double)s->limit;
        double floor_ = s->heap * s->p.frag;
        if (s->mem > cap)
            s->mem = cap > floor_ ? cap : floor_;
    }
}

void gctt_sim_run(gctt_sim *s, int64_t dt_ns, gctt_sample *out, void (*on_cycle)(void *arg, int64_t live),
                  void *arg)
{
    memset(out, 0, sizeof *out);
    double end = s->t_ns + (double)dt_ns;
    double rate = s->p.alloc_rate * jitter(s) / 1e9;   /* bytes per ns for this interval */
    double alloc0 = s->total_alloc, cpu0 = s->gc_cpu_ns;
    while (s->t_ns < end) {
        double room = s->goal - s->heap;
        double t_needed = rate > 0 ? room / rate : INFINITY;
        if (s->t_ns + t_needed > end) {
            double d = end - s->t_ns;
            s->heap += rate * d;
            s->total_alloc += rate * d;
            s->t_ns = end;
            break;
        }
        s->t_ns += t_needed;
        s->heap = s->goal;
        s->total_alloc += room;
        if (s->heap > s->peak_heap)
            s->peak_heap = s->heap;
        /* the cycle */
        double pause = (s->p.pause_fixed_ns + s->p.pause_per_live * s->p.live + s->p.pause_per_heap * s->heap) *
                       jitter(s);
        if (s->heap * s->p.frag > s->mem)
            s->mem = s->heap * s->p.frag;
        s->t_ns += pause;
        s->gc_cpu_ns += pause * s->p.procs;
        s->pause_total_ns += pause;
        s->cycles++;
        out->ncycles++;
        if (out->npauses < GCTT_SAMPLE_PAUSES)
            out->pauses[out->npauses++] = (int64_t)pause;
        s->marked = s->p.live;
        s->heap = s->p.live;
        compute_goal(s);
        scavenge(s, pause / 1e9);
        if (on_cycle)
            on_cycle(arg, (int64_t)s->marked);
    }
    scavenge(s, (double)dt_ns / 1e9);
    double rss = s->mem + s->p.other;
    if (rss > s->peak_rss)
        s->peak_rss = rss;
    out->t_ns = (int64_t)s->t_ns;
    out->dt_ns = dt_ns;
    s->gc_cpu_ns += s->p.cpu_per_alloc * (s->total_alloc - alloc0);
    out->gc_cpu_ns = (int64_t)(s->gc_cpu_ns - cpu0);
    out->mark_cpu_ns = out->gc_cpu_ns;   /* no other load on the simulated machine */
    out->procs = s->p.procs;
    out->gc_cpu_fraction = -1;
    out->live = (int64_t)s->marked;
    out->alloc_bytes = (int64_t)(s->total_alloc - alloc0);
    out->heap_alloc = (int64_t)s->heap;
    out->heap_goal = isfinite(s->goal) ? (int64_t)s->goal : INT64_MAX;
    out->sys = (int64_t)s->mem;
    out->heap_released = 0;
    out->rss = (int64_t)rss;
    out->gogc = s->gogc;
    out->limit = s->limit;
}
