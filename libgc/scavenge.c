/* scavenge.c - the soft memory limit (GOMEMLIMIT): the scavenger's policy,
 * the memory-limit heap goal and the GC CPU limiter (Go 1.19 semantics).
 *
 * See malloc.c for the overview; the releasing mechanism (released-page
 * bitmaps, which runs are released first) is in heap.c.
 *
 * Retained memory is what the runtime holds resident, as Go counts it:
 *   retained == heap_sys - heap_released + metadata_sys
 * Three things return free pages to the OS (gci_os_release, MADV_DONTNEED):
 *   1. Ageing, after every cycle (gci_scavenge_after_cycle): free runs that
 *      were already free at an earlier cycle end, and have stayed free for
 *      at least GC_SCAVENGE_MIN_AGE_NS since then.  Each cycle end closes a
 *      scavenger epoch; a run is stamped with the epoch in which it became
 *      free (heap.c), and epoch_end[] remembers when each epoch closed.
 *   2. The limit, after every cycle: enough to bring retained down to 95%
 *      of the limit (Go's scavenger aims at the same 95%), and when the
 *      heap grows past the limit, up to the growth at once (Go's
 *      mheap.grow).
 *   3. gc_free_os_memory: everything (gci_scavenge_all).
 * Releasing takes heap_lock inside a critical section (as every registered
 * holder of an allocator lock must; unregistered internal threads are never
 * stopped and need none), at most SCAVENGE_CHUNK_PAGES per hold, so a
 * stop-the-world or an allocation waits for one chunk's madvise at most.
 * The entry points must be called outside any critical section.
 *
 * The heap goal under a limit (gci_limit_heap_goal) is the limit minus what
 * is not heap objects: metadata and free unreleased pages, minus headroom.
 * With the live heap close to or above the limit that goal would have the
 * collector run continuously; the GC CPU limiter (gci_limiter_*) detects
 * GC using more than half the CPU over about a second, and while it is on
 * the pacer's memory-limit term (gci_memlimit_goal) lets the heap grow by
 * what the program allocates in twice the last GC time, but by no more
 * than the marked heap (what GOGC=100 would allow): the limit is exceeded
 * instead of the program stalling (Go's death-spiral guard).
 *
 * Synchronisation: the epoch ring with heap_lock; the limiter with
 * gc_mutex (it is stepped and read by the collector and gc_read_stats),
 * its `enabled` flag also atomically for lock-free readers.
 * This file's static state holds no heap pointers (data segments are
 * roots, and that is harmless here).
 */
#include "gc_internal.h"
#include "scavenge.h"

/* 2 MiB per heap_lock hold: releasing 510 MiB in such chunks took 21-32 ms
 * (about 0.1 ms per chunk; the first chunk of a huge-page-backed run up to
 * 7 ms), measured on a 2-CPU VM with a 512 MiB freed object. */
#define SCAVENGE_CHUNK_PAGES ((size_t)256)
#define GC_SCAVENGE_MIN_AGE_NS ((uint64_t)1000000000)   /* "returns pages free for more than ~1 s" */
#define EPOCH_RING 256
#define LIMIT_RETAIN_PERCENT 95                 /* Go's scavenger goal: 95% of the limit */
#define LIMIT_HEADROOM_PERCENT 3                /* Go's memoryLimitHeapGoalHeadroomPercent */
#define LIMIT_MIN_HEADROOM ((uint64_t)1 << 20)  /* Go's memoryLimitMinHeapGoalHeadroom */
#define LIMITER_CAPACITY_PER_PROC_NS ((uint64_t)1000000000)   /* Go: 1 s of CPU per P */
#define LIMITER_MIN_BUDGET ((uint64_t)1 << 20)
#define LIMITER_MAX_BUDGET ((uint64_t)1 << 40)

static struct {
    uint64_t epoch_end[EPOCH_RING];   /* nanotime when epoch e closed, at [e % EPOCH_RING]; heap_lock */
    uint64_t nended;                  /* epochs closed; heap_lock */
    uint64_t min_age_ns;              /* atomic */
    struct gci_limiter lim;           /* gc_mutex; lim.enabled also atomic */
    uint64_t last_note_ns;            /* gc_mutex */
    uint64_t last_alloc_total;        /* bytes allocated at the last note; gc_mutex */
} scav = {.min_age_ns = GC_SCAVENGE_MIN_AGE_NS};

uint64_t gci_scavenge_set_min_age(uint64_t ns)
{
    return __atomic_exchange_n(&scav.min_age_ns, ns, __ATOMIC_RELAXED);
}

/* ---- releasing ---- */

/* Enters a critical section if the caller is a registered thread.  An
 * internal thread (the background sweeper, a GC controller) is never
 * stopped, so it may hold heap_lock without one; registering it instead
 * would make the world-stopper wait for a thread that blocks the suspend
 * signal. */
static struct gthread *enter(void)
{
    return gci_self ? gci_crit_enter() : NULL;
}

static void leave(struct gthread *t)
{
    if (t)
        gci_crit_exit(t);
}

static size_t scavenge_pages(size_t pages, int aged, uint32_t cutoff)
{
    size_t done = 0;
    gci_init();
    while (done < pages) {
        size_t want = pages - done < SCAVENGE_CHUNK_PAGES ? pages - done : SCAVENGE_CHUNK_PAGES;
        struct gthread *t = enter();
        pthread_mutex_lock(&gci->heap_lock);
        size_t n = gci_heap_scavenge_locked(want, aged, cutoff);
        pthread_mutex_unlock(&gci->heap_lock);
        leave(t);
        done += n;
        if (n < want)
            break;   /* nothing left that qualifies */
    }
    return done;
}

size_t gci_scavenge(size_t bytes)
{
    if (bytes == 0)
        return 0;
    size_t pages = bytes / GC_PAGE_SIZE;
    return scavenge_pages(pages ? pages : 1, 0, 0) * GC_PAGE_SIZE;
}

void gci_scavenge_all(void)
{
    scavenge_pages(SIZE_MAX, 0, 0);
}

/* heap_lock held (or a relaxed snapshot: each field is read atomically). */
static uint64_t retained_bytes(void)
{
    uint64_t sys = gci_load_relaxed(&gci->heap_sys);
    uint64_t rel = gci_load_relaxed(&gci->pages_released) * GC_PAGE_SIZE;
    return (sys > rel ? sys - rel : 0) + gci_load_relaxed(&gci->metadata_sys);
}

static uint64_t limit_retain_target(int64_t limit)
{
    return (uint64_t)limit / 100 * LIMIT_RETAIN_PERCENT;
}

void gci_scavenge_on_grow_locked(size_t grown)
{
    int64_t limit = gci_load_relaxed(&gci->memory_limit);
    if (limit == INT64_MAX || limit < 0)
        return;
    uint64_t retained = retained_bytes();
    if (retained <= (uint64_t)limit)
        return;
    uint64_t over = retained - limit_retain_target(limit);
    if (over > grown)
        over = grown;
    gci_heap_scavenge_locked((over + GC_PAGE_SIZE - 1) / GC_PAGE_SIZE, 0, 0);
}

void gci_scavenge_after_cycle(void)
{
    gci_init();
    uint64_t now = gci_nanotime();
    uint64_t min_age = gci_load_relaxed(&scav.min_age_ns);
    int aged = 0;
    uint32_t cutoff = 0;

    struct gthread *t = enter();
    pthread_mutex_lock(&gci->heap_lock);
    uint32_t e = gci_heap_scav_advance_epoch();   /* epoch e closes now */
    scav.epoch_end[e % EPOCH_RING] = now;
    scav.nended++;
    /* Runs stamped x were free when epoch x closed.  Only runs free at an
     * earlier cycle end qualify (x < e), and only once that end is
     * min_age old: find the newest such x; runs stamped <= x go. */
    for (uint32_t k = 1; k < EPOCH_RING && k < scav.nended; k++) {
        uint32_t x = e - k;
        if (scav.epoch_end[x % EPOCH_RING] + min_age <= now) {
            aged = 1;
            cutoff = x + 1;
            break;
        }
    }
    if (!aged && scav.nended > EPOCH_RING) {
        aged = 1;   /* free for more than EPOCH_RING cycles: old enough */
        cutoff = e - (EPOCH_RING - 1);
    }
    pthread_mutex_unlock(&gci->heap_lock);
    leave(t);

    if (aged)
        scavenge_pages(SIZE_MAX, 1, cutoff);

    int64_t limit = gci_load_relaxed(&gci->memory_limit);
    if (limit != INT64_MAX && limit >= 0) {
        uint64_t retained = retained_bytes(), target = limit_retain_target(limit);
        if (retained > target)
            scavenge_pages((retained - target + GC_PAGE_SIZE - 1) / GC_PAGE_SIZE, 0, 0);
    }
}

/* ---- the memory-limit heap goal ---- */

uint64_t gci_limit_goal_calc(int64_t limit, uint64_t heap_sys, uint64_t heap_inuse, uint64_t released,
                             uint64_t metadata, uint64_t marked)
{
    if (limit < 0 || limit == INT64_MAX)
        return UINT64_MAX;
    uint64_t floor = marked + GC_LIMIT_MIN_GROWTH;
    if (floor < marked)
        return UINT64_MAX;
    uint64_t idle = heap_sys > heap_inuse + released ? heap_sys - heap_inuse - released : 0;
    uint64_t overhead = metadata + idle, lim = (uint64_t)limit;
    if (overhead >= lim)
        return floor;   /* the limit cannot be met: as low as allowed */
    uint64_t goal = lim - overhead;
    uint64_t headroom = goal / 100 * LIMIT_HEADROOM_PERCENT;
    if (headroom < LIMIT_MIN_HEADROOM)
        headroom = LIMIT_MIN_HEADROOM;
    goal = goal > headroom ? goal - headroom : 0;
    return goal < floor ? floor : goal;
}

uint64_t gci_limit_heap_goal(void)
{
    int64_t limit = gci_load_relaxed(&gci->memory_limit);
    if (limit == INT64_MAX || limit < 0)
        return UINT64_MAX;
    return gci_limit_goal_calc(limit, gci_load_relaxed(&gci->heap_sys),
                               gci_load_relaxed(&gci->pages_inuse) * GC_PAGE_SIZE,
                               gci_load_relaxed(&gci->pages_released) * GC_PAGE_SIZE,
                               gci_load_relaxed(&gci->metadata_sys), gci_load_relaxed(&gci->heap_marked));
}

uint64_t gci_memlimit_goal(void)
{
    uint64_t goal = gci_limit_heap_goal();
    if (goal == UINT64_MAX || !gci_limiter_active())
        return goal;
    /* The budget is a rate measured over a short window: capped at the
     * marked heap, so the limiter never lets the heap grow more than
     * GOGC=100 would. */
    uint64_t marked = gci_load_relaxed(&gci->heap_marked);
    uint64_t budget = scav.lim.budget, cap = marked > LIMITER_MIN_BUDGET ? marked : LIMITER_MIN_BUDGET;
    uint64_t relaxed = marked + (budget < cap ? budget : cap);
    if (relaxed < marked)
        return UINT64_MAX;
    return relaxed > goal ? relaxed : goal;
}

/* ---- the GC CPU limiter ---- */

void gci_limiter_step(struct gci_limiter *l, uint64_t gc_cpu_ns, uint64_t wall_ns, int procs, uint64_t now_ns,
                      uint64_t alloc_bytes)
{
    if (procs < 1)
        procs = 1;
    uint64_t cap = LIMITER_CAPACITY_PER_PROC_NS * (uint64_t)procs;
    uint64_t total = wall_ns > UINT64_MAX / (uint64_t)procs ? UINT64_MAX : wall_ns * (uint64_t)procs;
    uint64_t gc = gc_cpu_ns < total ? gc_cpu_ns : total;
    uint64_t mut = total - gc;
    if (gc > mut) {
        uint64_t change = gc - mut;
        if (change >= cap - l->fill) {
            l->fill = cap;
            if (!l->enabled) {
                __atomic_store_n(&l->enabled, 1, __ATOMIC_RELEASE);
                l->enabled_ns = now_ns;
                l->events++;
            }
        } else {
            l->fill += change;
        }
    } else if (mut > gc) {
        uint64_t change = mut - gc;
        l->fill = l->fill > change ? l->fill - change : 0;
        if (l->enabled) {
            __atomic_store_n(&l->enabled, 0, __ATOMIC_RELEASE);
            l->engaged_ns += now_ns - l->enabled_ns;
        }
    }
    /* While on: let the program run twice as long as the GC just did, at
     * the allocation rate it had between the last two cycles. */
    double gc_wall = (double)gc / procs;
    double mut_wall = (double)wall_ns - gc_wall;
    if (mut_wall < 1000.0)
        mut_wall = 1000.0;
    double budget = (double)alloc_bytes / mut_wall * 2.0 * gc_wall;
    if (!(budget >= (double)LIMITER_MIN_BUDGET))
        budget = (double)LIMITER_MIN_BUDGET;
    if (budget > (double)LIMITER_MAX_BUDGET)
        budget = (double)LIMITER_MAX_BUDGET;
    l->budget = (uint64_t)budget;
}

void gci_limiter_note_cycle(uint64_t gc_cpu_ns, uint64_t wall_ns, int procs)
{
    uint64_t now = gci_nanotime();
    if (wall_ns == 0)
        wall_ns = now - (scav.last_note_ns ? scav.last_note_ns : gci->start_ns);
    scav.last_note_ns = now;
    uint64_t mallocs, frees, alloc_total, free_total;
    gci_stats_totals(&mallocs, &frees, &alloc_total, &free_total);
    uint64_t alloc = alloc_total - scav.last_alloc_total;
    scav.last_alloc_total = alloc_total;
    gci_limiter_step(&scav.lim, gc_cpu_ns, wall_ns, procs, now, alloc);
}

int gci_limiter_active(void)
{
    return __atomic_load_n(&scav.lim.enabled, __ATOMIC_ACQUIRE);
}

void gci_limiter_read(uint64_t *engaged_ns, uint32_t *events, int *active)
{
    int on = gci_limiter_active();
    *engaged_ns = scav.lim.engaged_ns + (on ? gci_nanotime() - scav.lim.enabled_ns : 0);
    *events = scav.lim.events;
    *active = on;
}

#ifdef GC_TESTING
void gci_limiter_reset(void)
{
    memset(&scav.lim, 0, sizeof scav.lim);
    scav.last_note_ns = 0;
}
#endif
