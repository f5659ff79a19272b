/* mark.c - tri-color marking, in parallel, with the world stopped.
 *
 * Tri-color invariant (Dijkstra; the same words as Lua's lgc.h):
 *   white  = mark bit clear: not yet known to be reachable;
 *   grey   = mark bit set, range still in a work buffer: its words are
 *            still to be scanned;
 *   black  = mark bit set and scanned.
 * With the world stopped no black object can gain a pointer to a white
 * one, so when the work buffers are empty every object reachable from the
 * roots is black and every white object is garbage.  (Concurrent marking
 * needs the write barrier in barrier.c to keep this true.)
 *
 * Owns: mark bits (set with atomic OR, so parallel markers agree on who
 * turned an object grey), the work pool, and the marking threads.
 * Work is a stack of (start, length) ranges in 4 KiB buffers: each marker
 * keeps one buffer and trades full/empty ones through a locked pool, so
 * marking never recurses on the C stack (a 10-million-node list is a loop).
 * Ranges longer than SCAN_CHUNK are split, so one big object or data
 * segment is scanned by several markers.
 * Termination: a marker with no local work waits on the pool; when all
 * markers wait and the pool is empty, marking is done.
 */
#include "gc_internal.h"
#include <signal.h>
#include <sched.h>
#include <errno.h>

#define SCAN_CHUNK (128 * 1024)
#define MAX_MARKERS 256

/* One per marking thread, each on its own cache lines: marked_bytes is
 * written for every object marked, and sharing a line between markers made
 * two markers slower than one. */
struct marker {
    struct wbuf *cur;
    uint64_t marked_bytes;
    uint64_t cpu_ns;
} __attribute__((aligned(128)));

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work_cond;      /* pool gained work, or marking is done */
    pthread_cond_t start_cond;     /* helpers: a new round started */
    pthread_cond_t end_cond;       /* collector: a helper finished its round */
    struct wbuf *full;             /* buffers with work */
    struct wbuf *empty;            /* recycled buffers */
    int nwaiting;                  /* markers without work (spinning or asleep) */
    int nsleeping;                 /* of those, blocked on work_cond */
    int nworkers;                  /* markers in this round */
    int done;
    unsigned round;                /* bumped to start helpers */
    int helpers_running;
    int nhelpers;                  /* helper threads created */
    struct marker m[MAX_MARKERS];  /* m[0] is the collector */
} pool;

static struct wbuf *wbuf_get(void)
{
    struct wbuf *b;
    pthread_mutex_lock(&pool.lock);
    b = pool.empty;
    if (b)
        pool.empty = b->next;
    pthread_mutex_unlock(&pool.lock);
    if (!b) {
        b = gci_fixalloc_alloc(&gci->wbuf_fa);
        if (!b)
            gci_fatal("out of memory for mark work buffers");
    }
    b->n = 0;
    b->next = NULL;
    return b;
}

/* Publishes b to the pool.  pool.lock held. */
static void publish_locked(struct wbuf *b)
{
    b->next = pool.full;
    __atomic_store_n(&pool.full, b, __ATOMIC_RELEASE);
    if (pool.nsleeping)
        pthread_cond_signal(&pool.work_cond);
}

/* Returns a buffer to the pool: as work if it holds any, else for reuse.
 * pool.lock held. */
static void give_back_locked(struct wbuf *b)
{
    if (b->n) {
        publish_locked(b);
    } else {
        b->next = pool.empty;
        pool.empty = b;
    }
}

static inline void push(struct marker *m, uintptr_t lo, uintptr_t len)
{
    struct wbuf *b = m->cur;
    if (GC_UNLIKELY(b->n == WBUF_ITEMS)) {
        pthread_mutex_lock(&pool.lock);
        publish_locked(b);
        pthread_mutex_unlock(&pool.lock);
        b = m->cur = wbuf_get();
    }
    b->items[b->n++] = (struct mark_item){lo, len};
}

/* Markers in the current round; with one, mark bits need no atomics. */
static int mark_shared;

/* Sets bit `bit` of *w; returns its old value.  One `lock bts` when markers
 * run in parallel (a fetch_or whose result is tested compiles to a
 * cmpxchg loop, which profiling showed spinning under contention), a plain
 * read-modify-write when there is a single marker. */
static inline int test_and_set(uint64_t *w, unsigned bit)
{
#if defined(__x86_64__)
    if (mark_shared) {
        unsigned char old;
        __asm__ volatile("lock btsq %2, %0\n\tsetc %1" : "+m"(*w), "=q"(old) : "r"((uint64_t)bit) : "memory", "cc");
        return old;
    }
#else
    if (mark_shared)
        return (int)((__atomic_fetch_or(w, 1ull << bit, __ATOMIC_RELAXED) >> bit) & 1);
#endif
    uint64_t old = *w;
    *w = old | (1ull << bit);
    return (int)((old >> bit) & 1);
}

/* Turns the object containing v grey (or black if noscan). */
static inline void shade(struct marker *m, uintptr_t v)
{
    uintptr_t base;
    uint32_t idx;
    struct span *s = gci_find_object(v, &base, &idx);
    if (!s)
        return;
    uint64_t *w = &s->mark_bits[idx >> 6];
    if ((__atomic_load_n(w, __ATOMIC_RELAXED) >> (idx & 63)) & 1)
        return;
    if (test_and_set(w, idx & 63))
        return;
    uintptr_t size = s->state == SPAN_LARGE ? s->npages * GC_PAGE_SIZE : s->elemsize;
    m->marked_bytes += size;
    if (!s->noscan) {
        __builtin_prefetch((const void *)base);   /* scanned soon: the work list is LIFO */
        push(m, base, size);
    }
}

static void scan_range(struct marker *m, uintptr_t lo, uintptr_t len)
{
    if (len > SCAN_CHUNK) {
        push(m, lo + SCAN_CHUNK, len - SCAN_CHUNK);
        len = SCAN_CHUNK;
    }
    uintptr_t hlo = gci->heap_lo, hspan = gci->heap_hi - hlo;
    uintptr_t p = (lo + 7) & ~(uintptr_t)7, end = lo + len;
    for (; p + sizeof(uintptr_t) <= end; p += sizeof(uintptr_t)) {
        uintptr_t v = *(const uintptr_t *)p;
        if (v - hlo < hspan)
            shade(m, v);
    }
}

/* Drains work until every marker is idle. */
static void drain(struct marker *m)
{
    for (;;) {
        struct wbuf *b = m->cur;
        unsigned tick = 0;
        while (b->n) {
            struct mark_item it = b->items[--b->n];
            scan_range(m, it.lo, it.len);
            b = m->cur;
            /* Share work when others starve (checked every 32 items: the
             * shared counter's cache line is written by waiting markers). */
            if (GC_UNLIKELY((++tick & 31) == 0) && b->n > 16 &&
                __atomic_load_n(&pool.nwaiting, __ATOMIC_RELAXED)) {
                struct wbuf *half = wbuf_get();
                uint64_t k = b->n / 2;
                memcpy(half->items, b->items + (b->n - k), k * sizeof(struct mark_item));
                half->n = k;
                b->n -= k;
                pthread_mutex_lock(&pool.lock);
                publish_locked(half);
                pthread_mutex_unlock(&pool.lock);
            }
        }
        pthread_mutex_lock(&pool.lock);
        for (;;) {
            if (pool.full) {
                struct wbuf *nb = pool.full;
                pool.full = nb->next;
                nb->next = NULL;
                /* recycle our empty buffer */
                b->next = pool.empty;
                pool.empty = b;
                m->cur = nb;
                break;
            }
            if (pool.done) {
                pthread_mutex_unlock(&pool.lock);
                return;
            }
            pool.nwaiting++;
            if (pool.nwaiting == pool.nworkers) {
                __atomic_store_n(&pool.done, 1, __ATOMIC_RELEASE);
                pool.nwaiting--;
                pthread_cond_broadcast(&pool.work_cond);
                pthread_mutex_unlock(&pool.lock);
                return;
            }
            /* Spin a little before sleeping: work usually reappears within
             * microseconds (another marker splits its buffer), and a futex
             * sleep/wake per hand-over made parallel marking slower than one
             * marker (bench/binary_trees). */
            /* (Spinning is short and then yields: on a loaded machine the
             * marker that holds the work may be waiting for this CPU.) */
            pthread_mutex_unlock(&pool.lock);
            for (int spin = 0; spin < 2000; spin++) {
                if (__atomic_load_n(&pool.full, __ATOMIC_ACQUIRE) || __atomic_load_n(&pool.done, __ATOMIC_ACQUIRE))
                    break;
                if (spin < 200)
                    __builtin_ia32_pause();
                else
                    sched_yield();
            }
            pthread_mutex_lock(&pool.lock);
            if (!pool.full && !pool.done) {
                pool.nsleeping++;
                pthread_cond_wait(&pool.work_cond, &pool.lock);
                pool.nsleeping--;
            }
            pool.nwaiting--;
        }
        pthread_mutex_unlock(&pool.lock);
    }
}

static void run_marker(struct marker *m)
{
    uint64_t t0 = gci_thread_cputime();
    if (!m->cur)
        m->cur = wbuf_get();
    drain(m);
    m->cpu_ns += gci_thread_cputime() - t0;
}

static void *helper_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    unsigned seen = 0;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.round == seen || id >= pool.nworkers)
            pthread_cond_wait(&pool.start_cond, &pool.lock);
        seen = pool.round;
        pthread_mutex_unlock(&pool.lock);
        run_marker(&pool.m[id]);
        pthread_mutex_lock(&pool.lock);
        pool.helpers_running--;
        pthread_cond_signal(&pool.end_cond);
    }
    return NULL;
}

void gci_mark_init(void)
{
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.work_cond, NULL);
    pthread_cond_init(&pool.start_cond, NULL);
    pthread_cond_init(&pool.end_cond, NULL);
    gci_fixalloc_init(&gci->wbuf_fa, sizeof(struct wbuf), NULL);
    if (gci->procs > MAX_MARKERS)
        gci->procs = MAX_MARKERS;
}

/* Reinitialises after fork: helper threads do not exist in the child. */
void gci_mark_after_fork_child(void)
{
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.work_cond, NULL);
    pthread_cond_init(&pool.start_cond, NULL);
    pthread_cond_init(&pool.end_cond, NULL);
    pool.nhelpers = 0;
    pool.helpers_running = 0;
}

static void start_helpers(int want)
{
    while (pool.nhelpers < want &&
           gci_start_internal_thread(helper_main, (void *)(intptr_t)(pool.nhelpers + 1)) == 0)
        pool.nhelpers++;
}

/* Root mode (the pause that starts a concurrent cycle): root ranges are
 * scanned at once, so the snapshot is taken with the world stopped; only
 * the objects they reach are left as work. */
static int root_mode;
void gci_mark_set_root_mode(int on) { root_mode = on; }

void gci_mark_push_range(uintptr_t lo, uintptr_t hi)
{
    struct marker *m = &pool.m[0];
    if (!m->cur)
        m->cur = wbuf_get();
    if (hi <= lo)
        return;
    if (root_mode) {
        for (uintptr_t p = lo; p < hi; p += SCAN_CHUNK) {
            uintptr_t len = hi - p < SCAN_CHUNK ? hi - p : SCAN_CHUNK;
            scan_range(m, p, len);
        }
        return;
    }
    push(m, lo, hi - lo);
}

int gci_mark_object(uintptr_t p, int scan)
{
    uintptr_t base;
    uint32_t idx;
    struct marker *m = &pool.m[0];
    struct span *s = gci_find_object(p, &base, &idx);
    if (!s)
        return 0;
    if (test_and_set(&s->mark_bits[idx >> 6], idx & 63))
        return 0;
    uintptr_t size = s->state == SPAN_LARGE ? s->npages * GC_PAGE_SIZE : s->elemsize;
    m->marked_bytes += size;
    if (scan && !s->noscan)
        gci_mark_push_range(base, base + size);
    return 1;
}

int gci_is_marked(uintptr_t p)
{
    uintptr_t base;
    uint32_t idx;
    struct span *s = gci_find_object(p, &base, &idx);
    return s && gci_span_bit(s->mark_bits, idx);
}

void gci_mark_run(void)
{
    int n = gci->procs;
    /* Move the collector's pushed work to the pool so helpers can take it. */
    pthread_mutex_lock(&pool.lock);
    if (n > 1)
        start_helpers(n - 1);
    n = pool.nhelpers + 1 < n ? pool.nhelpers + 1 : n;
    pool.nworkers = n;
    mark_shared = n > 1;
    pool.done = 0;
    pool.nwaiting = 0;
    pool.nsleeping = 0;
    if (n > 1) {
        pool.helpers_running = n - 1;
        pool.round++;
        pthread_cond_broadcast(&pool.start_cond);
    }
    pthread_mutex_unlock(&pool.lock);
    run_marker(&pool.m[0]);
    pthread_mutex_lock(&pool.lock);
    while (pool.helpers_running > 0)
        pthread_cond_wait(&pool.end_cond, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}

/* ---- concurrent marking ----
 * Besides the markers of gci_mark_run (used with the world stopped), work
 * is done while the program runs by the cycle's driver (collect.c), by
 * mark assists of allocating threads, and by write-barrier flushes.  They
 * take and give back whole buffers through the pool; `active` counts those
 * holding one, so "pool empty and active == 0" means no work exists except
 * what is still in per-thread barrier buffers (flushed at termination). */
static int active;                 /* pool.lock */
static uint64_t extra_marked;      /* atomic: bytes marked outside pool.m[] */

void gci_mark_new_object(uintptr_t p)
{
    uintptr_t base;
    uint32_t idx;
    struct span *s = gci_find_object(p, &base, &idx);
    if (s)
        test_and_set(&s->mark_bits[idx >> 6], idx & 63);
}

void gci_wb_flush(struct gthread *t)
{
    struct marker m __attribute__((aligned(128)));
    memset(&m, 0, sizeof m);
    m.cur = wbuf_get();
    for (uint32_t i = 0; i < t->wb_n; i++)
        shade(&m, t->wb_buf[i]);
    t->wb_n = 0;
    pthread_mutex_lock(&pool.lock);
    give_back_locked(m.cur);
    pthread_mutex_unlock(&pool.lock);
    gci_add(&extra_marked, m.marked_bytes);
}

void gci_mark_begin_concurrent(void)
{
    mark_shared = 1;
    pthread_mutex_lock(&pool.lock);
    struct marker *m = &pool.m[0];
    if (m->cur && m->cur->n) {
        publish_locked(m->cur);
        m->cur = NULL;
    }
    active = 0;
    pthread_mutex_unlock(&pool.lock);
}

void gci_mark_end_concurrent(void)
{
    /* mark_shared is set again by gci_mark_run for the final drain. */
}

int gci_mark_concurrent_work(uint64_t budget, uint64_t *cpu_ns)
{
    pthread_mutex_lock(&pool.lock);
    struct wbuf *b = pool.full;
    if (b) {
        pool.full = b->next;
        b->next = NULL;
        active++;
    }
    pthread_mutex_unlock(&pool.lock);
    if (!b)
        return 0;
    uint64_t t0 = cpu_ns ? gci_thread_cputime() : 0;
    struct marker m __attribute__((aligned(128)));
    memset(&m, 0, sizeof m);
    m.cur = b;
    uint64_t done = 0;
    while (m.cur->n && done < budget) {
        struct mark_item it = m.cur->items[--m.cur->n];
        done += it.len < SCAN_CHUNK ? it.len : SCAN_CHUNK;
        scan_range(&m, it.lo, it.len);
    }
    pthread_mutex_lock(&pool.lock);
    give_back_locked(m.cur);
    active--;
    pthread_mutex_unlock(&pool.lock);
    gci_add(&extra_marked, m.marked_bytes);
    gci_add(&gci->mark_scanned, done);
    if (cpu_ns)
        *cpu_ns += gci_thread_cputime() - t0;
    return 1;
}

int gci_mark_concurrent_idle(void)
{
    pthread_mutex_lock(&pool.lock);
    int idle = !pool.full && active == 0;
    pthread_mutex_unlock(&pool.lock);
    return idle;
}

/* An allocating thread pays for what it allocates during marking with scan
 * work (Go's mark assist), so marking keeps up with allocation and the
 * cycle ends near the heap goal.  Inside a critical section. */
void gci_mark_assist(struct gthread *t, uint64_t bytes)
{
    uint64_t cpu = 0;
    uint64_t before = gci_load(&gci->mark_scanned);
    while (gci_load(&gci->mark_scanned) - before < bytes)
        if (!gci_mark_concurrent_work(bytes, &cpu))
            break;   /* no work to take: nothing to pay for now */
    uint64_t did = gci_load(&gci->mark_scanned) - before;
    t->assist_credit += (int64_t)did;
    t->assist_cpu_ns += cpu;
    gci_add(&gci->assist_cpu_ns, cpu);
}

/* ---- GODEBUG=gccheckmark=1 ----
 * With the world stopped after concurrent marking (and its final drain),
 * check the tri-color invariant's end state: no marked object refers to an
 * unmarked one.  With a correct barrier this holds: everything reachable at
 * the snapshot is marked (deletions are shaded), objects allocated since are
 * black, and stores into old objects shade what they store.  A store that
 * bypassed gc_store leaves a marked object pointing at an unmarked one.
 * Roots are not re-scanned: they were scanned whole in the snapshot, and
 * stacks re-read now hold stale words (dead frames, the red zone) that would
 * be reported as reachable although nothing can use them (a re-mark from
 * roots did exactly that).  The first violation aborts, naming both objects. */
#ifdef GC_TESTING
/* The hidden object, complemented so that this .bss word is not a root. */
static uintptr_t test_hide_inv;
static uint64_t test_checkmark_runs;

void gci_test_hide_from_mark(void *obj)
{
    __atomic_store_n(&test_hide_inv, ~(uintptr_t)obj, __ATOMIC_RELEASE);
}

void gci_test_apply_hide(void)
{
    uintptr_t inv = __atomic_exchange_n(&test_hide_inv, 0, __ATOMIC_ACQ_REL), base;
    uint32_t idx;
    if (!inv)
        return;
    struct span *s = gci_find_object(~inv, &base, &idx);
    if (s)
        __atomic_and_fetch(&s->mark_bits[idx >> 6], ~(1ull << (idx & 63)), __ATOMIC_RELAXED);
}

uint64_t gci_test_checkmark_runs(void)
{
    return __atomic_load_n(&test_checkmark_runs, __ATOMIC_ACQUIRE);
}
#endif

void gci_checkmark_verify(void)
{
#ifdef GC_TESTING
    __atomic_add_fetch(&test_checkmark_runs, 1, __ATOMIC_RELEASE);
#endif
    uint64_t n = gci_load(&gci->nallspans);
    uintptr_t hlo = gci->heap_lo, hspan = gci->heap_hi - hlo;
    for (uint64_t i = 0; i < n; i++) {
        struct span *s = gci->allspans[i];
        if ((s->state != SPAN_SMALL && s->state != SPAN_LARGE) || s->noscan)
            continue;
        uint32_t nel = s->state == SPAN_LARGE ? 1 : s->nelems;
        uintptr_t size = s->state == SPAN_LARGE ? s->npages * GC_PAGE_SIZE : s->elemsize;
        for (uint32_t k = 0; k < nel; k++) {
            if (!gci_span_bit(s->mark_bits, k) || !gci_span_bit(s->alloc_bits, k))
                continue;
            uintptr_t obj = s->base + (uintptr_t)k * size;
            for (uintptr_t q = obj; q + 8 <= obj + size; q += 8) {
                uintptr_t v = *(const uintptr_t *)q, base;
                uint32_t idx;
                if (v - hlo >= hspan)
                    continue;
                struct span *t = gci_find_object(v, &base, &idx);
                if (t && !gci_span_bit(t->mark_bits, idx))
                    gci_fatal("gccheckmark: object %p (%lu bytes, span class %u) is referenced from marked object "
                              "%p (word at offset %lu) but concurrent marking did not mark it: a pointer store "
                              "into the gc heap bypassed gc_store/GC_STORE/gc_memmove",
                              (void *)base,
                              (unsigned long)(t->state == SPAN_LARGE ? t->npages * GC_PAGE_SIZE : t->elemsize),
                              t->spanclass, (void *)obj, (unsigned long)(q - obj));
            }
        }
    }
}

uint64_t gci_mark_take_marked_bytes(void)
{
    uint64_t sum = __atomic_exchange_n(&extra_marked, 0, __ATOMIC_ACQ_REL);
    for (int i = 0; i < MAX_MARKERS; i++) {
        sum += pool.m[i].marked_bytes;
        pool.m[i].marked_bytes = 0;
    }
    return sum;
}

uint64_t gci_mark_take_cpu_ns(void)
{
    uint64_t sum = 0;
    for (int i = 0; i < MAX_MARKERS; i++) {
        sum += pool.m[i].cpu_ns;
        pool.m[i].cpu_ns = 0;
    }
    return sum;
}
