/* gctune/gc.h - libgc, a Go-style garbage-collected allocator for C.
 *
 * Every object returned by gc_malloc & co. is zeroed and stays valid for as
 * long as a pointer to it (or into it) is held in a root or in another live
 * gc_malloc'd object.  Roots are the writable data/bss of the program and its
 * shared objects, ranges added with gc_add_roots, and the stacks and registers
 * of registered threads (a thread is registered on its first allocation).
 * Memory obtained from the system malloc is NOT scanned: a pointer kept only
 * there does not keep an object alive.
 *
 * Environment (Go syntax): GOGC=<percent>|off, GOMEMLIMIT=<bytes>[KiB|MiB|GiB|TiB],
 * GODEBUG=gctrace=1, GCTUNE_PROCS=<n> (marking threads), GCTUNE_GCSTRESS=<n>
 * (collect every n allocations).  A bad value gets one warning on stderr and
 * the default.
 *
 * All functions are thread-safe.
 */
#ifndef GCTUNE_GC_H
#define GCTUNE_GC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GC_API_MALLOC __attribute__((malloc))
#else
#define GC_API_MALLOC
#endif

/* Allocation.  Sizes of 0 return a unique non-NULL pointer.  On failure
 * (after a forced collection and one retry) NULL is returned with errno ENOMEM. */
void *gc_malloc(size_t n) GC_API_MALLOC;          /* zeroed; scanned for pointers */
void *gc_malloc_atomic(size_t n) GC_API_MALLOC;   /* zeroed; never scanned */
void *gc_calloc(size_t count, size_t n) GC_API_MALLOC; /* overflow -> NULL, ENOMEM */
void *gc_realloc(void *p, size_t n);              /* keeps contents and scan kind */
char *gc_strdup(const char *s) GC_API_MALLOC;     /* noscan copy */
/* Optional eager free of an object's base pointer.  NULL is ignored.  A
 * pointer that is not the base of a live gc object is reported on stderr
 * (and aborts in debug builds).  Objects smaller than 16 bytes allocated
 * with gc_malloc_atomic share blocks (tiny allocator); freeing them is a
 * no-op and the collector reclaims them. */
void gc_free(void *p);
/* Usable size of the object p points to (its size class, from p to the
 * end), 0 if p is not a gc object or is a tiny object (< 16 bytes from
 * gc_malloc_atomic: tiny objects share blocks and their sizes are not
 * recorded).  After gc_free(p), p is invalid; gc_base and gc_usable_size
 * may still see the object until its slot is reused or collected. */
size_t gc_usable_size(const void *p);
/* Base address of the object containing p (interior pointers allowed), or
 * NULL if p does not point into a live gc object. */
void *gc_base(const void *p);

/* Collection. */
void gc_collect(void);                 /* full blocking cycle, like runtime.GC() */
int gc_set_percent(int percent);       /* returns previous; negative = off */
int64_t gc_set_memory_limit(int64_t bytes); /* returns previous; negative = query */
void gc_free_os_memory(void);          /* like debug.FreeOSMemory */

/* Finalizers: fn(obj, arg) runs once on the finalizer thread after obj has
 * become unreachable; obj and everything it references stay alive until then.
 * fn == NULL removes a finalizer. */
void gc_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg);

/* Extra roots: [lo, hi) is scanned conservatively at every collection. */
void gc_add_roots(void *lo, void *hi);
void gc_remove_roots(void *lo, void *hi);

/* Threads.  A thread that allocates is registered automatically and
 * unregistered when it exits.  A thread that holds gc pointers without
 * allocating must call gc_register_thread.  Returns 0, or an errno value. */
int gc_register_thread(void);
void gc_unregister_thread(void);

/* Write barrier: pointer stores into the gc heap.  Required only when
 * concurrent marking is on (gc_set_concurrent). */
void gc_store(void **slot, void *val);
void gc_memmove(void *dst, const void *src, size_t n);
#define GC_STORE(lvalue, val) gc_store((void **)&(lvalue), (void *)(val))
/* Opt in to concurrent marking.  Returns the previous setting, or -1 with
 * errno ENOSYS when this build does not support it. */
int gc_set_concurrent(int on);

/* Statistics (Go's runtime.MemStats subset). */
typedef struct gc_stats {
    uint64_t heap_alloc;      /* bytes of allocated heap objects (incl. unswept garbage) */
    uint64_t heap_sys;        /* bytes of heap memory obtained from the OS */
    uint64_t heap_idle;       /* bytes in spans with no objects */
    uint64_t heap_inuse;      /* bytes in spans with at least one object */
    uint64_t heap_released;   /* bytes of idle memory returned to the OS */
    uint64_t heap_objects;    /* live + unswept objects */
    uint64_t total_alloc;     /* cumulative bytes allocated */
    uint64_t mallocs, frees;  /* cumulative object counts */
    uint64_t sys;             /* all bytes obtained from the OS (heap + metadata) */
    uint64_t next_gc;         /* heap goal, bytes */
    uint64_t last_gc_ns;      /* end of last cycle, ns since the Unix epoch */
    uint64_t pause_total_ns;
    uint64_t pause_ns[256];   /* ring; latest at (num_gc + 255) % 256 */
    uint64_t pause_end_ns[256];
    uint32_t num_gc, num_forced_gc;
    double gc_cpu_fraction;   /* GC CPU / available CPU since start */
    int gc_percent;
    int64_t memory_limit;
    /* gctune extensions */
    uint64_t mark_cpu_ns;     /* cumulative CPU spent marking */
    uint64_t sweep_cpu_ns;    /* cumulative CPU spent sweeping */
    uint64_t metadata_sys;    /* bytes of runtime metadata (spans, bitmaps, work lists) */
    uint64_t tiny_allocs;     /* allocations served by the tiny allocator */
    /* concurrent marking (gc_set_concurrent); cumulative */
    uint64_t concurrent_mark_ns;      /* wall time with marking running beside the program */
    uint64_t background_mark_cpu_ns;  /* CPU of the background mark workers */
    uint64_t assist_cpu_ns;           /* CPU of mark assists by allocating threads */
    int concurrent;                   /* 1 if concurrent marking is on */
    /* soft memory limit (GOMEMLIMIT) and scavenger */
    uint64_t limiter_engaged_ns;      /* cumulative wall time the GC CPU limiter was on */
    uint32_t limiter_events;          /* times the limiter turned on (GC > 50% CPU for ~1 s) */
    int limiter_active;               /* 1 if it is on now: the heap may exceed the limit */
    uint64_t scavenged_total;         /* cumulative bytes returned to the OS (heap_released: still returned) */
    uint64_t memory_limit_goal;       /* heap goal from the memory limit alone; UINT64_MAX = no limit */
} gc_stats;

void gc_read_stats(gc_stats *out);

/* One record per completed cycle, delivered outside the stopped world on
 * the thread that ran the cycle (hooks must be quick and must not call
 * gc_collect). */
typedef struct gc_cycle_info {
    uint32_t num;              /* cycle number, 1-based */
    int forced;                /* gc_collect() or gc_free_os_memory() */
    uint64_t start_ns, end_ns; /* CLOCK_REALTIME ns: trigger .. sweep termination */
    uint64_t stw_ns;           /* total stop-the-world time of the cycle */
    uint64_t stw_start_ns;     /* the pause that starts the cycle (concurrent mode) */
    uint64_t stw_end_ns;       /* the mark termination pause (concurrent mode) */
    uint64_t concurrent_ns;    /* wall time of concurrent marking (0 in stop-the-world mode) */
    uint64_t background_cpu_ns;/* CPU of background mark workers */
    int concurrent;            /* 1 if the cycle marked concurrently */
    uint64_t mark_cpu_ns;      /* CPU time of marking, all threads */
    uint64_t assist_cpu_ns;    /* CPU time of mark assists (0 in stop-the-world mode) */
    uint64_t heap_before;      /* heap_alloc when the cycle started */
    uint64_t heap_marked;      /* live heap found by marking */
    uint64_t heap_goal;        /* next goal computed at the end of this cycle */
    int gc_percent;
    int64_t memory_limit;
    int procs;                 /* marking threads used */
} gc_cycle_info;

typedef void (*gc_cycle_hook)(const gc_cycle_info *info, void *arg);
/* Registers a hook (at most 8).  Returns 0, or ENOSPC. */
int gc_add_cycle_hook(gc_cycle_hook fn, void *arg);
void gc_remove_cycle_hook(gc_cycle_hook fn, void *arg);

/* Pools of reusable objects (Go's sync.Pool).  gc_pool_put hands an object
 * to the pool; gc_pool_get takes one back (any one; most recently put by
 * this thread first) or, if the pool is empty, returns new_fn() (NULL
 * without new_fn).  A pool is a cache, not a container: the collector keeps
 * pooled objects alive through one collection (in a victim cache) and
 * frees those not taken back by the one after.  An object must not be
 * used after it was put.  Thread-safe; a get or put served by the calling
 * thread's private slot takes no lock.  gc_pool_new returns NULL with errno
 * ENOMEM on failure; gc_pool_delete drops the pooled objects (no other
 * thread may use the pool during or after it). */
typedef struct gc_pool gc_pool;
gc_pool *gc_pool_new(void *(*new_fn)(void));
void *gc_pool_get(gc_pool *p);
void gc_pool_put(gc_pool *p, void *obj);
void gc_pool_delete(gc_pool *p);

#ifdef __cplusplus
}
#endif
#endif
