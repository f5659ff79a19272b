/* profiler/helper.c - the profiler's helper process (helper mode).
 *
 * Owns: making the helper (gctp_helper_spawn), the helper's life (open the
 * database, run the writer loop of writer.c on its main thread, close,
 * signal `done`), the profiled process's wait for it at stop
 * (gctp_helper_wait), and the helper's test of whether the profiled
 * process is still there (gctp_target_gone).
 *
 * Why: glibc's malloc takes its single-threaded path (no arena lock, no
 * atomic instructions) only while the process has one thread, and a
 * recording's writer and symbolizer threads would end that for every
 * malloc of the program.  In helper mode the profiled process keeps only
 * the sink (capture the stack, fill a queue cell); the queue's cells and
 * struct gctp_shared are MAP_SHARED, made before the fork, and the helper
 * is a fork() of the profiled process, so it starts with the same
 * configuration (gctp), the same modules at the same addresses (the
 * symbolizer resolves the program's ips against its own copy) and the
 * same time base (CLOCK_MONOTONIC is system-wide).
 *
 * Invariants:
 *   - the helper is a grandchild: it is never a child of the program, so
 *     a program that waits for all of its children never waits for it,
 *     nor gets its SIGCHLD.  The intermediate child is a clone sharing the
 *     program's memory (CLONE_VM | CLONE_VFORK, as posix_spawn makes its
 *     child) that fork()s the helper and exits at once: so the program's
 *     page tables are copied once, not twice, the intermediate's exit has
 *     no memory of its own to tear down, and its exit signal is 0, so the
 *     program never gets a SIGCHLD for it and its wait()s never see it
 *     (only a __WCLONE wait, the one here, reaps it).  The helper runs on
 *     its copy of the intermediate's stack (HELPER_STACK, mmap'd here and
 *     unmapped in the program once the intermediate is gone).  The kernel
 *     does not carry the thread's rseq registration into a CLONE_VM
 *     child, so the helper's main thread has none (glibc's sched_getcpu
 *     there would read a stale CPU; nothing in the helper calls it);
 *   - the helper never returns into the program's code and never runs its
 *     atexit handlers (_exit only); it ignores the terminal's and kill's
 *     usual signals (SIGINT, SIGTERM, ...: a Ctrl-C that ends the program
 *     must not lose its recording), keeps stderr (its messages) and no
 *     other descriptor of the program's (a pipe's reader must not wait for
 *     it), and takes no sample (the malloc backend's fork handler turned
 *     sampling off in it);
 *   - at stop the profiled process waits until `done`: the helper sets it
 *     (and futex-wakes it) once it has drained the queue and closed the
 *     database, or given up (failed set), so the database is complete
 *     when the program exits and the queue's cells are free to unmap; a
 *     helper left to finish alone (the program killed) is named by meta
 *     writer_pid, and gctune's readers wait for it (store_read.c);
 *   - what the program does not need to wait for comes after `done`: the
 *     fdatasync of the file (gcts_close_unsynced), and the helper's exit,
 *     which tears down a copy of the program's memory.  Both wait until
 *     the program has seen `done` (`resumed`, or 20 ms) and then until it
 *     has exited (wait_target_exit, 50 ms at most): an exiting process
 *     keeps its CPU until its teardown ends, and the scheduler often wakes
 *     the waiter on the waker's CPU, so exiting at once cost the program
 *     ~2 ms at each stop, and a sync and exit run alongside the program's
 *     own exit ~1.7 ms more (measured on 2 vCPUs, bench/preload.sh's churn);
 *   - the profiled process never waits for a helper that is gone: it
 *     checks for it every 100 ms while waiting, and waits 60 s at most.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* clone, CLONE_VM, __WCLONE */
#endif
#include "internal.h"
#include "env.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MAX_NS (60LL * 1000000000)
#define RESUMED_WAIT_NS 20000000LL   /* the helper's wait for `resumed` */
#define HELPER_STACK (8u << 20)        /* reserved, touched only as used */

static void futex_wake_all(int *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* Sleeps while *word == val, 100 ms at most. */
static void futex_wait_100ms(int *word, int val)
{
    struct timespec ts = { 0, 100000000 };
    syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

/* Closes every descriptor from lo up but keep (-1: none). */
static void close_from(int lo, int keep)
{
#ifdef SYS_close_range
    if (keep < lo) {
        if (syscall(SYS_close_range, (unsigned)lo, ~0u, 0) == 0)
            return;
    } else if ((keep == lo || syscall(SYS_close_range, (unsigned)lo, (unsigned)keep - 1, 0) == 0)
               && syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0) == 0) {
        return;
    }
#endif
    int maxfd = (int)sysconf(_SC_OPEN_MAX);
    if (maxfd <= 0 || maxfd > 65536)
        maxfd = 65536;
    for (int fd = lo; fd < maxfd; fd++)
        if (fd != keep)
            close(fd);
}

/* GCTUNE_HELPER_CPUS: the CPUs the helper may run on (by default those of
 * the program, inherited): a program pinned to some cores can keep its
 * recording off them.  The intermediate moves the helper there as soon as
 * fork() returns, before the helper has run (place_helper): left to move
 * itself, the new process first ran ~1 ms on the program's CPU (glibc's
 * fork handlers in the child, copy-on-write faults), and the program,
 * woken by the intermediate's exit, waited for it (perf sched, pinned,
 * 2 vCPUs).  The helper sets them again (set_cpus): a bad value is
 * reported there, and ignored.  Read once, by gctp_helper_spawn before the
 * clone; the intermediate and the helper see it in their copies. */
static struct {
    const char *env;             /* the variable, NULL when unset or empty */
    int ok;                      /* env parsed into set */
    cpu_set_t set;
} cpus;

static void read_cpus(void)
{
    const char *e = getenv("GCTUNE_HELPER_CPUS");
    cpus.env = e && *e ? e : NULL;
    cpus.ok = cpus.env && gctp_env_cpus(cpus.env, &cpus.set) == 0;
}

static void place_helper(pid_t h)
{
    if (cpus.ok)
        (void)sched_setaffinity(h, sizeof cpus.set, &cpus.set);
}

static void set_cpus(void)
{
    if (!cpus.env)
        return;
    if (!cpus.ok)
        gctp_msg("GCTUNE_HELPER_CPUS=%s: not a list of CPUs (like 1 or 0-3,6); ignored", cpus.env);
    else if (sched_setaffinity(0, sizeof cpus.set, &cpus.set) != 0)
        gctp_msg("GCTUNE_HELPER_CPUS=%s: the recording helper cannot run there: %s; ignored", cpus.env,
                 strerror(errno));
}

/* After `done`: waits until the profiled process has exited (its exit,
 * with the teardown of its memory, comes right after a stop at exit), for
 * TARGET_EXIT_WAIT_MS at most (a program that stops recording and runs
 * on, or execs).  The helper's fdatasync and its own exit then do not
 * compete with the program's exit (see the invariants above).  Without
 * pidfd_open (Linux < 5.3) it does not wait. */
#define TARGET_EXIT_WAIT_MS 50
static void wait_target_exit(void)
{
#ifdef SYS_pidfd_open
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)gctp.target_pid, 0);
    if (fd < 0)
        return;
    struct pollfd p = { fd, POLLIN, 0 };
    while (poll(&p, 1, TARGET_EXIT_WAIT_MS) < 0 && errno == EINTR)
        ;
    close(fd);
#endif
}

static __attribute__((noreturn)) void helper_main(void)
{
    static const int ignored[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU,
                                   SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGWINCH };
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        signal(ignored[i], SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nul >= 0) {
        dup2(nul, 0);
        dup2(nul, 1);
    }
    close_from(3, gctp.claim_fd);   /* the claim: the database takes it over, and gcts_close ends it */
    prctl(PR_SET_NAME, "gctune-writer", 0, 0, 0);
    set_cpus();
    struct gctp_shared *sh = gctp.sh;
    __atomic_store_n(&sh->helper_pid, (int)getpid(), __ATOMIC_RELEASE);
    gctp.active = 0;              /* nothing is recorded from in here */
    int sync_fd = -1;
    if (gctp_open_db() == 0) {
        gctp_writer_main(NULL);
        sync_fd = gcts_close_unsynced(gctp.db);
    } else {
        __atomic_store_n(&sh->failed, 1, __ATOMIC_SEQ_CST);
    }
    /* the claim ended with the database (gcts_close, or the failed
     * gcts_create_claimed) before done: an exec'd image may claim the
     * path at once */
    __atomic_store_n(&sh->done, 1, __ATOMIC_SEQ_CST);
    futex_wake_all(&sh->done);
    int64_t t0 = gctp_mono_ns();
    while (!__atomic_load_n(&sh->resumed, __ATOMIC_ACQUIRE) && gctp_mono_ns() - t0 < RESUMED_WAIT_NS) {
        struct timespec ts = { 0, 200000 };
        nanosleep(&ts, NULL);
    }
    wait_target_exit();
    if (sync_fd >= 0) {
        fdatasync(sync_fd);
        close(sync_fd);
    }
    _exit(0);
}

/* The intermediate child: shares the program's memory and the forking
 * thread's TLS, and the program's thread is suspended until it exits
 * (CLONE_VFORK); it only forks the helper (atfork handlers included: the
 * program's prepare and parent handlers run in here, on its memory, as
 * they would in the program) and exits. */
static int intermediate_main(void *arg)
{
    (void)arg;
    pid_t h = fork();
    if (h == 0)
        helper_main();
    if (h > 0)
        place_helper(h);
    _exit(h < 0 ? 1 : 0);
}

int gctp_helper_spawn(void)
{
    char *stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        return errno;
    (void)mprotect(stack, 4096, PROT_NONE);   /* a guard page below it */
    read_cpus();
    /* Every signal blocked across the clone and the fork: a Ctrl-C
     * arriving before the helper has set its signals to SIG_IGN stays
     * pending, and is dropped when it does. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* exit signal 0: no SIGCHLD, and invisible to wait() without __WCLONE */
    pid_t mid = clone(intermediate_main, stack + HELPER_STACK, CLONE_VM | CLONE_VFORK, NULL);
    int err = mid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int st = 0;
    pid_t r = -1;
    if (mid > 0)
        while ((r = waitpid(mid, &st, __WCLONE)) < 0 && errno == EINTR)
            ;
    munmap(stack, HELPER_STACK);   /* the helper has its own copy */
    if (mid < 0)
        return err;
    /* r < 0 (ECHILD): a program that waits with __WALL reaped it first;
     * a missing helper is then found at stop */
    if (r == mid && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        return EAGAIN;
    return 0;
}

void gctp_helper_idle(int idle_loops)
{
    /* 1 ms after a drain that found records, doubling while the queue
     * stays empty, up to 16 ms: a helper polling a quiet program wakes
     * 60 times a second, not 500 (its CPU competes with the program's on a
     * small machine), and 16 ms of the default rate's records are far
     * from filling the queue.  stop_req wakes it at once. */
    int shift = idle_loops < 4 ? idle_loops : 4;
    struct timespec ts = { 0, 1000000L << shift };
    syscall(SYS_futex, &gctp.sh->stop_req, FUTEX_WAIT, 0, &ts, NULL, 0);
}

void gctp_helper_wait(void)
{
    struct gctp_shared *sh = gctp.sh;
    futex_wake_all(&sh->stop_req);
    int64_t t0 = gctp_mono_ns();
    while (!__atomic_load_n(&sh->done, __ATOMIC_SEQ_CST)) {
        futex_wait_100ms(&sh->done, 0);
        if (__atomic_load_n(&sh->done, __ATOMIC_SEQ_CST))
            break;
        int pid = __atomic_load_n(&sh->helper_pid, __ATOMIC_ACQUIRE);
        int64_t waited = gctp_mono_ns() - t0;
        if ((pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) || (pid <= 0 && waited > 1000000000)) {
            gctp_msg("%s: the recording helper process ended before the recording; it may be incomplete",
                     gctp.path);
            return;
        }
        if (waited > WAIT_MAX_NS) {
            gctp_msg("%s: the recording helper (pid %d) has not finished the database after 60 s; exiting without it",
                     gctp.path, pid);
            return;
        }
    }
    __atomic_store_n(&sh->resumed, 1, __ATOMIC_RELEASE);   /* the helper may exit now */
}

int gctp_target_gone(void)
{
    return !gcts_process_runs(gctp.target_pid, NULL);
}
