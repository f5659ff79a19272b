/* finalizer.c - gc_set_finalizer and the finalizer thread.
 *
 * Owns: the table of objects with finalizers (open addressing, keyed by
 * object base), the queue of finalizers ready to run, and the thread that
 * runs them.
 * Semantics (Go's SetFinalizer, Boehm's ordering):
 *   - after marking from the roots, the contents of every unmarked object
 *     with a finalizer are marked (not the object itself), so what a
 *     finalizable object references stays alive; an object reachable only
 *     from another finalizable object is finalized in a later cycle;
 *   - objects still unmarked then are marked too and queued; their entry
 *     leaves the table, so each finalizer runs once;
 *   - queued objects are roots until their finalizer has run; the
 *     finalizer thread (a registered thread) runs them one at a time, never
 *     with the world stopped.  The object is freed by a later cycle once
 *     nothing references it.
 * Like Go, a finalizable object in a reference cycle with itself is never
 * finalized.
 * Locking: fin_lock (inside critical sections) for table and queue; the
 * collector reads both with the world stopped.
 */
#include "gc_internal.h"
#include <signal.h>
#include <errno.h>

#define TOMB ((uintptr_t)1)

static size_t hash_obj(uintptr_t p, size_t cap)
{
    return (size_t)(((p >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static int table_grow(void)
{
    size_t ncap = gci->fin_cap ? gci->fin_cap * 2 : 1024;
    if (gci->fin_count * 2 < gci->fin_cap)
        ncap = gci->fin_cap;   /* only tombstones: rehash in place size */
    struct fin_entry *n = gci_os_map_meta(ncap * sizeof *n);
    if (!n)
        return ENOMEM;
    for (size_t i = 0; i < gci->fin_cap; i++) {
        struct fin_entry e = gci->fin_table[i];
        if (e.obj <= TOMB)
            continue;
        size_t j = hash_obj(e.obj, ncap);
        while (n[j].obj)
            j = (j + 1) & (ncap - 1);
        n[j] = e;
    }
    if (gci->fin_table)
        gci_os_unmap(gci->fin_table, gci->fin_cap * sizeof *n);
    gci_add(&gci->metadata_sys, (ncap - gci->fin_cap) * sizeof *n);
    gci->fin_table = n;
    gci->fin_cap = ncap;
    gci->fin_tombs = 0;
    return 0;
}

static struct fin_entry *table_find(uintptr_t obj)
{
    if (!gci->fin_cap)
        return NULL;
    size_t j = hash_obj(obj, gci->fin_cap);
    while (gci->fin_table[j].obj) {
        if (gci->fin_table[j].obj == obj)
            return &gci->fin_table[j];
        j = (j + 1) & (gci->fin_cap - 1);
    }
    return NULL;
}

static void table_delete(struct fin_entry *e)
{
    struct span *s = gci_span_of(e->obj);
    if (s)
        gci_sub(&s->nfinalizers, 1);
    e->obj = TOMB;
    gci->fin_count--;
    gci->fin_tombs++;
}

void gc_set_finalizer(void *obj, void (*fn)(void *, void *), void *arg)
{
    if (!obj)
        return;
    struct gthread *t = gci_crit_enter();
    if (!t)
        return;
    uintptr_t base;
    uint32_t idx;
    struct span *s = gci_find_object((uintptr_t)obj, &base, &idx);
    if (!s || base != (uintptr_t)obj || s->spanclass == GC_SPANCLASS_TINY) {
        gci_crit_exit(t);
        gci_warn("gc_set_finalizer(%p): not the start of a gc object (tiny objects under 16 bytes "
                 "from gc_malloc_atomic cannot have finalizers)", obj);
        return;
    }
    pthread_mutex_lock(&gci->fin_lock);
    struct fin_entry *e = table_find(base);
    if (e) {
        if (fn) {
            e->fn = fn;
            e->arg = arg;
        } else {
            table_delete(e);
        }
    } else if (fn) {
        if ((gci->fin_count + gci->fin_tombs + 1) * 2 > gci->fin_cap && table_grow() != 0) {
            pthread_mutex_unlock(&gci->fin_lock);
            gci_crit_exit(t);
            gci_warn("gc_set_finalizer(%p): out of memory", obj);
            return;
        }
        size_t j = hash_obj(base, gci->fin_cap);
        while (gci->fin_table[j].obj > TOMB)
            j = (j + 1) & (gci->fin_cap - 1);
        if (gci->fin_table[j].obj == TOMB)
            gci->fin_tombs--;
        gci->fin_table[j] = (struct fin_entry){base, fn, arg};
        gci->fin_count++;
        gci_add(&s->nfinalizers, 1);
    }
    pthread_mutex_unlock(&gci->fin_lock);
    gci_crit_exit(t);
}

/* gc_free of an object with a finalizer: the finalizer is dropped. */
void gci_fin_forget(uintptr_t obj)
{
    pthread_mutex_lock(&gci->fin_lock);
    struct fin_entry *e = table_find(obj);
    if (e)
        table_delete(e);
    pthread_mutex_unlock(&gci->fin_lock);
}

static int ready_push(struct fin_entry e)
{
    if (gci->fin_ready_len == gci->fin_ready_cap) {
        /* compact away entries already run, then grow if still full */
        size_t live = gci->fin_ready_len - gci->fin_ready_head;
        if (gci->fin_ready_head) {
            memmove(gci->fin_ready, gci->fin_ready + gci->fin_ready_head, live * sizeof e);
            gci->fin_ready_head = 0;
            gci->fin_ready_len = live;
        }
        if (gci->fin_ready_len == gci->fin_ready_cap) {
            size_t ncap = gci->fin_ready_cap ? gci->fin_ready_cap * 2 : 256;
            struct fin_entry *n = gci_meta_resize(gci->fin_ready, gci->fin_ready_cap * sizeof e,
                                                  gci->fin_ready_len * sizeof e, ncap * sizeof e);
            if (!n)
                return ENOMEM;
            gci->fin_ready = n;
            gci->fin_ready_cap = ncap;
        }
    }
    gci->fin_ready[gci->fin_ready_len++] = e;
    return 0;
}

void gci_fin_push_ready_roots(void)
{
    for (size_t i = gci->fin_ready_head; i < gci->fin_ready_len; i++)
        gci_mark_object(gci->fin_ready[i].obj, 1);
}

void gci_fin_mark_phase(void)
{
    if (!gci->fin_count)
        return;
    int any = 0;
    for (size_t i = 0; i < gci->fin_cap; i++) {
        uintptr_t p = gci->fin_table[i].obj;
        if (p > TOMB && !gci_is_marked(p)) {
            size_t size = gc_usable_size((void *)p);
            struct span *s = gci_span_of(p);
            if (s && !s->noscan)
                gci_mark_push_range(p, p + size);
            any = 1;
        }
    }
    if (!any)
        return;
    gci_mark_run();
    for (size_t i = 0; i < gci->fin_cap; i++) {
        struct fin_entry *e = &gci->fin_table[i];
        if (e->obj > TOMB && !gci_is_marked(e->obj)) {
            gci_mark_object(e->obj, 0);
            if (ready_push(*e) != 0)
                continue;   /* out of metadata memory: retry next cycle */
            table_delete(e);
        }
    }
}

static GC_NOINLINE void run_one(struct fin_entry *e)
{
    e->fn((void *)e->obj, e->arg);
    __atomic_store_n(&e->obj, 0, __ATOMIC_RELAXED);   /* not a dead store: the stack is a root */
}

/* A finished object's address may linger in callee-saved registers and in
 * the dead stack below this frame, which the next calls (pthread_cond_wait)
 * reuse without overwriting every slot; both end up in the scanned part of
 * this thread's stack.  Clear them so that a finalized object does not keep
 * itself and its referents alive. */
static GC_NOINLINE void forget_registers(void)
{
    volatile char dead[16384];
    memset((char *)dead, 0, sizeof dead);
#if defined(__x86_64__)
    __asm__ volatile("xor %%ebx, %%ebx\n\txor %%r12d, %%r12d\n\txor %%r13d, %%r13d\n\t"
                     "xor %%r14d, %%r14d\n\txor %%r15d, %%r15d"
                     ::: "rbx", "r12", "r13", "r14", "r15", "memory");
#endif
}

static void *finalizer_main(void *arg)
{
    (void)arg;
    gc_register_thread();
    uint64_t seen = 0;
    for (;;) {
        struct fin_entry e = {0, NULL, NULL};
        struct gthread *t = gci_crit_enter();
        pthread_mutex_lock(&gci->fin_lock);
        if (gci->fin_ready_head < gci->fin_ready_len)
            e = gci->fin_ready[gci->fin_ready_head++];
        pthread_mutex_unlock(&gci->fin_lock);
        gci_crit_exit(t);
        if (e.obj) {
            /* e.obj is on this thread's stack now: a root while fn runs */
            run_one(&e);
            forget_registers();
            continue;
        }
        pthread_mutex_lock(&gci->fin_wait_lock);
        while (gci->fin_signal == seen)
            pthread_cond_wait(&gci->fin_cond, &gci->fin_wait_lock);
        seen = gci->fin_signal;
        pthread_mutex_unlock(&gci->fin_wait_lock);
    }
    return NULL;
}

void gci_fin_after_cycle(void)
{
    if (gci->fin_ready_head >= gci->fin_ready_len)
        return;
    pthread_mutex_lock(&gci->fin_wait_lock);
    if (!gci->fin_thread_started) {
        pthread_t th;
        if (pthread_create(&th, NULL, finalizer_main, NULL) == 0) {
            pthread_detach(th);
            gci->fin_thread_started = 1;
        } else {
            gci_warn("cannot start the finalizer thread; finalizers are delayed");
        }
    }
    gci->fin_signal++;
    pthread_cond_signal(&gci->fin_cond);
    pthread_mutex_unlock(&gci->fin_wait_lock);
}

void gci_fin_init(void)
{
    pthread_mutex_init(&gci->fin_lock, NULL);
    pthread_mutex_init(&gci->fin_wait_lock, NULL);
    pthread_cond_init(&gci->fin_cond, NULL);
}
