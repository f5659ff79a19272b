/* test_util.h - helpers shared by the cmocka programs in tests/unit/.
 *
 * Header-only (static inline).  Include it after <cmocka.h> and
 * "gc_internal.h".  Nothing here allocates from the gc heap.
 *
 *   tu_stress()          GCTUNE_GCSTRESS is set: tests shrink their loops,
 *                        since a collection runs every few allocations
 *                        (tu_stress_every() says how many).
 *   tu_heap_verify()     gci_heap_verify() while no background sweeper is
 *                        in the middle of a span.
 *   tu_group_setup       cmocka group setup: initialises the runtime.
 *   tu_scrub_stack()     zeroes 32 KiB of dead stack below the caller, so
 *                        stale copies of pointers do not act as roots.
 *   tu_run_in_child()    runs a function in a forked child with its stderr
 *                        captured, for behaviour that aborts in debug builds.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

/* GCTUNE_GCSTRESS: a collection every n allocations per thread (0 = off). */
static inline unsigned long tu_stress_every(void)
{
    const char *v = getenv("GCTUNE_GCSTRESS");
    return v ? strtoul(v, NULL, 10) : 0;
}

static inline int tu_stress(void) { return tu_stress_every() != 0; }

/* gci_heap_verify() requires the world stopped or a single thread.  The
 * background sweeper runs concurrently with the program; it sweeps one span
 * at a time holding the sweep gate for reading, so taking the gate for
 * writing waits until no span is half-swept.  The caller must be the only
 * thread that allocates, and is expected to have run gc_collect() if it
 * wants every span checked (spans cached by an mcache are skipped). */
static inline uint64_t tu_heap_verify(void)
{
    gci_init();
    gci_sweep_gate_lock();
    uint64_t free_pages = gci_heap_verify();   /* gci_fatal (abort) on a violation */
    gci_sweep_gate_unlock();
    return free_pages;
}

static inline int tu_group_setup(void **state)
{
    (void)state;
    gci_init();
    return 0;
}

/* noinline: its frame must lie below the caller's, over the dead stack. */
static __attribute__((noinline, unused)) void tu_scrub_stack(void)
{
    volatile char buf[32768];
    memset((char *)buf, 0, sizeof buf);
}

/* Runs fn(arg) in a forked child whose stderr goes to err (NUL-terminated,
 * truncated to errlen - 1 bytes).  The child exits with fn's return value;
 * cmocka asserts must not be used in fn (a failure would longjmp into the
 * child's copy of the test runner).  Returns the waitpid status. */
static inline int tu_run_in_child(int (*fn)(void *), void *arg, char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        int rc = fn(arg);
        fflush(stderr);
        _exit(rc);
    }
    close(fds[1]);
    size_t len = 0;
    char buf[512];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && len + 1 < errlen; i++)
            err[len++] = buf[i];
    }
    if (errlen)
        err[len] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

#endif
