/* tuner/model.h - the offline GC model behind `gctune recommend`: fit a
 * recorded run, predict other GOGC / memory-limit settings, pick one.
 *
 * Internal to gctune (prefix gctt_model_), in the convenience library
 * libgctune_model.la (tuner/local.mk), which the gctune command links with
 * libgctune_store.la and SQLite.  Pure functions except gctt_model_load,
 * which reads a run database (store/schema.sql).
 *
 * The model (a stop-the-world collector paced like libgc, as Go's pacer):
 *   - per cycle GC CPU   c = fixed_ns + mark_ns_per_byte x live
 *                              + garbage_ns_per_byte x (heap at start - live);
 *     the garbage term is fitted when the recording's garbage/live ratio
 *     varies (GOGC changed, a limit bound some cycles), else it is
 *     heap_beta x mark_ns_per_byte (GCTT_MODEL_LIBGC_HEAP_BETA for libgc,
 *     0 for a collector whose cost follows the live heap only);
 *     (least squares over the recorded cycles, c = pause x procs + background
 *     + assist CPU; when the live heap barely varied, fixed_ns = 0 and the
 *     slope is the ratio of the sums);
 *   - STW pause          p = pause_fixed_ns + pause_ns_per_byte x live;
 *   - heap goal          G = max(live x (1 + GOGC/100), 4 MiB x GOGC/100),
 *     and under a limit  G <= limit x 0.97 / frag, G >= 1.05 x live;
 *   - a concurrent collector starts a cycle before the heap reaches the
 *     goal: the runway used is trigger x (G - live), trigger fitted from
 *     the recorded heap_before / heap_goal (1 when unknown);
 *   - the recorded run is replayed segment by segment (between two recorded
 *     cycles: bytes allocated and the live heap), so its phases (live-set
 *     steps, allocation spikes) are kept: the candidate's cycles are the
 *     allocation divided by the runway G - live, carried across segments;
 *     the heap after the last cycle (heap_series) is one more segment;
 *   - wall time changes by the GC CPU difference / procs (the program
 *     stops during STW pauses); GC CPU fraction = GC CPU / (wall x procs);
 *   - peak heap = the highest goal reached; peak RSS = the recorded peak
 *     RSS moved by frag x (peak heap change).
 * Limits: concurrent marking is modelled as STW (its pauses are not its
 * cost); the pause does not depend on GOGC here (libgc's STW pause follows
 * the live heap), so a pause goal is reported met or not achievable.
 */
#ifndef GCTUNE_TUNER_MODEL_H
#define GCTUNE_TUNER_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* One gc_cycles row (store/schema.sql); -1 for NULL. */
typedef struct gctt_cycle_row {
    int64_t num, start_ns, end_ns, pause_ns;
    int64_t heap_before, heap_marked, heap_goal;
    int64_t gc_percent, memory_limit;
    int64_t mark_cpu_ns, assist_cpu_ns, background_cpu_ns;
    int64_t procs, forced, concurrent;
} gctt_cycle_row;

/* One heap_series row; -1 for NULL. */
typedef struct gctt_heap_row {
    int64_t time_ns, heap_alloc, heap_sys, heap_released, rss, next_gc, total_alloc;
} gctt_heap_row;

typedef struct gctt_segment {
    double alloc;                 /* bytes allocated between two cycles */
    double live;                  /* live heap the goal was set from (the previous cycle's) */
    double live_mark;             /* live heap the cycle ending it marked */
} gctt_segment;

/* libgc's stop-the-world cycle also costs per byte of heap, not only per
 * live byte (per-span work): measured on the demo workload at GOGC 100 and
 * 400, the cost per cycle is ~ live + 0.28 x garbage.  Used when the
 * recording cannot separate the two (one GOGC all along). */
#define GCTT_MODEL_LIBGC_HEAP_BETA 0.28

typedef struct gctt_model {
    /* fitted */
    double fixed_ns, mark_ns_per_byte;     /* GC CPU per cycle */
    double garbage_ns_per_byte;   /* GC CPU per cycle per byte of garbage at its start */
    int beta_fitted;              /* 1: garbage cost from the recording, 0: the default */
    double pause_fixed_ns, pause_ns_per_byte;
    double frag;                  /* collector memory over heap, >= 1 */
    int procs;
    /* the run */
    double live_mean, live_max;   /* bytes */
    double alloc_total, alloc_rate;   /* bytes, bytes per second */
    double duration_s;
    int gogc;                     /* GOGC of the recording (most cycles); -1 = off */
    int64_t memory_limit;         /* of the recording; -1 = none */
    int ncycles;
    double trigger;               /* runway used per paced cycle over the goal's runway,
                                   * (heap_before - live) / (heap_goal - live), median;
                                   * 1 when the goal is the trigger (libgc) or unknown;
                                   * < 1 for a pacer that starts early (Go) */
    /* measured, for comparison with predict(gogc, memory_limit) */
    double gc_cpu_ns, gc_cpu_fraction, cycles_per_s, peak_heap, peak_rss;   /* peak_rss -1: unknown */
    double pause_p99_ns;
    /* the replay */
    gctt_segment *seg;            /* owned (malloc); gctt_model_free */
    size_t nseg;
} gctt_model;

typedef struct gctt_prediction {
    int gogc;                     /* -1 = off */
    int64_t memory_limit;         /* -1 = none */
    double gc_cpu_fraction, gc_cpu_ns, cycles, cycles_per_s, wall_s;
    double peak_heap, peak_rss;   /* peak_rss -1: unknown */
    double pause_p99_ns;
    int limit_bound;              /* the limit, not GOGC, set the goal somewhere */
} gctt_prediction;

typedef struct gctt_goals {
    double max_gc_cpu;            /* fraction; 0 = 0.05 */
    int64_t max_pause_ns;         /* 0 = none */
    int64_t memory;               /* bytes of peak RSS (peak heap when RSS is unknown); 0 = none */
} gctt_goals;

typedef struct gctt_recommendation {
    gctt_prediction best;
    int meets_cpu, meets_memory, meets_pause;   /* of best */
    int ncandidates;
    char why[256];
} gctt_recommendation;

/* Fits the model.  Cycles in any order (sorted by num inside); forced
 * cycles are used for the cost fit but not as pacing segments.  Returns 0,
 * or -1 with the reason in err (fewer than 3 cycles, no live heap, ...). */
int gctt_model_fit(const gctt_cycle_row *cycles, size_t ncycles, const gctt_heap_row *heap, size_t nheap,
                   double heap_beta, gctt_model *m, char *err, size_t errlen);

/* Prediction for GOGC gogc (-1 = off) and memory limit (-1 = none). */
void gctt_model_predict(const gctt_model *m, int gogc, int64_t memory_limit, gctt_prediction *out);

/* The cheapest setting meeting the goals, "cheapest" being the smallest
 * peak memory among the candidates whose GC CPU meets the goal (and whose
 * memory fits it); if none does, the lowest GC CPU among those within
 * memory, else the smallest memory.  Candidates: GOGC 25..1000 (25, 50, 75,
 * 100, 150, 200, 300, 400, 600, 800, 1000) and off, each without a limit
 * and, with a memory goal, with a limit derived from it. */
void gctt_model_recommend(const gctt_model *m, const gctt_goals *g, gctt_recommendation *out);

/* The same choice among given candidates: every GOGC of gogcs (-1 = off)
 * with every limit of limits (-1 = none); off without a limit is skipped.
 * gctt_model_recommend is this with its grid and the limits {none,
 * gctt_model_limit_for(m, goals->memory) when > 0}. */
void gctt_model_recommend_among(const gctt_model *m, const gctt_goals *g, const int *gogcs, size_t ngogc,
                                const int64_t *limits, size_t nlimits, gctt_recommendation *out);

/* Whether prediction p meets each goal (1/0; a goal not set is met):
 * GC CPU <= max_gc_cpu (0 = 0.05), peak RSS (peak heap when RSS is
 * unknown) <= memory, p99 pause <= max_pause_ns. */
void gctt_model_judge(const gctt_goals *g, const gctt_prediction *p, int *cpu, int *memory, int *pause);

/* The memory limit for a memory goal of `memory` bytes of RSS: the goal
 * less what RSS held besides the collector's memory in the recording.
 * -1 when memory <= 0 or the result is below 4 MiB. */
int64_t gctt_model_limit_for(const gctt_model *m, int64_t memory);

/* The GOGC grid of gctt_model_recommend: 25, 50, 75, 100, 150, 200, 300,
 * 400, 600, 800, 1000, -1 (off); its length in *n. */
const int *gctt_model_gogc_grid(size_t *n);

/* Reads gc_cycles and heap_series of a run database and fits (heap_beta:
 * GCTT_MODEL_LIBGC_HEAP_BETA for stop-the-world libgc runs, meta backend
 * "libgc", else 0).  A NULL gc_percent / memory_limit (Go gctrace) is
 * meta.gogc / meta.gomemlimit (the environment `gctune record` saw), else
 * 100 / none.  Returns 0 or -1 with one line in err naming the file and the
 * problem (no GC cycles at all: "there is no GC to tune"). */
int gctt_model_load(const char *path, gctt_model *m, char *err, size_t errlen);

void gctt_model_free(gctt_model *m);

#endif
