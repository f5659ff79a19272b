/* tuner/sim.h - a simulated garbage-collected program, to drive the tuner's
 * controller (tuner/controller.h) and the offline model (tuner/model.h) in
 * tests without a clock or a real heap.
 *
 * Internal (prefix gctt_sim_), built into the tests only.  Deterministic:
 * the only randomness is a xorshift generator seeded from the params.
 *
 * The model, a stop-the-world collector paced like libgc:
 *   - the program allocates alloc_rate bytes per second of its own time;
 *   - a cycle starts when the heap reaches the goal
 *       goal = min(max(live x (1 + GOGC/100), 4 MiB x GOGC/100), limit goal),
 *     limit goal = limit / frag x 0.97, never under live x 1.05 (the GC
 *     then runs nearly continuously, as under a too-low limit);
 *   - a cycle stops the program for
 *       pause = pause_fixed + pause_per_live x live + pause_per_heap x heap
 *     and costs pause x procs of GC CPU (STW: every CPU is the GC's), plus
 *     cpu_per_alloc per allocated byte (a cost GOGC cannot change);
 *   - after it the heap is the live set; the collector's resident memory
 *     is max(previous, heap x frag), given back (scavenged) toward
 *     goal x frag at half the excess per second, and at once under 95% of
 *     the limit; RSS = that + other.
 * Params can be changed between calls (phases: live steps, rate spikes).
 */
#ifndef GCTUNE_TUNER_SIM_H
#define GCTUNE_TUNER_SIM_H

#include <stdint.h>
#include "controller.h"

typedef struct gctt_sim_params {
    double live;                  /* bytes */
    double alloc_rate;            /* bytes per second of program time */
    double pause_fixed_ns, pause_per_live, pause_per_heap;   /* ns, ns/byte, ns/byte */
    double cpu_per_alloc;         /* GC CPU (ns) per allocated byte outside pauses (sweeping) */
    int procs;
    double frag;                  /* collector memory / heap (>= 1) */
    double other;                 /* resident bytes outside the collector */
    double noise;                 /* relative noise on pauses and the rate, 0..0.5 */
    uint64_t seed;
} gctt_sim_params;

typedef struct gctt_sim {
    gctt_sim_params p;
    double t_ns;                  /* simulated time */
    double heap, marked, goal, mem;
    int gogc;                     /* -1 = off */
    int64_t limit;                /* INT64_MAX = none */
    uint64_t rng;
    uint64_t cycles;
    double total_alloc, gc_cpu_ns, pause_total_ns;
    double peak_heap, peak_rss;
} gctt_sim;

void gctt_sim_init(gctt_sim *s, const gctt_sim_params *p, int gogc, int64_t limit);
void gctt_sim_set_gogc(gctt_sim *s, int gogc);
void gctt_sim_set_limit(gctt_sim *s, int64_t limit);

/* Runs dt_ns of simulated time and fills out with what happened.  At each
 * cycle end, on_cycle(arg, live) is called (it may set knobs). */
void gctt_sim_run(gctt_sim *s, int64_t dt_ns, gctt_sample *out, void (*on_cycle)(void *arg, int64_t live),
                  void *arg);

#endif
