/* gctune/tuner.h - the adaptive GC tuner: a controller thread inside the
 * process that adjusts GOGC and the soft memory limit toward stated goals.
 *
 * Goals, in priority order (HotSpot's ergonomics order, a hard memory budget
 * first):
 *   1. memory budget: no heap goal is ever planned beyond it.  Explicit
 *      (memory_budget, GCTUNE_MEMORY) or, with 0, 90% of the cgroup memory
 *      limit (v2 memory.max, v1 memory.limit_in_bytes, the lowest on the
 *      way up to the root) when there is one;
 *   2. pause goal: p99 stop-the-world pause over the window <= max_pause_ns;
 *   3. throughput goal: GC CPU fraction over the window <= max_gc_cpu;
 *   4. footprint: with every goal met with margin, memory is given back
 *      slowly (GOGC lowered in small steps).
 * Knobs: GOGC, within [gogc_min, gogc_max], and the soft memory limit (set
 * from the budget).  Decisions use smoothed measurements, move in bounded
 * steps and are evaluated: a change that did not move its target metric
 * the expected way over the next window is reverted and the knob held.
 *
 * Policies: "static" (observe and record only), "throughput" (budget +
 * throughput goal), "latency" (budget + pause goal), "memory" (budget +
 * footprint, as far as the throughput goal allows), "adaptive" (all).
 * A knob the backend lacks is reported once and the policy works with the
 * others.
 *
 * Every decision is recorded in the profiler's tuner_events table when the
 * profiler runs (GCTUNE_PROFILE), with the reason in words and the
 * measurements as JSON; GCTUNE_TUNER_VERBOSE=1 (or cfg.verbose) also prints
 * each one on stderr.
 *
 * With no code change: link libgctune and set GCTUNE_TUNER=<policy>, with
 * optionally GCTUNE_MAX_PAUSE=<duration> (5ms, 500us, 0.2s), GCTUNE_MAX_GC_CPU=
 * <percent> (5 or 5%), GCTUNE_MEMORY=<bytes>[KiB|MiB|GiB|TiB],
 * GCTUNE_TUNER_INTERVAL=<duration>.  A bad value: one warning line on
 * stderr, the default is used.
 *
 * The tuner thread is not a registered libgc thread: it never allocates
 * from the gc heap and reads statistics without stopping the world.
 */
#ifndef GCTUNE_TUNER_H
#define GCTUNE_TUNER_H

#include <stddef.h>
#include <stdint.h>
#include <gctune/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GCT_TUNER_DEFAULT_MAX_GC_CPU 0.05
#define GCT_TUNER_DEFAULT_GOGC_MIN 25
#define GCT_TUNER_DEFAULT_GOGC_MAX 1000
#define GCT_TUNER_DEFAULT_INTERVAL_MS 1000
#define GCT_TUNER_DEFAULT_BUDGET_RATIO 0.9

typedef struct gct_tuner_config {
    const char *policy;          /* "static"|"throughput"|"latency"|"memory"|"adaptive"; NULL = "adaptive" */
    int64_t max_pause_ns;        /* p99 pause goal; 0 = none */
    double max_gc_cpu;           /* throughput goal, fraction (0.05 = 5%); 0 = default */
    int64_t memory_budget;       /* bytes; 0 = detect from the cgroup (x budget_ratio) or none; < 0 = none */
    int gogc_min, gogc_max;      /* bounds of GOGC; 0 = defaults (25, 1000) */
    uint32_t interval_ms;        /* sampling interval; 0 = default (1000) */
    const gct_backend *backend;  /* NULL = gct_backend_libgc() */
    int verbose;                 /* 1: print each decision on stderr */
    /* extensions */
    double budget_ratio;         /* of the cgroup limit; 0 = default (0.9) */
    const char *cgroup_root;     /* prefix for /proc and /sys (tests); NULL = "" */
} gct_tuner_config;

/* Fills cfg with the defaults. */
void gct_tuner_config_init(gct_tuner_config *cfg);

/* Starts the controller thread.  Returns 0, or -1 with errno: EBUSY
 * (running), EINVAL (bad config: unknown policy, bounds, negative goals),
 * ENOTSUP (the backend cannot read statistics), or pthread_create's error. */
int gct_tuner_start(const gct_tuner_config *cfg);

/* Stops the thread (restores nothing: the knobs keep their last values). */
void gct_tuner_stop(void);

typedef struct gct_tuner_stats {
    int running;
    char policy[16];             /* policy in effect (after degradation) */
    int gogc;                    /* last value set or observed */
    int64_t memory_limit;        /* last value set or observed; INT64_MAX = none */
    int64_t memory_budget;       /* bytes; 0 = none */
    const char *budget_source;   /* "explicit", "cgroup v2 memory.max", "cgroup v1 ...", "none" */
    uint64_t ticks;              /* controller steps */
    uint64_t decisions;          /* knob changes (reverts included) */
    uint64_t reverts;            /* changes undone because they did not help */
    uint64_t events_recorded;    /* rows handed to the profiler */
    uint64_t cpu_ns;             /* CPU time of the tuner thread */
} gct_tuner_stats;
void gct_tuner_get_stats(gct_tuner_stats *out);

/* Parsers of the environment's syntax, shared with the gctune command.
 * Each returns 0, or -1 when s is not valid (out unchanged).
 *   duration: a number with ns, us, ms, s (or none = ms): "5ms", "0.5s"
 *   percent:  "5", "5%", "0.5%" -> 0.05, 0.005 (0 < p <= 100)
 *   bytes:    an integer with optional K/KiB, M/MiB, G/GiB, T/TiB suffix */
int gct_tuner_parse_duration(const char *s, int64_t *out_ns);
int gct_tuner_parse_percent(const char *s, double *out_fraction);
int gct_tuner_parse_bytes(const char *s, int64_t *out);

/* The memory limit of this process's cgroup, walking up parents: v2
 * memory.max, v1 memory.limit_in_bytes; the lowest one.  root prefixes
 * /proc and the cgroup mounts (NULL or "" = the real ones).  Returns 0 and
 * *bytes (and a description "cgroup v2 memory.max of /a/b" in src when
 * non-NULL), or -1 when there is no limit or no cgroup. */
int gct_tuner_cgroup_limit(const char *root, int64_t *bytes, char *src, size_t srclen);

#ifdef __cplusplus
}
#endif
#endif
