/* gc_internal.h - cross-file prototypes and the allocator's inline fast paths.
 *
 * The global state lives in one struct gcstate allocated with mmap at first
 * use (gci_init), never in .data/.bss: the collector scans the program's data
 * segments as roots, and runtime state must not look like roots.  See
 * malloc.c for the overview.
 *
 * Lock order (outer first): gc_mutex, threads_lock, fin_lock, one
 * central[i].lock, heap_lock, roots_lock, fixalloc locks, prof_lock (a
 * leaf: nothing is locked while it is held).  A thread holds an
 * allocator lock (central, heap, fixalloc, fin, roots) only inside a critical
 * section (gci_crit_enter/exit), and the suspend signal defers itself until
 * the section ends, so a stopped world never holds those locks.
 */
#ifndef GC_INTERNAL_H
#define GC_INTERNAL_H

#include "gc_types.h"
#include "gctune/gc.h"
#include "addrtable.h"
#include <stdbool.h>
#include <string.h>

/* ---- assertions (see STYLE.md) ---- */
GC_HIDDEN void gci_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
GC_HIDDEN void gci_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define gc_assert_always(x) do { if (GC_UNLIKELY(!(x))) gci_fatal("assertion failed: %s (%s:%d)", #x, __FILE__, __LINE__); } while (0)
#if GCTUNE_DEBUG >= 1
#define gc_assert(x) gc_assert_always(x)
#else
#define gc_assert(x) ((void)0)
#endif
#if GCTUNE_DEBUG >= 2
#define gc_assert_internal(x) gc_assert_always(x)
#else
#define gc_assert_internal(x) ((void)0)
#endif
#define GC_POISON_FREED 0xDF

#define gci_load(p)        __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define gci_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define gci_store(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define gci_add(p, v)      __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define gci_sub(p, v)      __atomic_sub_fetch((p), (v), __ATOMIC_RELAXED)
#define gci_cas(p, o, n)   __atomic_compare_exchange_n((p), (o), (n), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)

/* ---- global state ---- */
/* Profiler hooks (profile.c).  sample: called on the allocating thread,
 * outside any critical section, for each sampled allocation; returns a
 * token (0 = not recorded, do not track).  ret is the return address into
 * the caller of the public allocation function.  free: called when a
 * tracked object is freed (gc_free or a sweep), possibly on another thread
 * and inside allocator locks: it must not block or allocate. */
typedef uint64_t (*gci_prof_sample_fn)(void *obj, size_t size, uint64_t rate, uintptr_t ret, void *arg);
typedef void (*gci_prof_free_fn)(uint64_t token, void *obj, void *arg);

struct gcstate {
    /* arenas and page heap (heap.c) */
    struct arena_meta **arena_l1;      /* GC_ARENA_L1_LEN entries, mmap NORESERVE */
    uintptr_t heap_lo, heap_hi;        /* bounds of all arenas; atomic; quick pointer filter */
    pthread_mutex_t heap_lock;
    struct span *free_exact[GC_FREE_SMALL_RUNS]; /* free runs of exactly n pages; heap_lock */
    uint64_t free_exact_nonempty[GC_FREE_SMALL_RUNS / 64];
    struct span *free_tree;            /* treap of runs >= GC_FREE_SMALL_RUNS pages; heap_lock */
    uintptr_t cur_arena, cur_arena_end;/* unused tail of the newest reservation; heap_lock */
    uint64_t heap_sys;                 /* bytes of arena memory in use or free-listed; heap_lock */
    uint64_t pages_inuse;              /* pages in small or large spans; heap_lock */
    uint64_t pages_released;           /* free pages returned to the OS; heap_lock */
    struct span **allspans;            /* every span struct ever made; mmap NORESERVE */
    uint64_t nallspans;                /* atomic */
    uint64_t metadata_sys;             /* bytes mapped for metadata; atomic */
    uint32_t treap_seed;

    /* central lists and large spans */
    struct central central[GC_NUM_SPANCLASSES];
    pthread_mutex_t large_lock;
    struct span *large[2];             /* in-use large spans, swept / unswept by sweepgen */

    /* metadata allocators */
    struct fixalloc span_fa, thread_fa, wbuf_fa;
    struct fixalloc bits_fa[GC_MAX_BITMAP_WORDS + 1];   /* 2 * n words each */

    /* threads (threads.c, stw.c) */
    pthread_mutex_t threads_lock;
    struct gthread *threads;           /* registered threads; threads_lock */
    uint32_t nthreads;                 /* threads_lock */
    volatile unsigned resume_gen;      /* bumped by gci_start_world */
    sem_t ack_sem;                     /* posted by each suspended thread */
    int sig_suspend, sig_restart;
    pthread_key_t thread_key;

    /* where the collecting thread's stack roots begin (collect.c), so that
     * the collector's own (stale) frames are not scanned; gc_mutex */
    uintptr_t collector_stack_lo;

    /* collector (collect.c, pacer.c) */
    pthread_mutex_t gc_mutex;          /* one cycle at a time */
    uint32_t sweepgen;                 /* atomic; += 2 at mark termination */
    uint64_t heap_live;                /* bytes; atomic; allocated + claimed since mark */
    uint64_t heap_marked;              /* bytes marked by the last cycle */
    uint64_t next_gc;                  /* heap goal, bytes; atomic */
    uint64_t trigger;                  /* heap_live that starts a cycle; atomic */
    int gc_percent;                    /* atomic; < 0 = off */
    int64_t memory_limit;              /* bytes; atomic; INT64_MAX = none */
    int procs;                         /* marking threads (GCTUNE_PROCS) */
    int concurrent;                    /* atomic; concurrent marking chosen (gc_set_concurrent) */
    uint64_t mark_scanned;             /* bytes scanned this cycle; atomic, batched */
    uint64_t mark_expected;            /* bytes expected to scan this cycle (last live heap) */
    uint64_t mark_start_live;          /* heap_live when concurrent marking began */
    double runway_smoothed;            /* bytes allocated during a concurrent mark, smoothed */
    uint64_t concurrent_mark_ns, background_mark_cpu_ns, assist_cpu_ns;   /* cumulative; atomic */
    int controller_started;
    pthread_mutex_t controller_lock;   /* never taken inside a critical section */
    pthread_cond_t controller_cond;
    int controller_request;            /* controller_lock */
    uint32_t alloc_waiters;            /* atomic; threads waiting past the goal (threads.c) */
    uint64_t stress_every;             /* GCTUNE_GCSTRESS: collect every n allocations (0 = off) */
    int gctrace;                       /* GODEBUG=gctrace=1 */
    int gccheckmark;                   /* GODEBUG=gccheckmark=1 */
    uint64_t start_ns;                 /* CLOCK_MONOTONIC at init */
    uint64_t start_real_ns;            /* CLOCK_REALTIME at init */

    /* statistics (stats.c); atomics unless noted */
    uint64_t nmalloc[GC_NUM_SPANCLASSES], nfree[GC_NUM_SPANCLASSES];
    uint64_t ntiny;
    uint64_t large_alloc_bytes, large_free_bytes, large_mallocs, large_frees;
    uint64_t num_gc, num_forced_gc;    /* gc_mutex */
    uint64_t pause_total_ns, last_gc_ns;
    uint64_t pause_ns[256], pause_end_ns[256];
    uint64_t gc_cpu_ns;                /* STW wall x procs + concurrent GC CPU */
    uint64_t mark_cpu_ns, sweep_cpu_ns;

    /* sweeping (sweep.c) */
    uint32_t sweep_cursor;             /* atomic; next central index to drain */
    uint32_t sweepers_active;          /* atomic; sweeps in progress */
    int sweeper_started;
    pthread_mutex_t sweeper_lock;
    pthread_cond_t sweeper_cond;
    int sweeper_wake;

    /* roots (roots.c) */
    pthread_mutex_t roots_lock;
    struct root_range *roots;          /* metadata array */
    size_t nroots, roots_cap;
    struct root_range *seg_roots;      /* data segments snapshot */
    size_t nseg_roots, seg_roots_cap;

    /* finalizers (finalizer.c) */
    pthread_mutex_t fin_lock;          /* table and queue; taken inside critical sections */
    pthread_mutex_t fin_wait_lock;     /* finalizer thread's sleep; never inside one */
    pthread_cond_t fin_cond;           /* with fin_wait_lock */
    uint64_t fin_signal;               /* fin_wait_lock; bumped when work is queued */
    size_t fin_ready_head;             /* fin_lock; first unrun entry of fin_ready */
    struct gci_addrtable fin_table;    /* struct fin_entry by object base; fin_lock */
    struct fin_entry *fin_ready;       /* queued, not yet run; metadata */
    size_t fin_ready_len, fin_ready_cap;
    int fin_thread_started;

    /* allocation sampling for the profiler (profile.c) */
    pthread_mutex_t prof_lock;         /* the table; taken inside critical sections (or by sweepers) */
    struct gci_addrtable prof_table;   /* sampled objects: struct prof_entry by object base */
    uint64_t prof_rate;                /* mean sampling interval, bytes; 0 = off; world stopped to change */
    uint64_t prof_seed;                /* seeds each thread's generator */
    uint64_t prof_nthreads;            /* threads seeded so far (threads_lock) */
    uint64_t prof_gen;                 /* bumped by each configure: one per recording */
    gci_prof_sample_fn prof_sample;    /* world stopped to change */
    gci_prof_free_fn prof_free;
    void *prof_arg;

    /* cycle hooks (trace.c) */
    pthread_mutex_t hooks_lock;
    struct { gc_cycle_hook fn; void *arg; } hooks[8];
    int nhooks;
};

struct arena_meta {
    struct span *spans[GC_PAGES_PER_ARENA];
};

struct prof_entry {
    uintptr_t obj;       /* object base: the key in prof_table (first member) */
    uint64_t token;      /* the profiler's id of the sample */
    uint64_t gen;        /* prof_gen when inserted: stale entries are not reported */
};

struct fin_entry {
    uintptr_t obj;       /* object base: the key in fin_table (first member); 0 = none */
    void (*fn)(void *obj, void *arg);
    void *arg;
};

GC_HIDDEN extern struct gcstate *gci;
/* 1 while concurrent marking runs: write barriers shade, allocations are
 * black.  Changes only with the world stopped.  A plain int in .bss (not a
 * pointer, so harmless as a root) to keep the fast paths to one load. */
GC_HIDDEN extern volatile int gci_marking;
GC_HIDDEN extern struct span gci_empty_span;
GC_HIDDEN extern __thread struct gthread *gci_self __attribute__((tls_model("initial-exec")));

/* ---- sizeclass.c ---- */
GC_HIDDEN extern const uint32_t gci_class_size[GC_NUM_CLASSES];
GC_HIDDEN extern const uint8_t gci_class_pages[GC_NUM_CLASSES];
GC_HIDDEN extern uint8_t gci_size_to_class8[1024 / 8 + 1];
GC_HIDDEN extern uint8_t gci_size_to_class128[(GC_MAX_SMALL - 1024) / 128 + 1];
GC_HIDDEN extern uint32_t gci_spc_size[GC_NUM_SPANCLASSES];   /* object bytes per span class */
GC_HIDDEN void gci_sizeclass_init(void);
static inline unsigned gci_spc_class(unsigned spc) { return spc == GC_SPANCLASS_TINY ? 2 : spc >> 1; }
static inline int gci_spc_noscan(unsigned spc) { return spc == GC_SPANCLASS_TINY ? 1 : (int)(spc & 1); }
static inline unsigned gci_size_class(size_t n) {   /* n in 1..GC_MAX_SMALL */
    if (n <= 1024 - 8)
        return gci_size_to_class8[(n + 7) >> 3];
    return gci_size_to_class128[(n - 1024 + 127) >> 7];
}
static inline uint32_t gci_class_nelems(unsigned cls) {
    return (uint32_t)((gci_class_pages[cls] * GC_PAGE_SIZE) / gci_class_size[cls]);
}

/* ---- os_posix.c ---- */
GC_HIDDEN void *gci_os_reserve(size_t size, size_t align);   /* NULL on failure */
GC_HIDDEN void *gci_os_map_meta(size_t size);                /* NORESERVE, zeroed */
GC_HIDDEN void gci_os_unmap(void *p, size_t size);
GC_HIDDEN void gci_os_release(void *p, size_t size);          /* MADV_DONTNEED */
GC_HIDDEN uint64_t gci_nanotime(void);                        /* CLOCK_MONOTONIC */
GC_HIDDEN uint64_t gci_realtime(void);                        /* CLOCK_REALTIME */
GC_HIDDEN uint64_t gci_thread_cputime(void);
GC_HIDDEN int gci_ncpu(void);
GC_HIDDEN int gci_start_internal_thread(void *(*fn)(void *), void *arg);
GC_HIDDEN uint64_t gci_rss_bytes(void);
#ifdef GC_TESTING
GC_HIDDEN void gci_test_fail_map_after(long n);  /* fail the n-th next arena mapping (-1 = never) */
#endif

/* ---- heap.c ---- */
GC_HIDDEN void gci_fixalloc_init(struct fixalloc *f, size_t size, void (*first)(void *));
GC_HIDDEN void *gci_fixalloc_alloc(struct fixalloc *f);  /* zeroed; NULL on ENOMEM */
GC_HIDDEN void gci_fixalloc_free(struct fixalloc *f, void *p);
GC_HIDDEN void *gci_meta_resize(void *old, size_t old_bytes, size_t keep_bytes, size_t new_bytes);
GC_HIDDEN void gci_heap_init(void);
GC_HIDDEN struct span *gci_heap_alloc(size_t npages, int *fresh);  /* NULL on ENOMEM */
GC_HIDDEN void gci_heap_free(struct span *s);
GC_HIDDEN void gci_heap_free_locked(struct span *s);
GC_HIDDEN uint64_t gci_heap_verify(void);   /* checks invariants; returns free pages */
GC_HIDDEN size_t gci_heap_largest_free_run(void);

static inline struct span *gci_span_of(uintptr_t p) {
    if (p - gci->heap_lo >= gci->heap_hi - gci->heap_lo)
        return NULL;
    struct arena_meta *a = gci->arena_l1[p >> GC_ARENA_SHIFT];
    if (!a)
        return NULL;
    return a->spans[(p >> GC_PAGE_SHIFT) & (GC_PAGES_PER_ARENA - 1)];
}

/* ---- span.c ---- */
GC_HIDDEN void gci_span_init_small(struct span *s, unsigned spc, int fresh);
GC_HIDDEN void gci_span_init_large(struct span *s, uint64_t size, int noscan, int fresh);
GC_HIDDEN void gci_span_release_bits(struct span *s);
GC_HIDDEN void gci_span_set_pages(struct span *s, struct span *val, int all);
static inline uint32_t gci_span_index(const struct span *s, uintptr_t p) {
    return (uint32_t)(((uint64_t)(uint32_t)(p - s->base) * s->divmul) >> 32);
}
static inline int gci_span_bit(const uint64_t *bits, uint32_t idx) {
    return (int)((__atomic_load_n(&bits[idx >> 6], __ATOMIC_RELAXED) >> (idx & 63)) & 1);
}
/* Finds the live object containing p.  Returns its span (NULL if none) and
 * sets *base and *idx.  Only exact when no mcache caches the span, i.e. with
 * the world stopped; otherwise it may report a claimed-but-free slot. */
static inline struct span *gci_find_object(uintptr_t p, uintptr_t *base, uint32_t *idx) {
    struct span *s = gci_span_of(p);
    if (!s)
        return NULL;
    uint8_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    if (st == SPAN_SMALL) {
        if (p < s->base || p >= s->limit)
            return NULL;
        uint32_t i = gci_span_index(s, p);
        if (!gci_span_bit(s->alloc_bits, i))
            return NULL;
        *idx = i;
        *base = s->base + (uintptr_t)i * s->elemsize;
        return s;
    }
    if (st == SPAN_LARGE) {
        if (p < s->base || p >= s->base + s->npages * GC_PAGE_SIZE)
            return NULL;
        if (!gci_span_bit(s->alloc_bits, 0))
            return NULL;
        *idx = 0;
        *base = s->base;
        return s;
    }
    return NULL;
}

/* ---- mcentral.c ---- */
GC_HIDDEN void gci_central_init(struct central *c, unsigned spc);
GC_HIDDEN struct span *gci_central_cache_span(struct central *c);   /* swept span with free slots */
GC_HIDDEN void gci_central_uncache_span(struct central *c, struct span *s);
GC_HIDDEN void gci_list_push(struct span **head, struct span *s, uint8_t id);
GC_HIDDEN void gci_list_remove(struct span **head, struct span *s);
GC_HIDDEN struct span **gci_central_list(struct central *c, uint8_t id);
GC_HIDDEN void gci_central_place_swept(struct central *c, struct span *s); /* c->lock held */

/* ---- barrier.c / mark.c: concurrent marking ---- */
GC_HIDDEN void gci_mark_new_object(uintptr_t p) GC_NOINLINE;   /* allocate black */
GC_HIDDEN void gci_wb_flush(struct gthread *t);                /* barrier buffer -> mark work */
GC_HIDDEN void gci_mark_set_root_mode(int on);                 /* push_range scans at once */
GC_HIDDEN void gci_mark_begin_concurrent(void);
GC_HIDDEN int gci_mark_concurrent_work(uint64_t budget_bytes, uint64_t *cpu_ns); /* 0 when no work */
GC_HIDDEN int gci_mark_concurrent_idle(void);                  /* no work anywhere right now */
GC_HIDDEN void gci_mark_end_concurrent(void);
GC_HIDDEN void gci_mark_assist(struct gthread *t, uint64_t bytes);
GC_HIDDEN void gci_checkmark_verify(void);                     /* world stopped, after marking */
#ifdef GC_TESTING
/* Test-only: the next concurrent cycle clears obj's mark bit after its
 * final drain (as if marking had missed it), before gccheckmark runs. */
GC_HIDDEN void gci_test_hide_from_mark(void *obj);
GC_HIDDEN void gci_test_apply_hide(void);                      /* world stopped */
GC_HIDDEN uint64_t gci_test_checkmark_runs(void);              /* checkmark passes so far */
GC_HIDDEN uint64_t gci_test_heap_verify_runs(void);            /* gci_heap_verify calls so far */
#endif

/* ---- mcache.c ---- */
GC_HIDDEN void *gci_mcache_refill_alloc(struct mcache *c, unsigned spc) GC_NOINLINE;
GC_HIDDEN void gci_mcache_flush(struct mcache *c);        /* return spans, free lists, tiny */
GC_HIDDEN void gci_mcache_flush_stats(struct mcache *c);  /* fold counters into globals */
GC_HIDDEN void gci_mcache_free_small(struct mcache *c, struct span *s, uintptr_t p);
GC_HIDDEN void gci_mcache_init(struct mcache *c);
GC_HIDDEN void gci_assist_for(struct gthread *t, uint64_t bytes);   /* marking: pay scan debt */
GC_HIDDEN void gci_free_to_span(struct span *s, uintptr_t p, uint32_t idx);

/* Zeroes a reused slot.  Small objects (the common case) get inline word
 * stores instead of a call to memset; relaxed atomic stores keep the
 * compiler from turning the loop back into that call. */
static inline __attribute__((always_inline)) void gci_zero(void *p, size_t n)
{
    if (n <= 64) {
        uint64_t *q = p;
        for (size_t i = 0; i < n / 8; i++)
            __atomic_store_n(&q[i], 0, __ATOMIC_RELAXED);
    } else {
        memset(p, 0, n);
    }
}

/* Fast path of small allocation: a free-list pop or a count-trailing-zeros on
 * the cached bitmap word, about 12 instructions with one branch to the
 * out-of-line refill (plus zeroing when the span has been reused). */
static inline __attribute__((always_inline)) void *gci_mcache_alloc(struct mcache *c, unsigned spc) {
    void *p = c->freelist[spc];
    if (p) {   /* objects this thread freed: LIFO for cache warmth */
        c->freelist[spc] = *(void **)p;
        c->freelist_len[spc]--;
        c->nmalloc[spc]++;
        gci_zero(p, gci_spc_size[spc]);
        if (GC_UNLIKELY(gci_marking))
            gci_mark_new_object((uintptr_t)p);
        return p;
    }
    struct span *s = c->alloc[spc];
    uint64_t bits = s->alloc_cache;
    if (GC_UNLIKELY(bits == 0))
        return gci_mcache_refill_alloc(c, spc);
    unsigned tz = (unsigned)__builtin_ctzll(bits);
    s->alloc_cache = bits & (bits - 1);
    p = (void *)(s->base + (uintptr_t)(s->cache_word * 64 + tz) * s->elemsize);
    c->nmalloc[spc]++;
    if (s->needzero)
        gci_zero(p, s->elemsize);
    if (GC_UNLIKELY(gci_marking))
        gci_mark_new_object((uintptr_t)p);
    return p;
}

/* ---- malloc.c ---- */
GC_HIDDEN void gci_init(void);
GC_HIDDEN void *gci_alloc_large(struct gthread *t, size_t n, int noscan);

/* ---- options.c ---- */
GC_HIDDEN void gci_options_init(void);
GC_HIDDEN int gci_parse_gogc(const char *s, int *out);          /* 0 ok, -1 bad */
GC_HIDDEN int gci_parse_memlimit(const char *s, int64_t *out);  /* 0 ok, -1 bad */
GC_HIDDEN int gci_parse_uint(const char *s, uint64_t max, uint64_t *out);
GC_HIDDEN int gci_godebug_lookup(const char *godebug, const char *key, int *out); /* 1 found */

/* ---- threads.c ---- */
GC_HIDDEN struct gthread *gci_thread_attach(void) GC_NOINLINE;  /* registers the caller */
GC_HIDDEN void gci_threads_init(void);
GC_HIDDEN void gci_crit_exit_slow(struct gthread *t) GC_NOINLINE;
static inline struct gthread *gci_crit_enter(void) {
    struct gthread *t = gci_self;
    if (GC_UNLIKELY(!t))
        t = gci_thread_attach();
    if (t) {
        t->in_critical = 1;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
    return t;
}
static inline void gci_crit_exit(struct gthread *t) {
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t->in_critical = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (GC_UNLIKELY(t->pending.any))
        gci_crit_exit_slow(t);
}

/* ---- stw.c ---- */
GC_HIDDEN void gci_stw_init(void);
GC_HIDDEN void gci_stop_world(void);     /* threads_lock is held on return */
GC_HIDDEN void gci_start_world(void);    /* releases threads_lock */
GC_HIDDEN void gci_suspend_self(struct gthread *t);

/* ---- roots.c ---- */
GC_HIDDEN void gci_roots_snapshot_segments(void);
GC_HIDDEN void gci_roots_push_all(void);   /* world stopped */
GC_HIDDEN uint64_t gci_roots_stack_bytes(void);
GC_HIDDEN uint64_t gci_roots_global_bytes(void);

/* ---- mark.c ---- */
GC_HIDDEN void gci_mark_init(void);
GC_HIDDEN void gci_mark_push_range(uintptr_t lo, uintptr_t hi);   /* world stopped, before marking */
GC_HIDDEN void gci_mark_run(void);           /* drain with gci->procs threads */
GC_HIDDEN int gci_mark_object(uintptr_t p, int scan);   /* marks p's object; 1 if newly marked */
GC_HIDDEN uint64_t gci_mark_take_marked_bytes(void);
GC_HIDDEN uint64_t gci_mark_take_cpu_ns(void);
GC_HIDDEN int gci_is_marked(uintptr_t p);

/* ---- sweep.c ---- */
GC_HIDDEN uint32_t gci_sweep_span(struct span *s);   /* claimed span; returns objects freed */
GC_HIDDEN int gci_span_ensure_swept(struct span *s); /* 1 if this call swept it */
GC_HIDDEN long gci_sweep_one(void);                  /* pages freed, -1 when no work */
GC_HIDDEN void gci_sweep_finish(void);               /* sweep everything now */
GC_HIDDEN void gci_sweep_reclaim(size_t npages);     /* inside a critical section */
GC_HIDDEN void gci_sweep_wake_background(void);
GC_HIDDEN int gci_sweep_done(void);
GC_HIDDEN void gci_sweep_gate_lock(void);
GC_HIDDEN void gci_sweep_gate_unlock(void);
GC_HIDDEN void gci_sweep_gate_reinit(void);
GC_HIDDEN void gci_mark_after_fork_child(void);

/* ---- pacer.c ---- */
GC_HIDDEN void gci_pacer_init(void);
GC_HIDDEN void gci_pacer_end_cycle(uint64_t marked);
GC_HIDDEN uint64_t gci_pacer_goal(uint64_t marked, int percent);
GC_HIDDEN void gci_pacer_end_concurrent(uint64_t alloc_during_mark);
GC_HIDDEN uint64_t gci_pacer_wait_goal(void);   /* concurrent: mutators wait past it */
static inline int gci_should_trigger(void) {
    return gci_load_relaxed(&gci->heap_live) >= gci_load_relaxed(&gci->trigger);
}

/* ---- collect.c ---- */
GC_HIDDEN void gci_collect(int kind);   /* 0 trigger, 1 stress, 2 forced */
GC_HIDDEN void gci_collect_async(void);   /* concurrent mode: wake the GC controller */
GC_HIDDEN void gci_fork_init(void);

/* ---- finalizer.c ---- */
GC_HIDDEN void gci_fin_mark_phase(void);      /* world stopped, after main marking */
GC_HIDDEN void gci_fin_push_ready_roots(void); /* world stopped */
GC_HIDDEN void gci_fin_after_cycle(void);      /* wakes the finalizer thread if needed */
GC_HIDDEN void gci_fin_forget(uintptr_t obj);  /* gc_free of an object with a finalizer */
GC_HIDDEN void gci_fin_init(void);

/* profile.c: allocation sampling for the profiler */
GC_HIDDEN void gci_prof_init(void);
GC_HIDDEN void gci_prof_thread_init(struct gthread *t);   /* threads_lock held */
GC_HIDDEN int gci_prof_configure(uint64_t rate, uint64_t seed, gci_prof_sample_fn sample,
                                 gci_prof_free_fn free_fn, void *arg);   /* stops the world */
GC_HIDDEN void gci_prof_reset_child(void);
GC_HIDDEN void gci_prof_sampled(void *obj, size_t n, uintptr_t ret) GC_NOINLINE;
GC_HIDDEN void gci_prof_forget(struct span *s, uintptr_t base);          /* critical section */
GC_HIDDEN void gci_prof_swept_dead(struct span *s, unsigned w, uint64_t dead);
GC_HIDDEN size_t gci_prof_tracked(void);                                  /* table entries */
/* stats.c: gc_read_stats without stopping the world (observers) */
GC_HIDDEN void gci_read_stats_nostw(gc_stats *out);

/* ---- stats.c ---- */
GC_HIDDEN void gci_stats_record_pause(uint64_t pause_ns, uint64_t end_real_ns);
GC_HIDDEN void gci_stats_totals(uint64_t *mallocs, uint64_t *frees, uint64_t *alloc_bytes, uint64_t *free_bytes);

/* ---- trace.c ---- */
GC_HIDDEN void gci_trace_cycle(const gc_cycle_info *info, uint64_t stw1_ns, uint64_t mark_ns, uint64_t stw2_ns,
                               uint64_t heap_end);
GC_HIDDEN void gci_run_hooks(const gc_cycle_info *info);

#endif
