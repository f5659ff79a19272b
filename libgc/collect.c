/* collect.c - one garbage collection cycle, and fork safety.
 *
 * Concurrent mode (gc_set_concurrent(1)) replaces step 3 by: a short pause
 * that scans the roots (the snapshot), turns on the write barrier and black
 * allocation, and leaves the reached objects as work; marking beside the
 * program by the cycle's driver at ~25% of GCTUNE_PROCS and by mark assists;
 * then a short mark-termination pause that flushes barrier buffers and
 * mcaches and finishes the remaining work (and, with gccheckmark=1,
 * re-marks with the world stopped to find missed barriers).  Triggered
 * cycles run on the GC controller thread; gc_collect runs one on its caller.
 *
 * Phases of a cycle (stop-the-world mode; cf. Go's mgc.go):
 *   1. Sweep termination: finish sweeping the previous cycle (every span
 *      must be swept before its mark bits are reused), take the sweep gate,
 *      snapshot the data segments.
 *   2. Stop the world (stw.c).  Flush every mcache: cached bitmap words go
 *      back to their spans, free lists to their spans, tiny blocks are
 *      dropped.  Now alloc_bits are exact and gci_find_object is too.
 *   3. Mark (mark.c) from roots (roots.c) and queued finalizers with
 *      GCTUNE_PROCS threads; then finalizer marking (finalizer.c).
 *   4. Mark termination: sweepgen += 2 (every span becomes unswept),
 *      heap_live = marked, new heap goal (pacer.c), pause recorded.
 *   5. Start the world; wake the background sweeper and the finalizer
 *      thread; print gctrace; run cycle hooks.
 * gc_collect additionally sweeps everything before returning.
 * Locking: gc_mutex for the whole cycle, so cycles never overlap.
 */
#include "gc_internal.h"
#include "pool.h"
#include "scavenge.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

static uint64_t flush_all_mcaches(void)
{
    for (struct gthread *t = gci->threads; t; t = t->next) {
        gci_mcache_flush(&t->cache);
        gci_mcache_flush_stats(&t->cache);
    }
    return gci_load(&gci->heap_live);
}

GC_HIDDEN void gci_collect_body(int kind, uintptr_t stack_lo);

/* gci_collect(kind): kind 0 = heap reached the trigger, 1 = stress mode,
 * 2 = forced.
 * The caller's roots may be in callee-saved registers, and the collector's
 * own frames hold stale heap addresses that must not be scanned.  So the
 * entry pushes the callee-saved registers and hands the collector the
 * address of that push as the lowest stack address to scan: the scanned
 * range is exactly those registers, the return address and the callers'
 * frames (cf. Boehm's GC_with_callee_saves_pushed).  On x86-64 this is an
 * assembly trampoline, because a compiler-laid-out frame can keep stale
 * values in padding slots between the pushes and its locals. */
#if defined(__x86_64__)
__asm__(".text\n"
        ".p2align 4\n"
        ".globl gci_collect\n"
        ".hidden gci_collect\n"
        ".type gci_collect, @function\n"
        "gci_collect:\n"
        "    .cfi_startproc\n"
        "    pushq %rbx\n"
        "    .cfi_adjust_cfa_offset 8\n    .cfi_rel_offset %rbx, 0\n"
        "    pushq %rbp\n"
        "    .cfi_adjust_cfa_offset 8\n    .cfi_rel_offset %rbp, 0\n"
        "    pushq %r12\n"
        "    .cfi_adjust_cfa_offset 8\n    .cfi_rel_offset %r12, 0\n"
        "    pushq %r13\n"
        "    .cfi_adjust_cfa_offset 8\n    .cfi_rel_offset %r13, 0\n"
        "    pushq %r14\n"
        "    .cfi_adjust_cfa_offset 8\n    .cfi_rel_offset %r14, 0\n"
        "    pushq %r15\n"
        "    .cfi_adjust_cfa_offset 8\n    .cfi_rel_offset %r15, 0\n"
        "    movq %rsp, %rsi\n"           /* stack_lo: the pushed registers */
        "    subq $8, %rsp\n"              /* 16-byte alignment for the call */
        "    .cfi_adjust_cfa_offset 8\n"
        "    call gci_collect_body\n"
        "    addq $8, %rsp\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "    popq %r15\n    .cfi_adjust_cfa_offset -8\n"
        "    popq %r14\n    .cfi_adjust_cfa_offset -8\n"
        "    popq %r13\n    .cfi_adjust_cfa_offset -8\n"
        "    popq %r12\n    .cfi_adjust_cfa_offset -8\n"
        "    popq %rbp\n    .cfi_adjust_cfa_offset -8\n"
        "    popq %rbx\n    .cfi_adjust_cfa_offset -8\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size gci_collect, .-gci_collect\n");
#else
GC_NOINLINE void gci_collect(int kind)
{
    volatile uintptr_t marker = 0;
    __builtin_unwind_init();
    gci_collect_body(kind, (uintptr_t)&marker & ~(uintptr_t)7);
    (void)marker;   /* keeps this frame (and its pushed registers) alive: no tail call */
}
#endif

/* Marking with the world stopped (the default).  World stopped on entry;
 * returns the bytes marked. */
static uint64_t mark_stopped(void)
{
    gci_roots_push_all();
    gci_fin_push_ready_roots();
    gci_mark_run();
    gci_fin_mark_phase();
    return gci_mark_take_marked_bytes();
}

/* Dedicated background mark workers beyond the driver, for machines where
 * 25% of GCTUNE_PROCS is more than one CPU (Go's dedicated workers).  They
 * run while bg_phase is set; the driver clears it and waits for bg_running
 * to drop to 0 before the mark-termination pause. */
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bg_cond = PTHREAD_COND_INITIALIZER;
static int bg_phase, bg_running, bg_started, bg_wanted;
static unsigned bg_gen;
static uint64_t bg_cpu_ns;   /* bg_lock */

static void *bg_worker_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    unsigned seen = 0;
    pthread_mutex_lock(&bg_lock);
    for (;;) {
        while (bg_gen == seen || id >= bg_wanted)
            pthread_cond_wait(&bg_cond, &bg_lock);
        seen = bg_gen;
        bg_running++;
        pthread_mutex_unlock(&bg_lock);
        uint64_t cpu = 0;
        while (__atomic_load_n(&bg_phase, __ATOMIC_ACQUIRE))
            if (!gci_mark_concurrent_work(256 << 10, &cpu))
                sched_yield();
        pthread_mutex_lock(&bg_lock);
        bg_cpu_ns += cpu;
        bg_running--;
        pthread_cond_broadcast(&bg_cond);
    }
    return NULL;
}

static void bg_workers_start(int n)
{
    pthread_mutex_lock(&bg_lock);
    while (bg_started < n && gci_start_internal_thread(bg_worker_main, (void *)(intptr_t)bg_started) == 0)
        bg_started++;
    bg_wanted = n < bg_started ? n : bg_started;
    bg_cpu_ns = 0;
    __atomic_store_n(&bg_phase, 1, __ATOMIC_RELEASE);
    bg_gen++;
    pthread_cond_broadcast(&bg_cond);
    pthread_mutex_unlock(&bg_lock);
}

static uint64_t bg_workers_stop(void)
{
    pthread_mutex_lock(&bg_lock);
    __atomic_store_n(&bg_phase, 0, __ATOMIC_RELEASE);
    while (bg_running > 0)
        pthread_cond_wait(&bg_cond, &bg_lock);
    uint64_t cpu = bg_cpu_ns;
    pthread_mutex_unlock(&bg_lock);
    return cpu;
}

/* The concurrent part of a cycle: background marking at about 25% of
 * GCTUNE_PROCS CPUs (the driver as a fractional worker when that is less
 * than one CPU; the driver plus dedicated workers for the whole CPUs
 * beyond), while allocating threads assist.  Returns when no work is left
 * outside per-thread barrier buffers. */
static void mark_concurrently(gc_cycle_info *info)
{
    double share = 0.25 * gci->procs;          /* CPUs for background marking */
    double util = share >= 1.0 ? 1.0 : share;  /* the driver's target utilisation */
    int extra = share >= 2.0 ? (int)share - 1 : 0;
    if (extra)
        bg_workers_start(extra);
    uint64_t t0 = gci_nanotime(), c0 = gci_thread_cputime(), cpu = 0;
    for (;;) {
        if (gci_mark_concurrent_work(256 << 10, &cpu))
            ;
        else if (gci_mark_concurrent_idle())
            break;
        else
            sched_yield();   /* an assist holds the last work: let it finish */
        /* Fractional worker: stay at or below the utilisation target,
         * unless allocating threads wait for this cycle (threads.c). */
        while (util < 1.0 && !gci_load_relaxed(&gci->alloc_waiters) &&
               (double)(gci_thread_cputime() - c0) > util * (double)(gci_nanotime() - t0) + 50000.0)
            usleep(100);
    }
    info->background_cpu_ns = gci_thread_cputime() - c0;
    if (extra)
        info->background_cpu_ns += bg_workers_stop();
    info->concurrent_ns = gci_nanotime() - t0;
    (void)cpu;
}

GC_NOINLINE void gci_collect_body(int kind, uintptr_t stack_lo)
{
    pthread_mutex_lock(&gci->gc_mutex);
    gci->collector_stack_lo = stack_lo;
    if (kind == 0 && !gci_should_trigger()) {
        pthread_mutex_unlock(&gci->gc_mutex);   /* another thread just collected */
        return;
    }
    int concurrent = gci_load(&gci->concurrent) && kind != 1;
    gc_cycle_info info;
    memset(&info, 0, sizeof info);
    info.start_ns = gci_realtime();
    info.forced = kind == 2;
    info.concurrent = concurrent;

    gci_sweep_finish();
    gci_sweep_gate_lock();
    gci_roots_snapshot_segments();

    uint64_t marked, stw1, stw2, mark_phase;
    gci_stop_world();
    uint64_t t0 = gci_nanotime();
    info.heap_before = flush_all_mcaches();
#if GCTUNE_DEBUG >= 1
    gci_heap_verify();
#endif
    gci_pool_cycle_start();   /* pooled objects: old victims dropped, the rest marked */
    if (!concurrent) {
        marked = mark_stopped();
        stw1 = gci_nanotime() - t0;
        mark_phase = 0;
    } else {
        /* 1. Snapshot: roots scanned now; barriers and black allocation on. */
        gci_store(&gci->mark_scanned, 0);
        gci->mark_expected = gci->heap_marked ? gci->heap_marked : (4u << 20);
        gci_marking = 1;
        gci_mark_set_root_mode(1);
        gci_roots_push_all();
        gci_mark_set_root_mode(0);
        gci_fin_push_ready_roots();
        gci_mark_begin_concurrent();
        gci->mark_start_live = gci_load(&gci->heap_live);
        stw1 = gci_nanotime() - t0;
        gci_start_world();

        /* 2. Concurrent marking. */
        mark_concurrently(&info);

        /* 3. Mark termination: flush barrier buffers and mcaches, finish
         *    the little work left with the world stopped. */
        gci_stop_world();
        t0 = gci_nanotime();
        for (struct gthread *t = gci->threads; t; t = t->next) {   /* world stopped: list stable */
            gci_wb_flush(t);
            info.assist_cpu_ns += t->assist_cpu_ns;
            t->assist_cpu_ns = 0;
        }
        uint64_t live_now = flush_all_mcaches();
        gci_marking = 0;
        gci_mark_end_concurrent();
        gci_mark_run();
        gci_fin_mark_phase();
        marked = gci_mark_take_marked_bytes();
#ifdef GC_TESTING
        gci_test_apply_hide();   /* test_checkmark: simulate a missed object */
#endif
        if (gci->gccheckmark)
            gci_checkmark_verify();
        uint64_t allocated = live_now > gci->mark_start_live ? live_now - gci->mark_start_live : 0;
        marked += allocated;   /* allocated black during marking */
        gci_pacer_end_concurrent(allocated);
        mark_phase = info.concurrent_ns;
        stw2 = 0;   /* set below */
    }

    /* Mark termination (both modes). */
    uint64_t t_term = gci_nanotime();
    gci_store(&gci->sweepgen, gci->sweepgen + 2);
    gci_store(&gci->sweep_cursor, 0);
    gci_store(&gci->heap_live, marked);
    gci_limiter_note_cycle(((concurrent ? stw1 : 0) + (gci_nanotime() - t0)) * (uint64_t)gci->procs +
                               info.background_cpu_ns,
                           0 /* measured */, gci->procs);
    gci_pacer_end_cycle(marked);
    info.num = (uint32_t)++gci->num_gc;
    if (kind == 2)
        gci->num_forced_gc++;
    uint64_t t_end = gci_nanotime();
    if (!concurrent) {
        stw2 = t_end - t_term;
    } else {
        stw2 = t_end - t0;
    }
    uint64_t pause = stw1 + stw2;
    info.end_ns = gci_realtime();
    gci_stats_record_pause(pause, info.end_ns);
    gci_start_world();
    gci_sweep_gate_unlock();

    info.mark_cpu_ns = gci_mark_take_cpu_ns() + info.background_cpu_ns;
    gci_add(&gci->mark_cpu_ns, info.mark_cpu_ns);
    if (concurrent) {
        gci_add(&gci->concurrent_mark_ns, info.concurrent_ns);
        gci_add(&gci->background_mark_cpu_ns, info.background_cpu_ns);
    }
    gci_add(&gci->gc_cpu_ns, pause * (uint64_t)gci->procs + info.background_cpu_ns + info.assist_cpu_ns);
    info.stw_ns = pause;
    info.stw_start_ns = concurrent ? stw1 : pause;
    info.stw_end_ns = concurrent ? stw2 : 0;
    info.heap_marked = marked;
    info.heap_goal = gci_load(&gci->next_gc);
    info.gc_percent = gci_load(&gci->gc_percent);
    info.memory_limit = gci_load(&gci->memory_limit);
    info.procs = gci->procs;

    if (kind == 2)
        gci_sweep_finish();
    else
        gci_sweep_wake_background();
    gci_fin_after_cycle();
    if (gci->gctrace)
        gci_trace_cycle(&info, stw1, mark_phase, stw2, info.heap_before);
    pthread_mutex_unlock(&gci->gc_mutex);
    gci_scavenge_after_cycle();
    gci_run_hooks(&info);
}

/* ---- the GC controller: runs triggered cycles in concurrent mode, so the
 * allocating thread that crossed the trigger is not blocked for the whole
 * mark.  An internal thread: not registered (it holds no roots) and blocks
 * all signals. */
static void *controller_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gci->controller_lock);
    for (;;) {
        while (!gci->controller_request)
            pthread_cond_wait(&gci->controller_cond, &gci->controller_lock);
        gci->controller_request = 0;
        pthread_mutex_unlock(&gci->controller_lock);
        gci_collect(0);
        pthread_mutex_lock(&gci->controller_lock);
    }
    return NULL;
}

void gci_collect_async(void)
{
    pthread_mutex_lock(&gci->controller_lock);
    if (!gci->controller_started) {
        if (gci_start_internal_thread(controller_main, NULL) != 0) {
            pthread_mutex_unlock(&gci->controller_lock);
            gci_collect(0);   /* no thread: collect here */
            return;
        }
        gci->controller_started = 1;
    }
    gci->controller_request = 1;
    pthread_cond_signal(&gci->controller_cond);
    pthread_mutex_unlock(&gci->controller_lock);
}

void gc_collect(void)
{
    if (!gci_self && !gci_thread_attach())
        return;
    gci_collect(2);
}

void gc_free_os_memory(void)
{
    gc_collect();
    gci_scavenge_all();
}

/* ---- fork ----
 * The child must inherit a consistent heap.  Locks are not enough: the
 * allocation fast path takes none, so a thread caught half-way through it
 * would leave its mcache and a bitmap word inconsistent in the child.  So
 * the prepare handler stops the world (every registered thread is then
 * outside its critical section and holds no allocator lock) with gc_mutex
 * and the sweep gate held (no cycle, no background sweep).  In the child
 * only the forking thread exists: the others' mcaches are flushed and their
 * registrations dropped, locks are re-initialised, and background threads
 * are recreated on demand. */

static void fork_prepare(void)
{
    pthread_mutex_lock(&gci->gc_mutex);
    gci_sweep_gate_lock();
    gci_stop_world();
}

static void fork_parent(void)
{
    gci_start_world();
    gci_sweep_gate_unlock();
    pthread_mutex_unlock(&gci->gc_mutex);
}

static void reinit_locks(void)
{
    pthread_mutex_init(&gci->gc_mutex, NULL);
    gci_sweep_gate_reinit();
    pthread_mutex_init(&gci->threads_lock, NULL);
    pthread_mutex_init(&gci->fin_lock, NULL);
    for (unsigned i = 0; i < GC_NUM_SPANCLASSES; i++)
        pthread_mutex_init(&gci->central[i].lock, NULL);
    pthread_mutex_init(&gci->large_lock, NULL);
    pthread_mutex_init(&gci->heap_lock, NULL);
    pthread_mutex_init(&gci->roots_lock, NULL);
    pthread_mutex_init(&gci->span_fa.lock, NULL);
    pthread_mutex_init(&gci->thread_fa.lock, NULL);
    pthread_mutex_init(&gci->wbuf_fa.lock, NULL);
    for (unsigned w = 1; w <= GC_MAX_BITMAP_WORDS; w++)
        pthread_mutex_init(&gci->bits_fa[w].lock, NULL);
    pthread_mutex_init(&gci->sweeper_lock, NULL);
    pthread_cond_init(&gci->sweeper_cond, NULL);
    pthread_mutex_init(&gci->hooks_lock, NULL);
    pthread_mutex_init(&gci->fin_wait_lock, NULL);
    pthread_cond_init(&gci->fin_cond, NULL);
    pthread_mutex_init(&gci->controller_lock, NULL);
    pthread_cond_init(&gci->controller_cond, NULL);
}

static void fork_child(void)
{
    reinit_locks();
    sem_init(&gci->ack_sem, 0, 0);
    struct gthread *self = gci_self, *t = gci->threads, *next;
    gci->threads = NULL;
    gci->nthreads = 0;
    for (; t; t = next) {
        next = t->next;
        if (t == self)
            continue;
        gci_mcache_flush(&t->cache);
        gci_mcache_flush_stats(&t->cache);
        gci_fixalloc_free(&gci->thread_fa, t);
    }
    if (self) {
        self->next = self->prev = NULL;
        gci->threads = self;
        gci->nthreads = 1;
        self->tid = pthread_self();
    }
    gci->sweeper_started = 0;
    gci->sweeper_wake = 0;
    gci->fin_thread_started = 0;
    gci->controller_started = 0;
    gci->controller_request = 0;
    pthread_mutex_init(&bg_lock, NULL);
    pthread_cond_init(&bg_cond, NULL);
    bg_started = bg_running = bg_phase = 0;
    gci_mark_after_fork_child();
    gci_prof_reset_child();
}

void gci_fork_init(void)
{
    pthread_mutex_init(&gci->controller_lock, NULL);
    pthread_cond_init(&gci->controller_cond, NULL);
    pthread_mutex_init(&gci->roots_lock, NULL);
    pthread_mutex_init(&gci->sweeper_lock, NULL);
    pthread_cond_init(&gci->sweeper_cond, NULL);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}
