/* finalizer.c - gc_set_finalizer and the finalizer thread.
 *
 * Owns: the table of objects with finalizers (gci->fin_table, an
 * addrtable.h table of struct fin_entry keyed by object base, at most one
 * entry per object), the queue of finalizers ready to run, and the thread
 * that runs them.
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

_Static_assert(offsetof(struct fin_entry, obj) == 0, "the table's key leads the entry");

static struct fin_entry *table_find(uintptr_t obj)
{
    return gci_addrtable_find(&gci->fin_table, obj);
}

static void table_delete(struct fin_entry *e)
{
    struct span *s = gci_span_of(e->obj);
    if (s)
        gci_sub(&s->nfinalizers, 1);
    gci_addrtable_delete(&gci->fin_table, e);
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
        e = gci_addrtable_insert(&gci->fin_table, base);
        if (!e) {
            pthread_mutex_unlock(&gci->fin_lock);
            gci_crit_exit(t);
            gci_warn("gc_set_finalizer(%p): out of memory", obj);
            return;
        }
        e->fn = fn;
        e->arg = arg;
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
    struct gci_addrtable *tab = &gci->fin_table;
    if (!tab->count)
        return;
    int any = 0;
    for (size_t i = 0; i < tab->cap; i++) {
        struct fin_entry *e = gci_addrtable_at(tab, i);
        if (e && !gci_is_marked(e->obj)) {
            uintptr_t p = e->obj;
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
    for (size_t i = 0; i < tab->cap;) {
        struct fin_entry *e = gci_addrtable_at(tab, i);
        if (!e || gci_is_marked(e->obj)) {
            i++;
            continue;
        }
        gci_mark_object(e->obj, 0);
        if (ready_push(*e) != 0) {
            i++;   /* out of metadata memory: retry next cycle */
            continue;
        }
        table_delete(e);   /* slot i may now hold a later entry: look at it again */
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
    gci_addrtable_init(&gci->fin_table, sizeof(struct fin_entry), 1024);
    pthread_mutex_init(&gci->fin_lock, NULL);
    pthread_mutex_init(&gci->fin_wait_lock, NULL);
    pthread_cond_init(&gci->fin_cond, NULL);
}
