/* profile.c - allocation sampling for the heap profiler.
 *
 * Owns: each thread's sampling countdown (mcache.next_sample, drawn from an
 * exponential distribution with mean prof_rate, as Go's nextSample), the
 * table of sampled objects (gci->prof_table, an addrtable.h table of
 * struct prof_entry: object base -> the profiler's token) and the
 * per-span count of its entries (span.nsampled), and the calls into the
 * profiler's hooks (gci_prof_sample_fn / gci_prof_free_fn, gc_internal.h).
 *
 * Sampling.  The allocation fast path (malloc.c gci_alloc) subtracts the
 * requested size from next_sample inside its critical section; the
 * allocation that brings it to <= 0 is sampled (Go: size >= nextSample).
 * Because the countdown is memoryless, an allocation of size s is sampled
 * with probability 1 - exp(-s/rate), which is what the profiler's weights
 * undo.  Rate 1 samples every allocation; rate 0 sets the countdown to
 * INT64_MAX (never reached in practice).
 *
 * Invariants:
 *   - every table entry names the base of an allocated object (a tiny
 *     block for tiny objects; several entries may share a base);
 *   - span.nsampled == number of entries whose base lies in the span;
 *   - an entry leaves the table exactly when its object is freed: by
 *     gc_free (malloc.c) or by a sweep (sweep.c), and the free hook is
 *     called once per entry of the current recording (entry.gen ==
 *     prof_gen): tokens of an earlier recording mean nothing to the
 *     current one, so their frees are dropped silently.
 * Locking: prof_lock is a leaf, taken inside critical sections (gc_free,
 * the sampling slow path, allocation-driven sweeps) or by sweepers holding
 * the sweep gate, so a stopped world never holds it.  The free hook runs
 * under prof_lock: it must not block.  Rate, seed and hooks change only
 * with the world stopped (gci_prof_configure), so a thread reads them
 * consistently inside a critical section.
 */
#include "gc_internal.h"
#include <math.h>

_Static_assert(offsetof(struct prof_entry, obj) == 0, "the table's key leads the entry");

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Next countdown for c at the current rate. */
static int64_t draw(struct mcache *c)
{
    uint64_t rate = gci->prof_rate;
    if (rate == 0)
        return INT64_MAX;
    if (rate == 1)
        return 0;
    /* xorshift64*, then a uniform double in (0, 1]. */
    uint64_t x = c->sample_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->sample_rng = x;
    double u = (double)((x * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
    double d = -log(1.0 - u) * (double)rate;   /* 1 - u is in (0, 1] */
    if (d >= 0x1.0p62)
        return INT64_MAX;
    return (int64_t)d;
}

static void seed_thread(struct mcache *c, uint64_t ordinal)
{
    c->sample_rng = splitmix64(gci->prof_seed + ordinal) | 1;   /* xorshift state must be nonzero */
    c->next_sample = draw(c);
}

void gci_prof_init(void)
{
    pthread_mutex_init(&gci->prof_lock, NULL);
    gci_addrtable_init(&gci->prof_table, sizeof(struct prof_entry), 4096);
    gci->prof_rate = 0;
}

/* threads_lock held (threads.c, registering t). */
void gci_prof_thread_init(struct gthread *t)
{
    seed_thread(&t->cache, gci->prof_nthreads++);
}

int gci_prof_configure(uint64_t rate, uint64_t seed, gci_prof_sample_fn sample,
                       gci_prof_free_fn free_fn, void *arg)
{
    gci_init();
    pthread_mutex_lock(&gci->gc_mutex);
    gci_sweep_gate_lock();
    gci_stop_world();
    gci->prof_rate = rate;
    gci->prof_seed = seed;
    gci->prof_sample = sample;
    gci->prof_free = free_fn;
    gci->prof_arg = arg;
    gci->prof_gen++;
    /* The list is newest first: seed in creation order (oldest = 0) so a
     * fixed seed gives the main thread the same stream in every run. */
    uint64_t n = 0;
    for (struct gthread *t = gci->threads; t; t = t->next)
        n++;
    gci->prof_nthreads = n;
    for (struct gthread *t = gci->threads; t; t = t->next)
        seed_thread(&t->cache, --n);
    gci_start_world();
    gci_sweep_gate_unlock();
    pthread_mutex_unlock(&gci->gc_mutex);
    return 0;
}

/* In a fork child: sampling off, nothing tracked (the tokens belong to the
 * parent's recording).  Only the calling thread exists. */
void gci_prof_reset_child(void)
{
    if (!gci)
        return;
    pthread_mutex_init(&gci->prof_lock, NULL);
    gci->prof_rate = 0;
    gci->prof_sample = NULL;
    gci->prof_free = NULL;
    gci->prof_gen++;
    for (struct gthread *t = gci->threads; t; t = t->next)
        t->cache.next_sample = INT64_MAX;
    gci_addrtable_clear(&gci->prof_table);
    /* span.nsampled counts stay: they only make sweeps look up the table. */
}

/* ---- the table (prof_lock held) ---- */

static int table_insert(uintptr_t obj, uint64_t token, uint64_t gen)
{
    struct prof_entry *e = gci_addrtable_insert(&gci->prof_table, obj);
    if (!e)
        return -1;
    e->token = token;
    e->gen = gen;
    return 0;
}

/* A sampled object's entry has left the table: report it freed. */
static void entry_freed(void *entry, void *arg)
{
    const struct prof_entry *e = entry;
    if (e->gen == gci->prof_gen && gci->prof_free)
        gci->prof_free(e->token, (void *)e->obj, gci->prof_arg);
}

/* Removes every entry of obj, calling the free hook for each; returns how
 * many there were. */
static uint32_t table_remove_all(uintptr_t obj)
{
    return (uint32_t)gci_addrtable_remove_all(&gci->prof_table, obj, entry_freed, NULL);
}

/* ---- called by the allocator and the sweeper ---- */

/* The sampling slow path (malloc.c): the calling thread's countdown ran
 * out on allocating obj of size n; ret is the return address into the
 * caller of the public allocation function.  Outside critical sections. */
void gci_prof_sampled(void *obj, size_t n, uintptr_t ret)
{
    struct gthread *t = gci_crit_enter();
    if (!t)
        return;
    t->cache.next_sample = draw(&t->cache);
    gci_prof_sample_fn fn = gci->prof_sample;
    uint64_t rate = gci->prof_rate;
    uint64_t gen = gci->prof_gen;
    void *arg = gci->prof_arg;
    gci_crit_exit(t);
    if (!fn || rate == 0)
        return;
    uint64_t token = fn(obj, n, rate, ret, arg);
    if (!token)
        return;
    t = gci_crit_enter();
    uintptr_t base;
    uint32_t idx;
    struct span *s = gci_find_object((uintptr_t)obj, &base, &idx);
    pthread_mutex_lock(&gci->prof_lock);
    if (gci->prof_gen != gen) {
        /* the recording ended (or a new one began) while we sampled */
    } else if (s && table_insert(base, token, gen) == 0) {
        gci_store(&s->nsampled, gci_load(&s->nsampled) + 1);
    } else if (gci->prof_free) {
        gci->prof_free(token, obj, gci->prof_arg);   /* cannot track it: report it gone */
    }
    pthread_mutex_unlock(&gci->prof_lock);
    gci_crit_exit(t);
}

/* gc_free of the object at base in s (inside a critical section). */
void gci_prof_forget(struct span *s, uintptr_t base)
{
    pthread_mutex_lock(&gci->prof_lock);
    uint32_t n = table_remove_all(base);
    gc_assert(n <= s->nsampled);
    gci_store(&s->nsampled, gci_load(&s->nsampled) - n);
    pthread_mutex_unlock(&gci->prof_lock);
}

/* A sweep of s found the objects of bitmap word w set in dead unmarked. */
void gci_prof_swept_dead(struct span *s, unsigned w, uint64_t dead)
{
    pthread_mutex_lock(&gci->prof_lock);
    uint32_t n = 0;
    for (uint64_t d = dead; d; d &= d - 1) {
        uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(d);
        n += table_remove_all(s->base + (uintptr_t)i * s->elemsize);
    }
    gc_assert(n <= s->nsampled);
    gci_store(&s->nsampled, gci_load(&s->nsampled) - n);
    pthread_mutex_unlock(&gci->prof_lock);
}

size_t gci_prof_tracked(void)
{
    pthread_mutex_lock(&gci->prof_lock);
    size_t n = gci->prof_table.count;
    pthread_mutex_unlock(&gci->prof_lock);
    return n;
}
