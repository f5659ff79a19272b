/* threads.c - the registry of threads whose stacks are roots.
 *
 * Owns: struct gthread lifetimes, the gci_self TLS pointer, automatic
 * registration on first allocation and unregistration at thread exit (a
 * pthread key destructor), and the slow path of leaving a critical section.
 * Invariants:
 *   t is on gci->threads  <=>  gci_self == t in thread t
 *   stack_hi is the top of t's stack; the world-stopper reads stack_lo only
 *   after t has posted ack_sem
 * Locking: gci->threads_lock for the list.  It is held for the whole of a
 * stopped world, so a thread registering or leaving waits for the restart.
 */
#define _GNU_SOURCE
#include "gc_internal.h"
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>

__thread struct gthread *gci_self __attribute__((tls_model("initial-exec")));
extern void *__libc_stack_end;

static void unregister(struct gthread *t)
{
    t->in_critical = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (t->wb_n)
        gci_wb_flush(t);   /* what its barrier shaded must reach the marker */
    gci_mcache_flush(&t->cache);
    gci_crit_exit(t);
    pthread_mutex_lock(&gci->threads_lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        gci->threads = t->next;
    if (t->next)
        t->next->prev = t->prev;
    gci->nthreads--;
    /* Under threads_lock (no world can be stopped now, and
     * gci_read_stats_nostw sees the counts either here or in the globals). */
    gci_mcache_flush_stats(&t->cache);
    pthread_mutex_unlock(&gci->threads_lock);
    gci_self = NULL;
    gci_fixalloc_free(&gci->thread_fa, t);
}

static void thread_exit_destructor(void *arg)
{
    struct gthread *t = arg;
    if (t && gci_self == t)
        unregister(t);
}

void gci_threads_init(void)
{
    pthread_mutex_init(&gci->threads_lock, NULL);
    gci_fixalloc_init(&gci->thread_fa, sizeof(struct gthread), NULL);
    if (pthread_key_create(&gci->thread_key, thread_exit_destructor) != 0)
        gci_fatal("pthread_key_create failed");
}

static uintptr_t stack_top(int *is_main)
{
    *is_main = getpid() == (pid_t)syscall(SYS_gettid);
    if (*is_main)
        return ((uintptr_t)__libc_stack_end + 4095) & ~(uintptr_t)4095;
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return 0;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    return rc == 0 ? (uintptr_t)addr + size : 0;
}

struct gthread *gci_thread_attach(void)
{
    gci_init();
    if (gci_self)
        return gci_self;
    int is_main;
    uintptr_t hi = stack_top(&is_main);
    if (!hi) {
        gci_warn("cannot find the stack of thread %lu; not registered", (unsigned long)pthread_self());
        return NULL;
    }
    struct gthread *t = gci_fixalloc_alloc(&gci->thread_fa);
    if (!t)
        return NULL;
    gci_mcache_init(&t->cache);
    t->tid = pthread_self();
    t->stack_hi = hi;
    t->is_main = is_main;
    t->stress_every = gci->stress_every;
    pthread_mutex_lock(&gci->threads_lock);
    gci_prof_thread_init(t);
    t->next = gci->threads;
    t->prev = NULL;
    if (gci->threads)
        gci->threads->prev = t;
    gci->threads = t;
    gci->nthreads++;
    gci_self = t;
    pthread_mutex_unlock(&gci->threads_lock);
    if (!is_main)
        pthread_setspecific(gci->thread_key, t);
    return t;
}

void gci_crit_exit_slow(struct gthread *t)
{
    if (t->pending.f.suspend) {
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, gci->sig_suspend);
        sigaddset(&block, gci->sig_restart);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        if (t->pending.f.suspend) {
            t->pending.f.suspend = 0;
            gci_suspend_self(t);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (t->pending.f.gc) {
        int stress = t->pending.f.gc == 2;
        t->pending.f.gc = 0;
        /* Concurrent mode: the controller runs the cycle and this thread
         * goes on, unless the heap has reached the heap goal: then it
         * waits for the running cycle (or runs one), so allocation cannot
         * outrun marking and sweep termination (cf. Go parking assists that
         * cannot pay their debt). */
        if (stress || !gci_load(&gci->concurrent)) {
            gci_collect(stress ? 1 : 0);
        } else if (gci_load_relaxed(&gci->heap_live) < gci_pacer_wait_goal()) {
            gci_collect_async();
        } else {
            gci_add(&gci->alloc_waiters, 1);   /* marking stops pacing itself (collect.c) */
            gci_collect(0);
            gci_sub(&gci->alloc_waiters, 1);
        }
    }
}

int gc_register_thread(void)
{
    return gci_thread_attach() ? 0 : ENOMEM;
}

void gc_unregister_thread(void)
{
    struct gthread *t = gci_self;
    if (!t)
        return;
    if (!t->is_main)
        pthread_setspecific(gci->thread_key, NULL);
    unregister(t);
}
