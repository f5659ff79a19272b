/* profiler/symthread.h - the symbolizer thread: resolves instruction
 * pointers for the writer thread without ever making it wait.
 *
 * The writer queues each new ip (gctp_symq_add) and, every loop, collects
 * what is resolved (gctp_symq_collect): new mappings first, then frames,
 * in resolution order, so a frame's mapping index is always known by the
 * time the frame is delivered.  Strings stay valid until gctp_symq_stop.
 * All functions are called by the writer thread only.
 */
#ifndef GCTUNE_PROFILER_SYMTHREAD_H
#define GCTUNE_PROFILER_SYMTHREAD_H

#include <stddef.h>
#include <stdint.h>
#include "symbolize.h"

int gctp_symq_start(void);                   /* 0 or errno; without it ips stay unresolved */
int gctp_symq_add(uint64_t ip);              /* 0 or -1 (no memory) */
int gctp_symq_collect(int (*on_mapping)(const gctp_mapping *m, void *arg),
                      int (*on_frame)(uint64_t ip, const gctp_sym *s, int found, void *arg),
                      void *arg);            /* stops at the first callback != 0 and returns it */
size_t gctp_symq_pending(void);              /* queued or being resolved */
void gctp_symq_wait_idle(void);
void gctp_symq_stop(void);

#endif
