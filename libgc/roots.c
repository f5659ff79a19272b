/* roots.c - where marking starts: data segments, added ranges, thread stacks.
 *
 * Owns: the snapshot of writable PT_LOAD segments of the executable and of
 * every loaded shared object (dl_iterate_phdr), the gc_add_roots ranges,
 * and pushing all roots, stacks included, as mark work.
 * The snapshot is taken before the world stops (dl_iterate_phdr takes the
 * loader lock, which a suspended thread might hold); a library unloaded in
 * between is a documented race, as in Boehm GC without its dlopen wrapper.
 * libgctune's own segments are skipped when it is a separate shared object:
 * the runtime keeps no heap pointers there (its state is mmap'd), so this
 * only saves work.  Invariant: roots and seg_roots hold [lo, hi) ranges with
 * lo <= hi; roots is written under roots_lock inside a critical section and
 * read with the world stopped.
 */
#define _GNU_SOURCE
#include "gc_internal.h"
#include <link.h>
#include <errno.h>

static int range_push(struct root_range **arr, size_t *len, size_t *cap, uintptr_t lo, uintptr_t hi)
{
    if (*len == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct root_range *n = gci_meta_resize(*arr, *cap * sizeof *n, *len * sizeof *n, ncap * sizeof *n);
        if (!n)
            return ENOMEM;
        *arr = n;
        *cap = ncap;
    }
    (*arr)[(*len)++] = (struct root_range){lo, hi};
    return 0;
}

static int segment_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size; (void)data;
    uintptr_t self = (uintptr_t)&segment_cb;
    int is_self = 0;
    if (info->dlpi_name && info->dlpi_name[0]) {
        for (int i = 0; i < info->dlpi_phnum; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && self >= lo && self < lo + ph->p_memsz)
                is_self = 1;
        }
    }
    if (is_self)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        range_push(&gci->seg_roots, &gci->nseg_roots, &gci->seg_roots_cap, lo, lo + ph->p_memsz);
    }
    return 0;
}

void gci_roots_snapshot_segments(void)
{
    gci->nseg_roots = 0;
    dl_iterate_phdr(segment_cb, NULL);
}

static uint64_t stack_bytes, global_bytes;

void gci_roots_push_all(void)
{
    stack_bytes = global_bytes = 0;
    for (size_t i = 0; i < gci->nseg_roots; i++) {
        gci_mark_push_range(gci->seg_roots[i].lo, gci->seg_roots[i].hi);
        global_bytes += gci->seg_roots[i].hi - gci->seg_roots[i].lo;
    }
    for (size_t i = 0; i < gci->nroots; i++) {
        gci_mark_push_range(gci->roots[i].lo, gci->roots[i].hi);
        global_bytes += gci->roots[i].hi - gci->roots[i].lo;
    }
    struct gthread *self = gci_self;
    for (struct gthread *t = gci->threads; t; t = t->next) {
        if (t == self)
            continue;
        if (t->stack_lo && t->stack_lo < t->stack_hi) {
            gci_mark_push_range(t->stack_lo, t->stack_hi);
            stack_bytes += t->stack_hi - t->stack_lo;
        }
        if (t->nsig_regs)   /* registers at the suspend signal (stw.c) */
            gci_mark_push_range((uintptr_t)t->sig_regs, (uintptr_t)(t->sig_regs + t->nsig_regs));
    }
    /* The collecting thread: from gci_collect's frame, which holds the
     * caller's callee-saved registers, up (collect.c).  Deeper frames belong
     * to the collector and hold stale copies of heap addresses. */
    if (self) {
        gci_mark_push_range(gci->collector_stack_lo, self->stack_hi);
        stack_bytes += self->stack_hi - gci->collector_stack_lo;
    }
    /* The tiny blocks were dropped by the mcache flush; nothing else of the
     * runtime holds heap pointers outside these roots except finalizer
     * queues (finalizer.c). */
}

uint64_t gci_roots_stack_bytes(void) { return stack_bytes; }
uint64_t gci_roots_global_bytes(void) { return global_bytes; }

void gc_add_roots(void *lo, void *hi)
{
    if (!lo || (uintptr_t)hi <= (uintptr_t)lo)
        return;
    struct gthread *t = gci_crit_enter();
    if (!t)
        return;
    pthread_mutex_lock(&gci->roots_lock);
    if (range_push(&gci->roots, &gci->nroots, &gci->roots_cap, (uintptr_t)lo, (uintptr_t)hi) != 0)
        gci_warn("gc_add_roots: out of memory; range %p..%p not added", lo, hi);
    pthread_mutex_unlock(&gci->roots_lock);
    gci_crit_exit(t);
}

void gc_remove_roots(void *lo, void *hi)
{
    struct gthread *t = gci_crit_enter();
    if (!t)
        return;
    pthread_mutex_lock(&gci->roots_lock);
    /* Removes every added range inside [lo, hi), as Boehm's GC_remove_roots does. */
    size_t j = 0;
    for (size_t i = 0; i < gci->nroots; i++) {
        struct root_range r = gci->roots[i];
        if (r.lo >= (uintptr_t)lo && r.hi <= (uintptr_t)hi)
            continue;
        gci->roots[j++] = r;
    }
    gci->nroots = j;
    pthread_mutex_unlock(&gci->roots_lock);
    gci_crit_exit(t);
}
