/* common/fnv.h - FNV-1a, the 64-bit string hash shared by the store (the
 * claim's name, store/store.c), the symbolizer (its string table,
 * profiler/symbolize.c) and the pprof writer (its string table,
 * reports/pprof.c).  Private to gctune (not installed).
 *
 * Invariant: gct_fnv1a(p, n) == gct_fnv1a_str(p) when p is a string of
 * length n: both hash the same bytes the same way.
 */
#ifndef GCTUNE_COMMON_FNV_H
#define GCTUNE_COMMON_FNV_H

#include <stddef.h>
#include <stdint.h>

#define GCT_FNV1A_BASIS 0xcbf29ce484222325ull
#define GCT_FNV1A_PRIME 0x100000001b3ull

static inline uint64_t gct_fnv1a(const void *p, size_t n)
{
    const unsigned char *c = p;
    uint64_t h = GCT_FNV1A_BASIS;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * GCT_FNV1A_PRIME;
    return h;
}

static inline uint64_t gct_fnv1a_str(const char *s)
{
    uint64_t h = GCT_FNV1A_BASIS;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        h = (h ^ *c) * GCT_FNV1A_PRIME;
    return h;
}

#endif
