/* profiler/internal.h - state shared by the profiler's files (profiler.c:
 * start/stop and the sink the backends call; writer.c: the writer thread).
 *
 * One profiler per process.  Fields marked "atomic" are read and written
 * with __atomic builtins; the rest are set by gct_profiler_start before the
 * writer thread and the sink are live, and read-only afterwards.  The state
 * holds no pointer into a garbage-collected heap (sampled addresses are
 * plain integers in the queue, which is mmap'd and never scanned), so the
 * profiler never keeps an object alive.
 */
#ifndef GCTUNE_PROFILER_INTERNAL_H
#define GCTUNE_PROFILER_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include "gctune/profiler.h"
#include "queue.h"
#include "store.h"

struct gctp_state {
    int running;                 /* atomic: started and not yet stopped */
    int active;                  /* atomic: the sink accepts records */
    int failed;                  /* atomic: a write failed; recording stopped */
    int stop_req;                /* atomic: the writer drains and exits */
    uint64_t inflight;           /* atomic: sink calls in progress */
    uint64_t next_id;            /* atomic: last sample id handed out */
    /* counters, atomic */
    uint64_t samples, dropped_samples, frees, dropped_frees, dropped_gc, written_samples, gc_cycles;
    uint64_t dropped_tuner;
    uint64_t frames_pending;     /* set by the writer each loop */

    const gct_backend *backend;
    uint64_t rate;
    uint64_t seed;
    uint32_t flush_ms, heap_ms, queue_capacity;
    int quiet;
    char path[PATH_MAX];
    gcts_db *db;
    struct gctp_queue q;
    pthread_t writer;
    int64_t start_mono_ns;       /* CLOCK_MONOTONIC at start: time_ns origin */
    int64_t start_real_ns;       /* CLOCK_REALTIME at start */
};

extern struct gctp_state gctp;

int64_t gctp_mono_ns(void);
int64_t gctp_real_ns(void);
/* One line "gctune: profiler: ..." on stderr (unless quiet). */
void gctp_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* writer.c */
/* Nonzero on the profiler's own threads (the writer, the symbolizer):
 * backends that see every allocation of the process (malloc) never
 * sample them. */
int gctp_is_profiler_thread(void);
extern __thread int gctp_profiler_thread;
/* profiler.c: the backend the start from GCTUNE_PROFILE attaches to
 * (default libgc); the preload library sets the malloc backend from a
 * constructor that runs before the profiler's. */
void gctp_set_env_backend(const gct_backend *b);
int gctp_writer_prepare(void);   /* meta rows; 0 or -1 (message printed) */
void *gctp_writer_main(void *arg);

#endif
