/* scavenge.h - the soft memory limit, the scavenger and the GC CPU limiter.
 *
 * Internal interface of scavenge.c (policy) and of the page heap's
 * releasing mechanism (heap.c).  See scavenge.c for the rules.
 *
 * Hooks the collector calls (collect.c, pacer.c):
 *   gci_limiter_note_cycle()    at mark termination, before the new goal
 *   gci_memlimit_goal()         the pacer's memory-limit term: goal =
 *                               min(GOGC goal, gci_memlimit_goal())
 *   gci_scavenge_after_cycle()  after each cycle, world running, outside
 *                               any critical section
 *   gci_scavenge_all()          gc_free_os_memory, after its collection
 */
#ifndef GC_SCAVENGE_H
#define GC_SCAVENGE_H

#include "gc_internal.h"

/* ---- heap.c: the mechanism (heap_lock held) ---- */

/* Releases up to max_pages free pages that are not released yet, largest
 * runs first.  aged: only runs stamped with an epoch before cutoff (by
 * wrap-around comparison).  Returns the pages released. */
GC_HIDDEN size_t gci_heap_scavenge_locked(size_t max_pages, int aged, uint32_t cutoff);
/* Returns the current scavenger epoch and starts the next one. */
GC_HIDDEN uint32_t gci_heap_scav_advance_epoch(void);
/* Pages released since start (heap_released is only what is still released). */
GC_HIDDEN uint64_t gci_heap_scavenged_total_pages(void);

/* ---- scavenge.c ---- */

/* Releases up to `bytes` (rounded down to pages, at least one page) of free
 * memory to the OS; returns the bytes released.  Takes heap_lock in short
 * critical sections: call it outside any critical section. */
GC_HIDDEN size_t gci_scavenge(size_t bytes);
GC_HIDDEN void gci_scavenge_all(void);
/* After each cycle: releases runs that have stayed free since an earlier
 * cycle end at least GC_SCAVENGE_MIN_AGE_NS ago, then whatever keeps the
 * retained memory under 95% of the memory limit. */
GC_HIDDEN void gci_scavenge_after_cycle(void);
/* Called by gci_heap_alloc (heap_lock held) when the heap grew by `grown`
 * bytes: if the retained memory now exceeds the limit, releases free pages
 * (at most `grown` bytes' worth) right away, as Go's mheap.grow does. */
GC_HIDDEN void gci_scavenge_on_grow_locked(size_t grown);
/* The minimum age (ns) of a free run before gci_scavenge_after_cycle
 * releases it.  Returns the previous value.  For tests. */
GC_HIDDEN uint64_t gci_scavenge_set_min_age(uint64_t ns);

/* Memory-limit heap goal, bytes (UINT64_MAX without a limit), Go 1.19's
 * memoryLimitHeapGoal on our counters:
 *   overhead = metadata_sys + (heap_sys - heap_inuse - heap_released)
 *   goal     = limit - overhead - headroom,  headroom = max(3%, 1 MiB)
 *   goal    >= heap_marked + GC_LIMIT_MIN_GROWTH
 * gci_limit_goal_calc is the arithmetic on explicit values. */
#define GC_LIMIT_MIN_GROWTH ((uint64_t)1 << 20)
GC_HIDDEN uint64_t gci_limit_heap_goal(void);
GC_HIDDEN uint64_t gci_limit_goal_calc(int64_t limit, uint64_t heap_sys, uint64_t heap_inuse, uint64_t released,
                                       uint64_t metadata, uint64_t marked);
/* What the pacer takes the minimum with: gci_limit_heap_goal(), or while
 * the CPU limiter is on, at least heap_marked + the allocation the program
 * makes in twice the last cycle's GC time (at most + heap_marked), so GC
 * CPU stays near or below half. */
GC_HIDDEN uint64_t gci_memlimit_goal(void);

/* GC CPU limiter (Go's gcCPULimiter): a leaky bucket of capacity
 * 1 s x procs CPU-ns.  Each cycle adds its GC CPU and drains the CPU the
 * program had (wall x procs - GC CPU); the limiter is on while the bucket
 * is full, i.e. while GC used more than half the CPU over about a second. */
struct gci_limiter {
    uint64_t fill;          /* CPU ns in the bucket */
    int enabled;            /* bucket full */
    uint64_t enabled_ns;    /* nanotime when it last turned on */
    uint64_t engaged_ns;    /* total ns on, up to the last turn-off */
    uint32_t events;        /* times it turned on */
    uint64_t budget;        /* bytes the program may allocate past the limit goal while on */
};
GC_HIDDEN void gci_limiter_step(struct gci_limiter *l, uint64_t gc_cpu_ns, uint64_t wall_ns, int procs,
                                uint64_t now_ns, uint64_t alloc_bytes);
/* The collector's limiter: gc_cpu_ns is the cycle's GC CPU (STW wall x
 * procs + concurrent GC CPU), wall_ns the time since the previous call (0:
 * measured here), procs the CPUs GC CPU is counted against.  gc_mutex. */
GC_HIDDEN void gci_limiter_note_cycle(uint64_t gc_cpu_ns, uint64_t wall_ns, int procs);
GC_HIDDEN int gci_limiter_active(void);
GC_HIDDEN void gci_limiter_read(uint64_t *engaged_ns, uint32_t *events, int *active);
#ifdef GC_TESTING
GC_HIDDEN void gci_limiter_reset(void);
#endif

#endif
