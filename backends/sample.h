/* backends/sample.h - the sampling arithmetic shared by the preload
 * library's backends (backends/malloc.c, backends/bdwgc.c), so that both
 * sample with the same semantics as libgc (libgc/profile.c).
 *
 * Owns: the per-thread random stream (xorshift64*, seeded with
 * splitmix64(seed + thread ordinal)) and the draw of the next countdown.
 * Invariants: rate 0 never samples (the countdown is INT64_MAX), rate 1
 * samples every allocation (countdown 0), any other rate gives countdowns
 * drawn from an exponential distribution with mean `rate` bytes, so that
 * an allocation of n bytes is sampled with probability 1 - exp(-n/rate)
 * and a sample stands for rate bytes (the profiler's weight).
 * Header only: static inline functions, no state of its own.
 */
#ifndef GCTUNE_BACKENDS_SAMPLE_H
#define GCTUNE_BACKENDS_SAMPLE_H

#include <math.h>
#include <stdint.h>

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

#endif
