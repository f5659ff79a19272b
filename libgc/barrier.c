/* barrier.c - the write barrier entry points.
 *
 * Owns: gc_store, gc_memmove, gc_set_concurrent.
 * This build marks with the world stopped only, so no barrier work is ever
 * needed: gc_store is a plain store and gc_memmove a memmove.  Programs
 * written against the barrier API (for concurrent marking, a later build)
 * run unchanged.  gc_set_concurrent(1) reports ENOSYS instead of pretending.
 */
#include "gc_internal.h"
#include <errno.h>

void gc_store(void **slot, void *val)
{
    *slot = val;
}

void gc_memmove(void *dst, const void *src, size_t n)
{
    memmove(dst, src, n);
}

int gc_set_concurrent(int on)
{
    if (on) {
        errno = ENOSYS;
        return -1;
    }
    return 0;
}
