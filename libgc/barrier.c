/* barrier.c - the write barrier and the concurrent-marking switch.
 *
 * Owns: gc_store, gc_memmove, gc_set_concurrent, gci_marking, and the
 * per-thread barrier buffers.
 *
 * Why a barrier (see mark.c for the tri-color invariant).  Concurrent
 * marking starts from a snapshot: every root is scanned in the pause that
 * starts the cycle, and objects allocated afterwards are black.  While the
 * program runs, an object reachable at the snapshot could only escape
 * marking if the last heap pointer to it is overwritten before the marker
 * reads it, while a copy lives on in a register, a stack or an already
 * scanned object.  The deletion half of the barrier shades the overwritten
 * pointer, which closes that hole (Yuasa's snapshot-at-the-beginning); the
 * insertion half shades the new pointer (Dijkstra), as Go's hybrid barrier
 * does, so a store never hides an object from marking either way.
 * Stores into globals and stacks need no barrier: those were scanned in the
 * snapshot.  Stores into objects allocated during marking need none either
 * (they are black, and what they point to is black or reachable from the
 * snapshot).  Every other pointer store into the heap must use gc_store /
 * GC_STORE / gc_memmove while concurrent marking is on; GODEBUG=gccheckmark=1
 * finds the ones that do not (mark.c).
 *
 * Cost: when marking is off, one load and a predictable branch, inside a
 * critical section (so the world cannot stop between the check and the
 * store, which would let a store slip past a cycle that just started).
 * Shaded pointers go to a per-thread buffer of 256 entries, flushed into
 * the mark work when full and at mark termination.
 */
#include "gc_internal.h"
#include <errno.h>

volatile int gci_marking;

static void wb_note(struct gthread *t, uintptr_t p)
{
    if (p - gci->heap_lo >= gci->heap_hi - gci->heap_lo)
        return;   /* not a heap pointer: nothing to shade */
    t->wb_buf[t->wb_n++] = p;
    if (t->wb_n == sizeof t->wb_buf / sizeof t->wb_buf[0])
        gci_wb_flush(t);
}

static GC_NOINLINE void store_marking(struct gthread *t, void **slot, void *val)
{
    wb_note(t, (uintptr_t)*slot);
    wb_note(t, (uintptr_t)val);
    *slot = val;
}

void gc_store(void **slot, void *val)
{
    struct gthread *t = gci_crit_enter();
    if (GC_UNLIKELY(gci_marking) && t)
        store_marking(t, slot, val);
    else
        *slot = val;
    if (t)
        gci_crit_exit(t);
}

void gc_memmove(void *dst, const void *src, size_t n)
{
    struct gthread *t = gci_crit_enter();
    if (GC_UNLIKELY(gci_marking) && t) {
        /* Shade every word that may be a pointer: the ones overwritten in
         * dst and the ones copied from src. */
        uintptr_t d = ((uintptr_t)dst + 7) & ~(uintptr_t)7, de = (uintptr_t)dst + n;
        for (; d + 8 <= de; d += 8)
            wb_note(t, *(const uintptr_t *)d);
        uintptr_t s = ((uintptr_t)src + 7) & ~(uintptr_t)7, se = (uintptr_t)src + n;
        for (; s + 8 <= se; s += 8)
            wb_note(t, *(const uintptr_t *)s);
    }
    memmove(dst, src, n);
    if (t)
        gci_crit_exit(t);
}

int gc_set_concurrent(int on)
{
    gci_init();
    return __atomic_exchange_n(&gci->concurrent, on ? 1 : 0, __ATOMIC_ACQ_REL);
}
