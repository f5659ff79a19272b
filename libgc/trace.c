/* trace.c - what the runtime says: GODEBUG=gctrace=1 lines, warnings,
 * fatal errors, and the per-cycle hooks for the profiler and tuner.
 *
 * Owns: every byte libgc writes to stderr.  Messages are formatted into a
 * stack buffer and written with one write(2), never with stdio, so they are
 * safe while other threads are stopped and never interleave mid-line.
 *
 * gctrace format (Go 1.19's, so tools read both):
 *   gc N @T.TTTs P%: A+B+C ms clock, D+E/F/G+H ms cpu, I->J->K MB, L MB goal,
 *   M MB stacks, N MB globals, Q P [(forced)]
 * In stop-the-world mode A is the pause up to the end of marking (marking
 * happens inside it), B (concurrent mark) is 0 and C is mark termination;
 * in concurrent mode A is the snapshot pause, B the concurrent mark and C
 * the mark-termination pause.  A + C is the pause, as in Go.  CPU: D and H
 * are A and C times GCTUNE_PROCS, E/F/G are mark assist / background mark /
 * idle (always 0) CPU.
 */
#include "gc_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void write_all(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(2, buf, n);
        if (w <= 0)
            return;
        buf += w;
        n -= (size_t)w;
    }
}

static void vsay(const char *prefix, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "gctune: %s", prefix);
    if (n < 0)
        return;
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof buf - 2)
        len = sizeof buf - 2;
    buf[len++] = '\n';
    write_all(buf, len);
}

void gci_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay("warning: ", fmt, ap);
    va_end(ap);
}

void gci_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay("fatal: ", fmt, ap);
    va_end(ap);
    abort();
}

static double ms(uint64_t ns) { return (double)ns / 1e6; }

void gci_trace_cycle(const gc_cycle_info *info, uint64_t stw1_ns, uint64_t mark_ns, uint64_t stw2_ns,
                     uint64_t heap_end)
{
    char buf[512];
    uint64_t since = info->end_ns - gci->start_real_ns;
    uint64_t elapsed = gci_nanotime() - gci->start_ns;
    int pct = elapsed ? (int)(100.0 * (double)gci_load(&gci->gc_cpu_ns) / ((double)elapsed * gci->procs)) : 0;
    int p = info->procs;
    int n = snprintf(buf, sizeof buf,
                     "gc %u @%.3fs %d%%: %.3f+%.3f+%.3f ms clock, %.3f+%.3f/%.3f/0+%.3f ms cpu, "
                     "%lu->%lu->%lu MB, %lu MB goal, %lu MB stacks, %lu MB globals, %d P%s\n",
                     info->num, (double)since / 1e9, pct, ms(stw1_ns), ms(mark_ns), ms(stw2_ns),
                     ms(stw1_ns * (uint64_t)p), ms(info->assist_cpu_ns), ms(info->background_cpu_ns),
                     ms(stw2_ns * (uint64_t)p),
                     (unsigned long)(info->heap_before >> 20), (unsigned long)(heap_end >> 20),
                     (unsigned long)(info->heap_marked >> 20),
                     (unsigned long)(info->heap_goal == UINT64_MAX ? 0 : info->heap_goal >> 20),
                     (unsigned long)(gci_roots_stack_bytes() >> 20), (unsigned long)(gci_roots_global_bytes() >> 20),
                     p, info->forced ? " (forced)" : "");
    if (n > 0)
        write_all(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

int gc_add_cycle_hook(gc_cycle_hook fn, void *arg)
{
    gci_init();
    int rc = 0;
    pthread_mutex_lock(&gci->hooks_lock);
    if (gci->nhooks == (int)(sizeof gci->hooks / sizeof gci->hooks[0])) {
        rc = 28; /* ENOSPC */
    } else {
        gci->hooks[gci->nhooks].fn = fn;
        gci->hooks[gci->nhooks].arg = arg;
        gci->nhooks++;
    }
    pthread_mutex_unlock(&gci->hooks_lock);
    return rc;
}

void gc_remove_cycle_hook(gc_cycle_hook fn, void *arg)
{
    gci_init();
    pthread_mutex_lock(&gci->hooks_lock);
    for (int i = 0; i < gci->nhooks; i++) {
        if (gci->hooks[i].fn == fn && gci->hooks[i].arg == arg) {
            gci->hooks[i] = gci->hooks[gci->nhooks - 1];
            gci->nhooks--;
            break;
        }
    }
    pthread_mutex_unlock(&gci->hooks_lock);
}

void gci_run_hooks(const gc_cycle_info *info)
{
    int n;
    struct { gc_cycle_hook fn; void *arg; } h[8];
    pthread_mutex_lock(&gci->hooks_lock);
    n = gci->nhooks;
    memcpy(h, gci->hooks, sizeof h);
    pthread_mutex_unlock(&gci->hooks_lock);
    for (int i = 0; i < n; i++)
        h[i].fn(info, h[i].arg);
}
