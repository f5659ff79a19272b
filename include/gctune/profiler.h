/* gctune/profiler.h - the sampling heap profiler.
 *
 * Allocations are sampled as Go samples them (MemProfileRate): each thread
 * counts down bytes drawn from an exponential distribution with mean
 * sample_rate; the allocation that crosses zero is sampled and its stack
 * (up to 64 frames, starting at the caller of the allocation function) is
 * captured with libunwind.  The allocating thread only copies instruction
 * pointers into a bounded lock-free queue; a writer thread symbolizes,
 * deduplicates stacks and writes everything to an SQLite database
 * (store/schema.sql): samples and the frees of sampled objects, every GC
 * cycle, and a heap time series, committing every flush interval.  A full
 * queue drops samples and counts them (meta "dropped_samples").
 *
 * With no code change: link libgctune and set GCTUNE_PROFILE=out.sqlite
 * ("%p" becomes the pid); GCTUNE_SAMPLE_RATE sets the mean interval in bytes
 * (default 524288; 1 = every allocation; 0 = no samples, GC cycles and the
 * heap series are still recorded).  Everything is flushed at exit.
 */
#ifndef GCTUNE_PROFILER_H
#define GCTUNE_PROFILER_H

#include <stddef.h>
#include <stdint.h>
#include <gctune/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GCT_DEFAULT_SAMPLE_RATE 524288u

typedef struct gct_profiler_config {
    const char *db_path;          /* required; "%p" is replaced by the pid */
    int64_t sample_rate;          /* bytes; < 0 = default (GCT_DEFAULT_SAMPLE_RATE), 0 = off, 1 = all */
    const gct_backend *backend;   /* NULL = gct_backend_libgc() */
    uint32_t queue_capacity;      /* records; 0 = default: 4096 (1 MiB) at a sample_rate of
                                     64 KiB and up or 0, else 65536 (16 MiB); pages touched
                                     only as it fills; rounded up to a power of two */
    uint32_t flush_interval_ms;   /* 0 = default (100) */
    uint32_t heap_interval_ms;    /* heap_series period; 0 = default (100) */
    uint64_t seed;                /* 0 = random; fixed for reproducible sampling */
    int quiet;                    /* 1: no messages on stderr (errors are still returned) */
} gct_profiler_config;

/* Fills cfg with the defaults (db_path NULL). */
void gct_profiler_config_init(gct_profiler_config *cfg);

/* Starts recording.  Returns 0, or -1 with errno set: EBUSY (already
 * running), EINVAL (bad config), or the error of creating the database
 * (also reported as one line on stderr unless quiet). */
int gct_profiler_start(const gct_profiler_config *cfg);

/* Stops sampling, writes everything queued, records the end of the run and
 * closes the database.  Does nothing if not running. */
void gct_profiler_stop(void);

/* Counters since start (consistent enough for progress reports). */
typedef struct gct_profiler_stats {
    uint64_t samples;             /* sampled allocations queued */
    uint64_t dropped_samples;     /* lost to a full queue */
    uint64_t frees;               /* frees of sampled objects queued */
    uint64_t dropped_frees;
    uint64_t written_samples;     /* rows committed to the database */
    uint64_t gc_cycles;
    uint64_t frames_pending;      /* instruction pointers not yet symbolized and written */
    int running;
    int failed;                   /* 1 if a write failed and recording stopped */
} gct_profiler_stats;
void gct_profiler_get_stats(gct_profiler_stats *out);

/* Records a tuner decision in tuner_events (through the queue, so it never
 * blocks): knob ("gogc", "memory_limit", "policy"), the old and new values
 * (INT64_MIN = none), the reason in words (truncated to 199 bytes) and the
 * measurements behind it as a JSON object (truncated to 263 bytes; NULL =
 * none).  Returns 0, -1 if the profiler is not running or the queue is full
 * (counted in meta "dropped_tuner_events"). */
int gct_profiler_tuner_event(const char *knob, int64_t old_value, int64_t new_value,
                             const char *reason, const char *measurements_json);

/* The database path in use (after %p substitution), or NULL. */
const char *gct_profiler_path(void);

#ifdef __cplusplus
}
#endif
#endif
