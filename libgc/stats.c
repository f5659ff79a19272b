/* stats.c - gc_read_stats: a consistent snapshot of Go's MemStats subset.
 *
 * Owns: the pause ring and the derivation of the MemStats fields.
 * Counting: allocations are counted per thread without atomics (mcache
 * nmalloc/nfree/ntiny) and folded into the global counters with the world
 * stopped, which is how gc_read_stats gets a consistent snapshot (Go's
 * ReadMemStats stops the world too).  Sweeping counts its frees directly.
 * Equations:
 *   mallocs      == sum nmalloc[spc] + large_mallocs + ntiny
 *   frees        == sum nfree[spc] + large_frees + ntiny
 *   heap_objects == mallocs - frees
 *   heap_alloc   == sum (nmalloc - nfree)[spc] * size[spc] + large bytes in use
 *   heap_idle    == heap_sys - heap_inuse
 * Tiny allocations count as one malloc and one free each (as in Go); the
 * 16-byte blocks holding them are ordinary objects.
 * The soft-limit fields come from scavenge.c: limiter_* (read under
 * gc_mutex, which also orders them with the cycle that stepped the
 * limiter), memory_limit_goal (gci_limit_heap_goal now), and
 * scavenged_total (heap.c, heap_lock; heap_released <= scavenged_total +
 * never-touched pages).  The concurrent-marking fields are collect.c's
 * cumulative atomics, copied as they are.
 */
#include "gc_internal.h"
#include "scavenge.h"

void gci_stats_record_pause(uint64_t pause_ns, uint64_t end_real_ns)
{
    uint64_t i = (gci->num_gc + 255) % 256;   /* num_gc already counts this cycle */
    gci->pause_ns[i] = pause_ns;
    gci->pause_end_ns[i] = end_real_ns;
    gci->pause_total_ns += pause_ns;
    gci->last_gc_ns = end_real_ns;
}

void gci_stats_totals(uint64_t *mallocs, uint64_t *frees, uint64_t *alloc_bytes, uint64_t *free_bytes)
{
    uint64_t m = 0, f = 0, ab = 0, fb = 0;
    for (unsigned spc = 0; spc < GC_NUM_SPANCLASSES; spc++) {
        uint64_t nm = gci_load(&gci->nmalloc[spc]), nf = gci_load(&gci->nfree[spc]);
        m += nm;
        f += nf;
        ab += nm * gci_spc_size[spc];
        fb += nf * gci_spc_size[spc];
    }
    uint64_t tiny = gci_load(&gci->ntiny);
    *mallocs = m + gci_load(&gci->large_mallocs) + tiny;
    *frees = f + gci_load(&gci->large_frees) + tiny;
    *alloc_bytes = ab + gci_load(&gci->large_alloc_bytes);
    *free_bytes = fb + gci_load(&gci->large_free_bytes);
}

/* Everything but the allocation counters; gc_mutex held. */
static void read_rest(gc_stats *out);

void gc_read_stats(gc_stats *out)
{
    if (!gci_self && !gci_thread_attach()) {
        memset(out, 0, sizeof *out);
        return;
    }
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&gci->gc_mutex);   /* pause ring and cycle counters */
    gci_stop_world();
    for (struct gthread *t = gci->threads; t; t = t->next)
        gci_mcache_flush_stats(&t->cache);
    uint64_t ab, fb;
    gci_stats_totals(&out->mallocs, &out->frees, &ab, &fb);
    out->total_alloc = ab;
    out->heap_alloc = ab - fb;
    out->heap_objects = out->mallocs - out->frees;
    out->tiny_allocs = gci_load(&gci->ntiny);
    gci_start_world();
    read_rest(out);
    pthread_mutex_unlock(&gci->gc_mutex);
}

/* The same fields without stopping the world, for observers that sample
 * often (the profiler's heap series, the tuner): each thread's unflushed
 * counters are read as they are, so the allocation figures may be a few
 * allocations stale but never block a mutator.  Does not register the
 * caller.  Mcache counters move into the globals only under gc_mutex
 * (collections, gc_read_stats) or threads_lock (thread exit), both held
 * here, so nothing is counted twice. */
void gci_read_stats_nostw(gc_stats *out)
{
    gci_init();
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&gci->gc_mutex);
    pthread_mutex_lock(&gci->threads_lock);
    uint64_t ab, fb, m = 0, f = 0, a = 0, fr = 0, tiny = 0;
    for (struct gthread *t = gci->threads; t; t = t->next) {
        const struct mcache *c = &t->cache;
        for (unsigned spc = 0; spc < GC_NUM_SPANCLASSES; spc++) {
            uint64_t nm = __atomic_load_n(&c->nmalloc[spc], __ATOMIC_RELAXED);
            uint64_t nf = __atomic_load_n(&c->nfree[spc], __ATOMIC_RELAXED);
            m += nm;
            f += nf;
            a += nm * gci_spc_size[spc];
            fr += nf * gci_spc_size[spc];
        }
        tiny += __atomic_load_n(&c->ntiny, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&gci->threads_lock);
    gci_stats_totals(&out->mallocs, &out->frees, &ab, &fb);
    out->mallocs += m + tiny;
    out->frees += f + tiny;
    out->total_alloc = ab + a;
    out->heap_alloc = ab + a >= fb + fr ? (ab + a) - (fb + fr) : 0;
    out->heap_objects = out->mallocs >= out->frees ? out->mallocs - out->frees : 0;
    out->tiny_allocs = gci_load(&gci->ntiny) + tiny;
    read_rest(out);
    pthread_mutex_unlock(&gci->gc_mutex);
}

static void read_rest(gc_stats *out)
{
    pthread_mutex_lock(&gci->heap_lock);
    out->heap_sys = gci->heap_sys;
    out->heap_inuse = gci->pages_inuse * GC_PAGE_SIZE;
    out->heap_released = gci->pages_released * GC_PAGE_SIZE;
    out->scavenged_total = gci_heap_scavenged_total_pages() * GC_PAGE_SIZE;
    pthread_mutex_unlock(&gci->heap_lock);
    out->heap_idle = out->heap_sys - out->heap_inuse;
    out->metadata_sys = gci_load(&gci->metadata_sys);
    out->sys = out->heap_sys + out->metadata_sys;
    out->next_gc = gci_load(&gci->next_gc);
    out->last_gc_ns = gci->last_gc_ns;
    out->pause_total_ns = gci->pause_total_ns;
    memcpy(out->pause_ns, gci->pause_ns, sizeof out->pause_ns);
    memcpy(out->pause_end_ns, gci->pause_end_ns, sizeof out->pause_end_ns);
    out->num_gc = (uint32_t)gci->num_gc;
    out->num_forced_gc = (uint32_t)gci->num_forced_gc;
    uint64_t elapsed = gci_nanotime() - gci->start_ns;
    out->gc_cpu_fraction = elapsed ? (double)gci_load(&gci->gc_cpu_ns) / ((double)elapsed * gci->procs) : 0.0;
    out->gc_percent = gci_load(&gci->gc_percent);
    out->memory_limit = gci_load(&gci->memory_limit);
    out->mark_cpu_ns = gci_load(&gci->mark_cpu_ns);
    out->sweep_cpu_ns = gci_load(&gci->sweep_cpu_ns);
    out->concurrent_mark_ns = gci_load(&gci->concurrent_mark_ns);
    out->background_mark_cpu_ns = gci_load(&gci->background_mark_cpu_ns);
    out->assist_cpu_ns = gci_load(&gci->assist_cpu_ns);
    out->concurrent = gci_load(&gci->concurrent);
    gci_limiter_read(&out->limiter_engaged_ns, &out->limiter_events, &out->limiter_active);
    out->memory_limit_goal = gci_limit_heap_goal();
}
