/* tuner/controller.h - the tuner's decisions as a pure function: a window of
 * measurements in, knob changes out, all memory in a state struct.
 *
 * Internal to gctune (prefix gctt_, not exported from libgctune.so).  No
 * clock, no thread, no I/O, no allocation: the controller thread
 * (tuner/tuner.c) feeds it samples read from a backend, the tests feed it
 * samples from a simulated program (tuner/sim.c), and the same inputs always
 * give the same decisions.
 *
 * Inputs: one gctt_sample per interval (what happened since the previous
 * one), and optionally gctt_cycle_end at each GC cycle end (the hard budget
 * check, so that a live-heap step is answered before the next interval).
 * Outputs: gctt_decision records, which the caller applies in order (knob
 * GOGC: set_gc_percent(new); knob LIMIT: set_memory_limit(new); NOTICE: a
 * message, no knob) and records.
 *
 * Invariants (checked by tests/unit/test_tuner.c):
 *   - GOGC set is always within [gogc_min, gogc_max];
 *   - with a budget, no GOGC is chosen whose planned memory
 *     (live x (1 + GOGC/100) x fragmentation + other memory) exceeds it,
 *     unless GOGC is already at gogc_min; the live heap planned for is the
 *     latest (or its average if higher) plus 3 samples of its recent
 *     growth when it grows steadily (at most 10% more); the memory limit
 *     set is 96% of the budget less the non-GC memory (headroom for the
 *     collector's own overshoot: its GC CPU limiter may pass the limit);
 *   - a GOGC change in the direction opposite to the previous one (a
 *     reversal, reverts included) happens at least GCTT_REVERSAL_CYCLES
 *     cycles after the previous change, except to honour the budget;
 *   - every discretionary GOGC change is evaluated over the next window;
 *     one whose target metric did not move the expected way is reverted
 *     and GOGC is held for GCTT_HOLD_CYCLES cycles;
 *   - a knob the backend lacks is reported once (NOTICE) and never set.
 */
#ifndef GCTUNE_TUNER_CONTROLLER_H
#define GCTUNE_TUNER_CONTROLLER_H

#include <stdint.h>

#define GCTT_SAMPLE_PAUSES 64     /* pauses carried by one sample */
#define GCTT_PAUSE_WINDOW 128     /* pauses kept for the p99 */
#define GCTT_REVERSAL_CYCLES 10
#define GCTT_HOLD_CYCLES 30
#define GCTT_MAX_DECISIONS 8      /* at most this many per call */

enum gctt_policy {
    GCTT_POLICY_STATIC,
    GCTT_POLICY_THROUGHPUT,
    GCTT_POLICY_LATENCY,
    GCTT_POLICY_MEMORY,
    GCTT_POLICY_ADAPTIVE,
};

enum gctt_knob { GCTT_KNOB_GOGC, GCTT_KNOB_LIMIT, GCTT_KNOB_NOTICE };

/* Goal a GOGC change served (its target metric). */
enum gctt_goal { GCTT_GOAL_NONE, GCTT_GOAL_BUDGET, GCTT_GOAL_PAUSE, GCTT_GOAL_THROUGHPUT, GCTT_GOAL_FOOTPRINT };

typedef struct gctt_params {
    int policy;                   /* enum gctt_policy */
    int64_t max_pause_ns;         /* 0 = no pause goal */
    double max_gc_cpu;            /* > 0 */
    int64_t budget;               /* bytes of resident memory; 0 = none */
    int gogc_min, gogc_max;
    int have_gogc, have_limit;    /* the backend can set the knob */
    int have_cycles;              /* the backend reports cycles (pauses, live heap) */
} gctt_params;

/* One interval of measurements. */
typedef struct gctt_sample {
    int64_t t_ns;                 /* end of the interval (any monotonic origin) */
    int64_t dt_ns;                /* its length, > 0 */
    uint32_t ncycles;             /* GC cycles that ended in it */
    uint32_t npauses;             /* pauses[] filled (<= GCTT_SAMPLE_PAUSES) */
    int64_t pauses[GCTT_SAMPLE_PAUSES];   /* stop-the-world time of those cycles */
    int64_t gc_cpu_ns;            /* GC CPU in the interval; < 0 = unknown */
    int procs;                    /* CPUs GC CPU is measured against (>= 1) */
    double gc_cpu_fraction;       /* cumulative since start; used when gc_cpu_ns < 0 */
    int64_t mark_cpu_ns;          /* CPU time of marking (thread CPU clocks: not inflated when
                                     the machine is busy) in the interval; < 0 = unknown */
    int64_t live;                 /* live heap after the last marking; 0 = unknown */
    int64_t alloc_bytes;          /* allocated in the interval */
    int64_t heap_alloc, heap_goal;   /* at the end of the interval */
    int64_t sys, heap_released;   /* memory the collector holds, returned part */
    int64_t rss;                  /* resident set; < 0 = unknown */
    int gogc;                     /* in effect (-1 = off) */
    int64_t limit;                /* in effect; INT64_MAX = none */
} gctt_sample;

typedef struct gctt_decision {
    int knob;                     /* enum gctt_knob */
    int goal;                     /* enum gctt_goal (NONE for notices) */
    int revert;                   /* 1: undoes a change that did not help */
    int64_t old_value, new_value; /* INT64_MIN for notices */
    char reason[200];
    char json[264];               /* measurements behind it, a JSON object */
} gctt_decision;

/* Smoothed value: exponential average and mean deviation. */
typedef struct gctt_ewma {
    double avg, dev;
    int n;
} gctt_ewma;

typedef struct gctt_state {
    gctt_params p;
    uint64_t ticks, cycles;       /* samples seen, cycles seen */
    uint32_t ends_pending;        /* cycles counted by gctt_cycle_end since the last sample */
    int started;
    int gogc;                     /* what the tuner believes is in effect */
    int64_t limit;
    /* measurements accumulated until a window closes (>= 3 cycles or 8 samples) */
    struct {
        int samples;
        uint32_t cycles;
        int64_t dt_ns, gc_cpu_ns, cost_ns, alloc_bytes;
        int cpu_known, work_known;
    } acc;
    gctt_ewma cpu, ns_per_byte, alloc_rate, live, other, frag;
    gctt_ewma growth;             /* live heap change per sample (bytes) */
    gctt_ewma work;               /* marking CPU per cycle (ns), when measured */
    int64_t live_prev;            /* live heap of the previous sample that had one */
    double last_cpu, last_npb;    /* of the last closed window */
    int64_t pauses[GCTT_PAUSE_WINDOW];   /* since the last GOGC change, ring */
    uint32_t npauses;
    int64_t live_now, rss_now, heap_goal_now, mem_gc_now;
    double cpu_frac_prev;         /* cumulative fraction, previous sample */
    int64_t t_prev;
    /* the change being evaluated */
    struct {
        int active, goal;
        int by_work;              /* pause change judged on marking CPU per cycle */
        int from, to;             /* GOGC */
        double before, before_live, before_rate;
        uint64_t at_cycle, at_tick;
        uint32_t cycles;
        int64_t dt_ns, gc_cpu_ns, alloc_bytes, pause_sum, npause;
        double heap_ratio_sum;
        int nratio;
    } ev;
    uint64_t hold_until_cycle, hold_until_tick;
    uint64_t last_change_cycle;
    int last_dir;                 /* +1 up, -1 down, 0 none */
    uint64_t last_footprint_tick;
    int pause_cap;                /* GOGC ceiling learnt from the pause goal; 0 = none */
    int pause_uncontrollable;     /* lowering GOGC did not lower pauses */
    uint64_t pause_retry_cycle;
    int cpu_uncontrollable;       /* raising GOGC did not lower GC CPU per byte */
    uint64_t cpu_retry_cycle;
    unsigned pause_fails, cpu_fails;   /* failed tries: the retry wait doubles */
    double fail_live;             /* live heap at the last failure */
    char snap[264];               /* measurements before the change being emitted */
    int snap_valid;
    unsigned noticed;             /* notices already given (bits) */
    uint64_t decisions, reverts, reversals;
} gctt_state;

/* Parses a policy name; -1 if unknown. */
int gctt_policy_parse(const char *name);
const char *gctt_policy_name(int policy);
const char *gctt_goal_name(int goal);

/* Starts from the knob values in effect.  p is copied. */
void gctt_init(gctt_state *st, const gctt_params *p, int gogc_now, int64_t limit_now);

/* One interval: updates the measurements, evaluates the pending change,
 * decides.  Fills at most max decisions (max >= GCTT_MAX_DECISIONS is
 * always enough) and returns how many. */
int gctt_step(gctt_state *st, const gctt_sample *s, gctt_decision *out, int max);

/* At the end of GC cycles (optional): the hard budget check with the
 * latest cycle's live heap; ncycles is how many cycles ended since the
 * previous gctt_cycle_end or gctt_step (they are counted now, and not
 * again by the next sample).  Returns the number of decisions. */
int gctt_cycle_end(gctt_state *st, int64_t live, uint32_t ncycles, gctt_decision *out, int max);

/* The memory the tuner plans for GOGC g at live heap live (bytes): the heap
 * goal times the fragmentation estimate plus the other memory.  */
double gctt_planned_memory(const gctt_state *st, int g, int64_t live);

/* The largest GOGC in [gogc_min, gogc_max] whose planned memory fits the
 * budget at the given live heap (gogc_max without a budget; gogc_min when
 * none fits). */
int gctt_budget_gogc(const gctt_state *st, int64_t live);

/* The memory limit the budget asks for (0 without a budget). */
int64_t gctt_budget_limit(const gctt_state *st);

#endif
