/* gc_types.h - libgc's data structures and the invariants that tie them.
 *
 * See malloc.c for the overview of the allocator and collect.c for the
 * collector's phases.  Every field states its unit and who may write it.
 *
 * Address space.  The heap is made of 64 MiB arenas (GC_ARENA_SIZE) reserved
 * with mmap at 64 MiB-aligned addresses.  arena_l1[addr >> GC_ARENA_SHIFT]
 * points to the arena's metadata, whose spans[] maps each 8 KiB page to the
 * span that owns it.  For in-use spans every page maps to the span; for free
 * spans only the first and the last page do (enough for coalescing); stale
 * entries elsewhere are rejected by the range and state checks of
 * gci_find_object, which is O(1).
 *
 * Spans.  A span is a run of pages.  A small span (state SPAN_SMALL) holds
 * nelems objects of elemsize bytes of one span class (size class << 1 |
 * noscan); a large span (SPAN_LARGE) holds one object.  Bitmap invariants for
 * a small span that is not cached by any mcache (span->owner == NULL):
 *     alloc_count == popcount(alloc_bits[0..nwords)) - tail_bits
 *     bits >= nelems are 1 in alloc_bits and in the mark-reset pattern
 *     limit == base + nelems * elemsize <= base + npages * GC_PAGE_SIZE
 * While an mcache owns the span, the word alloc_bits[cache_word] is all ones
 * (claimed) and alloc_cache holds the slots of that word still free: the
 * owner hands them out without atomics.  Claiming is an atomic exchange, so a
 * concurrent gc_free from another thread either lands before (the slot is in
 * the cache) or after (the slot stays free in alloc_bits).
 *
 * Sweep generations (Go's mspan.sweepgen), with sg = gc.sweepgen:
 *     span->sweepgen == sg - 2  => needs sweeping
 *     span->sweepgen == sg - 1  => being swept (owner: the CAS winner)
 *     span->sweepgen == sg      => swept, usable
 * sg grows by 2 at each mark termination, with the world stopped; spans in
 * use by the allocator are always swept.
 *
 * Central lists.  central[spc].partial[i] / full[i]: i == (sg/2) % 2 holds
 * swept spans, the other index unswept ones, so bumping sg turns every swept
 * span into an unswept one in O(1).  A cached span is on no list.
 */
#ifndef GC_TYPES_H
#define GC_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <pthread.h>
#include <semaphore.h>

#ifndef GCTUNE_DEBUG
#define GCTUNE_DEBUG 0
#endif

#define GC_PAGE_SHIFT      13
#define GC_PAGE_SIZE       ((size_t)1 << GC_PAGE_SHIFT)          /* 8 KiB */
#define GC_ARENA_SHIFT     26
#define GC_ARENA_SIZE      ((size_t)1 << GC_ARENA_SHIFT)         /* 64 MiB */
#define GC_PAGES_PER_ARENA (GC_ARENA_SIZE / GC_PAGE_SIZE)        /* 8192 */
#define GC_ADDR_BITS       48
#define GC_ARENA_L1_LEN    ((size_t)1 << (GC_ADDR_BITS - GC_ARENA_SHIFT))

#define GC_NUM_CLASSES     68        /* class 0 = large */
#define GC_MAX_SMALL       32768     /* bytes; larger objects get their own span */
#define GC_SPANCLASS_TINY  (GC_NUM_CLASSES * 2)   /* 16 B noscan blocks of the tiny allocator */
#define GC_NUM_SPANCLASSES (GC_NUM_CLASSES * 2 + 1)
#define GC_TINY_SIZE       16
#define GC_MAX_BITMAP_WORDS 16       /* 1024 objects of 8 B in one page */
#define GC_FREE_SMALL_RUNS 128       /* exact lists for free runs of 1..127 pages */

#define GC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define GC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GC_HIDDEN      __attribute__((visibility("hidden")))
#define GC_NOINLINE    __attribute__((noinline))

enum span_state {
    SPAN_DEAD = 0,   /* struct is on the fixalloc free list */
    SPAN_FREE,       /* free pages in the page heap */
    SPAN_SMALL,      /* objects of one span class */
    SPAN_LARGE,      /* one large object */
};

/* Which list a span is on; written under the lock of that list. */
enum span_list_id {
    LIST_NONE = 0,   /* cached by an mcache, or held by a sweeper/allocator */
    LIST_PARTIAL0, LIST_PARTIAL1, LIST_FULL0, LIST_FULL1,
    LIST_LARGE0, LIST_LARGE1,
    LIST_FREE,       /* heap free structures */
};

struct mcache;

struct span {
    uintptr_t base;            /* first byte; immutable while in use */
    size_t npages;             /* pages; immutable while in use */
    uintptr_t limit;           /* end of the last object (small) or of the span */
    struct span *next, *prev;  /* list links (central, large, heap exact lists) */
    struct span *left, *right; /* treap links for free runs >= GC_FREE_SMALL_RUNS pages */
    uint32_t prio;             /* treap priority */
    uint32_t elemsize;         /* bytes per object (large: npages * page size, capped) */
    uint32_t nelems;           /* objects in the span */
    uint32_t divmul;           /* (off * divmul) >> 32 == off / elemsize for off < span bytes */
    uint16_t spanclass;        /* size class << 1 | noscan, or GC_SPANCLASS_TINY */
    uint8_t state;             /* enum span_state; heap->lock */
    uint8_t list;              /* enum span_list_id */
    uint8_t needzero;          /* 1: freed objects may hold old bytes */
    uint8_t noscan;            /* objects hold no pointers */
    uint8_t nwords;            /* bitmap words */
    uint32_t sweepgen;         /* atomic; see "Sweep generations" */
    uint32_t alloc_count;      /* atomic; allocated objects incl. claimed words */
    uint32_t nfinalizers;      /* atomic; objects with a finalizer (gc_free checks) */
    uint32_t nsampled;         /* prof_lock; profiler-sampled objects (profile.c) */
    uint32_t cache_word;       /* owner only: word index of alloc_cache */
    uint64_t alloc_cache;      /* owner only: free slots of cache_word, 1 = free */
    struct mcache *owner;      /* mcache caching the span, or NULL */
    uint64_t *alloc_bits;      /* 1 = allocated; nwords words */
    uint64_t *mark_bits;       /* 1 = marked; nwords words */
    uint64_t large_size;       /* large: requested size rounded to 8, for stats */
};

/* One per span class. */
struct central {
    pthread_mutex_t lock;
    struct span *partial[2];   /* doubly linked lists, see "Central lists" */
    struct span *full[2];
    uint16_t spanclass;
};

/* Fixed-size allocator for metadata (Go's fixalloc): never returns memory. */
struct fixalloc {
    pthread_mutex_t lock;
    size_t size;               /* bytes per object */
    void *free;                /* free list */
    char *chunk, *chunk_end;   /* bump region */
    void (*first)(void *obj);  /* called once for each object on its first allocation */
};

/* Per-thread cache.  Only the owning thread reads or writes it, except with
 * the world stopped. */
struct mcache {
    struct span *alloc[GC_NUM_SPANCLASSES];   /* current span; &gci_empty_span if none */
    void *freelist[GC_NUM_SPANCLASSES];       /* objects freed by this thread (gc_free) */
    uint32_t freelist_len[GC_NUM_SPANCLASSES];
    uintptr_t tiny;            /* current tiny block, or 0 */
    uint32_t tiny_off;         /* bytes used in the tiny block */
    /* statistics not yet folded into the globals (flushed with the world stopped) */
    uint64_t nmalloc[GC_NUM_SPANCLASSES];
    uint64_t nfree[GC_NUM_SPANCLASSES];
    uint64_t ntiny;            /* allocations served from tiny blocks */
    uint64_t stress_count;     /* allocations since the last stress collection */
    int64_t next_sample;       /* profiler: bytes until the next sampled allocation (profile.c) */
    uint64_t sample_rng;       /* profiler: xorshift state drawing next_sample */
};

/* A registered thread.  Lives in metadata memory; on gc.threads under
 * gc.threads_lock. */
struct gthread {
    struct gthread *next, *prev;
    pthread_t tid;
    uintptr_t stack_hi;        /* highest address of the stack (exclusive) */
    volatile uintptr_t stack_lo;  /* sp saved when suspended */
    uintptr_t sig_regs[32];    /* general registers at the suspend signal (stw.c) */
    uint32_t nsig_regs;        /* 0 when suspended at a critical-section exit */
    volatile int in_critical;  /* inside the allocator: suspension is deferred */
    union {                    /* acted on at critical exit; each byte has one writer */
        struct {
            volatile uint8_t suspend;  /* set by the suspend signal handler */
            volatile uint8_t gc;       /* set by the thread itself: start a cycle */
        } f;
        volatile uint16_t any;
    } pending;
    uint64_t stress_every;     /* copy of gci->stress_every */
    int is_main;
    /* concurrent marking (barrier.c, mark.c): owner only, or world stopped */
    uint32_t wb_n;             /* pointers buffered by the write barrier */
    uintptr_t wb_buf[256];     /* to shade; flushed into the mark work when full */
    int64_t assist_credit;     /* bytes of scan work done ahead (>0) or owed (<0) */
    uint64_t assist_cpu_ns;    /* CPU spent in mark assists */
    struct mcache cache;
};


/* A root range added with gc_add_roots. */
struct root_range { uintptr_t lo, hi; };

/* Mark work: a range of words to scan. */
struct mark_item { uintptr_t lo, len; };
#define WBUF_ITEMS 254
struct wbuf {
    struct wbuf *next;
    uint64_t n;
    struct mark_item items[WBUF_ITEMS];
};

#endif
