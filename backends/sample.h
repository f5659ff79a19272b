/* backends/sample.h - the sampling shared by the preload library's
 * backends (backends/malloc.c, backends/bdwgc.c), so that both sample with
 * the same semantics as libgc (libgc/profile.c).
 *
 * Owns: the per-thread random stream (xorshift64*, seeded with
 * splitmix64(seed + thread ordinal)), the draw of the next countdown, and
 * the sampler (struct gct_sampler, struct gct_sample_tls): the fast-path
 * test, the slow path's decision, start and stop of a recording.
 * Invariants: rate 0 never samples, rate 1
 * samples every allocation (countdown 0), any other rate gives countdowns
 * drawn from an exponential distribution with mean `rate` bytes, so that
 * an allocation of n bytes is sampled with probability 1 - exp(-n/rate)
 * and a sample stands for rate bytes (the profiler's weight).
 * The fast path tests the countdown alone: a thread finds out that a
 * recording started or stopped at its next slow path.  Not sampling, its
 * countdown is GCT_SAMPLE_IDLE, so a thread that was idle joins a new
 * recording within GCT_SAMPLE_IDLE bytes of its own allocations (the
 * thread that starts it, at once); after a stop, no thread samples (the
 * slow path tests `enabled` first).  The generation test it replaces cost
 * three instructions per allocation (bench/preload.sh's callgrind).
 * Header only: static inline functions; the state is each backend's.
 */
#ifndef GCTUNE_BACKENDS_SAMPLE_H
#define GCTUNE_BACKENDS_SAMPLE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "gctune/backend.h"
#include "internal.h"   /* gctp_is_profiler_thread */

/* Seeds a thread's stream: never 0 (xorshift's fixed point). */
static inline uint64_t gct_sample_seed(uint64_t seed, uint64_t thread_ordinal)
{
    uint64_t x = seed + thread_ordinal;
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return (x ^ (x >> 31)) | 1;
}

/* The next countdown (bytes to allocate before the next sample) for a
 * mean interval of rate bytes; advances *rng. */
static inline int64_t gct_sample_draw(uint64_t *rng, uint64_t rate)
{
    if (rate == 0)
        return INT64_MAX;
    if (rate == 1)
        return 0;
    uint64_t x = *rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    double u = (double)((x * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
    double d = -log(1.0 - u) * (double)rate;
    if (d >= 0x1.0p62)
        return INT64_MAX;
    return (int64_t)d;
}

/* ---- the sampler: a backend's state and each thread's countdown ---- */

/* One per backend (static).  rate and seed are set before `enabled`. */
struct gct_sampler {
    int enabled;                 /* atomic: sampling on */
    uint64_t gen;                /* atomic: recording generation (start/stop count) */
    uint64_t nthreads;           /* atomic: ordinal for seeding */
    uint64_t rate, seed;
};

/* Per thread (initial-exec TLS, one struct: one GOT load finds it). */
struct gct_sample_tls {
    int64_t countdown;           /* bytes until the next sample (or, not sampling, the next look) */
    uint64_t tgen;               /* generation the countdown was drawn for */
    uint64_t rng;
};

/* Bytes a thread allocates between two looks at the sampler while it
 * does not sample (no recording, or rate 0). */
#define GCT_SAMPLE_IDLE ((int64_t)256 << 10)

/* The fast path of an allocation of n bytes: 1 when no sample is due
 * (the countdown has not run out).  Takes n off the countdown; the
 * sampler itself is looked at only on the slow path.  On x86-64
 * with GCC 11 or later, one subtraction from thread-local memory and a
 * branch on its flags (asm goto: GCC keeps the load, subtract, store and
 * test apart, 3 more instructions on every allocation); the flags of
 * `sub` give the signed comparison countdown - n <= 0 exactly, as the C
 * does. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
static inline __attribute__((always_inline)) int gct_sampler_pass(struct gct_sample_tls *t, size_t n)
{
    /* an input operand and a "memory" clobber, not "+m": GCC 12 drops
     * the jump's target with an asm goto output (the slow path vanished) */
    __asm__ goto("subq %1, %0\n\tjle %l[due]" : : "m"(t->countdown), "r"((int64_t)n) : "cc", "memory" : due);
    return 1;
due:
    return 0;
}
#else
static inline int gct_sampler_pass(struct gct_sample_tls *t, size_t n)
{
    return __builtin_expect((t->countdown -= (int64_t)n) > 0, 1);
}
#endif

/* After pass said no: 1 when this allocation of n bytes is sampled, with
 * *gout the generation to tag it with.  Not sampling, the countdown
 * becomes GCT_SAMPLE_IDLE; the first slow path of a thread in a new
 * recording (a countdown of another generation) seeds its stream and
 * counts this allocation against a fresh countdown.
 * gen is read before `enabled`, and gct_sampler_start sets `enabled`
 * before it changes gen: a thread that sees the new generation sees
 * sampling on. */
static inline int gct_sampler_due(struct gct_sampler *s, struct gct_sample_tls *t, size_t n, uint64_t *gout)
{
    uint64_t g = __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);
    if (!__atomic_load_n(&s->enabled, __ATOMIC_ACQUIRE)) {
        t->tgen = g;
        t->countdown = GCT_SAMPLE_IDLE;
        return 0;
    }
    if (t->tgen != g) {
        t->tgen = g;
        t->rng = gct_sample_seed(s->seed, __atomic_add_fetch(&s->nthreads, 1, __ATOMIC_RELAXED));
        t->countdown = gct_sample_draw(&t->rng, s->rate) - (int64_t)n;
        if (t->countdown > 0)
            return 0;
    }
    t->countdown = gct_sample_draw(&t->rng, s->rate);
    *gout = g;
    return 1;
}

/* A recording starts (under the backend's attach lock), started by the
 * thread whose sampling state is self: it joins at its next allocation
 * (the others within GCT_SAMPLE_IDLE bytes). */
static inline void gct_sampler_start(struct gct_sampler *s, struct gct_sample_tls *self, uint64_t rate,
                                     uint64_t seed)
{
    s->rate = rate;
    s->seed = seed;
    if (rate)
        __atomic_store_n(&s->enabled, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&s->gen, 1, __ATOMIC_SEQ_CST);
    self->countdown = 0;
}

/* A recording stops (under the attach lock), or, in a fork child, is not
 * ours: sampled blocks of the old generation are then forgotten silently. */
static inline void gct_sampler_stop(struct gct_sampler *s)
{
    __atomic_store_n(&s->enabled, 0, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&s->gen, 1, __ATOMIC_SEQ_CST);
}

/* After pass said no: 1 when this allocation of n bytes is sampled
 * (gct_sampler_due) and may be (this thread is neither inside the backend
 * already, where the unwinder and the sink allocate, nor one of the
 * profiler's threads), with *gout its generation.  For a backend that
 * decides before allocating (backends/malloc.c). */
static inline int gct_sample_decide(struct gct_sampler *s, struct gct_sample_tls *t, int in_backend, size_t n,
                                    uint64_t *gout)
{
    return gct_sampler_due(s, t, n, gout) && !in_backend && !gctp_is_profiler_thread();
}

/* A backend's slow path after its fast path said no: when a sample is
 * due (and this thread is neither inside the backend already, where the
 * unwinder and the sink allocate, nor one of the profiler's threads), the
 * sink takes it and keep(obj, token, generation) remembers the block for
 * its free. */
static inline void gct_sample_take(struct gct_sampler *s, struct gct_sample_tls *t, int *in_backend,
                                   const gct_sink *sink, void *obj, size_t n, uintptr_t ret,
                                   void (*keep)(void *obj, uint64_t token, uint64_t gen))
{
    uint64_t g;
    if (!gct_sample_decide(s, t, *in_backend, n, &g))
        return;
    *in_backend = 1;
    uint64_t token = sink->sample ? sink->sample(sink->ctx, obj, n, s->rate, ret) : 0;
    if (token)
        keep(obj, token, g);
    *in_backend = 0;
}

/* 1 while a recording samples and g is its generation. */
static inline int gct_sampler_current(struct gct_sampler *s, uint64_t g)
{
    return g == __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) && __atomic_load_n(&s->enabled, __ATOMIC_ACQUIRE);
}

/* The free of a sampled object (token; 0: the sink dropped it) of
 * generation g: reported to the sink only while g's recording is the
 * current one, as from inside the backend (the sink may allocate). */
static inline void gct_sample_report_free(struct gct_sampler *s, int *in_backend, const gct_sink *sink,
                                          uint64_t token, uint64_t g)
{
    if (!token || !gct_sampler_current(s, g) || !sink->freed)
        return;
    int saved = *in_backend;
    *in_backend = 1;
    sink->freed(sink->ctx, token);
    *in_backend = saved;
}

#endif
