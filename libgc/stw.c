/* stw.c - stopping and restarting the world with signals (as Boehm GC does
 * on Linux).
 *
 * Owns: the suspend/restart signal handlers and the handshake.
 * Protocol:
 *   stop:    take threads_lock; send sig_suspend to every other registered
 *            thread; wait for one ack_sem post from each.
 *   handler: if the thread is in a critical section, set pending.suspend
 *            and return (it suspends itself at the section's end); else
 *            spill registers, publish the stack pointer, post ack_sem, and
 *            sigsuspend until resume_gen changes.
 *   start:   bump resume_gen; send sig_restart to each; drop threads_lock.
 * sig_restart is blocked while a thread checks resume_gen and unblocked
 * only inside sigsuspend, so a restart can never be missed.  Each thread
 * posts ack_sem exactly once per stop: one signal is sent per stop, and the
 * deferred path clears pending.suspend with both signals blocked.
 * Handlers use SA_RESTART, so interrupted system calls resume.
 */
#define _GNU_SOURCE
#include "gc_internal.h"
#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <ucontext.h>

/* Publishes the thread's roots (stack_lo, and sig_regs when nregs > 0),
 * acks, and waits for the restart. */
static void suspend_with_roots(struct gthread *t, uintptr_t stack_lo)
{
    unsigned gen = gci->resume_gen;   /* bumped only after every ack */
    t->stack_lo = stack_lo;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    sem_post(&gci->ack_sem);
    sigset_t wait;
    pthread_sigmask(SIG_SETMASK, NULL, &wait);
    sigdelset(&wait, gci->sig_restart);
    while (__atomic_load_n(&gci->resume_gen, __ATOMIC_ACQUIRE) == gen)
        sigsuspend(&wait);
}

/* Suspension at the end of a critical section (a call boundary): the
 * caller's live values are in callee-saved registers, which
 * __builtin_unwind_init pushes in this frame's prologue, above `marker`. */
void gci_suspend_self(struct gthread *t)
{
    __builtin_unwind_init();
    volatile uintptr_t marker = 0;
    t->nsig_regs = 0;
    suspend_with_roots(t, (uintptr_t)&marker & ~(uintptr_t)7);
}

/* Suspension by the signal, at any instruction: every general register may
 * hold a live pointer, so they are copied from the signal context, and the
 * stack is scanned from the interrupted stack pointer (less the 128-byte red
 * zone) up.  The signal frame itself, below that, is not scanned: its
 * FPU/vector save area (about 3 KiB with AVX-512) holds stale copies of
 * pointers (memcpy, memset), which kept dead objects alive and made
 * gccheckmark report objects that were never reachable. */
static void suspend_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)sig; (void)info;
    int saved = errno;
    struct gthread *t = gci_self;
    if (t) {
        if (t->in_critical) {
            t->pending.f.suspend = 1;
        } else {
#if defined(__x86_64__)
            ucontext_t *uc = uctx;
            unsigned n = NGREG < 32 ? NGREG : 32;
            for (unsigned i = 0; i < n; i++)
                t->sig_regs[i] = (uintptr_t)uc->uc_mcontext.gregs[i];
            t->nsig_regs = n;
            suspend_with_roots(t, ((uintptr_t)uc->uc_mcontext.gregs[REG_RSP] - 128) & ~(uintptr_t)7);
#else
            (void)uctx;
            gci_suspend_self(t);
#endif
        }
    }
    errno = saved;
}

static void restart_handler(int sig) { (void)sig; }

void gci_stw_init(void)
{
    gci->sig_suspend = SIGPWR;
    gci->sig_restart = SIGXCPU;
    sem_init(&gci->ack_sem, 0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = suspend_handler;
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, gci->sig_restart);
    if (sigaction(gci->sig_suspend, &sa, NULL) != 0)
        gci_fatal("cannot install the suspend signal handler");
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restart_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(gci->sig_restart, &sa, NULL) != 0)
        gci_fatal("cannot install the restart signal handler");
}

void gci_stop_world(void)
{
    pthread_mutex_lock(&gci->threads_lock);
    struct gthread *self = gci_self;
    int n = 0;
    for (struct gthread *t = gci->threads; t; t = t->next) {
        if (t == self)
            continue;
        int rc = pthread_kill(t->tid, gci->sig_suspend);
        if (rc == 0)
            n++;
        else
            gci_warn("cannot suspend thread %lu (%s); it exited without unregistering?",
                     (unsigned long)t->tid, strerror(rc));
    }
    for (int i = 0; i < n; i++)
        while (sem_wait(&gci->ack_sem) != 0 && errno == EINTR)
            ;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void gci_start_world(void)
{
    struct gthread *self = gci_self;
    __atomic_add_fetch(&gci->resume_gen, 1, __ATOMIC_RELEASE);
    for (struct gthread *t = gci->threads; t; t = t->next)
        if (t != self)
            pthread_kill(t->tid, gci->sig_restart);
    pthread_mutex_unlock(&gci->threads_lock);
}
