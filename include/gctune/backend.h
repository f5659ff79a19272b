/* gctune/backend.h - the interface between an allocator (a "backend") and
 * gctune's profiler and tuner.
 *
 * A backend is a table of functions plus capability bits.  The profiler
 * attaches to it with a sink (gct_sink): from then on the backend delivers
 * sampled allocations, frees of the objects it sampled, and GC cycles.  The
 * tuner reads statistics and sets knobs through the same table.  A backend
 * that cannot do something leaves the capability bit clear (and the
 * function pointer NULL); the profiler records the capabilities in the
 * database (meta "capabilities") and the tools say what is missing instead
 * of showing zeros.
 *
 * Backends: libgc (gct_backend_libgc, this library's collector); the
 * malloc, Boehm GC and Go backends come with gctune record.
 */
#ifndef GCTUNE_BACKEND_H
#define GCTUNE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    GCT_CAP_SAMPLING         = 1u << 0,   /* delivers sampled allocations */
    GCT_CAP_FREES            = 1u << 1,   /* delivers frees of sampled objects */
    GCT_CAP_GC_EVENTS        = 1u << 2,   /* delivers one record per GC cycle */
    GCT_CAP_STATS            = 1u << 3,   /* read_stats */
    GCT_CAP_SET_GC_PERCENT   = 1u << 4,   /* set_gc_percent (GOGC) */
    GCT_CAP_SET_MEMORY_LIMIT = 1u << 5,   /* set_memory_limit (GOMEMLIMIT) */
};

/* Heap statistics, Go's MemStats names.  Fields a backend cannot fill are 0
 * (and gc_percent -2, memory_limit -2: unknown). */
typedef struct gct_backend_stats {
    uint64_t heap_alloc, heap_sys, heap_idle, heap_inuse, heap_released, heap_objects;
    uint64_t total_alloc, mallocs, frees, sys;
    uint64_t next_gc;
    uint64_t pause_total_ns;
    uint32_t num_gc;
    double gc_cpu_fraction;
    int gc_percent;              /* -1 = off */
    int64_t memory_limit;        /* bytes; INT64_MAX = none */
} gct_backend_stats;

/* One completed GC cycle.  Times are CLOCK_REALTIME nanoseconds. */
typedef struct gct_gc_event {
    uint32_t num;
    int forced, concurrent, procs;
    uint64_t start_ns, end_ns;
    uint64_t pause_ns;           /* total stop-the-world time */
    uint64_t heap_before, heap_marked, heap_goal;
    uint64_t mark_cpu_ns, assist_cpu_ns, background_cpu_ns;
    int gc_percent;
    int64_t memory_limit;
    double gc_cpu_fraction;      /* cumulative, after the cycle */
} gct_gc_event;

/* What the profiler hands a backend.  The functions may be called from any
 * thread, concurrently; they never block. */
typedef struct gct_sink {
    /* A sampled allocation of size bytes at obj, sampled at mean interval
     * rate (bytes; 1 = every allocation).  ret is the return address into
     * the program from the public allocation function: the stack capture
     * starts there.  Returns a token identifying the sample, or 0 if it was
     * not recorded (then the backend need not report its free). */
    uint64_t (*sample)(void *ctx, void *obj, size_t size, uint64_t rate, uintptr_t ret);
    /* The object of a recorded sample was freed. */
    void (*freed)(void *ctx, uint64_t token);
    /* A GC cycle ended (backends with GCT_CAP_GC_EVENTS). */
    void (*gc_cycle)(void *ctx, const gct_gc_event *ev);
    void *ctx;
} gct_sink;

typedef struct gct_backend {
    const char *name;            /* "libgc", "malloc", "bdwgc", "go" */
    unsigned caps;               /* GCT_CAP_* */
    /* Starts delivering to sink with the given mean sampling interval
     * (0 = no samples; 1 = every allocation) and random seed.  Returns 0 or
     * an errno value.  At most one sink at a time. */
    int (*attach)(const gct_sink *sink, uint64_t rate, uint64_t seed);
    /* Stops delivering; when it returns no new sample() call starts
     * (calls already running may still finish). */
    void (*detach)(void);
    int (*read_stats)(gct_backend_stats *out);   /* 0 or errno */
    /* GC cycle listeners besides the sink (the tuner uses one), called like
     * sink.gc_cycle on the thread that ran the cycle; must be quick.  At
     * most 4.  Returns 0 or an errno value; NULL without GCT_CAP_GC_EVENTS. */
    int (*add_gc_listener)(void (*fn)(const gct_gc_event *ev, void *arg), void *arg);
    void (*remove_gc_listener)(void (*fn)(const gct_gc_event *ev, void *arg), void *arg);
    int (*set_gc_percent)(int percent);          /* returns the previous value */
    int64_t (*set_memory_limit)(int64_t bytes);  /* returns the previous; < 0 = query */
    /* Optional (NULL: read_stats serves): read_stats without sys, the
     * process-wide figure that costs system calls (the malloc and Boehm
     * backends read /proc/self/statm for it, ~75 us on a VM), left 0; for
     * a caller that reads often and has the RSS otherwise (the profiler's
     * helper reads /proc/PID/statm itself). */
    int (*read_heap_stats)(gct_backend_stats *out);
} gct_backend;

/* This library's collector: every capability. */
const gct_backend *gct_backend_libgc(void);

/* Writes the names of the capability bits in caps, space-separated
 * ("sampling frees gc_events stats set_gc_percent set_memory_limit"), into
 * buf; returns buf. */
const char *gct_backend_caps_string(unsigned caps, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
