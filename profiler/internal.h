/* profiler/internal.h - state shared by the profiler's files (profiler.c:
 * start/stop and the sink the backends call; writer.c: the writer thread).
 *
 * One profiler per process.  Fields marked "atomic" are read and written
 * with __atomic builtins; the rest are set by gct_profiler_start before the
 * writer (thread or helper process) and the sink are live, and read-only
 * afterwards.  In helper mode the helper is a fork() of the profiled
 * process made by gct_profiler_start, so it starts with a copy of this
 * state; only struct gctp_shared and the queue's cells are shared.  The state
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

/* What the profiled process and the writer share: in helper mode a
 * MAP_SHARED page seen by both processes, else a private page.  Every
 * field is atomic. */
struct gctp_shared {
    /* counters */
    uint64_t samples, dropped_samples, frees, dropped_frees, dropped_gc, written_samples, gc_cycles;
    uint64_t dropped_tuner, dropped_heap;
    uint64_t frames_pending;     /* set by the writer each loop */
    int failed;                  /* a write failed (or the helper could not start): recording stopped */
    int stop_req;                /* set once no sink call is in flight: the writer drains and exits */
    int done;                    /* helper mode: the helper has closed the database (futex word) */
    int helper_pid;              /* helper mode: set by the helper when it starts */
    int resumed;                 /* helper mode: the program has seen done (the helper may exit) */
};

struct gctp_state {
    int running;                 /* atomic: started and not yet stopped */
    int active;                  /* atomic: the sink accepts records */
    uint64_t inflight;           /* atomic: sink calls in progress */
    uint64_t next_id;            /* atomic: last sample id handed out */
    struct gctp_shared *sh;      /* mmap'd page, valid while running */
    /* helper mode (profiler.c): the writer runs in a helper process made
     * by fork(), so that the profiled process starts no thread */
    int helper;
    int target_pid;              /* the profiled process (getpid() in thread mode) */
    int target_died;             /* helper: the profiled process ended without gct_profiler_stop */
    int64_t next_heap_ns;        /* atomic, helper mode: when the sink sends the next HEAP record */

    const gct_backend *backend;
    uint64_t rate;
    uint64_t seed;
    uint32_t flush_ms, heap_ms, queue_capacity;
    int quiet;
    char path[PATH_MAX];
    int claim_fd;                /* gcts_claim_path's until gctp_open_db hands it to db; -1: none */
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
/* profiler.c: creates the database, writes the meta rows, prepares the
 * writer; 0, or an errno value with one message printed.  In the helper, or on the
 * starting thread in thread mode. */
int gctp_open_db(void);
/* Closes this process's copy of the path's claim (gctp.claim_fd, see
 * gcts_claim_path) while no database owns it yet: on a failed start, in
 * the program once the helper is forked, in a fork child.  gctp_open_db
 * hands it to the database (gcts_create_claimed), whose close ends it. */
void gctp_release_claim(void);

/* helper.c (helper mode) */
/* In the profiled process: forks the helper (through an intermediate
 * child, so that the helper is no child of the program's), which opens the
 * database and runs the writer.  0 or errno. */
int gctp_helper_spawn(void);
/* In the profiled process, after sh->stop_req: wakes the helper and waits
 * until it has closed the database (or is gone). */
void gctp_helper_wait(void);
/* profiler.c, for the preload library's exec wrappers (backends/exec.c):
 * in the recording process, stops the recording and waits until its
 * database is complete and unlocked, so that the image exec'd (which
 * starts its own recording into the same path) finds it free.  Does
 * nothing in a vfork child or when not recording. */
void gctp_before_exec(void);
/* In the helper: sleeps 1 ms << min(idle_loops, 4) (idle_loops: loops
 * in a row that found the queue empty), or until stop_req is set. */
void gctp_helper_idle(int idle_loops);
/* In the helper: nonzero once the profiled process is gone (or a zombie). */
int gctp_target_gone(void);

#endif
