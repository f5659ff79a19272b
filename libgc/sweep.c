/* sweep.c - lazy sweeping.
 *
 * Owns: span->sweepgen transitions, turning mark bits into allocation bits,
 * returning empty spans to the heap, and the background sweeper thread.
 * Invariants (see gc_types.h "Sweep generations"; Go's mspan.sweepgen):
 *   span->sweepgen == sg - 2  => needs sweeping
 *   span->sweepgen == sg - 1  => being swept (owner: the CAS winner)
 *   span->sweepgen == sg      => swept, usable
 * After sweeping a small span: alloc_bits = old mark_bits, mark_bits reset
 * (tail bits set), alloc_count = live objects.  A span is swept by whoever
 * first needs it: an allocator getting a span of its class
 * (mcentral.c), gc_free, the background sweeper, or gc_collect, which
 * finishes all sweeping before it returns.  The sweep queue is the set of
 * unswept central and large lists, visited by sweep_cursor.
 * Sweeping outside a critical section (the background sweeper, the
 * collector) holds sweep_gate for reading, and the collector takes it for
 * writing around the stopped world, so sweepgen never changes under a
 * sweeper.
 */
#include "gc_internal.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_rwlock_t sweep_gate = PTHREAD_RWLOCK_INITIALIZER;

void gci_sweep_gate_lock(void) { pthread_rwlock_wrlock(&sweep_gate); }
void gci_sweep_gate_unlock(void) { pthread_rwlock_unlock(&sweep_gate); }
void gci_sweep_gate_reinit(void) { pthread_rwlock_init(&sweep_gate, NULL); }

uint32_t gci_sweep_span(struct span *s)
{
    uint32_t sg = gci_load(&gci->sweepgen);
    gc_assert_internal(s->sweepgen == sg - 1);
    uint32_t freed = 0;
    if (s->state == SPAN_LARGE) {
        uint64_t a = gci_load(&s->alloc_bits[0]), m = s->mark_bits[0];
        if ((a & 1) && !(m & 1)) {
            __atomic_fetch_and(&s->alloc_bits[0], ~1ull, __ATOMIC_ACQ_REL);
            gci_add(&gci->large_free_bytes, s->npages * GC_PAGE_SIZE);
            gci_add(&gci->large_frees, 1);
            freed = 1;
            if (gci_load(&s->nsampled))
                gci_prof_swept_dead(s, 0, 1);
        }
        s->mark_bits[0] = ~1ull;
    } else {
        unsigned nw = s->nwords, tail = s->nelems & 63;
        uint32_t live = 0;
        for (unsigned w = 0; w < nw; w++) {
            uint64_t a = gci_load(&s->alloc_bits[w]), m = s->mark_bits[w];
            uint64_t dead = a & ~m;
            if (dead) {
                freed += (uint32_t)__builtin_popcountll(dead);
                if (gci_load(&s->nsampled))
                    gci_prof_swept_dead(s, w, dead);
#if GCTUNE_DEBUG >= 1
                for (uint64_t d = dead; d; d &= d - 1) {
                    uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(d);
                    memset((void *)(s->base + (uintptr_t)i * s->elemsize), GC_POISON_FREED, s->elemsize);
                }
#endif
            }
            /* a & m, not m: a conservative hit on a slot that an mcache
             * had claimed but not handed out (concurrent marking) must not
             * turn it into an allocated object. */
            uint64_t keep = a & m;
            __atomic_store_n(&s->alloc_bits[w], keep, __ATOMIC_RELEASE);
            live += (uint32_t)__builtin_popcountll(keep);
            s->mark_bits[w] = (w == nw - 1 && tail) ? ~0ull << tail : 0;
        }
        if (tail)
            live -= 64 - tail;
        gci_store(&s->alloc_count, live);
        if (freed) {
            s->needzero = 1;
            gci_add(&gci->nfree[s->spanclass], freed);
        }
    }
    gci_store(&s->sweepgen, sg);
    return freed;
}

int gci_span_ensure_swept(struct span *s)
{
    uint32_t sg = gci_load(&gci->sweepgen);
    uint32_t cur = gci_load(&s->sweepgen);
    if (cur == sg)
        return 0;
    uint32_t old = sg - 2;
    if (cur == old && gci_cas(&s->sweepgen, &old, sg - 1)) {
        gci_sweep_span(s);
        return 1;
    }
    while (gci_load(&s->sweepgen) != sg)
        __builtin_ia32_pause();
    return 0;
}

/* Sweeps a span that the caller took off an unswept list. */
static void claim_and_sweep(struct span *s)
{
    gci_span_ensure_swept(s);
}

static long dispose_small(struct central *c, struct span *s)
{
    if (gci_load(&s->alloc_count) == 0 && s->nfinalizers == 0) {
        long n = (long)s->npages;
        gci_heap_free(s);
        return n;
    }
    pthread_mutex_lock(&c->lock);
    gci_central_place_swept(c, s);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

static long dispose_large(struct span *s)
{
    long n = 0;
    pthread_mutex_lock(&gci->large_lock);
    if (gci_load(&s->alloc_bits[0]) & 1) {
        unsigned sw = (gci_load(&gci->sweepgen) / 2) % 2;
        gci_list_push(&gci->large[sw], s, (uint8_t)(LIST_LARGE0 + sw));
    } else {
        n = (long)s->npages;
    }
    pthread_mutex_unlock(&gci->large_lock);
    if (n)
        gci_heap_free(s);
    return n;
}

/* One unit of sweep work, inside the gate. */
static long sweep_one_locked(void)
{
    for (;;) {
        uint32_t i = gci_load(&gci->sweep_cursor);
        if (i > GC_NUM_SPANCLASSES)
            return -1;
        unsigned un = 1 - (gci_load(&gci->sweepgen) / 2) % 2;
        struct span *s = NULL;
        if (i < GC_NUM_SPANCLASSES) {
            struct central *c = &gci->central[i];
            pthread_mutex_lock(&c->lock);
            if ((s = c->partial[un]) != NULL || (s = c->full[un]) != NULL)
                gci_list_remove(s == c->partial[un] ? &c->partial[un] : &c->full[un], s);
            pthread_mutex_unlock(&c->lock);
            if (s) {
                claim_and_sweep(s);
                return dispose_small(c, s);
            }
        } else {
            pthread_mutex_lock(&gci->large_lock);
            if ((s = gci->large[un]) != NULL)
                gci_list_remove(&gci->large[un], s);
            pthread_mutex_unlock(&gci->large_lock);
            if (s) {
                claim_and_sweep(s);
                return dispose_large(s);
            }
        }
        uint32_t expect = i;
        gci_cas(&gci->sweep_cursor, &expect, i + 1);
    }
}

/* Sweeps until npages were returned to the heap or nothing is left (Go's
 * mheap.reclaim), so the heap grows only when garbage cannot cover the
 * request.  Called inside a critical section: the world cannot stop, so
 * sweepgen is stable without the gate (and taking the gate here could
 * deadlock against a collector that holds it while waiting for our ack). */
void gci_sweep_reclaim(size_t npages)
{
    size_t got = 0;
    while (got < npages) {
        long r = sweep_one_locked();
        if (r < 0)
            return;
        got += (size_t)r;
    }
}

long gci_sweep_one(void)
{
    pthread_rwlock_rdlock(&sweep_gate);
    long r = sweep_one_locked();
    pthread_rwlock_unlock(&sweep_gate);
    return r;
}

int gci_sweep_done(void)
{
    return gci_load(&gci->sweep_cursor) > GC_NUM_SPANCLASSES;
}

void gci_sweep_finish(void)
{
    uint64_t t0 = gci_thread_cputime();
    pthread_rwlock_rdlock(&sweep_gate);
    while (sweep_one_locked() >= 0)
        ;
    pthread_rwlock_unlock(&sweep_gate);
    gci_add(&gci->sweep_cpu_ns, gci_thread_cputime() - t0);
}

static void *sweeper_main(void *arg)
{
    (void)arg;
    /* Background work: lower priority than the program's threads. */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
    pthread_mutex_lock(&gci->sweeper_lock);
    for (;;) {
        while (!gci->sweeper_wake)
            pthread_cond_wait(&gci->sweeper_cond, &gci->sweeper_lock);
        gci->sweeper_wake = 0;
        pthread_mutex_unlock(&gci->sweeper_lock);
        uint64_t t0 = gci_thread_cputime();
        int n = 0;
        while (gci_sweep_one() >= 0)
            if (++n % 64 == 0)
                sched_yield();
        gci_add(&gci->sweep_cpu_ns, gci_thread_cputime() - t0);
        pthread_mutex_lock(&gci->sweeper_lock);
    }
    return NULL;
}

void gci_sweep_wake_background(void)
{
    pthread_mutex_lock(&gci->sweeper_lock);
    if (!gci->sweeper_started && gci_start_internal_thread(sweeper_main, NULL) == 0)
        gci->sweeper_started = 1;
    gci->sweeper_wake = 1;
    pthread_cond_signal(&gci->sweeper_cond);
    pthread_mutex_unlock(&gci->sweeper_lock);
}
